"""Tests for ode_course.regularisation: RNODE's integrals against closed forms and quadrature,
TayNODE's total derivatives against nested autograd, Hutchinson's Frobenius estimate unbiased,
gradients by gradcheck, and bad inputs that name the fix."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate as scipy_integrate
from scipy.linalg import expm
from torch import nn

from ode_course.cnf import CNF, LinearField, TimeMLP, fit_density, mean_nll, sample_probe
from ode_course.models import ODEFunc, fit_classifier
from ode_course.regularisation import (
    RegularisedCNF,
    RegularisedDynamics,
    RegularisedODEBlock,
    TaylorDynamics,
    exact_frobenius,
    field_statistics,
    fit_map,
    hutchinson_frobenius,
    kinetic_energy,
    regularised_log_prob,
    solve_cost,
    total_derivatives,
)
from ode_course.solvers import odeint

pytestmark = pytest.mark.usefixtures("one_thread")

F64 = torch.float64
A = torch.tensor([[-0.5, 1.2], [-0.8, 0.3]], dtype=F64)  # rotation and decay: no symmetry


def _kinetic_by_quadrature(a: np.ndarray, x: np.ndarray, t1: float) -> float:
    """∫₀^{t1} |A z(t)|² dt with z(t) = e^{(t − t1)A} x: the trajectory that ends at x."""

    def integrand(t: float) -> float:
        return float(np.sum((a @ expm((t - t1) * a) @ x) ** 2))

    value, _ = scipy_integrate.quad(integrand, 0.0, t1, epsabs=1e-13, epsrel=1e-12)
    return value


# ------------------------------------------------------------------------------ integrands
def test_integrands_of_a_linear_field_are_its_closed_forms():
    z = torch.randn(5, 2, dtype=F64).requires_grad_()
    fz = z @ A.T
    torch.testing.assert_close(kinetic_energy(fz), ((z @ A.T) ** 2).sum(1))
    torch.testing.assert_close(
        exact_frobenius(fz, z), torch.full((5,), float((A**2).sum()), dtype=F64)
    )
    # with ε = eᵢ, |εᵀA|² is the squared norm of row i of A
    for i in range(2):
        probe = torch.zeros(5, 2, dtype=F64)
        probe[:, i] = 1.0
        want = torch.full((5,), float((A[i] ** 2).sum()), dtype=F64)
        torch.testing.assert_close(hutchinson_frobenius(fz, z, probe), want)


def test_exact_frobenius_of_a_network_matches_autograd_jacobian():
    torch.manual_seed(0)
    net = TimeMLP(3, hidden=(7,)).double()
    z = torch.randn(4, 3, dtype=F64).requires_grad_()
    got = exact_frobenius(net(0.4, z), z)
    for n in range(4):
        jac = torch.autograd.functional.jacobian(lambda p: net(0.4, p[None])[0], z[n].detach())
        torch.testing.assert_close(got[n], (jac**2).sum())


@pytest.mark.parametrize("noise", ["gaussian", "rademacher"])
@pytest.mark.parametrize("seed", range(4))
def test_hutchinson_frobenius_is_unbiased(noise, seed):
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(4, 4, dtype=F64, generator=gen)
    m = 20_000
    z = torch.zeros(m, 4, dtype=F64).requires_grad_()
    estimates = hutchinson_frobenius(z @ a.T, z, sample_probe((m, 4), noise, generator=gen))
    mean, se = float(estimates.mean()), float(estimates.std()) / math.sqrt(m)
    assert abs(mean - float((a**2).sum())) < 4 * se


# ------------------------------------------------------------------------------ the dynamics
def test_regularised_dynamics_columns_for_both_estimators():
    z = torch.tensor([[1.0, -2.0]], dtype=F64)
    state = torch.cat([z, torch.zeros(1, 3, dtype=F64)], dim=1)
    exact = RegularisedDynamics(LinearField(A))(0.0, state)
    fz = z @ A.T
    want = [*fz[0].tolist(), -float(torch.trace(A)), float((fz**2).sum()), float((A**2).sum())]
    torch.testing.assert_close(exact[0], torch.tensor(want, dtype=F64))
    probe = torch.tensor([[1.0, 1.0]], dtype=F64)
    hutch = RegularisedDynamics(LinearField(A), "hutchinson", probe)(0.0, state)
    assert hutch[0, 2].item() == pytest.approx(-float(probe @ A @ probe.T))
    assert hutch[0, 4].item() == pytest.approx(float(((probe @ A) ** 2).sum()))
    plain = RegularisedDynamics(LinearField(A), log_density=False)(0.0, state[:, :4])
    torch.testing.assert_close(
        plain[0], torch.tensor([want[0], want[1], want[3], want[4]], dtype=F64)
    )


@pytest.mark.parametrize("t1", [0.5, 1.0, 2.0])
def test_regularised_log_prob_matches_quadrature_and_the_plain_cnf(t1):
    flow = CNF(2, net=LinearField(A), t1=t1, rtol=1e-10, atol=1e-10)
    x = torch.tensor([[0.5, -1.0], [2.0, 1.0], [-1.5, 0.2]], dtype=F64)
    out = regularised_log_prob(flow, x)
    for n in range(3):
        want = _kinetic_by_quadrature(A.numpy(), x[n].numpy(), t1)
        assert out.kinetic[n].item() == pytest.approx(want, rel=1e-7)
    torch.testing.assert_close(out.frobenius, torch.full((3,), t1 * float((A**2).sum()), dtype=F64))
    torch.testing.assert_close(out.log_prob, flow.log_prob(x), rtol=0, atol=1e-8)
    assert (out.kinetic > 0).all() and (out.frobenius > 0).all()  # positive though solved backwards


def test_regularised_cnf_stores_its_penalty_only_with_autograd_on():
    flow = RegularisedCNF(2, net=LinearField(A), kinetic=0.3, jacobian=0.2, rtol=1e-9, atol=1e-9)
    x = torch.tensor([[0.5, -1.0], [2.0, 1.0]], dtype=F64)
    log_p = flow.log_prob(x)
    direct = regularised_log_prob(flow, x)
    want = 0.3 * direct.kinetic.mean() + 0.2 * direct.frobenius.mean()
    torch.testing.assert_close(flow.penalty, want)
    assert flow.kinetic == pytest.approx(direct.kinetic.mean().item())
    with torch.no_grad():
        plain = flow.log_prob(x)
    torch.testing.assert_close(plain, log_p.detach(), rtol=0, atol=1e-8)


def test_regularised_ode_block_integrates_forwards():
    block = RegularisedODEBlock(
        LinearField(A), kinetic=1.0, method="dopri5", step_size=None, rtol=1e-10, atol=1e-10
    )
    h = torch.tensor([[1.0, 0.5], [-0.3, 2.0]], dtype=F64)
    out = block(h)
    torch.testing.assert_close(out, h @ torch.from_numpy(expm(A.numpy())).T)
    want = np.mean(
        [_kinetic_by_quadrature(A.numpy(), (expm(A.numpy()) @ row), 1.0) for row in h.numpy()]
    )
    assert block.kinetic == pytest.approx(want, rel=1e-7)
    assert block.penalty.item() == pytest.approx(want, rel=1e-7)  # λ_J = 0: the kinetic part only
    with torch.no_grad():
        torch.testing.assert_close(block(h), out.detach())


def test_penalty_of_the_untrained_cnf_is_zero_and_training_records_nfe():
    torch.manual_seed(0)
    flow = RegularisedCNF(
        2, kinetic=0.1, jacobian=0.1, hidden=(8,), method="rk4", step_size=0.5
    ).double()
    x = torch.randn(64, 2, dtype=F64) * 1.5
    history = fit_density(flow, x, steps=5, batch_size=16, regulariser=lambda: flow.penalty)
    assert history.nfe == [8] * 5  # 2 steps of rk4
    assert flow.frobenius > 0 and flow.kinetic > 0
    assert math.isfinite(mean_nll(flow, x))


def test_a_larger_kinetic_weight_gives_less_kinetic_energy():
    """The direction of the penalty: with the right sign, training lowers ∫|f|²."""
    energies = []
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        flow = RegularisedCNF(
            2, kinetic=weight, hidden=(16,), method="rk4", step_size=0.25
        ).double()
        x = torch.randn(256, 2, dtype=F64, generator=torch.Generator().manual_seed(1)) * 0.5 + 1.0
        fit_density(flow, x, steps=40, batch_size=64, lr=0.02, regulariser=lambda f=flow: f.penalty)
        energies.append(regularised_log_prob(flow, x).kinetic.mean().item())
    assert energies[1] < 0.8 * energies[0]


# ------------------------------------------------------------------------------ gradients
class _Called(nn.Module):
    """net(t, z) with the parameters ``values`` in place of its own (for gradcheck)."""

    def __init__(self, net: nn.Module, values: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.net, self.values = net, values

    def forward(self, t, z):
        return torch.func.functional_call(self.net, self.values, (t, z))


def _parameters(net: nn.Module) -> tuple[list[str], tuple[torch.Tensor, ...]]:
    names = [n for n, _ in net.named_parameters()]
    return names, tuple(p.detach().clone().requires_grad_() for p in net.parameters())


def test_gradcheck_through_the_regularised_loss():
    torch.manual_seed(0)
    net = TimeMLP(2, hidden=(3,)).double()
    names, params = _parameters(net)
    x = torch.randn(3, 2, dtype=F64)

    def loss(*values):
        field = _Called(net, dict(zip(names, values, strict=True)))
        out = regularised_log_prob(CNF(2, net=field, method="rk4", step_size=0.5), x)
        return -out.log_prob.mean() + 0.3 * out.kinetic.mean() + 0.2 * out.frobenius.mean()

    assert torch.autograd.gradcheck(loss, params, eps=1e-6, atol=1e-6)


def test_gradcheck_through_the_taylor_penalty():
    torch.manual_seed(1)
    net = TimeMLP(1, hidden=(3,)).double()
    names, params = _parameters(net)
    z0 = torch.tensor([[0.3], [-0.7]], dtype=F64)
    times = torch.tensor([0.0, 1.0], dtype=F64)

    def loss(*values):
        field = TaylorDynamics(_Called(net, dict(zip(names, values, strict=True))), 2)
        state = torch.cat([z0, torch.zeros_like(z0)], 1)
        end = odeint(field, state, times, method="rk4", step_size=0.5)[-1]
        return (end[:, 0] ** 2).mean() + end[:, 1].mean()

    assert torch.autograd.gradcheck(loss, params, eps=1e-6, atol=1e-6)


# ------------------------------------------------------------------------------ Taylor
def _nested_autograd(net: nn.Module, t: float, z: torch.Tensor, order: int) -> list[torch.Tensor]:
    """z′, z″, … at one point by reverse mode only: g_{k+1} = ∂g_k/∂t + (∂g_k/∂z) f."""
    time = torch.tensor(t, dtype=F64, requires_grad=True)
    point = z.clone().requires_grad_()
    g = net(time, point[None])[0]
    f = g
    out = [g]
    for _ in range(order - 1):
        rows = []
        for i in range(len(g)):
            dt, dz = torch.autograd.grad(g[i], (time, point), create_graph=True, allow_unused=True)
            dt = torch.zeros((), dtype=F64) if dt is None else dt
            dz = torch.zeros_like(point) if dz is None else dz
            rows.append(dt + dz @ f)
        g = torch.stack(rows)
        out.append(g)
    return out


@pytest.mark.parametrize("order", [1, 2, 3])
def test_total_derivatives_match_nested_autograd(order):
    torch.manual_seed(order)
    net = TimeMLP(2, hidden=(6, 5)).double()
    z = torch.randn(3, 2, dtype=F64)
    got = total_derivatives(net, 0.7, z, order)
    assert len(got) == order
    for n in range(3):
        want = _nested_autograd(net, 0.7, z[n], order)
        for k in range(order):
            torch.testing.assert_close(got[k][n], want[k].detach(), rtol=1e-10, atol=1e-12)


def test_total_derivatives_of_a_linear_field_are_matrix_powers():
    z = torch.randn(4, 2, dtype=F64)
    got = total_derivatives(LinearField(A), 0.0, z, 4)
    for k in range(4):
        torch.testing.assert_close(got[k], z @ torch.linalg.matrix_power(A, k + 1).T)


def test_second_derivative_is_the_curvature_of_the_solved_trajectory():
    """z″ at t = 0.5 against central differences of a tightly solved trajectory."""
    torch.manual_seed(3)
    net = TimeMLP(2, hidden=(8,)).double()
    z0 = torch.randn(2, 2, dtype=F64)
    h = 1e-3
    times = torch.tensor([0.0, 0.5 - h, 0.5, 0.5 + h], dtype=F64)
    with torch.no_grad():
        ys = odeint(net, z0, times, method="dopri5", rtol=1e-12, atol=1e-12)
        second = total_derivatives(net, 0.5, ys[2], 2)[1]
    torch.testing.assert_close(second, (ys[3] - 2 * ys[2] + ys[1]) / h**2, rtol=0, atol=1e-5)


def test_taylor_dynamics_integrates_the_squared_derivative():
    a = torch.tensor([[-1.5]], dtype=F64)
    state = torch.tensor([[2.0, 0.0]], dtype=F64)
    end = odeint(
        TaylorDynamics(LinearField(a), 2),
        state,
        torch.tensor([0.0, 1.0], dtype=F64),
        rtol=1e-11,
        atol=1e-11,
    )[-1]
    # z(t) = 2e^{−1.5t}, z″ = 2.25·2e^{−1.5t}: ∫₀¹ 20.25 e^{−3t} dt
    assert end[0, 1].item() == pytest.approx(20.25 * (1 - math.exp(-3.0)) / 3, rel=1e-9)


# ------------------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize(
    "build,error,match",
    [
        (lambda: RegularisedCNF(2, kinetic=-0.1), ValueError, r"kinetic.*Fix: pass a weight ≥ 0"),
        (
            lambda: RegularisedCNF(2, jacobian="a lot"),
            TypeError,
            r"jacobian.*Fix: pass a weight ≥ 0",
        ),
        (lambda: RegularisedODEBlock(ODEFunc(2, 4), kinetic=float("nan")), ValueError, r"kinetic"),
        (lambda: RegularisedDynamics(lambda t, z: z), TypeError, r"net.*Fix: wrap the field"),
        (
            lambda: RegularisedDynamics(LinearField(A), "hutchinson"),
            ValueError,
            r"probe.*Fix: pass probe=sample_probe",
        ),
        (lambda: RegularisedDynamics(LinearField(A), "diagonal"), ValueError, r"trace"),
        (lambda: TaylorDynamics(LinearField(A), order=0), ValueError, r"order.*Fix: pass how many"),
        (lambda: TaylorDynamics(lambda t, z: z), TypeError, r"net.*Fix"),
        (
            lambda: total_derivatives(LinearField(A), 0.0, torch.zeros(1, 2, dtype=F64), 1.5),
            TypeError,
            r"order",
        ),
        (lambda: total_derivatives("f", 0.0, torch.zeros(1, 2), 2), TypeError, r"field.*Fix"),
        (
            lambda: total_derivatives(LinearField(A), 0.0, [[1.0, 2.0]], 2),
            TypeError,
            r"z.*Fix: pass the points",
        ),
        (
            lambda: regularised_log_prob(LinearField(A), torch.zeros(1, 2)),
            TypeError,
            r"cnf.*Fix: pass the flow",
        ),
        (
            lambda: regularised_log_prob(CNF(2), torch.zeros(1, 3)),
            ValueError,
            r"x must be of shape \(N, 2\)",
        ),
        (lambda: kinetic_energy(torch.zeros(3)), ValueError, r"fz.*Fix"),
        (lambda: kinetic_energy([1.0]), TypeError, r"fz.*Fix"),
        (
            lambda: hutchinson_frobenius(
                torch.zeros(2, 2, requires_grad=True) * 2,
                torch.zeros(2, 2, requires_grad=True),
                torch.zeros(2, 3),
            ),
            ValueError,
            r"probe.*shaped like z",
        ),
        (
            lambda: exact_frobenius(torch.zeros(2, 2), torch.zeros(2, 2)),
            ValueError,
            r"z.*requires grad",
        ),
        (
            lambda: fit_density(CNF(2), torch.zeros(4, 2), steps=1, regulariser=0.1),
            TypeError,
            r"regulariser.*Fix: pass a function",
        ),
    ],
)
def test_bad_inputs_name_the_fix(build, error, match):
    with pytest.raises(error, match=match):
        build()


# ------------------------------------------------------------------------------ cost
@pytest.mark.parametrize("rate", [1.0, 30.0, 300.0])
def test_solve_cost_counts_what_torchdiffeq_counts(rate):
    import torchdiffeq

    field = LinearField(torch.tensor([[-rate, 0.0], [0.0, -1.0]], dtype=F64))
    z0 = torch.ones(3, 2, dtype=F64)
    calls = []

    def counted(t, z):
        calls.append(1)
        return field(t, z)

    torchdiffeq.odeint(counted, z0, torch.tensor([0.0, 1.0], dtype=F64), rtol=1e-5, atol=1e-5)
    assert solve_cost(field, z0, tol=1e-5) == len(calls)


def test_solve_cost_grows_with_stiffness_and_curvature():
    z0 = torch.ones(1, 1, dtype=F64)
    decay = [solve_cost(LinearField(torch.tensor([[-k]], dtype=F64)), z0) for k in (1, 100, 1000)]
    assert decay[0] < decay[1] < decay[2]
    assert decay[2] > 6 * 1000 / 3.4 * 0.8  # held near Dopri5's stability limit h|λ| ≈ 3.3


def test_field_statistics_of_a_linear_field_are_its_closed_forms():
    a = A.numpy()
    z0 = torch.tensor([[1.0, 0.5], [-0.3, 2.0]], dtype=F64)
    stats = field_statistics(LinearField(A), z0, t1=1.5, steps=600)

    def integral(power: int) -> float:
        values = []
        for row in z0.numpy():
            f = lambda t, r=row: float(  # noqa: E731
                np.sum((np.linalg.matrix_power(a, power) @ expm(t * a) @ r) ** 2)
            )
            values.append(scipy_integrate.quad(f, 0.0, 1.5, epsabs=1e-12)[0])
        return float(np.mean(values))

    assert stats.kinetic == pytest.approx(integral(1), rel=1e-5)
    assert stats.acceleration == pytest.approx(integral(2), rel=1e-5)
    assert stats.frobenius == pytest.approx(1.5 * float((A**2).sum()), rel=1e-12)
    assert stats.spectral_radius == pytest.approx(float(np.abs(np.linalg.eigvals(a)).max()))


def _map_error(net: nn.Module, grid: torch.Tensor) -> float:
    with torch.no_grad():
        times = torch.tensor([0.0, 1.0], dtype=F64)
        end = odeint(net, grid, times, method="rk4", step_size=0.05)[-1]
    return float(((end - grid - grid**3) ** 2).mean())


GRID = torch.linspace(-1.0, 1.0, 50, dtype=F64)[:, None]
IDENTITY = 1 / 7  # the mean of (z³)² over U[-1, 1]: the error of a flow that does not move


def test_fit_map_learns_the_map():
    torch.manual_seed(0)
    net = TimeMLP(1, hidden=(32, 32)).double()
    fit = fit_map(net, lambda z: z + z**3, interval=(-1.0, 1.0), steps=300)
    assert len(fit) == 300 and fit.nfe_per_step == 16
    assert _map_error(net, GRID) < 0.01 * IDENTITY


def test_the_taylor_penalty_lowers_the_acceleration():
    acceleration, errors = {}, {}
    for weight in (0.0, 0.1):
        torch.manual_seed(0)
        net = TimeMLP(1, hidden=(16, 16)).double()
        fit_map(net, lambda z: z + z**3, weight=weight, interval=(-1.0, 1.0), steps=150)
        errors[weight] = _map_error(net, GRID)
        acceleration[weight] = field_statistics(net, GRID).acceleration
    assert max(errors.values()) < 0.3 * IDENTITY
    assert acceleration[0.1] < 0.5 * acceleration[0.0]


def test_fit_classifier_adds_the_regulariser_and_measures_validation_data():
    torch.manual_seed(0)
    x, y = torch.randn(40, 3, dtype=F64), torch.arange(40) % 2
    model = nn.Sequential(nn.Linear(3, 2)).double()
    calls = []

    def penalty():
        calls.append(1)
        return 0.0 * model[0].weight.sum()

    history = fit_classifier(
        model, x, y, epochs=3, batch_size=10, regulariser=penalty, x_val=x[:8], y_val=y[:8]
    )
    assert len(calls) == 12  # one per step
    assert len(history.val_accuracy) == len(history.val_loss) == 3 and history.val_at == [1, 2, 3]
    assert model.training  # left in training mode, as documented


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"x_val": torch.zeros(4, 3, dtype=F64)}, r"y_val.*Fix: pass x_val=x_test, y_val=y_test"),
        ({"x_val": torch.zeros(4, 3, dtype=F64), "y_val": torch.zeros(3)}, r"y_val"),
        ({"regulariser": 0.1}, r"regulariser.*Fix: pass a function of no arguments"),
    ],
)
def test_fit_classifier_bad_new_arguments(kwargs, match):
    x, y = torch.zeros(4, 3, dtype=F64), torch.zeros(4, dtype=torch.long)
    with pytest.raises((ValueError, TypeError), match=match):
        fit_classifier(nn.Linear(3, 2).double(), x, y, epochs=1, **kwargs)


@pytest.mark.parametrize(
    "build,error,match",
    [
        (lambda: solve_cost("f", torch.zeros(1, 1)), TypeError, r"field.*Fix"),
        (lambda: solve_cost(LinearField(A), torch.zeros(2)), ValueError, r"z0.*Fix"),
        (lambda: solve_cost(LinearField(A), torch.zeros(1, 2), tol=0), ValueError, r"tol.*Fix"),
        (
            lambda: field_statistics(LinearField(A), torch.zeros(1, 2), steps=0),
            ValueError,
            r"steps",
        ),
        (
            lambda: field_statistics(LinearField(A), torch.zeros(1, 2), t1=-1),
            ValueError,
            r"t1.*Fix",
        ),
        (lambda: fit_map(lambda t, z: z, lambda z: z), TypeError, r"net.*Fix"),
        (lambda: fit_map(TimeMLP(1), "z + z³"), TypeError, r"target.*Fix"),
        (lambda: fit_map(TimeMLP(1), lambda z: z, weight=-1), ValueError, r"weight.*Fix"),
        (lambda: fit_map(TimeMLP(1), lambda z: z, interval=(1, -1)), ValueError, r"interval"),
        (lambda: fit_map(TimeMLP(1), lambda z: z, interval=3), ValueError, r"interval.*pair"),
        (lambda: fit_map(TimeMLP(1), lambda z: z, order=0), ValueError, r"order"),
    ],
)
def test_bad_inputs_to_the_cost_tools_and_fit_map_name_the_fix(build, error, match):
    with pytest.raises(error, match=match):
        build()

"""Tests for ode_course.cnf: the linear flow against its closed form, inversion, exact and
Hutchinson traces against autograd's Jacobian, normalisation on a grid, the three integrators,
the planar flow's log-determinant, and every error."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

from ode_course.cnf import (
    ACTIVATIONS,
    CNF,
    INTEGRATORS,
    NOISE_TYPES,
    TRACE_ESTIMATORS,
    AugmentedDynamics,
    DensityFit,
    LinearField,
    PlanarFlow,
    TimeMLP,
    density_on_grid,
    exact_trace,
    fit_density,
    hutchinson_trace,
    hutchinson_variance,
    mean_nll,
    sample_probe,
    standard_normal_log_prob,
)
from ode_course.data import standardise, toy_data

F64 = torch.float64
TIGHT = {"method": "dopri5", "rtol": 1e-9, "atol": 1e-9}


@pytest.fixture(autouse=True)
def one_thread():
    """These tensors are small: one thread is fastest, and immune to a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def random_net(dim: int = 2, hidden=(16, 16), seed: int = 0, scale: float = 1.0) -> TimeMLP:
    """A TimeMLP with fixed random weights, scaled so that its flow is far from the identity."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = TimeMLP(dim, hidden).double()
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(scale)
    return net


def linear_closed_form(A: torch.Tensor, x: torch.Tensor, t1: float) -> torch.Tensor:
    """log p(x) for z(t₁) = e^{t₁A} z(0), z(0) ~ N(0, I): log N(e^{−t₁A} x) − t₁ tr A."""
    z0 = x @ torch.as_tensor(scipy.linalg.expm(-t1 * A.numpy())).T
    return standard_normal_log_prob(z0) - t1 * torch.trace(A)


# ---------------------------------------------------------------------- the linear flow
@pytest.mark.parametrize("integrator", ["odeint", "torchdiffeq"])
@pytest.mark.parametrize("dim,t1", [(2, 1.0), (3, 0.7)])
def test_linear_flow_log_prob_matches_the_closed_form(integrator, dim, t1):
    A = torch.randn(dim, dim, dtype=F64, generator=generator(dim))
    x = torch.randn(7, dim, dtype=F64, generator=generator(10 + dim)) * 2
    cnf = CNF(dim, net=LinearField(A), t1=t1, integrator=integrator, **TIGHT)
    torch.testing.assert_close(cnf.log_prob(x), linear_closed_form(A, x, t1), rtol=1e-8, atol=1e-8)
    # the change of log-density along each path is exactly −t₁ tr A: log-det = −t·tr A
    _, ells = cnf.flow(x, [t1, 0.0])
    torch.testing.assert_close(ells[-1], torch.full((7,), t1 * torch.trace(A).item(), dtype=F64))


@pytest.mark.parametrize("noise", NOISE_TYPES)
def test_hutchinson_probe_is_held_fixed_during_a_solve(noise):
    # for f(z) = Az the Jacobian is constant, so with one fixed probe per solve the change of
    # log-density is exactly −t₁ εᵀAε; a probe re-drawn at each evaluation would average several
    A = torch.tensor([[0.3, -1.2], [0.8, 0.5]], dtype=F64)
    cnf = CNF(2, net=LinearField(A), trace="hutchinson", noise=noise, method="rk4", step_size=0.1)
    x = torch.randn(50, 2, dtype=F64, generator=generator(1))
    _, ells = cnf.flow(x, [0.0, 1.0], generator=generator(5))
    eps = sample_probe((50, 2), noise, generator=generator(5))
    torch.testing.assert_close(ells[-1], -((eps @ A) * eps).sum(dim=1), rtol=1e-12, atol=1e-12)
    assert cnf.nfe == 40  # 10 rk4 steps, 4 evaluations each


def test_hutchinson_log_prob_is_unbiased_for_the_linear_flow():
    A = torch.tensor([[0.4, -0.9, 0.1], [0.7, -0.3, 0.5], [0.0, 0.6, 0.2]], dtype=F64)
    x = torch.tensor([[0.5, -1.0, 0.3]], dtype=F64).expand(4000, 3)
    cnf = CNF(3, net=LinearField(A), trace="hutchinson", method="rk4", step_size=0.5)
    torch.manual_seed(0)
    estimates = cnf.log_prob(x)
    se = estimates.std() / math.sqrt(len(estimates))
    assert abs(estimates.mean() - linear_closed_form(A, x[:1], 1.0)[0]) < 3 * se


# ---------------------------------------------------------------------- inversion
@pytest.mark.parametrize("trace", TRACE_ESTIMATORS)
def test_sample_then_log_prob_round_trip(trace):
    cnf = CNF(2, net=random_net(scale=1.5), trace=trace, **TIGHT)
    with torch.no_grad():
        x, log_p = cnf.sample(20, generator=generator(3), return_log_prob=True)
        base = torch.randn(20, 2, dtype=F64, generator=generator(3))
        assert (x - base).abs().max() > 0.5  # the flow moves the points
        zs, _ = cnf.flow(x, [1.0, 0.0])
    torch.testing.assert_close(zs[-1], base, rtol=0, atol=1e-4)
    if trace == "exact":  # (Hutchinson's estimates differ from probe to probe)
        torch.testing.assert_close(cnf.log_prob(x), log_p, rtol=0, atol=1e-4)


def test_both_directions_share_one_vector_field_and_snapshots_follow_the_path():
    cnf = CNF(2, net=random_net(scale=1.5), **TIGHT)
    z0 = torch.randn(5, 2, dtype=F64, generator=generator(0))
    times = torch.linspace(0, 1, 5, dtype=F64)
    zs, ells = cnf.flow(z0, times)
    assert zs.shape == (5, 5, 2) and ells.shape == (5, 5)
    torch.testing.assert_close(zs[0], z0)
    assert torch.all(ells[0] == 0)
    back, back_ells = cnf.flow(zs[-1], times.flip(0))
    torch.testing.assert_close(back.flip(0), zs, rtol=0, atol=1e-6)
    torch.testing.assert_close(back_ells[-1], -ells[-1], rtol=0, atol=1e-6)


# ---------------------------------------------------------------------- traces
def test_exact_trace_matches_the_trace_of_autograds_jacobian():
    net = random_net(dim=4, hidden=(12,), seed=2)
    z = torch.randn(6, 4, dtype=F64, generator=generator(0)).requires_grad_()
    got = exact_trace(net(0.3, z), z)
    for n in range(6):
        jac = torch.autograd.functional.jacobian(lambda v: net(0.3, v[None])[0], z[n].detach())
        torch.testing.assert_close(got[n], torch.trace(jac), rtol=1e-12, atol=1e-12)
    A = torch.randn(3, 3, dtype=F64, generator=generator(1))
    w = torch.randn(2, 3, dtype=F64).requires_grad_()
    torch.testing.assert_close(exact_trace(w @ A.T, w), torch.trace(A).expand(2))


def test_exact_trace_is_differentiable_with_create_graph():
    net = random_net(dim=2, hidden=(8,), seed=4)
    z = torch.randn(3, 2, dtype=F64, generator=generator(0)).requires_grad_()
    trace = exact_trace(net(0.0, z), z, create_graph=True)
    (grad_w,) = torch.autograd.grad(trace.sum(), net.layers[0].weight)
    assert grad_w.abs().max() > 0
    assert not exact_trace(net(0.0, z), z).requires_grad


def test_trace_of_a_field_that_ignores_z_is_zero():
    z = torch.randn(3, 2, dtype=F64).requires_grad_()
    constant = torch.ones(3, 2, dtype=F64)
    assert torch.all(exact_trace(constant, z) == 0)
    assert torch.all(hutchinson_trace(constant, z, torch.ones(3, 2, dtype=F64)) == 0)


@pytest.mark.parametrize("noise", NOISE_TYPES)
def test_hutchinson_mean_is_within_three_standard_errors_of_the_exact_trace(noise):
    net = random_net(dim=4, hidden=(16,), seed=5, scale=2.0)
    m = 20_000
    z = torch.randn(1, 4, dtype=F64, generator=generator(1)).expand(m, 4).clone()
    z.requires_grad_()
    fz = net(0.5, z)
    probes = sample_probe((m, 4), noise, generator=generator(2))
    estimates = hutchinson_trace(fz, z, probes).detach()
    exact = exact_trace(fz, z)[0].item()
    se = estimates.std().item() / math.sqrt(m)
    assert abs(estimates.mean().item() - exact) < 3 * se
    # and the spread is the one hutchinson_variance predicts for this Jacobian
    jac = torch.autograd.functional.jacobian(lambda v: net(0.5, v[None])[0], z[0].detach())
    assert estimates.var().item() == pytest.approx(hutchinson_variance(jac, noise), rel=0.05)


def test_hutchinson_variance_formulas_against_monte_carlo():
    A = torch.randn(5, 5, dtype=F64, generator=generator(3))
    m = 200_000
    for noise in NOISE_TYPES:
        eps = sample_probe((m, 5), noise, generator=generator(4))
        samples = ((eps @ A) * eps).sum(dim=1)
        assert samples.var().item() == pytest.approx(hutchinson_variance(A, noise), rel=0.03)
    S = (A + A.T) / 2
    assert hutchinson_variance(A, "gaussian") == pytest.approx(2 * (S**2).sum().item())
    assert hutchinson_variance(A.numpy(), "rademacher") < hutchinson_variance(A, "gaussian")
    assert hutchinson_variance(torch.diag(torch.tensor([1.0, -2.0, 3.0])), "rademacher") == 0.0


def test_sample_probe_moments_and_values():
    g = sample_probe((100_000, 3), "gaussian", generator=generator(0))
    r = sample_probe((100_000, 3), "rademacher", dtype=torch.float32, generator=generator(0))
    assert r.dtype == torch.float32 and set(r.unique().tolist()) == {-1.0, 1.0}
    for eps in (g, r.double()):
        cov = eps.T @ eps / len(eps)
        torch.testing.assert_close(cov, torch.eye(3, dtype=F64), rtol=0, atol=0.02)


def test_standard_normal_log_prob_matches_torch_distributions():
    z = torch.randn(4, 3, dtype=F64)
    want = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(dim=1)
    torch.testing.assert_close(standard_normal_log_prob(z), want)


# ---------------------------------------------------------------------- the density
def test_learned_density_integrates_to_one_on_a_grid():
    x, _ = standardise(toy_data("two_moons", 512, seed=0))
    torch.manual_seed(0)
    cnf = CNF(2, hidden=(16, 16), method="rk4", step_size=0.25).double()
    fit = fit_density(cnf, x, n_iters=40, batch_size=64, lr=5e-2)
    assert mean_nll(cnf, x) < fit.train_nll[0] - 0.1  # it learned something
    cnf.step_size = 0.1  # integrate the learned field accurately
    X, Y, p = density_on_grid(cnf, bounds=(-5.0, 5.0), resolution=80)
    cell = (10 / 80) ** 2
    assert p.sum() * cell == pytest.approx(1.0, abs=0.02)
    assert X.shape == Y.shape == p.shape == (80, 80) and np.all(p > 0)


def test_gradients_of_log_prob_match_finite_differences():
    cnf = CNF(2, net=random_net(hidden=(6,), seed=7), method="rk4", step_size=0.25)
    x = torch.randn(4, 2, dtype=F64, generator=generator(8))
    weight = cnf.net.layers[0].weight
    (grad,) = torch.autograd.grad(cnf.log_prob(x).sum(), weight)
    h = 1e-6
    with torch.no_grad():
        for i, j in [(0, 0), (3, 1), (5, 2)]:
            weight[i, j] += h
            up = cnf.log_prob(x).sum()
            weight[i, j] -= 2 * h
            down = cnf.log_prob(x).sum()
            weight[i, j] += h
            assert grad[i, j].item() == pytest.approx(((up - down) / (2 * h)).item(), rel=1e-6)


@pytest.mark.parametrize("trace", TRACE_ESTIMATORS)
@pytest.mark.parametrize(
    ("integrator", "grad_rtol"),
    # the adjoint's gradients come from a second, backward solve: close, not identical
    [("torchdiffeq", 1e-5), ("odeint_adjoint", 1e-4)],
)
def test_every_integrator_agrees_with_our_odeint_in_values_and_gradients(
    trace, integrator, grad_rtol
):
    x = torch.randn(6, 2, dtype=F64, generator=generator(9))
    results = []
    for name in ("odeint", integrator):
        cnf = CNF(2, net=random_net(seed=9), trace=trace, integrator=name, **TIGHT)
        torch.manual_seed(1)  # the same probe
        log_p = cnf.log_prob(x)
        grads = torch.autograd.grad(log_p.sum(), list(cnf.parameters()))
        results.append((log_p, grads))
    (a, ga), (b, gb) = results
    torch.testing.assert_close(a, b, rtol=0, atol=1e-7)
    for g1, g2 in zip(ga, gb, strict=True):
        torch.testing.assert_close(g1, g2, rtol=grad_rtol, atol=1e-6)


def test_adjoint_integrator_passes_the_solver_options_on():
    net = random_net()
    x = torch.randn(3, 2, dtype=F64, generator=generator(0))
    want = CNF(2, net=net, method="rk4", step_size=0.1).log_prob(x)
    cnf = CNF(2, net=net, integrator="odeint_adjoint", method="rk4", step_size=0.1)
    torch.testing.assert_close(cnf.log_prob(x), want, rtol=0, atol=0)  # the same forward solve
    assert cnf.nfe == 40  # 10 rk4 steps of 4 evaluations, as with odeint


def test_cnf_accepts_numpy_data_and_counts_evaluations():
    torch.manual_seed(0)
    cnf = CNF(2, hidden=(8,), method="rk4", step_size=0.25).double()
    log_p = cnf.log_prob(np.zeros((3, 2)))
    assert log_p.shape == (3,) and log_p.dtype == F64 and cnf.nfe == 16
    assert "trace='exact'" in repr(cnf) and "rk4" in repr(cnf)
    assert torch.equal(cnf(np.zeros((3, 2))), log_p)


def test_time_mlp_sees_time_and_has_the_requested_widths():
    net = TimeMLP(3, hidden=(5, 7), activation="softplus").double()
    assert [layer.in_features for layer in net.layers] == [4, 6, 8]
    assert [layer.out_features for layer in net.layers] == [5, 7, 3]
    z = torch.randn(2, 3, dtype=F64)
    assert not torch.allclose(net(0.0, z), net(torch.tensor(1.0, dtype=F64), z))
    assert set(ACTIVATIONS) == {"tanh", "softplus"} and INTEGRATORS[0] == "odeint"


# ---------------------------------------------------------------------- planar flow
def test_planar_log_det_matches_autograds_jacobian_determinant():
    torch.manual_seed(0)
    flow = PlanarFlow(2, n_layers=6, init_scale=1.0).double()
    for x in torch.randn(5, 2, dtype=F64, generator=generator(0)):
        _, log_det = flow.transform(x[None])
        jac = torch.autograd.functional.jacobian(lambda v: flow.transform(v[None])[0][0], x)
        torch.testing.assert_close(log_det[0], torch.linalg.slogdet(jac).logabsdet)


def test_planar_constraint_keeps_every_layer_invertible():
    flow = PlanarFlow(3, n_layers=2).double()
    with torch.no_grad():
        flow.w.copy_(torch.tensor([[1.0, 2.0, 0.0], [0.5, -1.0, 1.0]]))
        flow.u.copy_(-3 * flow.w)  # wᵀu far below −1: the raw layer would fold space
    wu_hat = (flow.w * flow.u_hat()).sum(dim=1)
    assert torch.all(wu_hat > -1)
    torch.testing.assert_close(wu_hat, -1 + nn.functional.softplus((flow.w * flow.u).sum(1)))
    x = torch.randn(50, 3, dtype=F64, generator=generator(1)) * 3
    torch.testing.assert_close(flow.inverse(flow.transform(x)[0]), x, rtol=0, atol=1e-10)


def test_planar_flow_is_a_normalised_density_and_samples_follow_it():
    torch.manual_seed(1)
    flow = PlanarFlow(2, n_layers=4, init_scale=1.0).double()
    _, _, p = density_on_grid(flow, bounds=(-7.0, 7.0), resolution=140)
    assert p.sum() * 0.1**2 == pytest.approx(1.0, abs=1e-3)
    x = flow.sample(20_000, generator=generator(0))
    assert x.shape == (20_000, 2)
    # the mean log-density of the samples estimates −entropy; compare with the grid's
    grid_entropy = -(p * np.log(p)).sum() * 0.1**2
    assert -flow.log_prob(x).mean().item() == pytest.approx(grid_entropy, abs=0.03)


# ---------------------------------------------------------------------- training helpers
def test_fit_density_and_mean_nll():
    x, _ = standardise(toy_data("eight_gaussians", 400, seed=1))
    torch.manual_seed(0)
    flow = PlanarFlow(2, n_layers=4).double()
    before = mean_nll(flow, x)
    fit = fit_density(
        flow, x[:300], n_iters=60, batch_size=64, lr=0.05, x_val=x[300:], eval_every=25
    )
    assert isinstance(fit, DensityFit) and len(fit.train_nll) == 60
    assert [it for it, _ in fit.val_nll] == [25, 50, 60]
    assert fit.val_nll[-1][1] < before
    assert mean_nll(flow, x, batch_size=7) == pytest.approx(mean_nll(flow, x), rel=1e-12)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"trace": "exactly"}, ValueError, r"unknown trace estimator 'exactly'.*'exact', 'hutch"),
        ({"noise": "uniform"}, ValueError, r"unknown noise 'uniform'.*'gaussian', 'rademacher'"),
        ({"integrator": "scipy"}, ValueError, r"unknown integrator.*'odeint_adjoint'"),
        ({"method": "rk45"}, ValueError, r"unknown method 'rk45'.*'dopri5'"),
        ({"activation": "relu"}, ValueError, r"unknown activation 'relu'.*'tanh'"),
        ({"dim": 0}, ValueError, "dim must be a positive integer"),
        ({"hidden": (8, 0)}, ValueError, "each hidden width must be a positive integer"),
        ({"t1": 0.0}, ValueError, "t1 must be positive and finite"),
        ({"t1": math.inf}, ValueError, "t1 must be positive and finite"),
        ({"net": lambda t, z: z}, TypeError, "net must be a torch.nn.Module"),
    ],
)
def test_cnf_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        CNF(**kwargs)


@pytest.mark.parametrize(
    "x,error,match",
    [
        (torch.zeros(4, 3), ValueError, r"x must have shape \(N, 2\).*got shape \(4, 3\)"),
        (torch.zeros(2), ValueError, r"a single point: x\[None\]"),
        (torch.zeros(0, 2), ValueError, r"x must have shape \(N, 2\) with N >= 1"),
        (torch.tensor([[0.0, 1.0], [math.nan, 0.0]]), ValueError, r"finite; rows \[1\]"),
        (np.array([[np.inf, 0.0]]), ValueError, "x must be finite"),
        ([["a", "b"]], TypeError, "x must be a tensor or array"),
        (torch.zeros(2, 2, dtype=torch.complex64), TypeError, "real numbers"),
    ],
)
def test_cnf_rejects_bad_data(x, error, match):
    cnf = CNF(2, hidden=(4,), method="rk4", step_size=0.5)
    with pytest.raises(error, match=match):
        cnf.log_prob(x)


def test_other_bad_inputs():
    cnf = CNF(2, hidden=(4,), method="rk4", step_size=0.5).double()
    with pytest.raises(ValueError, match="n must be a positive integer"):
        cnf.sample(0)
    with pytest.raises(ValueError, match=r"z must have shape \(N, 2\)"):
        cnf.flow(torch.zeros(3, 1), [0.0, 1.0])
    z = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="z must require grad"):
        exact_trace(z * 2, z)
    zg = z.clone().requires_grad_()
    with pytest.raises(ValueError, match=r"fz and z must both have shape \(N, D\)"):
        exact_trace((zg * 2).sum(dim=1), zg)
    with pytest.raises(TypeError, match=r"fz must be a torch\.Tensor"):
        hutchinson_trace(np.zeros((3, 2)), zg, torch.ones(3, 2))
    with pytest.raises(ValueError, match=r"probe must be a tensor shaped like z \(3, 2\)"):
        hutchinson_trace(zg * 2, zg, torch.ones(2, 2))
    with pytest.raises(ValueError, match=r"unknown noise 'normal'.*'gaussian'"):
        sample_probe((2, 2), "normal")
    with pytest.raises(ValueError, match="matrix must be square"):
        hutchinson_variance(torch.ones(2, 3))
    with pytest.raises(ValueError, match="needs a probe"):
        AugmentedDynamics(TimeMLP(2, (4,)), "hutchinson")
    with pytest.raises(ValueError, match="matrix must be square"):
        LinearField(torch.ones(3))
    with pytest.raises(ValueError, match="n_layers must be a positive integer"):
        PlanarFlow(2, n_layers=0)
    with pytest.raises(TypeError, match="model must have a log_prob"):
        fit_density(nn.Linear(2, 2), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="lr must be positive"):
        fit_density(cnf, np.zeros((4, 2)), lr=0.0)
    with pytest.raises(ValueError, match=r"x_train must have shape \(N, 2\)"):
        fit_density(cnf, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="x_val must be finite"):
        fit_density(cnf, np.zeros((4, 2)), x_val=np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        mean_nll(cnf, np.zeros((4, 2)), batch_size=0)
    with pytest.raises(ValueError, match="draws 2-D densities"):
        density_on_grid(PlanarFlow(3))
    with pytest.raises(ValueError, match="lo < hi"):
        density_on_grid(cnf, bounds=(1.0, -1.0))

"""Tests for ode_course.adjoint: gradcheck, agreement with backprop through odeint and with
torchdiffeq's adjoint, time gradients, checkpoints, NFE accounting and every error."""

from __future__ import annotations

import math

import pytest
import torch
import torchdiffeq
from torch import nn

from ode_course.adjoint import AdjointStats, odeint_adjoint
from ode_course.solvers import CountNFE, SolverError, odeint

F64 = torch.float64
TIGHT = {"rtol": 1e-10, "atol": 1e-10}


def tensor(x, dtype=F64, **kwargs) -> torch.Tensor:
    return torch.tensor(x, dtype=dtype, **kwargs)


def relative_error(got, want) -> float:
    """‖got − want‖/‖want‖ over all the tensors; where ``want`` is None (a parameter that
    autograd finds unused), ``got`` must be zeros."""
    pairs = [(g, w) for g, w in zip(got, want, strict=True) if w is not None]
    for g, w in zip(got, want, strict=True):
        if w is None:
            assert torch.equal(g, torch.zeros_like(g))
    got = torch.cat([g.reshape(-1) for g, _ in pairs])
    want = torch.cat([w.reshape(-1) for _, w in pairs])
    return ((got - want).norm() / want.norm()).item()


# ------------------------------------------------------------------ vector fields
class GivenParameters(nn.Module):
    """f(t, y) = tanh(y Wᵀ + b) cos t, whose parameters ARE the tensors given (for gradcheck,
    which perturbs its inputs in place)."""

    def __init__(self, w: torch.Tensor, b: torch.Tensor) -> None:
        super().__init__()
        self._parameters["w"], self._parameters["b"] = w, b

    def forward(self, t, y):
        return torch.tanh(y @ self.w.T + self.b) * torch.cos(t)


class MLPField(nn.Module):
    """f(t, y) = W₂ tanh(W₁ [y, t] + b₁) + b₂, and a parameter that f never uses."""

    def __init__(self, dim: int = 3, hidden: int = 16) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, hidden), nn.Tanh(), nn.Linear(hidden, dim))
        self.unused = nn.Parameter(torch.ones(2))

    def forward(self, t, y):
        return self.net(torch.cat([y, t.expand(*y.shape[:-1], 1)], dim=-1))


class Linear(nn.Module):
    """f(t, y) = y Aᵀ, a non-normal linear flow."""

    def __init__(self) -> None:
        super().__init__()
        self.A = nn.Parameter(tensor([[-0.2, 2.0, 0.0], [-1.0, 0.0, 0.5], [0.3, -0.4, -0.1]]))

    def forward(self, t, y):
        return y @ self.A.T


class LotkaVolterra(nn.Module):
    """Predator and prey: x' = αx − βxy, y' = δxy − γy, in log-free form (state shape (..., 2))."""

    def __init__(self) -> None:
        super().__init__()
        self.rates = nn.Parameter(tensor([1.1, 0.4, 0.1, 0.4]))

    def forward(self, t, y):
        alpha, beta, delta, gamma = self.rates
        x, p = y[..., 0], y[..., 1]
        return torch.stack([alpha * x - beta * x * p, delta * x * p - gamma * p], dim=-1)


def make_field(name: str) -> nn.Module:
    torch.manual_seed(0)
    return {"mlp": MLPField, "linear": Linear, "lotka-volterra": LotkaVolterra}[name]().double()


def make_state(name: str, batch: int = 4) -> torch.Tensor:
    torch.manual_seed(1)
    dim = 2 if name == "lotka-volterra" else 3
    y0 = torch.rand(batch, dim, dtype=F64) + 0.5
    return y0.requires_grad_()


def weighted_loss(ys: torch.Tensor) -> torch.Tensor:
    """A loss that reads every output time, nonlinearly."""
    weights = torch.linspace(0.5, 1.5, ys.numel(), dtype=ys.dtype).reshape(ys.shape)
    return (weights * ys).sum() + 0.1 * (ys**2).sum()


def gradients(solver, func, y0, t, **kwargs):
    ys = solver(func, y0, t, **kwargs)
    inputs = [y0, *func.parameters()] + ([t] if t.requires_grad else [])
    return torch.autograd.grad(weighted_loss(ys), inputs, allow_unused=True)


# ------------------------------------------------------------------ gradcheck
@pytest.mark.parametrize(
    "kwargs", [TIGHT, {"method": "rk4", "step_size": 0.1}], ids=["dopri5", "rk4"]
)
def test_gradcheck_for_y0_and_parameters(kwargs):
    torch.manual_seed(2)
    t = tensor([0.0, 0.3, 0.8])
    y0 = torch.randn(2, dtype=F64, requires_grad=True)
    w = torch.randn(2, 2, dtype=F64, requires_grad=True)
    b = torch.randn(2, dtype=F64, requires_grad=True)

    def solution(y0, w, b):
        return odeint_adjoint(GivenParameters(w, b), y0, t, **kwargs)

    assert torch.autograd.gradcheck(solution, (y0, w, b))


def test_gradcheck_for_the_times():
    torch.manual_seed(3)
    y0 = torch.randn(2, dtype=F64, requires_grad=True)
    w = torch.randn(2, 2, dtype=F64, requires_grad=True)
    b = torch.randn(2, dtype=F64, requires_grad=True)
    t = tensor([0.2, 0.7, 1.5], requires_grad=True)

    def solution(y0, t):
        return odeint_adjoint(GivenParameters(w, b), y0, t, **TIGHT)

    assert torch.autograd.gradcheck(solution, (y0, t))


# ------------------------------------------------------------------ agreement
@pytest.mark.parametrize("name", ["mlp", "linear", "lotka-volterra"])
@pytest.mark.parametrize("times", [[0.0, 1.5], [0.0, 0.3, 0.7, 1.2, 2.0]], ids=["2", "5"])
def test_agrees_with_direct_backprop_and_torchdiffeq(name, times):
    func, y0, t = make_field(name), make_state(name), tensor(times)
    ours = gradients(odeint_adjoint, func, y0, t, **TIGHT)
    direct = gradients(odeint, func, y0, t, **TIGHT)
    theirs = gradients(torchdiffeq.odeint_adjoint, func, y0, t, **TIGHT)
    for got, want in zip(ours, direct, strict=True):  # each tensor on its own
        assert relative_error([got], [want]) <= 1e-6 if want is not None else got.norm() == 0
    for got, want in zip(ours, theirs, strict=True):  # torchdiffeq gives zeros where f is flat
        assert relative_error([got], [want]) <= 1e-6 if want.norm() > 0 else got.norm() == 0


def test_same_solution_as_odeint():
    func, y0, t = make_field("mlp"), make_state("mlp"), tensor([0.0, 0.5, 1.0])
    ys = odeint_adjoint(func, y0, t, rtol=1e-8, atol=1e-9)
    assert ys.shape == (3, *y0.shape) and ys.requires_grad
    with torch.no_grad():
        torch.testing.assert_close(ys, odeint(func, y0, t, rtol=1e-8, atol=1e-9))


def test_time_gradients_agree_with_torchdiffeq():
    func, y0 = make_field("mlp"), make_state("mlp")
    for times in ([0.0, 0.4, 1.1], [1.0, 0.2, -0.5]):
        t = tensor(times, requires_grad=True)
        ours = gradients(odeint_adjoint, func, y0, t, **TIGHT)
        theirs = gradients(torchdiffeq.odeint_adjoint, func, y0, t, **TIGHT)
        assert relative_error([ours[-1]], [theirs[-1]]) <= 1e-6


def test_unused_and_frozen_parameters():
    func, y0, t = make_field("mlp"), make_state("mlp"), tensor([0.0, 1.0])
    func.net[2].bias.requires_grad_(False)
    odeint_adjoint(func, y0, t)[-1].sum().backward()
    assert torch.equal(func.unused.grad, torch.zeros(2, dtype=F64))  # zeros, not None
    assert func.net[2].bias.grad is None  # frozen: no gradient at all
    assert func.net[0].weight.grad.abs().sum() > 0 and y0.grad.abs().sum() > 0


def test_parameters_only_and_y0_only():
    func, t = make_field("linear"), tensor([0.0, 1.0])
    y0 = make_state("linear").detach()
    odeint_adjoint(func, y0, t)[-1].sum().backward()
    assert func.A.grad.abs().sum() > 0
    func.requires_grad_(False)
    y0.requires_grad_()
    odeint_adjoint(func, y0, t, **TIGHT)[-1].sum().backward()
    expected = torch.linalg.matrix_exp(func.A.T).sum(dim=1)  # d Σᵢ(e^{A} y0)ᵢ / d y0
    torch.testing.assert_close(y0.grad, expected.expand_as(y0), rtol=1e-8, atol=1e-10)


def test_decreasing_times():
    func, y0 = make_field("mlp"), make_state("mlp")
    t = tensor([2.0, 1.2, 0.0])
    ours = gradients(odeint_adjoint, func, y0, t, **TIGHT)
    direct = gradients(odeint, func, y0, t, **TIGHT)
    assert relative_error(ours, direct) <= 1e-6


def test_batched_states_of_any_shape():
    """A (2, 3, 3) batch gives each state the gradient it gets alone."""
    func, t = make_field("linear"), tensor([0.0, 0.6, 1.0])
    torch.manual_seed(4)
    y0 = torch.randn(2, 3, 3, dtype=F64, requires_grad=True)
    weighted_loss(odeint_adjoint(func, y0, t, **TIGHT)).backward()
    grad_a, grad_y0 = func.A.grad.clone(), y0.grad.clone()
    total = torch.zeros_like(grad_a)
    for index in [(0, 0), (1, 2)]:
        func.zero_grad()
        single = y0.detach()[index].clone().requires_grad_()
        ys = odeint_adjoint(func, single, t, **TIGHT)
        weights = torch.linspace(0.5, 1.5, 3 * y0.numel(), dtype=F64).reshape(3, *y0.shape)
        ((weights[(slice(None), *index)] * ys).sum() + 0.1 * (ys**2).sum()).backward()
        torch.testing.assert_close(single.grad, grad_y0[index], rtol=1e-7, atol=1e-9)
        total += func.A.grad
    direct = gradients(odeint, func, y0, t, **TIGHT)
    assert relative_error([grad_a], [direct[1]]) <= 1e-6


@pytest.mark.parametrize(
    "method,step_size,tolerance",
    [("euler", 1e-3, 1e-2), ("midpoint", 1e-2, 1e-3), ("rk4", 1e-2, 1e-8)],
)
def test_fixed_grid_methods(method, step_size, tolerance):
    """The adjoint of the ODE (optimise-then-discretise) and backprop through the steps
    (discretise-then-optimise) differ by the discretisation error, O(hᵖ)."""
    func, y0, t = make_field("mlp"), make_state("mlp"), tensor([0.0, 0.5, 1.0])
    options = {"method": method, "step_size": step_size}
    ours = gradients(odeint_adjoint, func, y0, t, **options)
    direct = gradients(odeint, func, y0, t, **options)
    exact = gradients(odeint, func, y0, t, **TIGHT)
    assert relative_error(ours, exact) <= tolerance
    assert relative_error(ours, direct) <= 2 * tolerance


def test_float32():
    func, t = make_field("mlp").float(), torch.tensor([0.0, 1.0])
    y0 = make_state("mlp").detach().float().requires_grad_()
    ours = gradients(odeint_adjoint, func, y0, t, rtol=1e-6, atol=1e-7)
    direct = gradients(odeint, func, y0, t, rtol=1e-6, atol=1e-7)
    assert ours[0].dtype == torch.float32
    assert relative_error(ours, direct) <= 1e-4


def test_a_field_that_differentiates_inside_like_a_cnf():
    """[z, log p]' = [f(z), −tr ∂f/∂z], the trace by autograd inside the field."""

    class WithTrace(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.f = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))

        def forward(self, t, state):
            with torch.enable_grad():  # as FFJORD does: the forward solve runs under no_grad
                state = state if state.requires_grad else state.detach().requires_grad_()
                z = state[:, :2]
                dz = self.f(z)
                trace = sum(
                    torch.autograd.grad(dz[:, i].sum(), z, create_graph=True)[0][:, i]
                    for i in range(2)
                )
            return torch.cat([dz, -trace[:, None]], dim=1)

    torch.manual_seed(5)
    func = WithTrace().double()
    state = torch.cat([torch.randn(5, 2, dtype=F64), torch.zeros(5, 1, dtype=F64)], dim=1)
    t = tensor([0.0, 1.0])
    ours = gradients(odeint_adjoint, func, state.requires_grad_(), t, **TIGHT)
    direct = gradients(odeint, func, state, t, **TIGHT)
    assert relative_error(ours, direct) <= 1e-6


# ------------------------------------------------------------------ checkpoints
class FastLeaky(nn.Module):
    """u' = −k u + w₀ sin t + w₁ cos t (fast, contracting), v' = u² (slow): z(t) cannot be
    reconstructed backwards, where errors grow like e^{k(T − t)}."""

    def __init__(self, k: float = 10.0) -> None:
        super().__init__()
        self.k = k
        self.w = nn.Parameter(tensor([1.0, 0.5]))

    def forward(self, t, z):
        u = z[..., 0]
        du = -self.k * u + self.w[0] * torch.sin(t) + self.w[1] * torch.cos(t)
        return torch.stack([du, u**2], dim=-1)


def test_checkpoints_repair_an_unstable_backward_reconstruction():
    func, z0, t = FastLeaky(), tensor([0.0, 0.0]), tensor([0.0, 2.0])
    exact = torch.autograd.grad(odeint(func, z0, t, **TIGHT)[-1, 1], func.w)
    errors = {}
    for checkpoints in (0, 20):
        ys = odeint_adjoint(func, z0, t, rtol=1e-8, atol=1e-8, checkpoints=checkpoints)
        errors[checkpoints] = relative_error(torch.autograd.grad(ys[-1, 1], func.w), exact)
    assert errors[0] > 0.1 and errors[20] < 1e-5, errors


def test_checkpoints_keep_outputs_and_gradients():
    func, y0 = make_field("mlp"), make_state("mlp")
    for times in ([0.0, 0.5, 1.0, 1.7], [1.0, 0.0]):
        t = tensor(times)
        plain = gradients(odeint_adjoint, func, y0, t, **TIGHT)
        stats = AdjointStats()
        ys = odeint_adjoint(func, y0, t, checkpoints=5, stats=stats, **TIGHT)
        with torch.no_grad():
            torch.testing.assert_close(ys, odeint(func, y0, t, **TIGHT))
        checkpointed = torch.autograd.grad(weighted_loss(ys), [y0, *func.parameters()])
        assert relative_error(checkpointed, plain) <= 1e-7
        assert stats.n_backward == 1 and stats.nfe_backward > 0


# ------------------------------------------------------------------ NFE accounting
def test_stats_count_every_evaluation_and_add_up():
    func, y0 = make_field("mlp"), make_state("mlp")
    counted, stats = CountNFE(func), AdjointStats()
    t = tensor([0.0, 0.5, 1.0], requires_grad=True)
    ys = odeint_adjoint(counted, y0, t, stats=stats)
    assert stats.nfe_forward == counted.nfe and stats.nfe_backward == 0
    weighted_loss(ys).backward()
    assert stats.nfe_forward + stats.nfe_backward == counted.nfe
    assert stats.n_steps_forward > 0 and stats.n_steps_backward > 0 and stats.n_backward == 1
    first = (stats.nfe_forward, stats.nfe_backward)
    weighted_loss(odeint_adjoint(counted, y0, t, stats=stats)).backward()
    assert (stats.nfe_forward, stats.nfe_backward) == (2 * first[0], 2 * first[1])
    stats.reset()
    assert stats == AdjointStats()


def test_fixed_grid_nfe():
    """rk4: 4 evaluations per step, forward and backward (20 steps of 0.05 each way)."""
    stats = AdjointStats()
    func, y0 = make_field("mlp"), make_state("mlp")
    ys = odeint_adjoint(func, y0, tensor([0.0, 1.0]), method="rk4", step_size=0.05, stats=stats)
    ys.sum().backward()
    assert (stats.nfe_forward, stats.nfe_backward) == (80, 80)
    assert (stats.n_steps_forward, stats.n_steps_backward) == (20, 20)


def test_under_no_grad_it_is_a_plain_solve():
    func, t = make_field("linear").requires_grad_(False), tensor([0.0, 1.0])
    y0 = make_state("linear").detach()
    with torch.no_grad():
        ys = odeint_adjoint(func, y0, t)
        torch.testing.assert_close(ys, odeint(func, y0, t))
    assert not ys.requires_grad


# ------------------------------------------------------------------ errors
Y0, T = tensor([1.0], requires_grad=True), tensor([0.0, 1.0])


class Decay(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.k = nn.Parameter(tensor(1.0))

    def forward(self, t, y):
        return -self.k * y


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"func": lambda t, y: -y}, TypeError, r"func must be a torch.nn.Module.*got function"),
        ({"func": "f"}, TypeError, r"func must be a torch.nn.Module.*got str"),
        # the checks of odeint, reused
        ({"y0": [1.0]}, TypeError, r"y0 must be a torch.Tensor; got list"),
        ({"t": [0.0, 1.0]}, TypeError, r"t must be a torch.Tensor; got list"),
        ({"y0": torch.tensor([1])}, TypeError, r"y0 must be of a floating-point dtype"),
        ({"t": T.float()}, TypeError, r"t must be of the dtype of y0"),
        ({"t": tensor([0.0, 0.3, 0.2])}, ValueError, r"strictly increasing or decreasing"),
        ({"t": tensor([0.0])}, ValueError, r"t must be a tensor of at least 2 times"),
        ({"y0": tensor([math.nan], requires_grad=True)}, ValueError, r"y0 must be finite"),
        ({"method": "rk45"}, ValueError, r"method must be one of 'euler', 'midpoint', 'rk4'"),
        ({"method": "rk4"}, ValueError, r"method='rk4' is a fixed-grid method and needs step_"),
        ({"step_size": 0.1}, ValueError, r"step_size is only used by the fixed-grid methods"),
        ({"rtol": 0.0}, ValueError, r"rtol must be positive; got rtol=0"),
        # the adjoint's own
        ({"adjoint_rtol": -1.0}, ValueError, r"adjoint_rtol must be positive"),
        ({"adjoint_atol": "1e-8"}, TypeError, r"adjoint_atol must be a real number"),
        ({"checkpoints": 2.5}, TypeError, r"checkpoints must be an integer >= 0; got float 2.5"),
        ({"checkpoints": True}, TypeError, r"checkpoints must be an integer >= 0; got bool"),
        (
            {"checkpoints": -1},
            ValueError,
            r"checkpoints must be an integer >= 0; got checkpoints=-1",
        ),
        ({"stats": {}}, TypeError, r"stats must be an AdjointStats or None; got dict"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    args = {"func": Decay().double(), "y0": Y0, "t": T, **kwargs}
    with pytest.raises(error, match=match):
        odeint_adjoint(args.pop("func"), args.pop("y0"), args.pop("t"), **args)


def test_nothing_to_differentiate():
    func = Decay().double().requires_grad_(False)
    with pytest.raises(ValueError, match=r"nothing to differentiate: neither y0, t nor any param"):
        odeint_adjoint(func, Y0.detach(), T)


def test_a_failing_backward_solve_says_what_to_try():
    class NanWhenDifferentiated(Decay):
        def forward(self, t, y):
            return -self.k * y * (math.nan if torch.is_grad_enabled() else 1.0)

    ys = odeint_adjoint(NanWhenDifferentiated().double(), Y0, T)
    with pytest.raises(
        SolverError,
        match=r"adjoint's backward solve from t=1 to t=0 failed; .*Fix: add checkpoints "
        r"\(checkpoints=...\) or backpropagate .*The solver said: func\(t, y0\) is not finite",
    ):
        ys.sum().backward()


# --- seminorms (Kidger et al. 2021): the backward error control skips dL/dθ ----------------


def _seminorm_problem():
    from ode_course import ODEFunc

    torch.manual_seed(0)
    field = ODEFunc(dim=2, hidden=16).double()
    z0 = torch.randn(8, 2, dtype=torch.float64, requires_grad=True)
    return field, z0, torch.tensor([0.0, 2.0], dtype=torch.float64)


def _adjoint_run(field, z0, span, rtol, seminorm):
    stats = AdjointStats()
    zs = odeint_adjoint(
        field, z0, span, rtol=rtol, atol=rtol, stats=stats, adjoint_seminorm=seminorm
    )
    grads = torch.autograd.grad((zs[-1] ** 2).sum(), [z0, *field.parameters()])
    return stats, torch.cat([g.reshape(-1) for g in grads])


def test_seminorm_gives_the_same_gradients_with_fewer_backward_evaluations():
    from ode_course import relative_error

    field, z0, span = _seminorm_problem()
    zs = odeint(field, z0, span, rtol=1e-10, atol=1e-10)
    grads = torch.autograd.grad((zs[-1] ** 2).sum(), [z0, *field.parameters()])
    reference = torch.cat([g.reshape(-1) for g in grads])
    for rtol in (1e-6, 1e-8):
        plain, g_plain = _adjoint_run(field, z0, span, rtol, False)
        semi, g_semi = _adjoint_run(field, z0, span, rtol, True)
        assert semi.nfe_forward == plain.nfe_forward  # the forward solve is untouched
        assert semi.nfe_backward < plain.nfe_backward
        assert relative_error(g_semi, reference) < 100 * rtol
        assert relative_error(g_plain, reference) < 100 * rtol


def test_seminorm_saves_backward_evaluations_as_torchdiffeqs_does():
    field, z0, span = _seminorm_problem()
    ours = {s: _adjoint_run(field, z0, span, 1e-6, s)[0].nfe_backward for s in (False, True)}
    theirs = {}
    for semi in (False, True):
        counted = CountNFE(field)
        options = {"norm": "seminorm"} if semi else None
        zs = torchdiffeq.odeint_adjoint(
            counted, z0, span, rtol=1e-6, atol=1e-6, adjoint_options=options
        )
        forward = counted.nfe
        torch.autograd.grad((zs[-1] ** 2).sum(), [z0, *field.parameters()])
        theirs[semi] = counted.nfe - forward
    assert ours[True] < ours[False] and theirs[True] < theirs[False]  # same direction


def test_seminorm_option_and_error_norm_are_validated():
    from ode_course.adjoint import _seminorm
    from ode_course.solvers import solve

    field, z0, span = _seminorm_problem()
    with pytest.raises(TypeError, match="adjoint_seminorm must be True or False"):
        odeint_adjoint(field, z0, span, adjoint_seminorm="yes")
    with pytest.raises(TypeError, match="error_norm must be a function"):
        solve(lambda t, y: -y, torch.ones(2, dtype=torch.float64), span, error_norm=1.0)
    assert _seminorm(2)(torch.tensor([3.0, 4.0, 1e6])) == pytest.approx((12.5) ** 0.5)
    # the full-length seminorm is the default RMS norm: the same steps
    y0 = torch.ones(3, dtype=torch.float64)
    default = solve(lambda t, y: -y, y0, span, rtol=1e-8)
    full = solve(lambda t, y: -y, y0, span, rtol=1e-8, error_norm=_seminorm(3))
    assert (default.nfe, default.n_steps) == (full.nfe, full.n_steps)

"""Tests for ode_course.solvers: convergence orders on closed forms, dopri5 against expm and
torchdiffeq, backward integration, batches, dtypes, gradients by gradcheck, and every error."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import torch
import torchdiffeq
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ode_course.solvers import (
    DOPRI5,
    EULER,
    MIDPOINT,
    RK4,
    RK4_TABLEAU,
    SOLVERS,
    AdaptiveSolver,
    ButcherTableau,
    CountNFE,
    Dopri5,
    Euler,
    FixedGridSolver,
    Midpoint,
    Solution,
    SolverError,
    odeint,
    solve,
)

F64 = torch.float64
FIXED = ["euler", "midpoint", "rk4"]
METHODS = [*FIXED, "dopri5"]


def tensor(x, dtype=F64) -> torch.Tensor:
    return torch.tensor(x, dtype=dtype)


def options(method: str, step_size: float = 0.01, tol: float = 1e-10) -> dict:
    """Keyword arguments that make each method accurate enough for the tests."""
    if method == "dopri5":
        return {"method": method, "rtol": tol, "atol": tol}
    return {"method": method, "step_size": step_size}


def decay(t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """y' = −y cos t, so y(t) = y(t₀) exp(sin t₀ − sin t)."""
    return -y * torch.cos(t)


def decay_exact(y0: torch.Tensor, t0: float, t: torch.Tensor) -> torch.Tensor:
    return y0 * torch.exp(math.sin(t0) - torch.sin(t)).reshape(-1, *[1] * y0.ndim)


class Dopri5FixedStep(FixedGridSolver):
    """The 5th-order solution of the Dormand–Prince tableau with fixed steps (no control)."""

    tableau = DOPRI5


# ------------------------------------------------------------------ tableaux
@pytest.mark.parametrize("tab", [EULER, MIDPOINT, RK4_TABLEAU, DOPRI5], ids=lambda t: str(t.order))
def test_tableaux_are_consistent(tab):
    """Σ bᵢ = 1 and each row of a sums to its cᵢ (so every stage is consistent)."""
    assert sum(tab.b) == pytest.approx(1.0, abs=1e-15)
    for c_i, a_i in zip(tab.c, tab.a, strict=True):
        assert sum(a_i) == pytest.approx(c_i, abs=1e-15)


def test_dopri5_error_weights_and_dense_output():
    assert sum(DOPRI5.b_err) == pytest.approx(0.0, abs=1e-15)
    assert DOPRI5.a[-1] == DOPRI5.b[:-1] and DOPRI5.b[-1] == 0  # FSAL
    solver = Dopri5()
    np.testing.assert_allclose(solver.dense_weights(0.0), 0.0, atol=0)
    np.testing.assert_allclose(solver.dense_weights(0.5), DOPRI5.b_mid, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(solver.dense_weights(1.0), DOPRI5.b, rtol=1e-13, atol=1e-15)


def test_tableau_shape_is_checked():
    with pytest.raises(ValueError, match=r"a must be strictly lower triangular"):
        ButcherTableau(c=(0.0, 1.0), a=((), (0.5, 0.5)), b=(0.5, 0.5), order=2)
    with pytest.raises(ValueError, match=r"b must have one weight per stage \(2\); got 3"):
        ButcherTableau(c=(0.0, 1.0), a=((), (1.0,)), b=(0.5, 0.5, 0.0), order=2)


# ------------------------------------------------------------------ convergence orders
ROTATION = tensor([[-0.2, 2.0], [-1.0, 0.0]])  # a damped rotation, non-normal
Y0_ROT = tensor([1.0, 0.5])
T_END = 3.0


@pytest.mark.parametrize(
    "solver_cls,order,h0",
    [(Euler, 1, 0.1), (Midpoint, 2, 0.1), (RK4, 4, 0.2), (Dopri5FixedStep, 5, 0.3)],
    ids=["euler", "midpoint", "rk4", "dopri5-fixed-step"],
)
def test_observed_convergence_order(solver_cls, order, h0):
    """log₂(error(h)/error(h/2)) ≈ p on y' = A y, whose solution is expm(A t) y₀."""
    exact = torch.from_numpy(scipy.linalg.expm(ROTATION.numpy() * T_END)) @ Y0_ROT
    t = tensor([0.0, T_END])
    errors = []
    for k in range(4):
        ys = solver_cls(step_size=h0 / 2**k).integrate(lambda t, y: ROTATION @ y, Y0_ROT, t).ys
        errors.append((ys[-1] - exact).norm().item())
    orders = [math.log2(e1 / e2) for e1, e2 in pairwise(errors)]
    assert orders == pytest.approx([order] * 3, abs=0.3), orders


def test_dopri5_one_step_errors_have_the_orders_of_a_5_4_pair():
    """From one point, the 5th-order step's error is O(h⁶) and the embedded estimate of the
    4th-order solution's error is O(h⁵): halving h divides them by about 2⁶ and 2⁵."""
    solver, f = Dopri5(rtol=1.0, atol=1.0), lambda t, y: ROTATION @ y  # scale 1: raw norms
    one_step, estimate = [], []
    for h in (0.4, 0.2, 0.1, 0.05):
        y_new, _, err = solver.attempt(f, 0.0, Y0_ROT, f(0.0, Y0_ROT), h)
        exact = torch.from_numpy(scipy.linalg.expm(ROTATION.numpy() * h)) @ Y0_ROT
        one_step.append((y_new - exact).norm().item())
        estimate.append(err)
    for errors, order in ((one_step, 6), (estimate, 5)):
        observed = [math.log2(e1 / e2) for e1, e2 in pairwise(errors)]
        assert observed == pytest.approx([order] * 3, abs=0.3), observed


def test_adaptive_dopri5_error_follows_the_tolerance_and_nfe_grows_like_its_fifth_root():
    """On y' = A y: the global error is proportional to the tolerance (slope ≈ 1), and the number
    of steps grows like tol^(−1/5), as a controller for a 5th-order method predicts."""
    exact = torch.from_numpy(scipy.linalg.expm(ROTATION.numpy() * T_END)) @ Y0_ROT
    tolerances = 10.0 ** -np.arange(5, 12)
    errors, steps = [], []
    for tol in tolerances:
        solution = solve(
            lambda t, y: ROTATION @ y, Y0_ROT, tensor([0.0, T_END]), rtol=tol, atol=tol
        )
        errors.append((solution.ys[-1] - exact).norm().item())
        steps.append(solution.n_steps)
    error_slope = np.polyfit(np.log(tolerances), np.log(errors), 1)[0]
    step_slope = np.polyfit(np.log(tolerances), np.log(steps), 1)[0]
    assert error_slope == pytest.approx(1.0, abs=0.15)
    assert step_slope == pytest.approx(-1 / 5, abs=0.03)


def test_fixed_grid_hits_every_output_time_exactly():
    """Steps of 0.1 from each output time, the last one shortened: 3 + 8 steps here."""
    t = tensor([0.0, 0.25, 1.0])
    solution = solve(
        lambda t, y: torch.ones_like(y), tensor([0.0]), t, method="euler", step_size=0.1
    )
    assert solution.n_steps == 11 and solution.nfe == 11
    torch.testing.assert_close(solution.ys[:, 0], t, rtol=0, atol=1e-15)  # y = t exactly


@pytest.mark.parametrize("method", METHODS)
def test_many_output_times_match_the_closed_form(method):
    """dopri5 reads most of these off its dense output."""
    y0, t = tensor([1.0, -2.0]), torch.linspace(0, 4, 41, dtype=F64)
    ys = odeint(decay, y0, t, **options(method, step_size=0.005, tol=1e-10))
    tolerance = {"euler": 1e-2, "midpoint": 1e-4, "rk4": 1e-9, "dopri5": 1e-8}[method]
    torch.testing.assert_close(ys, decay_exact(y0, 0.0, t), rtol=tolerance, atol=tolerance)
    assert torch.equal(ys[0], y0)


# ------------------------------------------------------------------ dopri5 against oracles
def stable_matrix(dim: int, seed: int, damping: float) -> np.ndarray:
    """A = S − damping·P Pᵀ with S skew-symmetric: every eigenvalue has real part ≤ 0."""
    rng = np.random.default_rng(seed)
    q, p = rng.normal(size=(dim, dim)), rng.normal(size=(dim, dim))
    return (q - q.T) / math.sqrt(dim) - damping * p @ p.T / dim


@settings(max_examples=6, deadline=None)
@given(
    dim=st.integers(min_value=1, max_value=4),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    damping=st.floats(min_value=0.0, max_value=1.0),
)
@example(dim=1, seed=5884, damping=1.0)  # decays to 6e-5 by t = 2: below atol's scale
def test_dopri5_matches_expm_and_torchdiffeq(dim, seed, damping):
    a = stable_matrix(dim, seed, damping)
    y0 = np.random.default_rng(seed + 1).normal(size=dim)
    t = torch.linspace(0, 2, 5, dtype=F64)
    exact = np.stack([scipy.linalg.expm(a * ti) @ y0 for ti in t.tolist()])
    matrix = torch.from_numpy(a)
    field = CountNFE(lambda t, y: matrix @ y)
    solution = solve(field, torch.from_numpy(y0), t, rtol=1e-8, atol=1e-8)
    assert field.nfe == solution.nfe
    # the solver's own error model with rtol = atol: relative where |y| > 1, absolute below
    # (a solution that decays to 1e-5 is controlled to atol, not to 1e-8 of its size)
    scale = np.maximum(np.linalg.norm(exact, axis=1), 1.0)
    error = np.linalg.norm(solution.ys.numpy() - exact, axis=1) / scale
    assert error.max() <= 1e-6
    field.reset()
    theirs = torchdiffeq.odeint(field, torch.from_numpy(y0), t, rtol=1e-8, atol=1e-8)
    assert (solution.ys - theirs).abs().max().item() <= 1e-6
    assert abs(solution.nfe - field.nfe) <= 0.1 * field.nfe


def test_dopri5_rejects_steps_and_stays_accurate():
    """Van der Pol with μ = 5 has fast transitions that force rejected steps; the reference is
    scipy's 8th-order DOP853 at tolerance 1e-12."""

    def van_der_pol(t, y):
        return torch.stack([y[1], 5 * (1 - y[0] ** 2) * y[1] - y[0]])

    t, y0 = torch.linspace(0, 10, 3, dtype=F64), tensor([2.0, 0.0])
    solution = solve(van_der_pol, y0, t, rtol=1e-8, atol=1e-8)
    assert solution.n_rejected > 0
    assert solution.nfe == 2 + 6 * (solution.n_steps + solution.n_rejected)
    reference = scipy.integrate.solve_ivp(
        lambda t, y: [y[1], 5 * (1 - y[0] ** 2) * y[1] - y[0]],
        (0, 10),
        [2.0, 0.0],
        method="DOP853",
        t_eval=t.numpy(),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(solution.ys.numpy(), reference.y.T, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ directions, batches, dtypes
@pytest.mark.parametrize("method", METHODS)
def test_integrating_backwards_in_time(method):
    y0, t = tensor([1.0, 0.5]), tensor([0.0, 0.7, 2.0])
    kwargs = options(method, step_size=0.01)
    forward = odeint(decay, y0, t, **kwargs)
    backward = odeint(decay, forward[-1], t.flip(0), **kwargs)
    tolerance = {"euler": 5e-2, "midpoint": 1e-4, "rk4": 1e-9, "dopri5": 1e-8}[method]
    torch.testing.assert_close(backward, forward.flip(0), rtol=tolerance, atol=0)  # back to y0
    exact = decay_exact(forward[-1], 2.0, t.flip(0))
    torch.testing.assert_close(backward, exact, rtol=tolerance, atol=0)


@pytest.mark.parametrize("method", METHODS)
def test_a_batch_equals_solving_each_row(method):
    """The same steps for every row on a fixed grid; dopri5 controls one norm over the batch,
    so its steps differ from a single row's, within the tolerance."""
    torch.manual_seed(0)
    w, y0, t = torch.randn(3, 3, dtype=F64), torch.randn(4, 3, dtype=F64), tensor([0.0, 0.5, 1.0])

    def mlp(t, y):
        return torch.tanh(y @ w.T) * torch.cos(t)

    kwargs = options(method, step_size=0.05, tol=1e-10)
    batch = odeint(mlp, y0, t, **kwargs)
    assert batch.shape == (3, 4, 3)
    rows = torch.stack([odeint(mlp, row, t, **kwargs) for row in y0], dim=1)
    tolerance = 1e-8 if method == "dopri5" else 1e-13
    torch.testing.assert_close(batch, rows, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_output_dtype_follows_y0(method, dtype):
    y0, t = tensor([[1.0], [2.0]], dtype), tensor([0.0, 1.0], dtype)
    seen = []

    def f(t, y):
        seen.append(t.dtype)
        return -y

    ys = odeint(f, y0, t, **options(method, step_size=0.01, tol=1e-6))
    assert ys.dtype == dtype and ys.shape == (2, 2, 1) and set(seen) == {dtype}
    tolerance = {"euler": 2e-2, "midpoint": 1e-4, "rk4": 1e-5, "dopri5": 1e-5}[method]
    torch.testing.assert_close(ys[-1], y0 * math.exp(-1), rtol=tolerance, atol=0)


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("backwards", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("method", METHODS)
def test_gradcheck(method, backwards):
    """Autograd through every stage (and the dense output) agrees with finite differences,
    integrating forwards or backwards in time."""
    t = tensor([0.0, 0.4, 1.0])
    if backwards:
        t = t.flip(0)
    kwargs = options(method, step_size=0.1, tol=1e-9)

    def run(y0, w):
        return odeint(lambda t, y: torch.tanh(w @ y) + 0.1 * torch.cos(t) * y, y0, t, **kwargs)

    y0 = tensor([0.3, -0.5]).requires_grad_()
    w = tensor([[-0.5, 1.0], [-1.0, 0.2]]).requires_grad_()
    assert torch.autograd.gradcheck(run, (y0, w))


@pytest.mark.parametrize("method", METHODS)
def test_the_solver_saves_nothing_for_backward_beyond_what_func_saves(method):
    """y' = −y saves no tensor for backward, and neither should the solver's own arithmetic or
    checks (torch.isfinite would save its input through abs() if run under grad mode)."""
    saved = []

    def pack(tensor):
        saved.append(tuple(tensor.shape))
        return tensor

    y0 = tensor([1.0, 2.0]).requires_grad_()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        ys = odeint(lambda t, y: -y, y0, tensor([0.0, 0.5, 1.0]), **options(method, 0.1, 1e-6))
    assert saved == []
    (grad,) = torch.autograd.grad(ys[-1].sum(), y0)  # the flow is linear: y(1) = c · y0
    torch.testing.assert_close(grad, (ys[-1] / y0).detach(), rtol=1e-12, atol=0)


def test_gradient_of_a_linear_flow_is_its_matrix_exponential():
    """d y(T)/d y0 = expm(A T) for y' = A y."""
    y0 = Y0_ROT.clone().requires_grad_()
    ys = odeint(lambda t, y: ROTATION @ y, y0, tensor([0.0, 1.0]), rtol=1e-10, atol=1e-10)
    (grad,) = torch.autograd.grad(ys[-1].sum(), y0)
    expected = torch.from_numpy(scipy.linalg.expm(ROTATION.numpy())).sum(dim=0)
    torch.testing.assert_close(grad, expected, rtol=1e-8, atol=1e-8)


# ------------------------------------------------------------------ NFE and the registry
@pytest.mark.parametrize("method,stages", [("euler", 1), ("midpoint", 2), ("rk4", 4)])
def test_fixed_grid_nfe_is_stages_times_steps(method, stages):
    field = CountNFE(decay)
    solution = solve(field, tensor([1.0]), tensor([0.0, 1.0]), method=method, step_size=0.1)
    assert solution.n_steps == 10 and solution.n_rejected == 0
    assert solution.nfe == field.nfe == 10 * stages


def test_count_nfe_wraps_modules_and_works_with_torchdiffeq():
    linear = torch.nn.Linear(2, 2).double()
    field = CountNFE(lambda t, y: linear(y))
    module_field = CountNFE(linear.__class__(2, 2))
    assert len(list(module_field.parameters())) == 2  # a Module's parameters stay visible
    y0, t = tensor([1.0, 0.0]), tensor([0.0, 1.0])
    ours = solve(field, y0, t, rtol=1e-6, atol=1e-8)
    assert field.nfe == ours.nfe > 0
    field.reset()
    assert field.nfe == 0
    theirs = torchdiffeq.odeint(field, y0, t, rtol=1e-6, atol=1e-8)
    assert field.nfe == ours.nfe  # the same algorithm as torchdiffeq's dopri5
    torch.testing.assert_close(ours.ys, theirs, rtol=1e-12, atol=1e-12)


def test_registry_and_result():
    assert SOLVERS == {"euler": Euler, "midpoint": Midpoint, "rk4": RK4, "dopri5": Dopri5}
    assert issubclass(Dopri5, AdaptiveSolver) and issubclass(RK4, FixedGridSolver)
    solution = solve(decay, tensor([1.0]), tensor([0.0, 1.0]))
    assert isinstance(solution, Solution)
    assert solution.nfe == 2 + 6 * (solution.n_steps + solution.n_rejected)
    assert repr(RK4(step_size=0.1)) == "RK4(step_size=0.1)"


# ------------------------------------------------------------------ errors
Y0, T = tensor([1.0]), tensor([0.0, 1.0])


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"y0": [1.0]}, TypeError, r"y0 must be a torch.Tensor; got list"),
        ({"t": [0.0, 1.0]}, TypeError, r"t must be a torch.Tensor; got list.*torch.tensor\(t"),
        ({"func": 3.0}, TypeError, r"func must be callable"),
        ({"y0": torch.tensor([1])}, TypeError, r"y0 must have a floating-point dtype; got torch"),
        ({"t": T.float()}, TypeError, r"same dtype; got t.dtype=torch.float32.*t.to\(y0.dtype\)"),
        ({"t": torch.zeros(2, device="meta", dtype=F64)}, ValueError, r"same device.*t.to\("),
        ({"t": tensor([[0.0, 1.0]])}, ValueError, r"t must be a 1-D tensor.*got shape \(1, 2\)"),
        ({"t": tensor([0.0])}, ValueError, r"t must hold at least 2 times.*got 1"),
        (
            {"t": tensor([0.0, 0.3, 0.7, 0.5])},
            ValueError,
            r"strictly increasing or decreasing; got t\[3\]=0.5 after t\[2\]=0.7",
        ),
        ({"t": tensor([1.0, 0.5, 0.5])}, ValueError, r"got t\[2\]=0.5 after t\[1\]=0.5"),
        ({"t": tensor([0.0, math.nan])}, ValueError, r"t must be finite"),
        ({"t": T.clone().requires_grad_()}, ValueError, r"t must not require grad.*t.detach"),
        ({"y0": tensor([math.inf])}, ValueError, r"y0 must be finite"),
        ({"method": "rk45"}, ValueError, r"method must be one of 'euler', 'midpoint', 'rk4', "),
        ({"method": None}, ValueError, r"method must be one of .*got method=None"),
        ({"method": "rk4"}, ValueError, r"method='rk4' is a fixed-grid method and needs step_"),
        ({"method": "euler", "step_size": 0.0}, ValueError, r"step_size must be positive.*=0"),
        ({"method": "euler", "step_size": -0.1}, ValueError, r"step_size must be positive"),
        ({"method": "euler", "step_size": "0.1"}, TypeError, r"step_size must be a real num"),
        ({"step_size": 0.1}, ValueError, r"step_size is only used by the fixed-grid methods"),
        ({"rtol": 0.0}, ValueError, r"rtol must be positive and finite; got rtol=0. Fix"),
        ({"atol": -1e-9}, ValueError, r"atol must be positive and finite; got atol=-1e-09"),
        ({"max_num_steps": 0}, ValueError, r"max_num_steps must be a positive integer"),
        (
            {"func": lambda t, y: y.sum()},
            TypeError,
            r"func\(t, y\) must return dy/dt as a tensor like y \(torch.float64, shape \(1,\)\)",
        ),
        ({"func": lambda t, y: 1.0}, TypeError, r"func\(t, y\) must return dy/dt.*got 1.0"),
    ],
)
def test_bad_inputs(kwargs, error, match):
    args = {"func": decay, "y0": Y0, "t": T, **kwargs}
    with pytest.raises(error, match=match):
        odeint(args.pop("func"), args.pop("y0"), args.pop("t"), **args)


def test_count_nfe_needs_a_callable():
    with pytest.raises(TypeError, match=r"func must be callable"):
        CountNFE("f")


def blow_up(t, y):
    return y**2  # y(0) = 1 gives y = 1/(1 − t), which blows up at t = 1


def nan_after_half(t, y):
    return y * torch.log(0.5 - t)  # nan for t > 0.5


@pytest.mark.parametrize(
    "func,kwargs,match",
    [
        (blow_up, {}, r"step size underflow at t=1 .*loosen rtol/atol.*stiff solver"),
        (nan_after_half, {}, r"non-finite \(inf or nan\) at t=0.5 for every step size tried"),
        (
            lambda t, y: y / 0 * 0,
            {},
            r"func\(t, y0\) is not finite \(inf or nan\) at t=0. Fix: check func",
        ),
        (
            blow_up,
            {"method": "rk4", "step_size": 0.1},
            r"non-finite \(inf or nan\) at t=1.3 with RK4\(step_size=0.1\). Fix: try a smaller",
        ),
        (
            decay,
            {"max_num_steps": 5},
            r"took max_num_steps=5 steps and reached only t=.* on the way to t=2.*raise max_num",
        ),
        (
            decay,
            {"method": "euler", "step_size": 1e-4, "max_num_steps": 100},
            r"needs 20000 steps to go from t=0 to t=2, more than max_num_steps=100.*Fix: raise",
        ),
    ],
)
def test_solver_failures_say_where_and_what_to_try(func, kwargs, match):
    with pytest.raises(SolverError, match=match) as info:
        odeint(func, tensor([1.0]), tensor([0.0, 2.0]), **kwargs)
    assert isinstance(info.value, RuntimeError)

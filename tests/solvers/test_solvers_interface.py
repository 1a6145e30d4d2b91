"""Tests for ode_course.solvers.interface: odeint and solve with every method (closed forms,
backward integration, batches, dtypes, gradients by gradcheck), CountNFE and the registry."""

from __future__ import annotations

import math

import pytest
import torch
import torchdiffeq

from ode_course.cnf import CNF, TimeMLP
from ode_course.solvers import (
    RK4,
    SOLVERS,
    AdaptiveSolver,
    CountNFE,
    Dopri5,
    Euler,
    FixedGridSolver,
    Midpoint,
    Solution,
    count_evaluations,
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


@pytest.mark.parametrize("method", METHODS)
def test_many_output_times_match_the_closed_form(method):
    """dopri5 reads most of these off its dense output."""
    y0, t = tensor([1.0, -2.0]), torch.linspace(0, 4, 41, dtype=F64)
    ys = odeint(decay, y0, t, **options(method, step_size=0.005, tol=1e-10))
    tolerance = {"euler": 1e-2, "midpoint": 1e-4, "rk4": 1e-9, "dopri5": 1e-8}[method]
    torch.testing.assert_close(ys, decay_exact(y0, 0.0, t), rtol=tolerance, atol=tolerance)
    assert torch.equal(ys[0], y0)


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


# ------------------------------------------------------------------ NFE and the registry
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


def test_count_nfe_needs_a_callable():
    with pytest.raises(TypeError, match=r"func must be callable"):
        CountNFE("f")


def test_registry_and_result():
    assert SOLVERS == {"euler": Euler, "midpoint": Midpoint, "rk4": RK4, "dopri5": Dopri5}
    assert issubclass(Dopri5, AdaptiveSolver) and issubclass(RK4, FixedGridSolver)
    solution = solve(decay, tensor([1.0]), tensor([0.0, 1.0]))
    assert isinstance(solution, Solution)
    assert solution.nfe == 2 + 6 * (solution.n_steps + solution.n_rejected)
    assert repr(RK4(step_size=0.1)) == "RK4(step_size=0.1)"


# --- count_evaluations ----------------------------------------------------------------------


def test_count_evaluations_of_a_cnf_solve_matches_its_nfe() -> None:
    cnf = CNF(2, hidden=(8,), method="rk4", step_size=0.25).double()
    x = torch.randn(5, 2, dtype=torch.float64)
    assert count_evaluations(cnf.net, lambda: cnf.log_prob(x).sum().backward()) == 16 == cnf.nfe
    assert not cnf.net._forward_hooks  # the hook is gone
    assert count_evaluations(cnf.net, lambda: None) == 0


def test_count_evaluations_removes_its_hook_when_the_computation_fails() -> None:
    net = TimeMLP(2, hidden=(4,))

    def broken() -> None:
        net(0.0, torch.zeros(1, 2))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        count_evaluations(net, broken)
    assert not net._forward_hooks


def test_count_evaluations_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="Module"):
        count_evaluations(lambda t, x: x, lambda: None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="computation"):
        count_evaluations(TimeMLP(1, hidden=(2,)), 3)  # type: ignore[arg-type]

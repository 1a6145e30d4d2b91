"""Tests for ode_course.solvers.problem: every bad input is refused before the first step, and
a solver that cannot go on raises a SolverError that says where and what to try."""

from __future__ import annotations

import math

import pytest
import torch

from ode_course.solvers import SolverError, odeint

F64 = torch.float64


def tensor(x, dtype=F64) -> torch.Tensor:
    return torch.tensor(x, dtype=dtype)


def decay(t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """y' = −y cos t, so y(t) = y(t₀) exp(sin t₀ − sin t)."""
    return -y * torch.cos(t)


Y0, T = tensor([1.0]), tensor([0.0, 1.0])


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"y0": [1.0]}, TypeError, r"y0 must be a torch.Tensor; got list"),
        ({"t": [0.0, 1.0]}, TypeError, r"t must be a torch.Tensor; got list.*torch.tensor\(t"),
        ({"func": 3.0}, TypeError, r"func must be callable"),
        ({"y0": torch.tensor([1])}, TypeError, r"y0 must be of a floating-point dtype; got torch"),
        (
            {"t": T.float()},
            TypeError,
            r"t must be of the dtype of y0.*got t.dtype=torch.float32.*t.to\(y0.dtype\)",
        ),
        (
            {"t": torch.zeros(2, device="meta", dtype=F64)},
            ValueError,
            r"t must be on the device of y0.*t.to\(",
        ),
        ({"t": tensor([[0.0, 1.0]])}, ValueError, r"t must be a 1-D tensor.*got shape \(1, 2\)"),
        ({"t": tensor([0.0])}, ValueError, r"t must be a tensor of at least 2 times.*got 1"),
        (
            {"t": tensor([0.0, 0.3, 0.7, 0.5])},
            ValueError,
            r"strictly increasing or decreasing; got t\[3\]=0.5 after t\[2\]=0.7",
        ),
        ({"t": tensor([1.0, 0.5, 0.5])}, ValueError, r"got t\[2\]=0.5 after t\[1\]=0.5"),
        ({"t": tensor([0.0, math.nan])}, ValueError, r"t must be finite"),
        (
            {"t": T.clone().requires_grad_()},
            ValueError,
            r"t must be a tensor that does not require grad.*t.detach",
        ),
        ({"y0": tensor([math.inf])}, ValueError, r"y0 must be finite"),
        ({"method": "rk45"}, ValueError, r"method must be one of 'euler', 'midpoint', 'rk4', "),
        ({"method": None}, ValueError, r"method must be one of .*got method=None"),
        ({"method": "rk4"}, ValueError, r"method='rk4' is a fixed-grid method and needs step_"),
        ({"method": "euler", "step_size": 0.0}, ValueError, r"step_size must be positive.*=0"),
        ({"method": "euler", "step_size": -0.1}, ValueError, r"step_size must be positive"),
        ({"method": "euler", "step_size": "0.1"}, TypeError, r"step_size must be a real num"),
        ({"step_size": 0.1}, ValueError, r"step_size is only used by the fixed-grid methods"),
        ({"rtol": 0.0}, ValueError, r"rtol must be positive; got rtol=0. Fix"),
        ({"atol": -1e-9}, ValueError, r"atol must be positive; got atol=-1e-09"),
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

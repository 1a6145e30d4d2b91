"""Tests for ode_course.solvers.fixed_grid: Euler, Midpoint and RK4 converge with their orders,
hit every output time exactly, and evaluate f once per stage and step."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
import scipy.linalg
import torch

from ode_course.solvers import DOPRI5, RK4, CountNFE, Euler, FixedGridSolver, Midpoint, solve

F64 = torch.float64


def tensor(x, dtype=F64) -> torch.Tensor:
    return torch.tensor(x, dtype=dtype)


def decay(t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """y' = −y cos t, so y(t) = y(t₀) exp(sin t₀ − sin t)."""
    return -y * torch.cos(t)


class Dopri5FixedStep(FixedGridSolver):
    """The 5th-order solution of the Dormand–Prince tableau with fixed steps (no control)."""

    tableau = DOPRI5


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


def test_fixed_grid_hits_every_output_time_exactly():
    """Steps of 0.1 from each output time, the last one shortened: 3 + 8 steps here."""
    t = tensor([0.0, 0.25, 1.0])
    solution = solve(
        lambda t, y: torch.ones_like(y), tensor([0.0]), t, method="euler", step_size=0.1
    )
    assert solution.n_steps == 11 and solution.nfe == 11
    torch.testing.assert_close(solution.ys[:, 0], t, rtol=0, atol=1e-15)  # y = t exactly


@pytest.mark.parametrize("method,stages", [("euler", 1), ("midpoint", 2), ("rk4", 4)])
def test_fixed_grid_nfe_is_stages_times_steps(method, stages):
    field = CountNFE(decay)
    solution = solve(field, tensor([1.0]), tensor([0.0, 1.0]), method=method, step_size=0.1)
    assert solution.n_steps == 10 and solution.n_rejected == 0
    assert solution.nfe == field.nfe == 10 * stages

"""Tests for ode_course.flow_matching.coupling: the minibatch OT coupling against brute force over
all permutations, the sorted pairing in 1-D, and reflow pairs against sample_flow; the errors."""

from __future__ import annotations

import itertools

import pytest
import torch

from ode_course.flow_matching import ot_coupling, reflow_pairs, sample_flow

pytestmark = pytest.mark.usefixtures("one_thread")

F64 = torch.float64


def cost(x0, x1):
    return ((x0 - x1) ** 2).sum().item()


@pytest.mark.parametrize("n", [2, 3, 5, 7])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_coupling_minimises_the_total_squared_distance_by_brute_force(n, seed):
    gen = torch.Generator().manual_seed(seed)
    x0 = torch.randn(n, 2, dtype=F64, generator=gen)
    x1 = torch.randn(n, 2, dtype=F64, generator=gen) + 1.0
    best = min(cost(x0, x1[list(p)]) for p in itertools.permutations(range(n)))
    same_x0, paired = ot_coupling(x0, x1)
    assert same_x0 is x0
    assert abs(cost(x0, paired) - best) < 1e-12
    # a reordering of x1: the same rows
    assert torch.equal(paired[paired[:, 0].argsort()], x1[x1[:, 0].argsort()])


def test_in_one_dimension_the_optimal_pairs_are_sorted_together():
    gen = torch.Generator().manual_seed(3)
    x0, x1 = torch.randn(50, 1, generator=gen), torch.randn(50, 1, generator=gen) * 3
    _, paired = ot_coupling(x0, x1)
    assert torch.equal(paired[x0[:, 0].argsort()], x1.sort(dim=0).values)


def test_reflow_pairs_are_the_flow_end_points():
    gen = torch.Generator().manual_seed(4)
    x0 = torch.randn(6, 2, dtype=F64, generator=gen)
    field = lambda t, x: torch.sin(x) + t  # noqa: E731
    same, x1 = reflow_pairs(field, x0, steps=10)
    assert torch.equal(same, x0)
    torch.testing.assert_close(x1, sample_flow(field, x0, method="rk4", steps=10).x)
    _, x1_adaptive = reflow_pairs(field, x0, method="dopri5", steps=None, rtol=1e-9, atol=1e-9)
    assert (x1_adaptive - x1).abs().max() < 1e-5
    x0.requires_grad_()
    assert not any(p.requires_grad for p in reflow_pairs(field, x0, steps=2))


def test_bad_inputs_name_the_argument_and_the_fix():
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match=r"x1 must be of the shape of x0.*randn_like"):
        ot_coupling(x, torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"x1 must be of the shape of x0"):
        ot_coupling([[0.0]], x)  # a list is read as points (the package's contract)
    with pytest.raises(ValueError, match=r"steps must be None for method='dopri5'"):
        reflow_pairs(lambda t, x: x, x, method="dopri5", rtol=1e-3, atol=1e-3)

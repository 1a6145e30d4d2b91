"""Tests for ode_course.models.tolerance: the tolerance sweep against direct solves and
torchdiffeq, the forward/backward NFE recorder against the solver's own counts, and bad
arguments named with a fix."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchdiffeq
from torch import nn

from ode_course.models import (
    NFERecorder,
    ODEBlock,
    ODEFunc,
    ToleranceRow,
    fit_classifier,
    ode_classifier,
    tolerance_sweep,
)
from ode_course.solvers import CountNFE, solve

F64 = torch.float64


def _dopri_net(seed=0):
    torch.manual_seed(seed)
    return ode_classifier(5, 3, 6, 12, method="dopri5", step_size=None).double()


def _data(n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 5, generator=g, dtype=F64), torch.randint(0, 3, (n,), generator=g)


def test_sweep_matches_direct_solves_and_restores_the_tolerances():
    model, (x, y) = _dopri_net(), _data()
    block = model[1]
    rows = tolerance_sweep(model, x, y, [1e-2, 1e-5], repeats=1)
    assert [row.tol for row in rows] == [1e-2, 1e-5]
    assert (block.rtol, block.atol) == (1e-3, 1e-4)  # the block's own tolerances are back
    with torch.no_grad():
        h0 = model[0](x)
        reference = solve(
            block.func, h0, torch.tensor([0.0, 1.0], dtype=F64), rtol=1e-10, atol=1e-10
        )
        for row in rows:
            sol = solve(
                block.func, h0, torch.tensor([0.0, 1.0], dtype=F64), rtol=row.tol, atol=row.tol
            )
            assert row.nfe == sol.nfe
            assert row.error == pytest.approx((sol.ys[-1] - reference.ys[-1]).abs().max().item())
            logits = model[2:](sol.ys[-1])
            assert row.accuracy == pytest.approx((logits.argmax(1) == y).double().mean().item())
            assert row.seconds > 0
    assert rows[0].nfe < rows[1].nfe and rows[1].error < rows[0].error
    assert isinstance(rows[0], ToleranceRow)


def test_sweep_counts_what_torchdiffeq_counts():
    model, (x, y) = _dopri_net(1), _data()
    rows = tolerance_sweep(model, x, y, [1e-3, 1e-6], repeats=1)
    with torch.no_grad():
        h0 = model[0](x)
        for row in rows:
            field = CountNFE(model[1].func)
            torchdiffeq.odeint(
                field, h0, torch.tensor([0.0, 1.0], dtype=F64), rtol=row.tol, atol=row.tol
            )
            assert abs(field.nfe - row.nfe) <= 0.1 * row.nfe


def test_recorder_counts_every_stage_of_a_fixed_grid_solve():
    block = ODEBlock(ODEFunc(3, 8), method="rk4", step_size=0.25).double()
    with NFERecorder(block) as recorder:
        for _ in range(2):
            block(torch.randn(4, 3, dtype=F64)).square().sum().backward()
        with torch.no_grad():  # evaluation passes are not recorded
            block(torch.randn(4, 3, dtype=F64))
    assert recorder.forward == [16, 16] and recorder.backward == [16, 16]
    block(torch.randn(4, 3, dtype=F64)).sum().backward()  # the hooks are gone after the block
    assert len(recorder.forward) == 2


def test_recorder_skips_the_initial_step_probe_of_dopri5():
    # dopri5's NFE is 2 + 6 per attempted step: f(t0, y0), the no-grad probe for the first step
    # size, then 6 new stages per step (FSAL). The backward pass differentiates all but the probe
    # (and the stages of rejected steps).
    torch.manual_seed(0)
    block = ODEBlock(ODEFunc(3, 8), method="dopri5", step_size=None, rtol=1e-6, atol=1e-6)
    block = block.double()
    h = torch.randn(5, 3, dtype=F64)
    with NFERecorder(block) as recorder:
        block(h).sum().backward()
    sol = solve(block.func, h, torch.tensor([0.0, 1.0], dtype=F64), rtol=1e-6, atol=1e-6)
    assert recorder.forward == [sol.nfe]
    assert recorder.backward == [sol.nfe - 1 - 6 * sol.n_rejected]


def test_recorder_per_epoch_during_training_and_the_adjoint_is_not_counted_backwards():
    model, (x, y) = _dopri_net(), _data()
    with NFERecorder(model[1]) as recorder:
        fit_classifier(model, x, y, epochs=3, batch_size=8, lr=0.01)
    steps = math.ceil(len(y) / 8)
    forward, backward = recorder.per_epoch(steps)
    assert forward.shape == backward.shape == (3,)
    np.testing.assert_allclose(forward, np.reshape(recorder.forward, (3, steps)).mean(1))
    assert np.all(backward <= forward - 1)
    with pytest.raises(ValueError, match=r"steps_per_epoch must be a divisor.*Fix: "):
        recorder.per_epoch(steps + 1)

    adjoint = ODEBlock(ODEFunc(3, 8), method="rk4", step_size=0.5, backend="adjoint").double()
    with NFERecorder(adjoint) as recorder:
        adjoint(torch.randn(2, 3, dtype=F64)).sum().backward()
    assert recorder.forward == [8] and recorder.backward == [0]  # forward ran without a graph
    assert adjoint.nfe == 16  # the adjoint's own backward solve


@pytest.mark.parametrize(
    "call,error,match",
    [
        (
            lambda m, x, y: tolerance_sweep(nn.Linear(5, 3), x, y, [1e-3]),
            TypeError,
            "model must be an nn.Sequential",
        ),
        (
            lambda m, x, y: tolerance_sweep(nn.Sequential(nn.Linear(5, 3)), x, y, [1e-3]),
            ValueError,
            "exactly one ODEBlock",
        ),
        (lambda m, x, y: tolerance_sweep(m, x, y[:-1], [1e-3]), ValueError, "y must be one label"),
        (
            lambda m, x, y: tolerance_sweep(m, x, y, [0.0]),
            ValueError,
            "tolerances must be positive",
        ),
        (lambda m, x, y: NFERecorder(m), TypeError, "block must be an ODEBlock"),
    ],
)
def test_bad_arguments_are_named_with_a_fix(call, error, match):
    model, (x, y) = _dopri_net(), _data()
    with pytest.raises(error, match=match) as info:
        call(model, x, y)
    assert "Fix: " in str(info.value)

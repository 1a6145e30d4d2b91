"""Tests for ode_course.optim.schedules: every schedule against torch.optim.lr_scheduler."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ode_course.optim import (
    SCHEDULES,
    CosineAnnealing,
    ExponentialDecay,
    StepDecay,
)

RTOL = 1e-10


# ------------------------------------------------------------------ schedules
def torch_lrs(make_scheduler, lr0: float, epochs: int = 50) -> list[float]:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(scheduler.get_last_lr()[0])
        opt.step()
        scheduler.step()
    return lrs


LR_SCHEDULER = torch.optim.lr_scheduler
SCHEDULE_CASES = [
    (StepDecay(0.1, step_size=7, gamma=0.5), lambda o: LR_SCHEDULER.StepLR(o, 7, gamma=0.5)),
    (StepDecay(0.3, step_size=1), lambda o: LR_SCHEDULER.StepLR(o, 1)),
    (ExponentialDecay(0.1, gamma=0.93), lambda o: LR_SCHEDULER.ExponentialLR(o, gamma=0.93)),
    (ExponentialDecay(2.0, gamma=1.0), lambda o: LR_SCHEDULER.ExponentialLR(o, gamma=1.0)),
    (CosineAnnealing(0.1, t_max=50), lambda o: LR_SCHEDULER.CosineAnnealingLR(o, T_max=50)),
    (
        CosineAnnealing(0.1, t_max=15, eta_min=0.01),
        lambda o: LR_SCHEDULER.CosineAnnealingLR(o, T_max=15, eta_min=0.01),
    ),
    (CosineAnnealing(0.5, t_max=20), lambda o: LR_SCHEDULER.CosineAnnealingLR(o, T_max=20)),
]


@pytest.mark.parametrize(
    "schedule,make_scheduler", SCHEDULE_CASES, ids=[repr(case[0]) for case in SCHEDULE_CASES]
)
def test_schedule_matches_torch(schedule, make_scheduler):
    ours = [schedule(epoch) for epoch in range(50)]
    theirs = torch_lrs(make_scheduler, schedule.lr0)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=1e-15)
    assert all(isinstance(lr, float) for lr in ours)


def test_cosine_annealing_end_points():
    schedule = CosineAnnealing(lr0=0.2, t_max=10, eta_min=0.02)
    assert schedule(0) == 0.2
    assert schedule(10) == pytest.approx(0.02, rel=1e-14)
    assert schedule(5) == pytest.approx(0.11, rel=1e-14)
    assert schedule(20) == pytest.approx(0.2, rel=1e-14)


def test_schedule_accepts_numpy_integers_and_registry():
    assert StepDecay(1.0, step_size=2, gamma=0.5)(np.int64(4)) == 0.25
    assert SCHEDULES == {
        "step": StepDecay,
        "exponential": ExponentialDecay,
        "cosine": CosineAnnealing,
    }

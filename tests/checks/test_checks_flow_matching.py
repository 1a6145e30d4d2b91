"""Tests for ode_course.checks.flow_matching (Chapter 9): a right answer passes with a message that
does not give the answer away, each typical slip is named, and untouched starter code says
"not answered yet"."""

from __future__ import annotations

from inspect import unwrap

import pytest
import torch

from ode_course.checks import (
    check_conditional_velocity,
    check_euler_sampler,
    check_straightness,
)
from ode_course.checks.harness import CheckFailed


def stub(*args):
    raise NotImplementedError("write your answer")


# --- the conditional target velocity ------------------------------------------------------------


def test_a_right_target_passes_with_two_or_three_arguments(capsys):
    check_conditional_velocity(lambda x0, x1: x1 - x0)
    check_conditional_velocity(lambda x0, x1, t: x1 - x0)
    check_conditional_velocity(lambda x0, x1, t: (x1 - ((1 - t) * x0 + t * x1)) / (1 - t))
    out = capsys.readouterr().out
    assert out == "Correct: right for every pair of points tried, at every time.\n" * 3
    assert "x1 - x0" not in out and "x₁ − x₀" not in out


TARGET_SLIPS = {
    "sign": (lambda x0, x1: x0 - x1, "x₀ − x₁"),
    "end point": (lambda x0, x1: x1, "x₁, the end point"),
    "plus": (lambda x0, x1: x1 + x0, r"x₁ \+ x₀"),
    "half": (lambda x0, x1: (x1 - x0) / 2, "half the displacement"),
    "x_t": (lambda x0, x1, t: (1 - t) * x0 + t * x1, "x_t, the point on the path"),
    "t times": (lambda x0, x1, t: t * (x1 - x0), "displacement up to time t"),
    "still to go": (lambda x0, x1, t: x1 - ((1 - t) * x0 + t * x1), "still to go"),
    "summed": (lambda x0, x1: (x1 - x0).sum(dim=1), r"returned shape \(6,\); expected \(6, 3\)"),
    "wrong": (lambda x0, x1: x1 - 0.9 * x0, "not the derivative of x_t"),
    "stub": (stub, "the target velocity is not answered yet"),
    "none": (lambda x0, x1: None, "returned None"),
    "numpy": (lambda x0, x1: (x1 - x0).numpy(), "must return a torch.Tensor"),
}


@pytest.mark.parametrize("name", list(TARGET_SLIPS))
def test_each_target_slip_is_named(name):
    answer, match = TARGET_SLIPS[name]
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_conditional_velocity)(answer)


def test_a_target_computed_in_place_is_rejected():
    def in_place(x0, x1):
        x1 -= x0
        return x1

    with pytest.raises(CheckFailed, match="in place"):
        unwrap(check_conditional_velocity)(in_place)


# --- an Euler sampler ---------------------------------------------------------------------------


def euler(field, x0, steps):
    x, dt = x0, 1.0 / steps
    for k in range(steps):
        x = x + dt * field(k * dt, x)
    return x


def euler_tensor_times(field, x0, steps):
    x = x0
    for t in torch.linspace(0, 1, steps + 1, dtype=x0.dtype)[:-1]:
        x = x + field(t, x) / steps
    return x


def test_right_samplers_pass(capsys):
    check_euler_sampler(euler)
    check_euler_sampler(euler_tensor_times)
    out = capsys.readouterr().out
    assert (
        out
        == "Correct: the end points, the cost and the times agree with a reference sampler.\n" * 2
    )


def linspace_slip(field, x0, steps):  # steps − 1 intervals between steps grid points
    x = x0
    for k in range(steps):
        dt = 1 / (steps - 1) if steps > 1 else 1.0
        x = x + dt * field(k * dt, x)
    return x


def extra_step(field, x0, steps):
    x, dt = x0, 1.0 / steps
    for k in range(steps + 1):
        x = x + dt * field(k * dt, x)
    return x


def extra_evaluation(field, x0, steps):
    x, dt = x0, 1.0 / steps
    v = field(0.0, x)
    for k in range(steps):
        x = x + dt * v
        v = field((k + 1) * dt, x)  # one evaluation too many, at t = 1
    return x


def no_dt(field, x0, steps):
    x = x0
    for k in range(steps):
        x = x + field(k / steps, x)
    return x


def frozen_time(field, x0, steps):
    x = x0
    for _ in range(steps):
        x = x + field(0.0, x) / steps
    return x


def step_index(field, x0, steps):
    x = x0
    for k in range(steps):
        x = x + field(k, x) / steps
    return x


def end_of_step(field, x0, steps):
    x = x0
    for k in range(steps):
        x = x + field((k + 1) / steps, x) / steps
    return x


def trajectory(field, x0, steps):
    xs = [x0]
    for k in range(steps):
        xs.append(xs[-1] + field(k / steps, xs[-1]) / steps)
    return torch.stack(xs)


def wrong_times(field, x0, steps):  # times off the grid, matching no typical slip
    x = x0
    for k in range(steps):
        x = x + field(0.5 * k / steps + 0.1, x) / steps
    return x


def wrong_update(field, x0, steps):  # the right times, a wrong update
    x = x0
    for k in range(steps):
        x = x + field(k / steps, x0) / steps
    return x


EULER_SLIPS = {
    "linspace": (linspace_slip, r"steps of 1/\(steps − 1\) = 1/3"),
    "extra step": (extra_step, r"one step too many \(range\(steps \+ 1\)\)"),
    "extra evaluation": (extra_evaluation, "evaluates the field 5 times, not 4"),
    "no dt": (no_dt, "multiply the velocity by Δt"),
    "frozen time": (frozen_time, "at t = 0 at every step"),
    "step index": (step_index, "at the step index k"),
    "end of step": (end_of_step, r"at the end of each step, t_\(k\+1\)"),
    "trajectory": (trajectory, r"returns 5 points per particle.*end point x\(1\)"),
    "returns x0": (lambda field, x0, steps: x0, "x0 unchanged"),
    "wrong times": (wrong_times, r"evaluates the field at t = \[0.1, 0.225"),
    "wrong update": (wrong_update, "although the field was evaluated at the right times"),
    "stub": (stub, "the Euler sampler is not answered yet"),
    "none": (lambda field, x0, steps: None, "returned None"),
    "bad time shape": (
        lambda field, x0, steps: field(torch.zeros(3), x0),
        "raised TypeError: field.t, x. takes t as a number",
    ),
}


@pytest.mark.parametrize("name", list(EULER_SLIPS))
def test_each_euler_slip_is_named(name):
    answer, match = EULER_SLIPS[name]
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_euler_sampler)(answer)


# --- straightness -------------------------------------------------------------------------------


def straightness(traj):
    length = (traj[1:] - traj[:-1]).norm(dim=-1).sum(dim=0)
    return (length - (traj[-1] - traj[0]).norm(dim=-1)).mean()


def test_right_straightness_passes_as_a_tensor_or_a_float(capsys):
    check_straightness(straightness)
    check_straightness(lambda traj: float(straightness(traj)))
    assert capsys.readouterr().out == "Correct: right for curved paths and for straight ones.\n" * 2


def seg(traj):
    return traj[1:] - traj[:-1]


def chord(traj):
    return traj[-1] - traj[0]


STRAIGHTNESS_SLIPS = {
    "sign": (lambda traj: -straightness(traj), "chord minus length"),
    "length only": (lambda traj: seg(traj).norm(dim=-1).sum(dim=0).mean(), "the path length alone"),
    "chord only": (lambda traj: chord(traj).norm(dim=-1).mean(), "the chord alone"),
    "sum over particles": (
        lambda traj: straightness(traj) * traj.shape[1],
        "a sum over the particles",
    ),
    "mean over time": (
        lambda traj: (seg(traj).norm(dim=-1).mean(dim=0) - chord(traj).norm(dim=-1)).mean(),
        "mean of the segment lengths over time",
    ),
    "squared": (
        lambda traj: ((seg(traj) ** 2).sum(-1).sum(0) - (chord(traj) ** 2).sum(-1)).mean(),
        "squared lengths",
    ),
    "L1": (
        lambda traj: (seg(traj).abs().sum(-1).sum(0) - chord(traj).abs().sum(-1)).mean(),
        "L1 norms",
    ),
    "wrong axis": (
        lambda traj: (seg(traj).norm(dim=1).sum(dim=0) - chord(traj).norm(dim=0)).mean(),
        r"norms over the particles \(dim=1\)",
    ),
    "ratio minus one": (
        lambda traj: (seg(traj).norm(dim=-1).sum(0) / chord(traj).norm(dim=-1) - 1).mean(),
        "the ratio length/chord − 1",
    ),
    "per particle": (
        lambda traj: seg(traj).norm(dim=-1).sum(0) - chord(traj).norm(dim=-1),
        "one value per particle: average them",
    ),
    "per time": (lambda traj: seg(traj).norm(dim=-1).mean(dim=1), "one value per time"),
    "straight paths wrong": (
        lambda traj: straightness(traj) + 0.5 * (straightness(traj) < 1e-9),
        "for straight paths.*a straight path has no detour",
    ),
    "wrong": (lambda traj: straightness(traj) + 1.0, "for curved paths, straightness returns"),
    "in place": (lambda traj: straightness(traj.add_(1.0)), "in place"),
    "stub": (stub, "straightness is not answered yet"),
    "none": (lambda traj: None, "returned None"),
    "text": (lambda traj: "small", "must return a number"),
}


@pytest.mark.parametrize("name", list(STRAIGHTNESS_SLIPS))
def test_each_straightness_slip_is_named(name):
    answer, match = STRAIGHTNESS_SLIPS[name]
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_straightness)(answer)


def test_the_checks_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    want = torch.rand(1)
    torch.manual_seed(123)
    check_conditional_velocity(lambda x0, x1: x1 - x0)
    check_euler_sampler(euler)
    check_straightness(straightness)
    assert torch.equal(torch.rand(1), want)

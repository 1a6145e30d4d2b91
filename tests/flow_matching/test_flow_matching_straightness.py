"""Tests for ode_course.flow_matching.straightness: 0 for straight paths, the inscribed polygon of a
semicircle (closed form, tending to (π − 2) r), the velocity variance along a circle (closed
form) and along a straight constant-speed flow (0); the errors."""

from __future__ import annotations

import math

import pytest
import torch

from ode_course.flow_matching import path_straightness, trajectories, velocity_variance

pytestmark = pytest.mark.usefixtures("one_thread")

F64 = torch.float64


def semicircle(steps, radius):
    angle = torch.linspace(0, math.pi, steps + 1, dtype=F64)
    return radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)[:, None, :]


def test_straight_paths_of_any_speed_have_no_detour():
    gen = torch.Generator().manual_seed(0)
    distance = torch.rand(11, 1, 1, dtype=F64, generator=gen).cumsum(dim=0)  # varying speed
    direction = torch.randn(1, 5, 3, dtype=F64, generator=gen)
    start = torch.randn(1, 5, 3, dtype=F64, generator=gen)
    assert abs(path_straightness(start + distance * direction).item()) < 1e-12


@pytest.mark.parametrize("steps", [2, 8, 64])
def test_a_semicircle_has_the_detour_of_its_inscribed_polygon(steps):
    r = 1.5
    polygon = 2 * r * steps * math.sin(math.pi / (2 * steps))  # steps chords of angle π/steps
    got = path_straightness(semicircle(steps, r)).item()
    assert abs(got - (polygon - 2 * r)) < 1e-12
    if steps == 64:
        assert abs(got - (math.pi - 2) * r) < 1e-3


def test_the_detour_is_averaged_over_the_particles():
    two = torch.cat([semicircle(4, 1.0), semicircle(4, 3.0)], dim=1)
    one, three = path_straightness(semicircle(4, 1.0)), path_straightness(semicircle(4, 3.0))
    torch.testing.assert_close(path_straightness(two), (one + three) / 2)


def test_the_velocity_variance_along_a_circle_in_closed_form():
    # v = Jx (rotation) on a full circle sampled at T + 1 angles 2πk/T: the velocities have
    # |v| = r and sum to v₀ (the last repeats the first), so the variance is r² − r²/(T + 1)²
    steps, r = 12, 2.0
    angle = torch.linspace(0, 2 * math.pi, steps + 1, dtype=F64)
    circle = r * torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)[:, None, :]
    rotation = lambda t, x: torch.stack([-x[:, 1], x[:, 0]], dim=1)  # noqa: E731
    got = velocity_variance(rotation, circle, angle)
    assert abs(got.item() - (r**2 - r**2 / (steps + 1) ** 2)) < 1e-12


def test_a_constant_velocity_flow_has_zero_variance_and_no_detour():
    x0 = torch.randn(6, 2, dtype=F64, generator=torch.Generator().manual_seed(1))
    c = torch.tensor([1.0, -2.0], dtype=F64)
    field = lambda t, x: c.expand_as(x)  # noqa: E731
    traj = trajectories(field, x0, steps=5)
    assert path_straightness(traj).item() < 1e-12
    assert velocity_variance(field, traj, torch.linspace(0, 1, 6, dtype=F64)).item() < 1e-24


def test_the_velocity_variance_of_v_equal_t_is_the_variance_of_the_times():
    times = torch.tensor([0.0, 0.1, 0.5, 1.0], dtype=F64)
    got = velocity_variance(lambda t, x: t * torch.ones_like(x), torch.zeros(4, 3, 1), times)
    assert abs(got.item() - times.var(unbiased=False).item()) < 1e-7


def test_bad_inputs_name_the_argument_and_the_fix():
    with pytest.raises(
        ValueError, match=r"traj must be of shape \(T \+ 1, N, D\).*traj\[:, None, :\]"
    ):
        path_straightness(torch.zeros(5, 2))
    with pytest.raises(ValueError, match=r"traj must be of shape"):
        path_straightness(torch.zeros(1, 3, 2))
    with pytest.raises(TypeError, match="traj must be of a floating-point dtype"):
        path_straightness(torch.zeros(3, 2, 2, dtype=torch.long))
    traj = torch.zeros(3, 2, 2)
    with pytest.raises(ValueError, match=r"times must be of shape \(3,\).*linspace\(0, 1, 3\)"):
        velocity_variance(lambda t, x: x, traj, torch.zeros(4))
    with pytest.raises(ValueError, match=r"field\(t, x\) must be a tensor of the shape of x"):
        velocity_variance(lambda t, x: x[:, 0], traj, torch.zeros(3))
    with pytest.raises(TypeError, match="field must be callable"):
        velocity_variance(None, traj, torch.zeros(3))

"""Tests for ode_course.flow_matching.distances: the energy distance against scipy in 1-D, a
brute-force double loop in 2-D and the closed form for two Gaussians; the sliced Wasserstein
distance against optimal assignment (scipy), replicated samples for unequal sizes and the
closed form for two Gaussians; both on identical samples (0); the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.optimize import linear_sum_assignment

from ode_course.flow_matching import energy_distance, sliced_wasserstein

pytestmark = pytest.mark.usefixtures("one_thread")

F64 = torch.float64


def draw(n, d=1, seed=0, shift=0.0, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    return shift + scale * torch.randn(n, d, dtype=F64, generator=gen)


@pytest.mark.parametrize("sizes", [(30, 30), (40, 17)])
def test_energy_distance_equals_scipy_in_one_dimension(sizes):
    x, y = draw(sizes[0], seed=1), draw(sizes[1], seed=2, shift=0.5, scale=2.0)
    want = stats.energy_distance(x[:, 0].numpy(), y[:, 0].numpy())
    assert abs(energy_distance(x, y) - want) < 1e-12
    assert abs(energy_distance(x[:, 0].numpy(), y[:, 0].numpy()) - want) < 1e-12  # 1-D arrays


def test_energy_distance_by_a_double_loop_in_two_dimensions():
    x, y = draw(9, 2, seed=3), draw(6, 2, seed=4, shift=1.0)
    mean = lambda a, b: sum(float((p - q).norm()) for p in a for q in b) / (len(a) * len(b))  # noqa: E731
    want = math.sqrt(2 * mean(x, y) - mean(x, x) - mean(y, y))
    assert abs(energy_distance(x, y) - want) < 1e-12
    assert abs(energy_distance(y, x) - want) < 1e-12  # symmetric
    rotation = torch.tensor([[0.6, -0.8], [0.8, 0.6]], dtype=F64)  # invariant under rotations
    assert abs(energy_distance(x @ rotation.T, y @ rotation.T) - want) < 1e-12


@pytest.mark.parametrize("delta, sigma", [(1.0, 1.0), (0.5, 2.0)])
def test_energy_distance_of_two_gaussians_against_the_closed_form(delta, sigma):
    # X ~ N(0, 1), Y ~ N(Δ, σ²): X − Y ~ N(−Δ, s²), s² = 1 + σ², whose mean absolute value is
    # s √(2/π) e^{−Δ²/2s²} + Δ (1 − 2Φ(−Δ/s)); E|X − X'| = 2/√π and E|Y − Y'| = 2σ/√π.
    # The samples are the quantiles Φ⁻¹((i + ½)/n): no sampling noise, discretisation O(1/n²)
    s = math.sqrt(1 + sigma**2)
    e_xy = s * math.sqrt(2 / math.pi) * math.exp(-(delta**2) / (2 * s**2)) + delta * (
        1 - 2 * stats.norm.cdf(-delta / s)
    )
    want = math.sqrt(2 * e_xy - 2 / math.sqrt(math.pi) - 2 * sigma / math.sqrt(math.pi))
    n = 1000
    q = torch.tensor(stats.norm.ppf((np.arange(n) + 0.5) / n), dtype=F64)[:, None]
    assert abs(energy_distance(q, delta + sigma * q) - want) < 1e-4


def test_identical_samples_are_at_distance_zero():
    x = draw(50, 3, seed=5)
    assert energy_distance(x, x) == 0.0
    assert sliced_wasserstein(x, x) == 0.0
    shuffled = x[torch.randperm(50, generator=torch.Generator().manual_seed(0))]
    assert energy_distance(x, shuffled) < 1e-6  # the square root of round-off
    assert sliced_wasserstein(x, shuffled) < 1e-12  # sorting undoes the shuffle


def w2_by_assignment(a, b):
    cost = (a[:, None] - b[None, :]) ** 2
    rows, cols = linear_sum_assignment(cost)
    return math.sqrt(cost[rows, cols].mean())


def test_sliced_wasserstein_in_one_dimension_is_w2_by_optimal_assignment():
    x, y = draw(25, seed=6), draw(25, seed=7, shift=0.3, scale=1.5)
    want = w2_by_assignment(x[:, 0].numpy(), y[:, 0].numpy())
    assert abs(sliced_wasserstein(x, y) - want) < 1e-12
    assert abs(sliced_wasserstein(x, x + 2.5) - 2.5) < 1e-12


def test_unequal_sizes_equal_the_distance_between_replicated_samples():
    # repeating every point of x M times and of y N times changes neither distribution
    x, y = draw(6, 2, seed=8), draw(4, 2, seed=9, shift=1.0)
    got = sliced_wasserstein(x, y, n_projections=16, seed=3)
    want = sliced_wasserstein(
        x.repeat_interleave(4, 0), y.repeat_interleave(6, 0), n_projections=16, seed=3
    )
    assert abs(got - want) < 1e-12
    a, b = x[:, 0], y[:, 0]
    want_1d = w2_by_assignment(a.repeat_interleave(4).numpy(), b.repeat_interleave(6).numpy())
    assert abs(sliced_wasserstein(a, b) - want_1d) < 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sliced_wasserstein_of_two_gaussians_against_the_closed_form(seed):
    # N(0, σ₁² I) and N(0, σ₂² I) projected on any θ: N(0, σ₁²) and N(0, σ₂²), W₂ = |σ₁ − σ₂|
    x = draw(4000, 2, seed=seed, scale=1.0)
    y = draw(4000, 2, seed=seed + 10, scale=0.5)
    assert abs(sliced_wasserstein(x, y, n_projections=200, seed=seed) - 0.5) < 0.05


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_shift_by_c_gives_the_mean_of_the_projected_shift_squared(seed):
    # y = x + c: each projection is shifted by θ·c, so W₂² = (θ·c)², whose mean over directions
    # uniform on the sphere of R³ is |c|²/3 (standard deviation of one term 0.30 |c|²)
    x, c = draw(10, 3, seed=seed), torch.tensor([1.0, -2.0, 0.5], dtype=F64)
    got = sliced_wasserstein(x, x + c, n_projections=20_000, seed=seed) ** 2
    assert abs(got - (c**2).sum().item() / 3) < 0.05


def test_the_directions_are_reproducible_from_the_seed():
    x, y = draw(40, 3, seed=11), draw(40, 3, seed=12, shift=0.5)
    assert sliced_wasserstein(x, y, seed=4) == sliced_wasserstein(x, y, seed=4)
    assert sliced_wasserstein(x, y, seed=4) != sliced_wasserstein(x, y, seed=5)
    assert sliced_wasserstein(x.float(), y.numpy()) == pytest.approx(
        sliced_wasserstein(x, y), rel=1e-5
    )


def test_bad_inputs_name_the_argument_and_the_fix():
    x = torch.zeros(5, 2)
    with pytest.raises(ValueError, match="y must be points of the dimension of x, D = 2"):
        energy_distance(x, torch.zeros(5, 3))
    with pytest.raises(TypeError, match=r"x must be a tensor or array"):
        sliced_wasserstein([["a", "b"]], x)
    with pytest.raises(ValueError, match=r"y must be finite; got rows \[0, 1\].*Fix: drop them"):
        energy_distance(x, torch.full((2, 2), math.nan))
    with pytest.raises(ValueError, match=r"x must be of shape \(N, D\)"):
        energy_distance(torch.zeros(2, 2, 2), x)
    with pytest.raises(ValueError, match="n_projections must be a positive integer"):
        sliced_wasserstein(x, x, n_projections=0)
    # integers are numbers: the same points as floats
    assert energy_distance(np.ones((3, 2), dtype=np.int64), x) == energy_distance(
        np.ones((3, 2)), x
    )

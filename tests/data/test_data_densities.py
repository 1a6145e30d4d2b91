"""Tests for ode_course.data.densities: the 2-D toy densities and the standardisation helper."""

from __future__ import annotations

import numpy as np
import pytest

from ode_course.data import two_moons
from ode_course.data.densities import (
    TOY_DENSITIES,
    Standardisation,
    checkerboard,
    concentric_rings,
    eight_gaussians,
    standardise,
    toy_data,
)


@pytest.mark.parametrize("name", list(TOY_DENSITIES))
def test_toy_data_shapes_dtypes_and_reproducibility(name):
    X = toy_data(name, 301, seed=4)
    assert X.shape == (301, 2) and X.dtype == np.float64 and np.all(np.isfinite(X))
    np.testing.assert_array_equal(X, toy_data(name, 301, seed=4))
    assert not np.array_equal(X, toy_data(name, 301, seed=5))


def test_two_moons_entry_is_the_existing_generator_without_labels():
    np.testing.assert_array_equal(toy_data("two_moons", 50, seed=2), two_moons(50, seed=2)[0])


def test_concentric_rings_lie_on_their_radii_in_proportion():
    X = concentric_rings(600, radii=(1.0, 2.0, 3.0), noise=0.0, seed=1)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(np.sort(np.unique(r.round(9))), [1.0, 2.0, 3.0])
    counts = [int(np.sum(np.isclose(r, radius))) for radius in (1.0, 2.0, 3.0)]
    assert counts == [100, 200, 300]  # proportional to the circumference
    noisy = concentric_rings(20_000, radii=(2.0,), noise=0.1, seed=0)
    assert np.hypot(noisy[:, 0], noisy[:, 1]).std() == pytest.approx(0.1, rel=0.05)
    angles = np.arctan2(noisy[:, 1], noisy[:, 0])
    assert abs(np.mean(np.cos(angles))) < 0.03 and abs(np.mean(np.sin(angles))) < 0.03


def test_eight_gaussians_components_are_equally_weighted_with_the_given_spread():
    X = eight_gaussians(40_000, radius=2.0, std=0.2, seed=0)
    k = np.round(np.arctan2(X[:, 1], X[:, 0]) / (np.pi / 4)) % 8
    counts = np.bincount(k.astype(int), minlength=8)
    assert counts.min() > 0.9 * 5000 and counts.max() < 1.1 * 5000
    centres = 2.0 * np.column_stack([np.cos(k * np.pi / 4), np.sin(k * np.pi / 4)])
    assert (X - centres).std(axis=0) == pytest.approx([0.2, 0.2], rel=0.03)


@pytest.mark.parametrize("n_squares", [2, 3, 4])
def test_checkerboard_fills_only_the_dark_squares_uniformly(n_squares):
    X = checkerboard(30_000, n_squares=n_squares, seed=0)
    assert np.all(np.abs(X) <= n_squares / 2)
    cells = np.floor(X + n_squares / 2).astype(int)
    assert np.all(cells.sum(axis=1) % 2 == 0)
    _, counts = np.unique(cells, axis=0, return_counts=True)
    n_dark = (n_squares**2 + 1) // 2
    assert len(counts) == n_dark
    assert counts.min() > 0.9 * 30_000 / n_dark and counts.max() < 1.1 * 30_000 / n_dark


def test_standardise_fits_applies_and_inverts():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[3.0, -1.0], scale=[2.0, 0.5], size=(500, 2))
    xs, scaler = standardise(x)
    np.testing.assert_allclose(xs.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(xs.std(axis=0), 1.0, rtol=1e-12)
    assert isinstance(scaler, Standardisation)
    np.testing.assert_allclose(scaler.inverse(xs), x)
    y = rng.normal(size=(10, 2))
    ys, same = standardise(y, scaler)
    assert same is scaler
    np.testing.assert_allclose(ys, (y - scaler.mean) / scaler.std)
    assert scaler.log_abs_det == pytest.approx(-np.log(scaler.std).sum())


def test_standardisation_log_det_moves_a_density_between_units():
    # a N(m, s²) density: standardising gives N(0, 1); the log-densities differ by log_abs_det
    x = np.array([[1.0, 2.0], [3.0, 2.5], [5.0, 4.5]])
    xs, scaler = standardise(x)

    def log_normal(v, mean, std):
        return np.sum(-0.5 * ((v - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi), 1)

    direct = log_normal(x, scaler.mean, scaler.std)
    via_std = log_normal(xs, 0.0, 1.0) + scaler.log_abs_det
    np.testing.assert_allclose(direct, via_std)


@pytest.mark.parametrize(
    "call,error,match",
    [
        (
            lambda: toy_data("spirals"),
            ValueError,
            r"name must be one of 'two_moons', 'rings'.*got name='spirals'",
        ),
        (lambda: toy_data("two_moons", 1), ValueError, "n_samples must be an integer >= 2"),
        (lambda: toy_data("rings", 0), ValueError, "n_samples must be a positive integer"),
        (
            lambda: concentric_rings(10, radii=(1.0, -2.0)),
            ValueError,
            "radii must be one or more positive",
        ),
        (lambda: concentric_rings(10, radii=()), ValueError, "radii must be one or more positive"),
        (lambda: concentric_rings(10, noise=-1.0), ValueError, "noise must be >= 0"),
        (lambda: eight_gaussians(10, std=-0.1), ValueError, "std must be >= 0"),
        (lambda: eight_gaussians(10, radius="2"), TypeError, "radius must be a real number"),
        (lambda: eight_gaussians(2.5), TypeError, "n_samples must be an integer >= 1"),
        (lambda: checkerboard(10, n_squares=1), ValueError, "n_squares must be an integer >= 2"),
        (lambda: standardise(np.zeros(3)), ValueError, r"x must be of shape \(N, D\)"),
        (
            lambda: standardise(np.array([[1.0, np.nan], [0.0, 1.0]])),
            ValueError,
            "x must be finite",
        ),
        (lambda: standardise(np.ones((1, 2))), ValueError, "x must be at least 2 points"),
        (
            lambda: standardise(np.array([[1.0, 2.0], [1.0, 3.0]])),
            ValueError,
            r"x must be free of constant features.*feature\(s\) \[0\] are constant",
        ),
        (
            lambda: standardise(np.ones((2, 3)), standardise(np.eye(2))[1]),
            ValueError,
            r"x must be of shape \(N, 2\), the features the reference was fitted on; "
            r"got shape \(2, 3\)",
        ),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert "Fix: " in str(info.value)  # every message says how to repair the call

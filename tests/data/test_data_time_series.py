"""Tests for ode_course.data.time_series: the spiral generator and its errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ode_course.data import SPIRAL_RADIUS
from ode_course.data.time_series import SPIRAL_ANGULAR_SPEED, irregular_spirals, spiral

F64 = torch.float64


@pytest.fixture(scope="module")
def data():
    return irregular_spirals(60, min_obs=4, max_obs=12, n_grid=16, n_future=6, dt=0.25, seed=3)


# ---------------------------------------------------------------------- the spirals
def test_shapes_and_windows(data):
    n, m = 60, 6
    assert len(data) == n and len(data.values) == n
    assert data.future_times.shape == (m,) and data.future_values.shape == (n, m, 2)
    assert data.labels.shape == (n,) and data.labels.dtype == np.int64
    assert data.dense_values.shape == (n, len(data.dense_times), 2)
    grid = 0.25 * np.arange(16)
    for t, x in zip(data.times, data.values, strict=True):
        assert t.ndim == 1 and x.shape == (len(t), 2)
        assert np.isin(t, grid).all()  # observed on the grid of the observed window
    np.testing.assert_allclose(data.future_times, 0.25 * np.arange(16, 22))
    assert data.dense_times[0] == 0 and data.dense_times[-1] == data.future_times[-1]
    assert sorted(set(data.labels.tolist())) == [0, 1] and data.labels.sum() == n // 2


def test_times_are_sorted_distinct_and_irregular(data):
    counts = [len(t) for t in data.times]
    assert min(counts) >= 4 and max(counts) <= 12
    assert len(set(counts)) > 3  # different numbers of observations per series
    assert all(np.all(np.diff(t) > 0) for t in data.times)  # sorted and distinct
    gaps = [np.diff(t) for t in data.times if len(t) >= 3]
    irregular = [g.max() > g.min() + 1e-12 for g in gaps]
    assert np.mean(irregular) > 0.8  # the gaps vary within almost every series
    assert len({tuple(t) for t in data.times}) > 50  # and the time sets differ across series


def test_fixed_seed_reproduces_and_another_seed_differs():
    a = irregular_spirals(10, seed=7)
    b = irregular_spirals(10, seed=7)
    c = irregular_spirals(10, seed=8)
    for x, y in zip(a.times + a.values, b.times + b.values, strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.future_values, b.future_values)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.future_values, c.future_values)


def test_values_are_the_spiral_plus_noise_of_the_given_size():
    clean = irregular_spirals(40, noise=0.0, seed=2)
    noisy = irregular_spirals(40, noise=0.05, seed=2)
    residual = np.concatenate([x - y for x, y in zip(noisy.values, clean.values, strict=True)])
    assert 0.04 < residual.std() < 0.06 and abs(residual.mean()) < 0.01
    # the noise-free values lie on the dense noise-free trajectory
    i = 5
    idx = np.searchsorted(clean.dense_times, clean.times[i])
    np.testing.assert_allclose(clean.values[i], clean.dense_values[i, idx], atol=1e-12)


def test_labels_give_the_direction_of_rotation(data):
    x = data.dense_values
    # the z-component of x × dx/dt: positive for counter-clockwise motion
    cross = x[:, :-1, 0] * np.diff(x[:, :, 1]) - x[:, :-1, 1] * np.diff(x[:, :, 0])
    np.testing.assert_array_equal((cross > 0).all(axis=1), data.labels == 1)
    np.testing.assert_array_equal((cross < 0).all(axis=1), data.labels == 0)


def test_spiral_radius_grows_with_the_phase_at_the_angular_speed():
    phase = np.linspace(0, 10, 11)
    ccw, cw = spiral(phase, False), spiral(phase, True)
    np.testing.assert_allclose(np.linalg.norm(ccw, axis=1), 0.3 + 0.1 * phase)
    np.testing.assert_allclose(cw, ccw * [1, -1])  # mirror images
    assert SPIRAL_ANGULAR_SPEED == 1.0 and SPIRAL_RADIUS == (0.3, 0.1)


def test_subset_keeps_the_chosen_series(data):
    part = data.subset([4, 1])
    assert len(part) == 2 and part.future_values.shape == (2, 6, 2)
    np.testing.assert_array_equal(part.times[1], data.times[1])
    np.testing.assert_array_equal(part.labels, data.labels[[4, 1]])


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"n_series": 0}, ValueError, "n_series must be a positive integer"),
        ({"min_obs": 0}, ValueError, "min_obs must be a positive integer.*at least one"),
        ({"n_future": 1.5}, TypeError, "n_future must be an integer >= 1"),
        ({"min_obs": 9, "max_obs": 5}, ValueError, "min_obs must be <= max_obs=5; got min_obs=9"),
        ({"max_obs": 40, "n_grid": 30}, ValueError, "max_obs must be <= n_grid=30"),
        ({"dt": 0.0}, ValueError, "dt must be positive"),
        ({"dt": float("inf")}, ValueError, "dt must be finite"),
        ({"noise": -1.0}, ValueError, "noise must be >= 0"),
    ],
)
def test_generator_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        irregular_spirals(**kwargs)
    assert "Fix: " in str(info.value)


def test_collate_of_generated_data_has_one_mask_entry_per_observation(data):
    batch = data.batch()
    assert batch.n_observed.tolist() == [len(t) for t in data.times]
    assert len(batch.times) == len(np.unique(np.concatenate(data.times)))
    for b in (0, 17, 59):
        rows = batch.mask[b, :, 0]
        np.testing.assert_array_equal(batch.times[rows].numpy(), data.times[b])
        np.testing.assert_array_equal(batch.values[b, rows].numpy(), data.values[b])

"""Irregularly sampled time series: noisy spirals, each observed at its own times.

Chapter 8 learns from series that are each observed at their own times t₁ < … < t_k, with k
differing from series to series, as in Rubanova, Chen & Duvenaud (2019). This module makes such
data and puts it in the shape a model reads:

- ``SPIRAL_ANGULAR_SPEED``, ``SPIRAL_RADIUS`` and :func:`spiral`: the Archimedean spirals
  r(φ) = r₀ + b φ that the series follow, turning clockwise or counter-clockwise;
- :func:`irregular_spirals`: N noisy spirals, each observed at its own random times, with a
  held-out extrapolation window, returned as an :class:`IrregularSeries`;
- :meth:`IrregularSeries.batch` puts them in the shape a model reads, with
  :func:`~ode_course.data.collate_series` (``batching.py``).

Example:
    >>> batch = irregular_spirals(3, seed=0).batch()
    >>> batch.values.shape == batch.mask.shape == (3, len(batch.times), 2)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ode_course import _validate
from ode_course.data.batching import IrregularBatch, collate_series

__all__ = ["IrregularSeries", "irregular_spirals", "spiral"]

SPIRAL_ANGULAR_SPEED = 1.0
"""ω: the spirals turn at one radian per unit of time."""
SPIRAL_RADIUS = (0.3, 0.1)
"""(r₀, b) of the Archimedean spirals r(φ) = r₀ + b φ, φ the phase in radians."""


def spiral(phase: np.ndarray, clockwise: np.ndarray | bool) -> np.ndarray:
    """The point r(φ) (cos φ, ±sin φ), r(φ) = r₀ + b φ, of an outward Archimedean spiral.

    With φ = φ₀ + ω t the point turns counter-clockwise (sign +) or clockwise (sign −) at
    angular speed ω about the origin while its radius grows linearly, as the spirals of
    Chen et al. (2018, Figure 8). The constants are ``SPIRAL_RADIUS`` and
    ``SPIRAL_ANGULAR_SPEED``.

    Args:
        phase: the phases φ ≥ 0, any shape S.
        clockwise: whether each spiral turns clockwise, a bool or an array broadcastable to S.

    Returns:
        The points, shape (*S, 2).

    Example:
        >>> spiral(np.array([0.0, np.pi / 2]), clockwise=True).round(4).tolist()
        [[0.3, -0.0], [0.0, -0.4571]]
    """
    phase = np.asarray(phase, dtype=np.float64)
    sign = np.where(np.asarray(clockwise), -1.0, 1.0)
    radius = SPIRAL_RADIUS[0] + SPIRAL_RADIUS[1] * phase
    return np.stack([radius * np.cos(phase), sign * radius * np.sin(phase)], axis=-1)


@dataclass(frozen=True)
class IrregularSeries:
    """N series of D features observed at their own times, and a held-out future window.

    Attributes:
        times: N arrays, ``times[i]`` of shape (kᵢ,): the sorted, distinct times at which
            series i was observed (kᵢ differs from series to series).
        values: N arrays, ``values[i]`` of shape (kᵢ, D): the noisy observations.
        future_times: (M,) the times of the held-out extrapolation window, after every
            observed time.
        future_values: (N, M, D) noisy observations in that window, for scoring predictions.
        future_clean: (N, M, D) the noise-free values there.
        labels: (N,) int64, 1 for a counter-clockwise spiral and 0 for a clockwise one.
        dense_times: (G,) a fine grid covering both windows, for plots.
        dense_values: (N, G, D) the noise-free trajectories on that grid.
    """

    times: tuple[np.ndarray, ...]
    values: tuple[np.ndarray, ...]
    future_times: np.ndarray
    future_values: np.ndarray
    future_clean: np.ndarray
    labels: np.ndarray
    dense_times: np.ndarray
    dense_values: np.ndarray

    def __len__(self) -> int:
        return len(self.times)

    def subset(self, index: Sequence[int] | slice) -> IrregularSeries:
        """The series at ``index`` (a sequence of ints or a slice), in that order."""
        rows = np.arange(len(self))[index]
        return IrregularSeries(
            tuple(self.times[i] for i in rows),
            tuple(self.values[i] for i in rows),
            self.future_times,
            self.future_values[rows],
            self.future_clean[rows],
            self.labels[rows],
            self.dense_times,
            self.dense_values[rows],
        )

    def batch(self, dtype: torch.dtype = torch.float64) -> IrregularBatch:
        """All series on the union of their times: see :func:`collate_series`."""
        return collate_series(self.times, self.values, dtype=dtype)


def irregular_spirals(
    n_series: int = 300,
    *,
    min_obs: int = 4,
    max_obs: int = 10,
    n_grid: int = 20,
    n_future: int = 10,
    dt: float = 0.25,
    noise: float = 0.1,
    seed: int = 0,
) -> IrregularSeries:
    """Noisy 2-D spirals x(t) = r(φ₀ + ωt)(cos, ±sin)(φ₀ + ωt) + ε, each observed at its own times.

    Half the series turn counter-clockwise and half clockwise (:func:`spiral`), each from a
    random start phase φ₀ ~ U[0, 2π), so every series shows a different stretch of its
    spiral. Series i is observed at kᵢ ~ U{min_obs, …, max_obs} distinct times drawn without
    replacement from the grid 0, dt, …, (n_grid − 1) dt (the observed window), sorted: the
    gaps between observations differ within and across series. The grid keeps the union of
    times in a batch small, as rounding timestamps to a resolution does with real data. The
    next ``n_future`` grid times form the held-out extrapolation window, where every series
    is observed. The noise ε ~ N(0, noise² I) is independent for every observation.

    Args:
        n_series: the number of series N.
        min_obs: the fewest observations of a series in the observed window.
        max_obs: the most observations of a series (at most ``n_grid``).
        n_grid: the number of grid times in the observed window [0, n_grid·dt).
        n_future: the number of grid times in the extrapolation window that follows.
        dt: the grid spacing.
        noise: the standard deviation of the observation noise.
        seed: the random seed: the same seed gives the same data.

    Returns:
        An :class:`IrregularSeries` with D = 2 features.

    Raises:
        TypeError: a count is not an integer, or ``dt`` or ``noise`` is not a number.
        ValueError: a count is not positive, min_obs > max_obs, max_obs > n_grid, dt is not
            positive or noise is negative.

    Example:
        >>> data = irregular_spirals(4, seed=1)
        >>> [len(t) for t in data.times], data.values[0].shape, data.future_values.shape
        ([4, 5, 6, 9], (4, 2), (4, 10, 2))
        >>> data.times[0].tolist()  # four observations in the window [0, 5)
        [0.0, 2.0, 2.5, 4.75]
    """
    n_series = _validate.integer(n_series, "n_series", fix="pass e.g. n_series=300")
    n_grid = _validate.integer(n_grid, "n_grid", fix="pass e.g. n_grid=20")
    n_future = _validate.integer(n_future, "n_future", fix="pass e.g. n_future=10")
    min_obs = _validate.integer(
        min_obs, "min_obs", fix="every series needs at least one observation: min_obs=1 or more"
    )
    max_obs = _validate.integer(max_obs, "max_obs", fix="pass e.g. max_obs=10")
    if min_obs > max_obs:
        _validate.fail(
            "min_obs", f"<= max_obs={max_obs}", f"min_obs={min_obs}", "swap min_obs and max_obs"
        )
    if max_obs > n_grid:
        _validate.fail(
            "max_obs",
            f"<= n_grid={n_grid} (times are drawn without replacement from the grid)",
            f"max_obs={max_obs}",
            "raise n_grid or lower max_obs",
        )
    dt = _validate.positive(dt, "dt", fix="pass e.g. dt=0.25")
    noise = _validate.non_negative(noise, "noise", fix="pass e.g. noise=0.1")
    rng = np.random.default_rng(seed)
    grid = dt * np.arange(n_grid + n_future)
    dense_times = np.linspace(0.0, grid[-1], 4 * (n_grid + n_future) - 3)
    labels = rng.permutation(np.arange(n_series) % 2).astype(np.int64)
    phase0 = rng.uniform(0.0, 2 * np.pi, size=n_series)
    clockwise = (labels == 0)[:, None]

    def trajectory(t: np.ndarray) -> np.ndarray:
        return spiral(phase0[:, None] + SPIRAL_ANGULAR_SPEED * t, clockwise)

    clean = trajectory(grid)
    observed = clean + noise * rng.standard_normal(clean.shape)
    times, values = [], []
    for i in range(n_series):
        k = rng.integers(min_obs, max_obs + 1)
        idx = np.sort(rng.choice(n_grid, size=k, replace=False))
        times.append(grid[idx])
        values.append(observed[i, idx])
    return IrregularSeries(
        times=tuple(times),
        values=tuple(values),
        future_times=grid[n_grid:],
        future_values=observed[:, n_grid:],
        future_clean=clean[:, n_grid:],
        labels=labels,
        dense_times=dense_times,
        dense_values=trajectory(dense_times),
    )

"""How far samples are from held-out data: the energy distance and the sliced Wasserstein distance.

Both compare two sets of points x (N, D) and y (M, D) through their empirical distributions
and are 0 for identical sets.

- :func:`energy_distance` (Székely & Rizzo): D(x, y) = √(2 E|X − Y| − E|X − X′| − E|Y − Y′|),
  with Euclidean norms and every expectation over all pairs (a V-statistic, pairs of a point
  with itself included), so D ≥ 0, and D = 0 exactly when the two sets are equal as
  distributions. In 1-D it equals ``scipy.stats.energy_distance`` (which returns the same
  square root). Cost: O((N + M)²) distances.
- :func:`sliced_wasserstein`: SW₂(x, y) = √(mean over directions θ of W₂²(θᵀx, θᵀy)), the 1-D
  Wasserstein distances of projections, each exact from sorted samples. Cost:
  O(P (N + M) log(N + M)) for P directions.

Example:
    >>> x = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    >>> energy_distance(x, x), sliced_wasserstein(x, x + 3)  # a shift by 3
    (0.0, 3.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ode_course import _validate

__all__ = ["energy_distance", "sliced_wasserstein"]


def _sample_sets(x: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """x and y as float64 tensors of shape (N, D) and (M, D) (1-D input: D = 1): the package's
    point-set contract, then one dtype for the distances."""
    out = [
        _validate.points(value, name, column=True).detach().to(torch.float64)
        for value, name in ((x, "x"), (y, "y"))
    ]
    if out[0].shape[1] != out[1].shape[1]:
        _validate.fail(
            "y",
            f"points of the dimension of x, D = {out[0].shape[1]}",
            f"D = {out[1].shape[1]}",
            "compare samples and data of one dimension",
        )
    return out[0], out[1].to(out[0].device)


def _mean_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """E|A − B| over all pairs, from the differences (not the matrix-product shortcut of
    ``torch.cdist``, whose round-off would leave D(x, x) above 0)."""
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist").mean()


def energy_distance(x: torch.Tensor | np.ndarray, y: torch.Tensor | np.ndarray) -> float:
    """D(x, y) = √(2 E|X − Y| − E|X − X′| − E|Y − Y′|) between two sets of points.

    Args:
        x: points, shape (N, D) (or (N,) in 1-D).
        y: points, shape (M, D) (or (M,)).

    Returns:
        The energy distance, a float ≥ 0 (the square root, as scipy returns it); 0 for equal
        sets.

    Raises:
        TypeError: an input is not a floating-point tensor or array.
        ValueError: a shape is wrong, the dimensions differ, or a value is not finite.

    Example:
        >>> x, y = torch.tensor([0.0, 1.0]), torch.tensor([2.0])
        >>> f"{energy_distance(x, y):.6f}"  # √(2·1.5 − 0.5 − 0) = √2.5
        '1.581139'
    """
    x, y = _sample_sets(x, y)
    xy, xx, yy = _mean_distance(x, y), _mean_distance(x, x), _mean_distance(y, y)
    return math.sqrt(max(float(2 * xy - xx - yy), 0.0))


def _wasserstein_1d_squared(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """W₂² = ∫₀¹ (F⁻¹(u) − G⁻¹(u))² du between the empirical distributions of the columns.

    a (N, P), b (M, P): one 1-D problem per column. The quantile functions are step functions
    with steps at i/N and j/M; the integral is exact over the merged steps (with N = M, the
    mean of the squared differences of the sorted samples).
    """
    n, m = len(a), len(b)
    a, b = a.sort(dim=0).values, b.sort(dim=0).values
    if n == m:
        return ((a - b) ** 2).mean(dim=0)
    # the steps in integer units of 1/(N M): i M for x, j N for y; on the interval (s, s'] of
    # consecutive steps, F⁻¹ is the order statistic ⌊s/M⌋ of x and G⁻¹ the ⌊s/N⌋ of y
    steps = torch.unique(torch.cat([torch.arange(0, n + 1) * m, torch.arange(0, m + 1) * n]))
    start, width = steps[:-1], torch.diff(steps).to(a.dtype) / (n * m)
    i, j = (start // m).to(a.device), (start // n).to(a.device)
    return (width.to(a.device)[:, None] * (a[i] - b[j]) ** 2).sum(dim=0)


def sliced_wasserstein(
    x: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    *,
    n_projections: int = 128,
    seed: int = 0,
) -> float:
    """SW₂(x, y) = √(mean over P random directions θ of W₂²(θᵀx, θᵀy)).

    Each W₂² between the projected samples is exact (sorted samples; quantile functions when
    N ≠ M). The directions are uniform on the unit sphere, drawn from ``seed``, so that the
    same call gives the same value; in 1-D the only direction is ±1 and SW₂ = W₂.

    Args:
        x: points, shape (N, D) (or (N,) in 1-D).
        y: points, shape (M, D) (or (M,)); M may differ from N.
        n_projections: P, the number of directions (ignored in 1-D).
        seed: the seed of the directions.

    Returns:
        SW₂, a float ≥ 0; 0 for equal sets.

    Raises:
        TypeError, ValueError: as :func:`energy_distance`, or a bad ``n_projections``/``seed``.

    Example:
        >>> x = torch.tensor([[0.0], [1.0], [2.0]])
        >>> f"{sliced_wasserstein(x, torch.tensor([[1.0]])):.6f}"  # √((1 + 0 + 1)/3)
        '0.816497'
    """
    x, y = _sample_sets(x, y)
    n_projections = _validate.integer(n_projections, "n_projections", fix="e.g. 128")
    seed = _validate.integer(seed, "seed", minimum=0, fix="e.g. seed=0")
    d = x.shape[1]
    if d == 1:
        directions = torch.ones(1, 1, dtype=torch.float64)
    else:
        gen = torch.Generator().manual_seed(seed)
        directions = torch.randn(n_projections, d, generator=gen, dtype=torch.float64)
        directions = directions / directions.norm(dim=1, keepdim=True)
    directions = directions.to(x.device)
    w2 = _wasserstein_1d_squared(x @ directions.T, y @ directions.T)
    return math.sqrt(max(float(w2.mean()), 0.0))

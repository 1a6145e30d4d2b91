"""Unlabelled 2-D toy densities to fit with a flow, and the standardisation that goes with them.

A continuous normalizing flow (Chapter 7) learns a density p(x) on R² from samples alone, so
these functions return points X of shape (n_samples, 2) and no labels:

- :func:`concentric_rings`: points near circles of given radii;
- :func:`eight_gaussians`: a mixture of eight Gaussians placed on a circle;
- :func:`checkerboard`: uniform points on the dark squares of a checkerboard;
- ``TOY_DENSITIES`` and :func:`toy_data`: these three and the two moons, by name;
- :class:`Standardisation` and :func:`standardise`: the affine map x ↦ (x − mean)/std, fitted
  on training data, with the log-determinant that moves a density between the two scales.

Example:
    >>> X = toy_data("checkerboard", 500, seed=0)
    >>> X.shape, bool(np.abs(X).max() <= 2)
    ((500, 2), True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ode_course import _validate
from ode_course.data.classification import two_moons

__all__ = [
    "TOY_DENSITIES",
    "Standardisation",
    "checkerboard",
    "concentric_rings",
    "eight_gaussians",
    "standardise",
    "toy_data",
]


def concentric_rings(
    n_samples: int = 1000,
    *,
    radii: tuple[float, ...] = (1.0, 2.0, 3.0),
    noise: float = 0.1,
    seed: int = 0,
) -> np.ndarray:
    """Points on concentric circles x = r (cos θ, sin θ) + noise, θ uniform on [0, 2π).

    Each ring gets a share of the points proportional to its radius (so points are equally
    dense along every ring), and each point Gaussian noise of standard deviation ``noise``.
    (For labelled classes, a disc inside a ring, see
    :func:`~ode_course.data.concentric_circles`.)

    Args:
        n_samples: the number of points.
        radii: the radii of the rings, all positive.
        noise: the standard deviation of the noise.
        seed: the random seed.

    Returns:
        X of shape (n_samples, 2), float64, in random order.

    Raises:
        TypeError: ``n_samples`` is not an integer or ``noise`` is not a number.
        ValueError: ``n_samples`` is not positive, a radius is not positive, or ``noise`` < 0.

    Example:
        >>> X = concentric_rings(6, radii=(1.0, 2.0), noise=0.0)
        >>> np.round(np.sort(np.hypot(X[:, 0], X[:, 1])), 6).tolist()
        [1.0, 1.0, 2.0, 2.0, 2.0, 2.0]
    """
    n = _validate.integer(n_samples, "n_samples", fix="pass e.g. n_samples=1000")
    noise = _validate.non_negative(noise, "noise", fix="pass e.g. noise=0.1")
    radii_arr = np.asarray(radii, dtype=np.float64)
    if radii_arr.ndim != 1 or len(radii_arr) == 0 or not np.all(radii_arr > 0):
        _validate.fail(
            "radii", "one or more positive numbers", f"radii={radii!r}", "e.g. radii=(1.0, 2.0)"
        )
    rng = np.random.default_rng(seed)
    share = n * radii_arr / radii_arr.sum()  # points per ring, largest remainders rounded up
    counts = np.floor(share).astype(int)
    counts[np.argsort(counts - share)[: n - counts.sum()]] += 1
    ring = rng.permutation(np.repeat(np.arange(len(radii_arr)), counts))
    theta = rng.uniform(0.0, 2 * np.pi, size=n)
    X = radii_arr[ring, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    return X + noise * rng.standard_normal((n, 2))


def eight_gaussians(
    n_samples: int = 1000, *, radius: float = 2.0, std: float = 0.2, seed: int = 0
) -> np.ndarray:
    """A mixture of eight equally weighted Gaussians centred at r (cos kπ/4, sin kπ/4), k = 0..7.

    Args:
        n_samples: the number of points.
        radius: r, the distance of the centres from the origin.
        std: the standard deviation of each component (isotropic).
        seed: the random seed.

    Returns:
        X of shape (n_samples, 2), float64.

    Raises:
        TypeError: ``n_samples`` is not an integer, ``radius`` or ``std`` is not a number.
        ValueError: ``n_samples`` is not positive, ``radius`` or ``std`` < 0.

    Example:
        >>> X = eight_gaussians(4, std=0.0, seed=1)
        >>> np.round(np.hypot(X[:, 0], X[:, 1]), 6).tolist()
        [2.0, 2.0, 2.0, 2.0]
    """
    n = _validate.integer(n_samples, "n_samples", fix="pass e.g. n_samples=1000")
    radius = _validate.non_negative(radius, "radius", fix="pass e.g. radius=2.0")
    std = _validate.non_negative(std, "std", fix="pass e.g. std=0.2")
    rng = np.random.default_rng(seed)
    angle = rng.integers(0, 8, size=n) * (np.pi / 4)
    centres = radius * np.column_stack([np.cos(angle), np.sin(angle)])
    return centres + std * rng.standard_normal((n, 2))


def checkerboard(n_samples: int = 1000, *, n_squares: int = 4, seed: int = 0) -> np.ndarray:
    """Uniform points on the dark squares of an n × n checkerboard over [−n/2, n/2]².

    Square (i, j) (column i, row j, counted from the lower left) is dark when i + j is even, so
    half of the board carries all the mass, with density 2/n² on it.

    Args:
        n_samples: the number of points.
        n_squares: n, squares per side (at least 2).
        seed: the random seed.

    Returns:
        X of shape (n_samples, 2), float64.

    Raises:
        TypeError: ``n_samples`` or ``n_squares`` is not an integer.
        ValueError: ``n_samples`` is not positive or ``n_squares`` < 2.

    Example:
        >>> X = checkerboard(100, seed=3)
        >>> cells = np.floor(X + 2).astype(int)  # (column, row) of each point
        >>> bool(np.all(cells.sum(axis=1) % 2 == 0)), float(np.abs(X).max()) <= 2
        (True, True)
    """
    n = _validate.integer(n_samples, "n_samples", fix="pass e.g. n_samples=1000")
    n_squares = _validate.integer(n_squares, "n_squares", minimum=2, fix="pass e.g. n_squares=4")
    rng = np.random.default_rng(seed)
    squares = [(i, j) for i in range(n_squares) for j in range(n_squares)]
    dark = np.array([(i, j) for i, j in squares if (i + j) % 2 == 0])
    corners = dark[rng.integers(0, len(dark), size=n)]
    return corners + rng.uniform(0.0, 1.0, size=(n, 2)) - n_squares / 2


TOY_DENSITIES: dict[str, Callable[..., np.ndarray]] = {
    "two_moons": lambda n_samples, seed=0: two_moons(n_samples, noise=0.1, seed=seed)[0],
    "rings": concentric_rings,
    "eight_gaussians": eight_gaussians,
    "checkerboard": checkerboard,
}
"""The 2-D densities by name, each called as ``f(n_samples, seed=seed)``."""


def toy_data(name: str, n_samples: int = 1000, *, seed: int = 0) -> np.ndarray:
    """n points from one of the 2-D toy densities in ``TOY_DENSITIES``, with default settings.

    ``"two_moons"`` is :func:`~ode_course.data.two_moons` with noise 0.1, without labels
    (already standardised); the others are :func:`concentric_rings`, :func:`eight_gaussians` and
    :func:`checkerboard`.

    Args:
        name: ``"two_moons"``, ``"rings"``, ``"eight_gaussians"`` or ``"checkerboard"``.
        n_samples: the number of points (at least 2 for ``"two_moons"``).
        seed: the random seed.

    Returns:
        X of shape (n_samples, 2), float64.

    Raises:
        TypeError: ``n_samples`` is not an integer.
        ValueError: an unknown ``name`` (the message lists the valid ones) or too small an
            ``n_samples``.

    Example:
        >>> toy_data("eight_gaussians", 5).shape
        (5, 2)
    """
    _validate.one_of(name, "name", TOY_DENSITIES, fix="e.g. toy_data('two_moons', 1000)")
    return TOY_DENSITIES[name](n_samples, seed=seed)


@dataclass(frozen=True)
class Standardisation:
    """The affine map x ↦ (x − mean)/std, fitted on one data set and applied to others.

    Attributes:
        mean: the per-feature mean, shape (D,).
        std: the per-feature standard deviation, shape (D,), all positive.

    Example:
        >>> scaler = Standardisation(mean=np.array([1.0]), std=np.array([2.0]))
        >>> scaler(np.array([[5.0]])).tolist(), scaler.inverse(np.array([[2.0]])).tolist()
        ([[2.0]], [[5.0]])
    """

    mean: np.ndarray
    std: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(x − mean)/std, x of shape (N, D)."""
        return (np.asarray(x, dtype=np.float64) - self.mean) / self.std

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """x · std + mean: back to the original units."""
        return np.asarray(x, dtype=np.float64) * self.std + self.mean

    @property
    def log_abs_det(self) -> float:
        """log |det ∂(standardised)/∂x| = −Σ log stdᵢ.

        A density fitted to the standardised data is a density of the original data once this
        is added: log p(x) = log p_std((x − mean)/std) + log_abs_det.
        """
        return float(-np.log(self.std).sum())


def standardise(
    x: np.ndarray, reference: Standardisation | None = None
) -> tuple[np.ndarray, Standardisation]:
    """(x − mean)/std per feature, with the mean and std of x, or of a fitted ``reference``.

    Fit on the training data, then apply the same map to the test data:
    ``x_train_s, scaler = standardise(x_train)``, ``x_test_s, _ = standardise(x_test, scaler)``.

    Args:
        x: data of shape (N, D), finite.
        reference: the :class:`Standardisation` to apply; fitted on x if omitted.

    Returns:
        ``(standardised x, the Standardisation used)``.

    Raises:
        ValueError: x is not (N, D) with N >= 2 (when fitting), holds nan or inf, has a constant
            feature, or does not match ``reference``'s D.

    Example:
        >>> xs, scaler = standardise(np.array([[1.0, 10.0], [3.0, 30.0]]))
        >>> xs.tolist(), scaler.mean.tolist(), scaler.std.tolist()
        ([[-1.0, -1.0], [1.0, 1.0]], [2.0, 20.0], [1.0, 10.0])
    """
    x = np.asarray(x, dtype=np.float64)
    _validate.shape(
        x,
        "x",
        "of shape (N, D), one row per point",
        x.ndim == 2 and len(x) > 0,
        fix="reshape it, e.g. x.reshape(-1, 1) for one feature",
    )
    _validate.finite(x, "x", fix="drop the rows that hold nan or inf first")
    if reference is None:
        if len(x) < 2:
            _validate.fail(
                "x", "at least 2 points to fit on", f"{len(x)} point", "pass more points"
            )
        std = x.std(axis=0)
        if np.any(std == 0):
            _validate.fail(
                "x",
                "free of constant features, which cannot be standardised",
                f"feature(s) {np.flatnonzero(std == 0).tolist()} are constant (std 0)",
                "drop constant features",
            )
        reference = Standardisation(mean=x.mean(axis=0), std=std)
    _validate.shape(
        x,
        "x",
        f"of shape (N, {len(reference.mean)}), the features the reference was fitted on",
        x.shape[1] == len(reference.mean),
        fix="pass data with the same features as the data the reference was fitted on",
    )
    return reference(x), reference

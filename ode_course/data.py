"""Datasets generated in code or shipped with a dependency: nothing is downloaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn import datasets
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

__all__ = [
    "TOY_DENSITIES",
    "DigitsSplit",
    "IrregularBatch",
    "IrregularSeries",
    "Standardisation",
    "checkerboard",
    "collate_series",
    "concentric_circles",
    "concentric_rings",
    "digits_per_class",
    "eight_gaussians",
    "irregular_spirals",
    "load_digits",
    "spiral",
    "standardise",
    "toy_data",
    "two_moons",
    "xor",
]


@dataclass(frozen=True)
class DigitsSplit:
    """A fixed train/validation/test split of the 8×8 digits: images flattened to 64 features."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(
    *, val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0
) -> DigitsSplit:
    """scikit-learn's bundled 8×8 handwritten digits (1797 images, classes 0-9), split and scaled.

    Nothing is downloaded: the images ship inside scikit-learn. Pixel values 0..16 are divided
    by 16, so features lie in [0, 1]. The split is stratified (every class in the same proportion
    in each part) and fixed by ``seed``.

    Args:
        val_fraction: share of all images used for validation.
        test_fraction: share of all images held out for testing.
        seed: the random seed of the split.

    Returns:
        A :class:`DigitsSplit` with float64 features (N, 64) and int64 labels (N,).

    Raises:
        ValueError: a fraction is not in (0, 1) or the two add up to 1 or more.

    Example:
        >>> split = load_digits()
        >>> split.x_train.shape, split.x_val.shape, split.x_test.shape
        ((1079, 64), (359, 64), (359, 64))
    """
    for name, frac in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < frac < 1:
            raise ValueError(f"{name} must be in (0, 1); got {frac!r}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1 to leave training data; got "
            f"{val_fraction} + {test_fraction}"
        )
    digits = datasets.load_digits()
    x, y = digits.data.astype(np.float64) / 16.0, digits.target.astype(np.int64)
    n_test = round(test_fraction * len(y))
    n_val = round(val_fraction * len(y))
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=n_test, stratify=y, random_state=seed
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=n_val, stratify=y_rest, random_state=seed
    )
    return DigitsSplit(x_train, y_train, x_val, y_val, x_test, y_test)


def digits_per_class(
    classes: tuple[int, ...] = (0, 1, 2, 3, 4),
    *,
    n_train: int = 100,
    n_val: int = 40,
    seed: int = 0,
) -> DigitsSplit:
    """A subset of the 8×8 digits with a fixed number of training and validation images per class.

    For each class, ``n_train`` images are drawn for training and ``n_val`` for validation;
    every remaining image of those classes is the test set. Labels are renumbered 0..k−1 in
    the order of ``classes``. scikit-learn's digits has about 180 images per class, so
    n_train + n_val must stay below that.

    Args:
        classes: the digits to keep.
        n_train: training images per class.
        n_val: validation images per class.
        seed: the random seed of the draw.

    Returns:
        A :class:`DigitsSplit` (features scaled to [0, 1]).

    Raises:
        ValueError: a class is not a digit, classes repeat, or a class has too few images.

    Example:
        >>> split = digits_per_class()
        >>> split.x_train.shape, split.x_val.shape, split.x_test.shape
        ((500, 64), (200, 64), (201, 64))
    """
    if len(set(classes)) != len(classes) or not all(c in range(10) for c in classes):
        raise ValueError(f"classes must be distinct digits 0-9; got {classes!r}")
    for name, n in (("n_train", n_train), ("n_val", n_val)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"{name} must be a positive integer; got {n!r}")
    digits = datasets.load_digits()
    x, y = digits.data.astype(np.float64) / 16.0, digits.target
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for label, digit in enumerate(classes):
        idx = rng.permutation(np.flatnonzero(y == digit))
        if len(idx) <= n_train + n_val:
            raise ValueError(
                f"digit {digit} has only {len(idx)} images; n_train + n_val = {n_train + n_val} "
                "leaves none for testing. Fix: lower n_train or n_val."
            )
        for part, chosen in (
            ("train", idx[:n_train]),
            ("val", idx[n_train : n_train + n_val]),
            ("test", idx[n_train + n_val :]),
        ):
            parts[part].append(np.column_stack([chosen, np.full(len(chosen), label)]))
    out = []
    for part in ("train", "val", "test"):
        rows = np.concatenate(parts[part])
        out += [x[rows[:, 0]], rows[:, 1].astype(np.int64)]
    return DigitsSplit(*out)


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The XOR truth table: inputs (4, 2) in {0, 1}² and labels (4,) = x₁ XOR x₂.

    Example:
        >>> x, y = xor()
        >>> y.tolist()
        [0, 1, 1, 0]
    """
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return x, np.array([0, 1, 1, 0], dtype=np.int64)


def two_moons(
    n_samples: int = 100, *, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in 2-D (scikit-learn's ``make_moons``), centred and scaled.

    Args:
        n_samples: total number of points (split evenly between the classes).
        noise: standard deviation of the Gaussian noise added to each point.
        seed: the random seed.

    Returns:
        ``(X, y)``: X of shape (n_samples, 2), float64, each column with mean 0 and standard
        deviation 1; y of shape (n_samples,), int64 labels in {0, 1}.

    Raises:
        ValueError: ``n_samples`` < 2 or ``noise`` < 0.

    Example:
        >>> X, y = two_moons(10, seed=1)
        >>> X.shape, sorted(set(y.tolist()))
        ((10, 2), [0, 1])
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2; got {n_samples!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0; got {noise!r}")
    X, y = make_moons(n_samples=int(n_samples), noise=float(noise), random_state=seed)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype(np.float64), y.astype(np.int64)


# ------------------------------------------------------------------------------------ 2-D densities
def _count(n: Any, name: str = "n_samples", *, minimum: int = 1, fix: str = "") -> int:
    """``n`` as an int, or a ValueError that names the argument (and the fix, if given)."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < minimum:
        hint = f". Fix: {fix}." if fix else ""
        raise ValueError(f"{name} must be an integer >= {minimum}; got {name}={n!r}{hint}")
    return int(n)


def _non_negative(x: Any, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float | np.floating) or not x >= 0:
        raise ValueError(f"{name} must be a number >= 0; got {name}={x!r}")
    return float(x)


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

    Args:
        n_samples: the number of points.
        radii: the radii of the rings, all positive.
        noise: the standard deviation of the noise.
        seed: the random seed.

    Returns:
        X of shape (n_samples, 2), float64, in random order.

    Raises:
        ValueError: ``n_samples`` is not a positive integer, a radius is not positive, or
            ``noise`` < 0.

    Example:
        >>> X = concentric_rings(6, radii=(1.0, 2.0), noise=0.0)
        >>> np.round(np.sort(np.hypot(X[:, 0], X[:, 1])), 6).tolist()
        [1.0, 1.0, 2.0, 2.0, 2.0, 2.0]
    """
    n = _count(n_samples)
    noise = _non_negative(noise, "noise")
    radii_arr = np.asarray(radii, dtype=np.float64)
    if radii_arr.ndim != 1 or len(radii_arr) == 0 or not np.all(radii_arr > 0):
        raise ValueError(f"radii must be one or more positive numbers; got {radii!r}")
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
        ValueError: ``n_samples`` is not a positive integer, ``radius`` or ``std`` < 0.

    Example:
        >>> X = eight_gaussians(4, std=0.0, seed=1)
        >>> np.round(np.hypot(X[:, 0], X[:, 1]), 6).tolist()
        [2.0, 2.0, 2.0, 2.0]
    """
    n = _count(n_samples)
    radius, std = _non_negative(radius, "radius"), _non_negative(std, "std")
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
        ValueError: ``n_samples`` is not a positive integer or ``n_squares`` < 2.

    Example:
        >>> X = checkerboard(100, seed=3)
        >>> cells = np.floor(X + 2).astype(int)  # (column, row) of each point
        >>> bool(np.all(cells.sum(axis=1) % 2 == 0)), float(np.abs(X).max()) <= 2
        (True, True)
    """
    n = _count(n_samples)
    n_squares = _count(n_squares, "n_squares", minimum=2)
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

    ``"two_moons"`` is :func:`two_moons` with noise 0.1, without labels (already standardised);
    the others are :func:`concentric_rings`, :func:`eight_gaussians` and :func:`checkerboard`.

    Args:
        name: ``"two_moons"``, ``"rings"``, ``"eight_gaussians"`` or ``"checkerboard"``.
        n_samples: the number of points.
        seed: the random seed.

    Returns:
        X of shape (n_samples, 2), float64.

    Raises:
        ValueError: an unknown ``name`` (the message lists the valid ones) or bad ``n_samples``.

    Example:
        >>> toy_data("eight_gaussians", 5).shape
        (5, 2)
    """
    if not isinstance(name, str) or name not in TOY_DENSITIES:
        raise ValueError(
            f"unknown toy density {name!r}; valid names are "
            f"{', '.join(map(repr, TOY_DENSITIES))}. Fix: e.g. toy_data('two_moons', 1000)."
        )
    if name == "two_moons" and _count(n_samples) < 2:
        raise ValueError(f"two_moons needs n_samples >= 2; got n_samples={n_samples!r}")
    return TOY_DENSITIES[name](n_samples, seed=seed)


@dataclass(frozen=True)
class Standardisation:
    """The affine map x ↦ (x − mean)/std, fitted on one data set and applied to others.

    Attributes:
        mean: the per-feature mean, shape (D,).
        std: the per-feature standard deviation, shape (D,), all positive.
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
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"x must have shape (N, D), one row per point; got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite; it holds nan or inf. Fix: drop those rows first.")
    if reference is None:
        if len(x) < 2:
            raise ValueError(f"fitting needs at least 2 points; got {len(x)}")
        std = x.std(axis=0)
        if np.any(std == 0):
            raise ValueError(
                f"feature(s) {np.flatnonzero(std == 0).tolist()} are constant (std 0), so they "
                "cannot be standardised. Fix: drop constant features."
            )
        reference = Standardisation(mean=x.mean(axis=0), std=std)
    elif x.shape[1] != len(reference.mean):
        raise ValueError(
            f"x has {x.shape[1]} features but the reference was fitted on "
            f"{len(reference.mean)}; pass data with the same features."
        )
    return reference(x), reference


# ---------------------------------------------------------------------- irregular time series
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

    def subset(self, index) -> IrregularSeries:
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
        ValueError: a count is not a positive integer, min_obs > max_obs, max_obs > n_grid,
            dt is not positive or noise is negative.

    Example:
        >>> data = irregular_spirals(4, seed=1)
        >>> [len(t) for t in data.times], data.values[0].shape, data.future_values.shape
        ([4, 5, 6, 9], (4, 2), (4, 10, 2))
        >>> data.times[0].tolist()  # four observations in the window [0, 5)
        [0.0, 2.0, 2.5, 4.75]
    """
    n_series = _count(n_series, "n_series", fix="e.g. n_series=300")
    n_grid = _count(n_grid, "n_grid", fix="e.g. n_grid=20")
    n_future = _count(n_future, "n_future", fix="e.g. n_future=10")
    min_obs = _count(min_obs, "min_obs", fix="every series needs at least one observation")
    max_obs = _count(max_obs, "max_obs", fix="e.g. max_obs=10")
    if min_obs > max_obs:
        raise ValueError(
            f"min_obs must not exceed max_obs; got min_obs={min_obs}, max_obs={max_obs}. "
            "Fix: swap them."
        )
    if max_obs > n_grid:
        raise ValueError(
            f"max_obs must not exceed n_grid (times are drawn without replacement from the "
            f"grid); got max_obs={max_obs}, n_grid={n_grid}. Fix: raise n_grid or lower max_obs."
        )
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be positive and finite; got dt={dt!r}. Fix: e.g. dt=0.25.")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0; got noise={noise!r}. Fix: e.g. noise=0.1.")
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


@dataclass(frozen=True)
class IrregularBatch:
    """B series on the union of their observation times, with a mask of what was observed.

    ``values[b, i]`` is series b's observation at ``times[i]`` where ``mask[b, i]`` is True;
    masked-out entries hold no information (:func:`collate_series` sets them to 0, but any
    value, nan included, is allowed) and models must ignore them. A per-feature mask allows
    series that observe only some features at a time.

    Attributes:
        times: (T,) the union of the series' times, strictly increasing.
        values: (B, T, D) the observations, floating point, dtype of ``times``.
        mask: (B, T, D) bool, True where observed.

    Raises:
        TypeError: a field is not a tensor, dtypes disagree, or the mask is not bool.
        ValueError: ``times`` is not 1-D and strictly increasing; ``values`` is not (B, T, D);
            mask and values have different shapes; a series has no observation; an observed
            value is not finite.

    Example:
        >>> batch = IrregularBatch(
        ...     torch.tensor([0.0, 0.5]), torch.ones(1, 2, 1), torch.tensor([[[True], [False]]])
        ... )
        >>> batch.n_observed.tolist()
        [1]
    """

    times: torch.Tensor
    values: torch.Tensor
    mask: torch.Tensor

    def __post_init__(self) -> None:
        for name in ("times", "values", "mask"):
            if not isinstance(getattr(self, name), torch.Tensor):
                raise TypeError(
                    f"{name} must be a torch.Tensor; got {type(getattr(self, name)).__name__}. "
                    "Fix: build batches with collate_series(times, values)."
                )
        times, values, mask = self.times, self.values, self.mask
        if not times.is_floating_point() or values.dtype != times.dtype:
            raise TypeError(
                f"times and values must share one floating-point dtype; got {times.dtype} and "
                f"{values.dtype}. Fix: values = values.to(times.dtype)."
            )
        if mask.dtype != torch.bool:
            raise TypeError(
                f"mask must be a bool tensor; got {mask.dtype}. Fix: mask = mask.bool()."
            )
        if times.ndim != 1 or len(times) == 0:
            raise ValueError(
                f"times must be a non-empty 1-D tensor; got shape {tuple(times.shape)}. "
                "Fix: pass the union of the series' times, e.g. torch.unique(all_times)."
            )
        _check_increasing(times.tolist(), "times", "pass the sorted union, torch.unique(t)")
        if values.ndim != 3 or values.shape[1] != len(times):
            raise ValueError(
                f"values must have shape (B, T, D) with T = len(times) = {len(times)}; got "
                f"{tuple(values.shape)}. Fix: one row per series, one column per time."
            )
        if mask.shape != values.shape:
            raise ValueError(
                f"mask and values must have the same shape (B, T, D); got mask "
                f"{tuple(mask.shape)} and values {tuple(values.shape)}. Fix: one flag per "
                "value, e.g. mask = torch.isfinite(values)."
            )
        empty = (~mask.flatten(1).any(dim=1)).nonzero().flatten().tolist()
        if empty:
            raise ValueError(
                f"every series needs at least one observation; series {empty[:5]} "
                f"{'is' if len(empty) == 1 else 'are'} empty (mask all False). Fix: drop "
                "empty series before batching."
            )
        if not bool(torch.isfinite(values[mask]).all()):
            raise ValueError(
                "observed values (where mask is True) must be finite. Fix: mark missing "
                "values in the mask, or remove them."
            )

    @property
    def n_series(self) -> int:
        """B, the number of series."""
        return self.values.shape[0]

    @property
    def n_observed(self) -> torch.Tensor:
        """(B,) int64: the number of times at which each series has an observation."""
        return self.mask.any(dim=2).sum(dim=1)

    def subset(self, index) -> IrregularBatch:
        """The series at ``index`` (ints, a slice or a bool mask), on the union of *their* times."""
        values, mask = self.values[index], self.mask[index]
        if values.ndim == 2:  # a single int selects one series: keep the batch dimension
            values, mask = values[None], mask[None]
        keep = mask.any(dim=2).any(dim=0)
        return IrregularBatch(self.times[keep], values[:, keep], mask[:, keep])


def _check_increasing(times: list[float], name: str, fix: str) -> None:
    for i in range(1, len(times)):
        if not times[i] > times[i - 1]:
            raise ValueError(
                f"{name} must be strictly increasing; got {name}[{i}]={times[i]:g} after "
                f"{name}[{i - 1}]={times[i - 1]:g}. Fix: {fix}."
            )


def collate_series(times, values, *, dtype: torch.dtype = torch.float64) -> IrregularBatch:
    """Put series observed at different times on the union of their times, with a mask.

    The union is every time at which at least one series was observed, sorted. Series b's
    observation at its time tⱼ goes to ``values[b, i]`` where ``times[i] = tⱼ``, and
    ``mask[b, i]`` is True there; all other entries are 0 and masked out. A nan in a series'
    values marks a missing feature (masked out too).

    Args:
        times: a sequence of B arrays, the b-th of shape (k_b,): strictly increasing times.
        values: a sequence of B arrays of shape (k_b, D) (or (k_b,) for D = 1).
        dtype: the floating-point dtype of the batch.

    Returns:
        An :class:`IrregularBatch` with times (T,), values and mask (B, T, D).

    Raises:
        ValueError: the two sequences differ in length or are empty; a series is empty, its
            times are not strictly increasing or not finite, or its values do not have one
            row per time; series differ in D; a value is infinite.

    Example:
        >>> batch = collate_series([[0.0, 2.0], [1.0, 2.0, 3.5]], [[1.0, 2.0], [3.0, 4.0, 5.0]])
        >>> batch.times.tolist(), batch.values.shape
        ([0.0, 1.0, 2.0, 3.5], torch.Size([2, 4, 1]))
        >>> batch.mask[..., 0].int().tolist()
        [[1, 0, 1, 0], [0, 1, 1, 1]]
    """
    if len(times) != len(values) or len(times) == 0:
        raise ValueError(
            f"times and values must hold the same number (at least 1) of series; got "
            f"{len(times)} and {len(values)}. Fix: pass one times array and one values array "
            "per series."
        )
    ts, xs = [], []
    for b, (t, x) in enumerate(zip(times, values, strict=True)):
        t = np.asarray(t, dtype=np.float64)
        x = np.asarray(x, dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        if t.ndim != 1 or len(t) == 0:
            raise ValueError(
                f"series {b} is empty or its times are not 1-D (shape {t.shape}). Fix: drop "
                "series without observations; give each series a 1-D array of times."
            )
        if not np.all(np.isfinite(t)):
            raise ValueError(f"the times of series {b} must be finite; got {t.tolist()}.")
        _check_increasing(
            t.tolist(),
            f"the times of series {b}",
            "sort each series by time (order = np.argsort(t); t, x = t[order], x[order]) and "
            "merge repeated times",
        )
        if x.ndim != 2 or len(x) != len(t):
            raise ValueError(
                f"series {b} has {len(t)} times but values of shape {x.shape}. Fix: values "
                "must have one row per time, shape (k, D)."
            )
        if np.isinf(x).any():
            raise ValueError(f"series {b} holds an infinite value. Fix: use nan for missing.")
        ts.append(t)
        xs.append(x)
    dims = {x.shape[1] for x in xs}
    if len(dims) != 1:
        raise ValueError(
            f"every series must have the same number of features D; got D in {sorted(dims)}. "
            "Fix: pad missing features with nan."
        )
    union = np.unique(np.concatenate(ts))
    out = np.zeros((len(ts), len(union), dims.pop()))
    mask = np.zeros(out.shape, dtype=bool)
    for b, (t, x) in enumerate(zip(ts, xs, strict=True)):
        idx = np.searchsorted(union, t)
        out[b, idx] = np.nan_to_num(x)
        mask[b, idx] = ~np.isnan(x)
    return IrregularBatch(
        torch.as_tensor(union, dtype=dtype),
        torch.as_tensor(out, dtype=dtype),
        torch.as_tensor(mask),
    )


def concentric_circles(
    n_samples: int = 1000,
    *,
    r_inner: float = 0.5,
    ring: tuple[float, float] = (1.0, 1.5),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A disc inside a ring in 2-D: class 0 for ‖x‖ < r_inner, class 1 for r₁ ≤ ‖x‖ ≤ r₂.

    The data set on which Dupont et al. (2019) show that a Neural ODE in 2-D cannot separate
    the classes: its flow cannot move the disc out of the ring. Points are uniform in area
    within each region (radius √u scaled, angle uniform), half of them in each class.

    Args:
        n_samples: total number of points (the disc gets ``n_samples // 2``).
        r_inner: the radius of the disc, > 0.
        ring: the inner and outer radius (r₁, r₂) of the ring, r_inner ≤ r₁ < r₂.
        seed: the random seed.

    Returns:
        ``(X, y)``: X of shape (n_samples, 2), float64; y of shape (n_samples,), int64 in {0, 1}.

    Raises:
        ValueError: ``n_samples`` < 2, or the radii are not 0 < r_inner ≤ r₁ < r₂.

    Example:
        >>> X, y = concentric_circles(6, seed=1)
        >>> X.shape, y.tolist()
        ((6, 2), [0, 0, 0, 1, 1, 1])
        >>> bool((np.linalg.norm(X[y == 0], axis=1) < 0.5).all())
        True
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2; got {n_samples!r}")
    r1, r2 = ring
    if not 0 < r_inner <= r1 < r2:
        raise ValueError(
            f"the radii must satisfy 0 < r_inner <= ring[0] < ring[1]; got r_inner={r_inner!r}, "
            f"ring={ring!r}"
        )
    rng = np.random.default_rng(seed)
    n_disc = int(n_samples) // 2
    n_ring = int(n_samples) - n_disc
    radius = np.concatenate(
        [
            r_inner * np.sqrt(rng.uniform(0.0, 1.0, n_disc)),
            np.sqrt(rng.uniform(r1**2, r2**2, n_ring)),
        ]
    )
    angle = rng.uniform(0.0, 2 * np.pi, int(n_samples))
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    y = np.concatenate([np.zeros(n_disc, dtype=np.int64), np.ones(n_ring, dtype=np.int64)])
    return X, y

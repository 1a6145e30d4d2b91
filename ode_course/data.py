"""Datasets generated in code or shipped with a dependency: nothing is downloaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import datasets
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

__all__ = [
    "TOY_DENSITIES",
    "DigitsSplit",
    "Standardisation",
    "checkerboard",
    "concentric_rings",
    "digits_per_class",
    "eight_gaussians",
    "load_digits",
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
def _count(n: Any, name: str = "n_samples") -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{name} must be a positive integer; got {name}={n!r}")
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
    if isinstance(n_squares, bool) or not isinstance(n_squares, int | np.integer) or n_squares < 2:
        raise ValueError(f"n_squares must be an integer >= 2; got n_squares={n_squares!r}")
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

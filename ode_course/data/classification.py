"""Labelled classification sets: the 8×8 digits, XOR, two moons and a disc inside a ring.

Each function returns inputs X and integer labels y, generated in code or read from the copy of
the digits that scikit-learn ships, so nothing is downloaded:

- :func:`load_digits` and :func:`digits_per_class`: scikit-learn's 1797 handwritten 8×8 digits,
  scaled to [0, 1] and split into a :class:`DigitsSplit` (Chapters 2 and 4);
- :func:`xor`: the four points of the XOR truth table, the smallest set a linear model cannot
  fit;
- :func:`two_moons`: two interleaving half circles (Chapters 1 and 5);
- :func:`concentric_circles`: a disc inside a ring, the set a 2-D Neural ODE cannot separate
  (Chapter 5; Dupont et al. 2019).

Example:
    >>> x, y = xor()
    >>> x.shape, y.tolist()
    ((4, 2), [0, 1, 1, 0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn import datasets
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

from ode_course import _validate

__all__ = [
    "DigitsSplit",
    "concentric_circles",
    "digits_per_class",
    "load_digits",
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
        TypeError: a fraction is not a number.
        ValueError: a fraction is not in (0, 1) or the two add up to 1 or more.

    Example:
        >>> split = load_digits()
        >>> split.x_train.shape, split.x_val.shape, split.x_test.shape
        ((1079, 64), (359, 64), (359, 64))
    """
    for name, frac in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        _validate.in_interval(frac, name, 0.0, 1.0, closed="()", fix=f"pass e.g. {name}=0.2")
    if val_fraction + test_fraction >= 1:
        _validate.fail(
            "val_fraction + test_fraction",
            "< 1 to leave training data",
            f"{val_fraction} + {test_fraction}",
            "lower one of them, e.g. val_fraction=0.2, test_fraction=0.2",
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
        TypeError: ``n_train`` or ``n_val`` is not an integer.
        ValueError: a class is not a digit, classes repeat, a count is not positive, or a class
            has too few images.

    Example:
        >>> split = digits_per_class()
        >>> split.x_train.shape, split.x_val.shape, split.x_test.shape
        ((500, 64), (200, 64), (201, 64))
    """
    if len(set(classes)) != len(classes) or not all(c in range(10) for c in classes):
        _validate.fail(
            "classes", "distinct digits 0-9", f"classes={classes!r}", "pass e.g. classes=(0, 1, 2)"
        )
    n_train = _validate.integer(n_train, "n_train", fix="pass e.g. n_train=100")
    n_val = _validate.integer(n_val, "n_val", fix="pass e.g. n_val=40")
    digits = datasets.load_digits()
    x, y = digits.data.astype(np.float64) / 16.0, digits.target
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for label, digit in enumerate(classes):
        idx = rng.permutation(np.flatnonzero(y == digit))
        if len(idx) <= n_train + n_val:
            _validate.fail(
                "n_train + n_val",
                f"below the {len(idx)} images of digit {digit}",
                f"n_train + n_val = {n_train + n_val}, which leaves none for testing",
                "lower n_train or n_val",
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
        TypeError: ``n_samples`` is not an integer or ``noise`` is not a number.
        ValueError: ``n_samples`` < 2 or ``noise`` < 0.

    Example:
        >>> X, y = two_moons(10, seed=1)
        >>> X.shape, sorted(set(y.tolist()))
        ((10, 2), [0, 1])
    """
    n_samples = _validate.integer(
        n_samples, "n_samples", minimum=2, fix="pass at least one point per class, e.g. 100"
    )
    noise = _validate.non_negative(noise, "noise", fix="pass e.g. noise=0.1")
    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype(np.float64), y.astype(np.int64)


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

    Not to be confused with :func:`~ode_course.data.concentric_rings`, an unlabelled density
    for Chapter 7: points near thin circles (Gaussian noise about each radius), with no disc
    and no labels. Here the two regions have area and a gap between them, and every point
    carries its class.

    Args:
        n_samples: total number of points (the disc gets ``n_samples // 2``).
        r_inner: the radius of the disc, > 0.
        ring: the inner and outer radius (r₁, r₂) of the ring, r_inner ≤ r₁ < r₂.
        seed: the random seed.

    Returns:
        ``(X, y)``: X of shape (n_samples, 2), float64; y of shape (n_samples,), int64 in {0, 1}.

    Raises:
        TypeError: ``n_samples`` is not an integer.
        ValueError: ``n_samples`` < 2, or the radii are not 0 < r_inner ≤ r₁ < r₂.

    Example:
        >>> X, y = concentric_circles(6, seed=1)
        >>> X.shape, y.tolist()
        ((6, 2), [0, 0, 0, 1, 1, 1])
        >>> bool((np.linalg.norm(X[y == 0], axis=1) < 0.5).all())
        True
    """
    n_samples = _validate.integer(
        n_samples, "n_samples", minimum=2, fix="pass at least one point per class, e.g. 1000"
    )
    radii_ok = len(ring) == 2 and 0 < r_inner <= ring[0] < ring[1]
    if not radii_ok:
        _validate.fail(
            "r_inner and ring",
            "such that 0 < r_inner <= ring[0] < ring[1]",
            f"r_inner={r_inner!r}, ring={ring!r}",
            "pass e.g. r_inner=0.5, ring=(1.0, 1.5)",
        )
    r1, r2 = ring
    rng = np.random.default_rng(seed)
    n_disc = n_samples // 2
    n_ring = n_samples - n_disc
    radius = np.concatenate(
        [
            r_inner * np.sqrt(rng.uniform(0.0, 1.0, n_disc)),
            np.sqrt(rng.uniform(r1**2, r2**2, n_ring)),
        ]
    )
    angle = rng.uniform(0.0, 2 * np.pi, n_samples)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    y = np.concatenate([np.zeros(n_disc, dtype=np.int64), np.ones(n_ring, dtype=np.int64)])
    return X, y

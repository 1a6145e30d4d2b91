"""Datasets generated in code or shipped with a dependency: nothing is downloaded."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_moons

__all__ = ["two_moons"]


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

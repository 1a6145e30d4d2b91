"""One call that makes a notebook reproducible: seed Python, numpy and torch together."""

from __future__ import annotations

import random

import numpy as np

from ode_course import _validate

__all__ = ["seed_everything"]


def seed_everything(seed: int) -> np.random.Generator:
    """Seed ``random``, numpy's global generator and torch, and return a fresh numpy Generator.

    Args:
        seed: a non-negative integer.

    Returns:
        ``np.random.default_rng(seed)``, the generator new code should draw from.

    Raises:
        TypeError: ``seed`` is not an integer.
        ValueError: ``seed`` is negative.

    Example:
        >>> rng = seed_everything(0)
        >>> float(rng.random()) == float(np.random.default_rng(0).random())
        True
    """
    seed = _validate.integer(seed, "seed", minimum=0, fix="pass a whole number such as seed=0")
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002  (legacy global state that older code reads)
    import torch  # imported here so that chapters without torch start faster

    torch.manual_seed(seed)
    return np.random.default_rng(seed)

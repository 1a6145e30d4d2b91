"""Tests for ode_course.seeding: one call seeds every generator; bad seeds are named with a fix."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from ode_course.seeding import seed_everything


def test_one_call_seeds_python_numpy_and_torch():
    seed_everything(7)
    first = (random.random(), np.random.rand(), torch.rand(1).item())  # noqa: NPY002
    rng = seed_everything(np.int64(7))
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first  # noqa: NPY002
    assert rng.random() == np.random.default_rng(7).random()


@pytest.mark.parametrize(
    "bad,error,match",
    [
        (-1, ValueError, r"seed must be an integer >= 0; got seed=-1"),
        (1.5, TypeError, r"seed must be an integer >= 0; got float 1\.5"),
        ("3", TypeError, r"seed must be an integer >= 0; got str '3'"),
        (True, TypeError, r"seed must be an integer >= 0; got bool True"),
    ],
)
def test_bad_seeds_are_named_with_a_fix(bad, error, match):
    with pytest.raises(error, match=match) as info:
        seed_everything(bad)
    assert "Fix: pass a whole number such as seed=0" in str(info.value)

"""Tests for ode_course.data.classification: the labelled sets and their argument checks.

The behaviour of these generators is also tested where the chapters use them: two moons and the
disc inside a ring in tests/test_support.py, the digits in tests/test_mlp.py and
tests/test_gradient_flow.py. This file checks the properties they share, their reproducibility
and every error message.
"""

from __future__ import annotations

import numpy as np
import pytest

from ode_course import data
from ode_course.data.classification import (
    DigitsSplit,
    concentric_circles,
    digits_per_class,
    load_digits,
    two_moons,
    xor,
)


def test_xor_is_the_truth_table():
    x, y = xor()
    assert x.shape == (4, 2) and y.dtype == np.int64
    np.testing.assert_array_equal(y, np.logical_xor(x[:, 0], x[:, 1]).astype(np.int64))


def test_load_digits_parts_are_disjoint_scaled_and_cover_the_set():
    split = load_digits(val_fraction=0.1, test_fraction=0.3, seed=2)
    assert isinstance(split, DigitsSplit)
    parts = (split.x_train, split.x_val, split.x_test)
    assert sum(len(p) for p in parts) == 1797
    assert len(split.x_val) == round(0.1 * 1797) and len(split.x_test) == round(0.3 * 1797)
    assert all(p.min() >= 0.0 and p.max() <= 1.0 and p.dtype == np.float64 for p in parts)
    rows = {row.tobytes() for p in parts for row in p}
    assert len(rows) > 1700  # the parts do not share images (a few digits are duplicates)


def test_digits_per_class_renumbers_the_labels_in_the_order_given():
    split = digits_per_class((7, 2), n_train=10, n_val=5, seed=0)
    assert np.bincount(split.y_train).tolist() == [10, 10]
    assert np.bincount(split.y_val).tolist() == [5, 5]
    digits = load_digits(val_fraction=0.01, test_fraction=0.01)
    sevens = np.concatenate([digits.x_train[digits.y_train == 7], digits.x_val, digits.x_test])
    first = split.x_train[split.y_train == 0][0]  # label 0 is the digit 7
    assert any(np.array_equal(first, s) for s in sevens)


@pytest.mark.parametrize("generator", [two_moons, concentric_circles])
def test_generators_are_reproducible_and_balanced(generator):
    X, y = generator(50, seed=3)
    X2, y2 = generator(50, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert X.shape == (50, 2) and np.bincount(y).tolist() == [25, 25]


def test_the_package_reexports_the_same_objects():
    for name in ("DigitsSplit", "concentric_circles", "digits_per_class", "load_digits"):
        assert getattr(data, name) is globals()[name]
    assert data.two_moons is two_moons and data.xor is xor


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: load_digits(val_fraction=1.0), ValueError, r"val_fraction must be in \(0, 1\)"),
        (lambda: load_digits(test_fraction="0.2"), TypeError, "test_fraction must be a real"),
        (
            lambda: load_digits(val_fraction=0.6, test_fraction=0.4),
            ValueError,
            "val_fraction \\+ test_fraction must be < 1 to leave training data; got 0.6 \\+ 0.4",
        ),
        (lambda: digits_per_class((3, 11)), ValueError, "classes must be distinct digits 0-9"),
        (lambda: digits_per_class(n_train=0), ValueError, "n_train must be a positive integer"),
        (lambda: digits_per_class(n_val=2.0), TypeError, "n_val must be an integer >= 1"),
        (
            lambda: digits_per_class((0,), n_train=150, n_val=40),
            ValueError,
            r"n_train \+ n_val must be below the \d+ images of digit 0.*leaves none for testing",
        ),
        (lambda: two_moons(True), TypeError, "n_samples must be an integer >= 2; got bool"),
        (lambda: two_moons(10, noise=-1), ValueError, "noise must be >= 0; got noise=-1"),
        (lambda: concentric_circles(1), ValueError, "n_samples must be an integer >= 2"),
        (
            lambda: concentric_circles(r_inner=1.2),
            ValueError,
            r"r_inner and ring must be such that 0 < r_inner <= ring\[0\] < ring\[1\]; "
            r"got r_inner=1.2, ring=\(1.0, 1.5\)",
        ),
        (lambda: concentric_circles(ring=(1.0, 1.5, 2.0)), ValueError, "r_inner and ring must"),
    ],
)
def test_bad_arguments_name_the_argument_and_the_fix(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert "Fix: " in str(info.value)

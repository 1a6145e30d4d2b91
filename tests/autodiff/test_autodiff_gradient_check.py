"""Tests for ode_course.autodiff.gradient_check: central differences, relative error, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ode_course.autodiff.engine import Value
from ode_course.autodiff.gradient_check import (
    GradientCheckError,
    gradcheck,
    numerical_gradient,
    relative_error,
)


def test_numerical_gradient_matches_closed_form():
    x = np.array([[0.5, -1.0], [2.0, 0.1]])
    g = numerical_gradient(lambda v: np.sum(np.sin(v) * v), x)
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x), rtol=1e-8, atol=1e-10)
    assert g.shape == x.shape and g.dtype == np.float64


def test_numerical_gradient_does_not_modify_x_and_accepts_value_and_tensor_outputs():
    x = np.array([1.0, 2.0])
    before = x.copy()
    g1 = numerical_gradient(lambda v: Value(v[0]) * Value(v[1]), x)
    g2 = numerical_gradient(lambda v: torch.tensor(v).prod(), x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(g1, [2.0, 1.0], rtol=1e-8)
    np.testing.assert_allclose(g2, [2.0, 1.0], rtol=1e-8)


def test_relative_error():
    assert relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert relative_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert relative_error([3.0, 4.0], [0.0, 0.0]) == 1.0
    assert relative_error(torch.tensor([1.0, 1.0]), np.array([1.0, 1.0 + 1e-6])) < 1e-6


def test_gradcheck_passes_for_correct_operations():
    err = gradcheck(lambda a, b: (a * b).tanh() + (a**2 + 1).log() / b.sigmoid(), [0.3, -1.2])
    assert err < 1e-8


def test_gradcheck_catches_a_planted_wrong_derivative():
    def bad_cube(x: Value) -> Value:
        return Value.from_op(x.data**3, (x,), (2 * x.data**2,), "cube")  # should be 3x²

    with pytest.raises(GradientCheckError, match=r"input 1 = 2: analytic .*<-- differs"):
        gradcheck(lambda a, b: a * bad_cube(b), [0.5, 2.0])
    # the correct derivative passes
    good = gradcheck(lambda a, b: a * Value.from_op(b.data**3, (b,), (3 * b.data**2,)), [0.5, 2.0])
    assert good < 1e-8


# ---------------------------------------------------------------------- bad input
def test_numerical_gradient_bad_input():
    with pytest.raises(ValueError, match=r"eps must be positive; got eps=0. Fix"):
        numerical_gradient(lambda v: v.sum(), [1.0], eps=0.0)
    with pytest.raises(TypeError, match=r"f must be a function that returns a scalar.*\(2,\).*sum"):
        numerical_gradient(lambda v: v * 2, [1.0, 2.0])
    with pytest.raises(TypeError, match="f must be callable"):
        numerical_gradient(3.0, [1.0])
    with pytest.raises(TypeError, match=r"x must be numeric.*Fix"):
        numerical_gradient(lambda v: v.sum(), ["a"])
    with pytest.raises(TypeError, match="eps must be a real number"):
        numerical_gradient(lambda v: v.sum(), [1.0], eps="1e-6")


def test_relative_error_and_gradcheck_bad_input():
    with pytest.raises(ValueError, match=r"b must be of the same shape as a, \(2,\).*Fix"):
        relative_error([1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match=r"fn must be callable.*Fix"):
        gradcheck(3.0, [1.0])
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a real number"):
        gradcheck(lambda a, b: a * b, [1.0, "2"])
    with pytest.raises(ValueError, match="tol must be positive"):
        gradcheck(lambda a: a * a, [1.0], tol=0.0)
    with pytest.raises(TypeError, match="scalar output"):
        gradcheck(lambda a: [a, a], [1.0])

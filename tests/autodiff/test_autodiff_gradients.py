"""Tests for ode_course.autodiff.gradients: reverse and forward mode against torch autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ode_course.autodiff.engine import Value, topological_order
from ode_course.autodiff.gradients import forward_mode_gradient, grad, reverse_mode_gradient

TOL = 1e-10


def t64(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def test_grad_function_leaves_grad_fields_untouched():
    a, b = Value(2.0), Value(1.0)
    a.grad = 123.0
    assert grad((a + b) * (b + 1), [a, b]) == [2.0, 5.0]
    assert a.grad == 123.0 and b.grad == 0.0


def test_grad_of_unconnected_input_is_zero():
    a, b = Value(2.0), Value(1.0)
    assert grad(a * 3, [a, b]) == [3.0, 0.0]


def test_forward_and_reverse_mode_agree_and_cost_as_expected():
    xs = [Value(0.1 * i) for i in range(1, 9)]
    out = sum((x * x).tanh() for x in xs) * xs[0]
    g_rev, n_rev = reverse_mode_gradient(out, xs)
    g_fwd, n_fwd = forward_mode_gradient(out, xs)
    np.testing.assert_allclose(g_rev, g_fwd, rtol=1e-12)
    n_edges = sum(len(n.parents) for n in topological_order(out))
    assert n_rev == n_edges
    assert n_fwd == len(xs) * n_edges
    ts = [t64(0.1 * i) for i in range(1, 9)]
    ref = sum((t * t).tanh() for t in ts) * ts[0]
    ref.backward()
    np.testing.assert_allclose(g_rev, [t.grad.item() for t in ts], rtol=TOL)


def test_a_non_scalar_output_is_rejected_with_the_fix():
    xs = [Value(1.0), Value(2.0)]
    outs = [x * 2 for x in xs]
    with pytest.raises(
        TypeError,
        match=r"output must be a single Value \(a scalar output\).*list of 2 elements.*"
        r"Fix: .*sum\(outputs\)",
    ):
        grad(outs, xs)
    with pytest.raises(TypeError, match="scalar output"):
        reverse_mode_gradient(np.array([1.0, 2.0]), xs)
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a Value.*Fix:"):
        forward_mode_gradient(outs[0], [xs[0], 2.0])

"""Tests for ode_course.autodiff: every operation against torch autograd in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ode_course.autodiff import (
    GradientCheckError,
    Value,
    forward_mode_gradient,
    grad,
    gradcheck,
    maximum,
    numerical_gradient,
    relative_error,
    reverse_mode_gradient,
    topological_order,
)

TOL = 1e-10


def t64(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def assert_matches_torch(op_value, op_torch, *inputs: float) -> None:
    """Value and gradient of op_value (on Values) equal op_torch (on float64 tensors)."""
    vs = [Value(x) for x in inputs]
    out = op_value(*vs)
    out.backward()
    ts = [t64(x) for x in inputs]
    ref = op_torch(*ts)
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=TOL, abs=TOL)
    for v, t in zip(vs, ts, strict=True):
        assert v.grad == pytest.approx(t.grad.item(), rel=TOL, abs=TOL)


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "max": (lambda a, b: maximum(a, b), lambda a, b: torch.maximum(a, b)),
    "max_method": (lambda a, b: a.max(b), lambda a, b: torch.maximum(a, b)),
}

UNARY = {
    "neg": (lambda a: -a, lambda a: -a),
    "exp": (lambda a: a.exp(), lambda a: a.exp()),
    "tanh": (lambda a: a.tanh(), lambda a: a.tanh()),
    "relu": (lambda a: a.relu(), lambda a: a.relu()),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: a.sigmoid()),
    "pow3": (lambda a: a**3, lambda a: a**3),
    "pow_neg2": (lambda a: a**-2, lambda a: a**-2),
    "pow0": (lambda a: a**0, lambda a: a**0),
    "radd": (lambda a: 2.5 + a, lambda a: 2.5 + a),
    "rsub": (lambda a: 2.5 - a, lambda a: 2.5 - a),
    "rmul": (lambda a: 2.5 * a, lambda a: 2.5 * a),
    "rdiv": (lambda a: 2.5 / a, lambda a: 2.5 / a),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("a,b", [(2.0, 1.0), (-1.5, 0.75), (0.3, -4.0), (1.25, 1.25)])
def test_binary_ops_match_torch(name, a, b):
    op_value, op_torch = BINARY[name]
    assert_matches_torch(op_value, op_torch, a, b)


UNARY_CASES = [
    (name, a)
    for name in sorted(UNARY)
    for a in [-2.0, -0.3, 0.0, 0.4, 3.0]
    if not (a == 0.0 and name in {"pow_neg2", "rdiv"})  # undefined at 0
]


@pytest.mark.parametrize("name,a", UNARY_CASES)
def test_unary_ops_match_torch(name, a):
    op_value, op_torch = UNARY[name]
    assert_matches_torch(op_value, op_torch, a)


@pytest.mark.parametrize("a", [1e-3, 0.5, 2.0, 40.0])
def test_log_and_fractional_power_match_torch(a):
    assert_matches_torch(lambda x: x.log(), lambda x: x.log(), a)
    assert_matches_torch(lambda x: x**0.5, lambda x: x**0.5, a)
    assert_matches_torch(lambda x: x**-1.5, lambda x: x**-1.5, a)


@pytest.mark.parametrize("a", [-800.0, -30.0, 30.0, 800.0])
def test_sigmoid_is_stable_for_large_inputs(a):
    assert_matches_torch(lambda x: x.sigmoid(), lambda x: x.sigmoid(), a)


def test_worked_example_from_the_chapter():
    a, b = Value(2.0, label="a"), Value(1.0, label="b")
    c, d = a + b, b + 1
    e = c * d
    e.backward()
    assert (e.data, a.grad, b.grad, c.grad, d.grad) == (6.0, 2.0, 5.0, 2.0, 3.0)


def test_gate_patterns():
    # f = 2 (x y + max(z, w)): add distributes, max routes, multiply swaps its inputs.
    x, y, z, w = Value(3.0), Value(-4.0), Value(2.0), Value(-1.0)
    f = 2 * (x * y + maximum(z, w))
    f.backward()
    assert (x.grad, y.grad, z.grad, w.grad) == (-8.0, 6.0, 2.0, 0.0)


def test_reused_node_accumulates_gradient():
    x = Value(3.0)
    y = x * x + x
    y.backward()
    assert x.grad == 7.0


def test_leaves_accumulate_but_intermediates_reset():
    x = Value(2.0)
    h = x * 3
    y = h * h
    y.backward()
    y.backward()
    assert h.grad == 12.0  # recomputed, not doubled
    assert x.grad == 72.0  # leaves accumulate, as in torch


def test_backward_seed_scales_gradients():
    x = Value(2.0)
    y = x**2
    y.backward(0.5)
    assert x.grad == 2.0


def test_deep_graph_does_not_hit_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**5000, rel=1e-9)


def test_topological_order_puts_parents_first():
    a, b = Value(1.0), Value(2.0)
    e = (a + b) * (b + 1)
    order = topological_order(e)
    index = {id(n): i for i, n in enumerate(order)}
    assert order[-1] is e
    for node in order:
        for p in node.parents:
            assert index[id(p)] < index[id(node)]
    assert len(order) == 6  # a, b, 1, a+b, b+1, e


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


# ---------------------------------------------------------------------- random graphs
def _build(program, leaves, lib):
    """Evaluate a random straight-line program on Values or tensors with the same ops."""
    pool = list(leaves)
    for op, i, j in program:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if op == "add":
            r = a + b
        elif op == "sub":
            r = a - b
        elif op == "mul":
            r = a * b
        elif op == "div":
            r = a / (b * b + 1.0)
        elif op == "tanh":
            r = a.tanh()
        elif op == "sigmoid":
            r = a.sigmoid()
        elif op == "exp":
            r = a.tanh().exp()
        elif op == "log":
            r = (a * a + 0.5).log()
        elif op == "pow":
            r = (a * a + 1.0) ** 1.5
        elif op == "relu":
            r = a.relu()
        elif op == "neg":
            r = -a
        else:  # max
            r = maximum(a, b) if lib == "value" else torch.maximum(a, b)
        pool.append(r)
    return sum(pool[len(leaves) :], pool[0])


OPS = ["add", "sub", "mul", "div", "tanh", "sigmoid", "exp", "log", "pow", "relu", "neg", "max"]


@settings(max_examples=150, deadline=None)
@given(
    inputs=st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=1, max_size=4),
    program=st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 50), st.integers(0, 50)),
        min_size=1,
        max_size=12,
    ),
)
def test_random_expression_graphs_match_torch(inputs, program):
    vs = [Value(x) for x in inputs]
    out = _build(program, vs, "value")
    out.backward()
    ts = [t64(x) for x in inputs]
    ref = _build(program, ts, "torch")
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=TOL, abs=TOL)
    for v, t in zip(vs, ts, strict=True):
        expected = 0.0 if t.grad is None else t.grad.item()  # None: the input was not used
        assert v.grad == pytest.approx(expected, rel=1e-9, abs=1e-9)


# ---------------------------------------------------------------------- gradient checking
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
@pytest.mark.parametrize("bad", ["3", [1.0, 2.0], np.array([1.0, 2.0]), None, 1j])
def test_value_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match=r"must be a real number.*Fix"):
        Value(bad)


def test_value_accepts_numpy_scalars():
    assert Value(np.float32(1.5)).data == 1.5
    assert Value(np.array(2.0)).data == 2.0


@pytest.mark.parametrize("bad", ["a", [1.0], None])
def test_unsupported_operand_types(bad):
    x = Value(1.0)
    for op in (
        lambda: x + bad,
        lambda: x * bad,
        lambda: x - bad,
        lambda: x / bad,
        lambda: bad + x,
        lambda: maximum(x, bad),
    ):
        with pytest.raises(TypeError, match="Fix: combine a Value only with"):
            op()


def test_value_exponent_is_rejected_with_the_workaround():
    with pytest.raises(TypeError, match=r"\(b \* a.log\(\)\).exp\(\)"):
        Value(2.0) ** Value(3.0)


def test_log_of_non_positive_number():
    with pytest.raises(ValueError, match=r"log needs a positive input; got Value 'z' = -1.*Fix"):
        Value(-1.0, label="z").log()
    with pytest.raises(ValueError, match="positive input"):
        Value(0.0).log()


def test_bad_powers_and_division_by_zero():
    with pytest.raises(ValueError, match="non-integer power"):
        Value(-2.0) ** 0.5
    with pytest.raises(ValueError, match="undefined"):
        Value(0.0) ** -1
    with pytest.raises(ZeroDivisionError, match="Fix"):
        Value(1.0) / Value(0.0)


def test_backward_from_a_non_scalar_is_rejected():
    xs = [Value(1.0), Value(2.0)]
    outs = [x * 2 for x in xs]
    with pytest.raises(TypeError, match=r"scalar output.*list of 2 elements.*sum\(outputs\)"):
        grad(outs, xs)
    with pytest.raises(TypeError, match="scalar output"):
        reverse_mode_gradient(np.array([1.0, 2.0]), xs)
    with pytest.raises(TypeError, match="gradient must be a real number"):
        outs[0].backward([1.0, 1.0])


def test_from_op_validates_its_arguments():
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"parents\[1\] must be a Value"):
        Value.from_op(1.0, (x, 2.0), (1.0, 1.0))
    with pytest.raises(ValueError, match="one local gradient per parent"):
        Value.from_op(1.0, (x,), (1.0, 2.0))
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a Value"):
        grad(x * 2, [1.0])


def test_numerical_gradient_bad_input():
    with pytest.raises(ValueError, match="eps must be a positive"):
        numerical_gradient(lambda v: v.sum(), [1.0], eps=0.0)
    with pytest.raises(TypeError, match=r"f must return a scalar.*shape \(2,\).*sum"):
        numerical_gradient(lambda v: v * 2, [1.0, 2.0])
    with pytest.raises(TypeError, match="f must be callable"):
        numerical_gradient(3.0, [1.0])
    with pytest.raises(TypeError, match="x must be numeric"):
        numerical_gradient(lambda v: v.sum(), ["a"])


def test_relative_error_and_gradcheck_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        relative_error([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="tol must be positive"):
        gradcheck(lambda a: a * a, [1.0], tol=0.0)
    with pytest.raises(TypeError, match="scalar output"):
        gradcheck(lambda a: [a, a], [1.0])


def test_repr_is_informative():
    assert repr(Value(math.pi, label="p")) == "Value(data=3.14159, grad=0, label='p')"

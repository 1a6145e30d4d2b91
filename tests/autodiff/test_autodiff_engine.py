"""Tests for ode_course.autodiff.engine: every operation against torch autograd in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ode_course.autodiff.engine import Value, maximum, topological_order
from ode_course.autodiff.gradients import grad

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


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", ["3", [1.0, 2.0], np.array([1.0, 2.0]), None, 1j])
def test_value_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match=r"data must be a real number.*Fix"):
        Value(bad)


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_value_rejects_inf_and_nan(bad):
    with pytest.raises(ValueError, match=r"data must be finite.*Fix"):
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
        with pytest.raises(TypeError, match=r"other operand of .* must be a Value.*Fix: combine"):
            op()


def test_value_exponent_is_rejected_with_the_workaround():
    with pytest.raises(TypeError, match=r"exponent of \*\* must be .*\(b \* a.log\(\)\).exp\(\)"):
        Value(2.0) ** Value(3.0)


def test_log_of_non_positive_number():
    with pytest.raises(ValueError, match=r"input of log must be positive; got Value 'z' = -1.*Fix"):
        Value(-1.0, label="z").log()
    with pytest.raises(ValueError, match="must be positive"):
        Value(0.0).log()


def test_bad_powers_and_division_by_zero():
    with pytest.raises(ValueError, match="the base must be positive for the non-integer power"):
        Value(-2.0) ** 0.5
    with pytest.raises(ValueError, match=r"the base must be non-zero .*undefined.*Fix"):
        Value(0.0) ** -1
    with pytest.raises(ZeroDivisionError, match=r"the denominator must be non-zero.*Fix"):
        Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError, match=r"the denominator must be non-zero.*Fix"):
        2.0 / Value(0.0)


def test_backward_seed_must_be_a_number():
    # a non-scalar *output* is rejected by grad(): tests/autodiff/test_autodiff_gradients.py
    out = Value(1.0) * 2
    with pytest.raises(TypeError, match="gradient must be a real number"):
        out.backward([1.0, 1.0])


def test_from_op_validates_its_arguments():
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"parents\[1\] must be a Value"):
        Value.from_op(1.0, (x, 2.0), (1.0, 1.0))
    with pytest.raises(ValueError, match="one local gradient per parent"):
        Value.from_op(1.0, (x,), (1.0, 2.0))
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a Value.*Fix"):
        grad(x * 2, [1.0])
    with pytest.raises(ValueError, match=r"local_grads\[0\] must be finite"):
        Value.from_op(1.0, (x,), (math.inf,))
    with pytest.raises(TypeError, match=r"root must be a Value; got float. Fix"):
        topological_order(1.0)


def test_repr_is_informative():
    assert repr(Value(math.pi, label="p")) == "Value(data=3.14159, grad=0, label='p')"

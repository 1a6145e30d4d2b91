"""Gradients of a graph of Values, by reverse accumulation or by forward tangents.

Reverse mode (:func:`reverse_mode_gradient`, and :func:`grad`, which returns only the numbers)
starts from the output with dL/dL = 1 and pushes dL/dv back along every edge once: one pass
gives the derivative with respect to every input. Forward mode
(:func:`forward_mode_gradient`) starts from one input with dv/dx = 1 and pushes tangents
forward: one pass per input. Both count the products they take, so a chapter can show that
reverse mode costs one pass whatever the number of inputs, which is why training uses it.
Neither touches the nodes' ``grad`` fields.

Example:
    >>> a, b = Value(2.0, label="a"), Value(1.0, label="b")
    >>> grad((a + b) * (b + 1), [a, b])
    [2.0, 5.0]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Sized
from typing import Any

from ode_course import _validate
from ode_course.autodiff.engine import Value, topological_order

__all__ = ["forward_mode_gradient", "grad", "reverse_mode_gradient"]


def _scalar_output(output: Any) -> Value:
    """``output`` if it is one Value (the graph's scalar output)."""
    if not isinstance(output, Value):
        got, fix = type(output).__name__, "pass the loss, a Value computed from the inputs"
        if isinstance(output, Iterable) and not isinstance(output, str):
            size = f" of {len(output)} elements" if isinstance(output, Sized) else ""
            got = f"a {type(output).__name__}{size}"
            fix = "reduce it to one number first, e.g. sum(outputs) or a loss"
        _validate.fail("output", "a single Value (a scalar output)", got, fix, TypeError)
    return output


def _leaves(inputs: Iterable[Any]) -> list[Value]:
    """``inputs`` as a list, if every element is a Value."""
    leaves = list(inputs)
    for i, v in enumerate(leaves):
        if not isinstance(v, Value):
            _validate.fail(
                f"inputs[{i}]",
                "a Value",
                type(v).__name__,
                "pass the leaf Values themselves, e.g. grad(loss, [a, b])",
                TypeError,
            )
    return leaves


def grad(output: Value, inputs: Sequence[Value]) -> list[float]:
    """d(output)/d(input) for each input, leaving every node's ``grad`` field untouched.

    Args:
        output: a scalar Value (a loss).
        inputs: the leaves to differentiate with respect to.

    Returns:
        One float per input.

    Raises:
        TypeError: ``output`` is not a single Value (e.g. a list of outputs), or an input is not
            a Value.

    Example:
        >>> a, b = Value(2.0), Value(1.0)
        >>> grad((a + b) * (b + 1), [a, b])
        [2.0, 5.0]
    """
    return reverse_mode_gradient(output, inputs)[0]


def reverse_mode_gradient(output: Value, inputs: Sequence[Value]) -> tuple[list[float], int]:
    """The gradient by reverse accumulation, and the number of multiply-adds it took.

    One backward pass visits every edge of the graph once, whatever the number of inputs:
    adjoint(parent) += d(node)/d(parent) · adjoint(node), from the output back to the leaves.

    Args:
        output: a scalar Value (a loss).
        inputs: the leaves to differentiate with respect to.

    Returns:
        ``(gradient, n_products)`` where ``n_products`` counts ``local · upstream`` products.

    Raises:
        TypeError: ``output`` is not a single Value, or an input is not a Value.

    Example:
        >>> a, b = Value(2.0), Value(1.0)
        >>> reverse_mode_gradient((a + b) * (b + 1), [a, b])  # 6 edges (1 is a node), 6 products
        ([2.0, 5.0], 6)
    """
    output = _scalar_output(output)
    leaves = _leaves(inputs)
    order = topological_order(output)
    adjoint = {id(node): 0.0 for node in order}
    adjoint[id(output)] = 1.0
    n_products = 0
    for node in reversed(order):
        for parent, local in zip(node.parents, node.local_grads, strict=True):
            adjoint[id(parent)] += local * adjoint[id(node)]
            n_products += 1
    return [adjoint.get(id(v), 0.0) for v in leaves], n_products


def forward_mode_gradient(output: Value, inputs: Sequence[Value]) -> tuple[list[float], int]:
    """The gradient by forward-mode tangent propagation, and the number of multiply-adds.

    For each input x_i, seed its tangent with 1 (all other inputs 0) and push tangents
    forward: tangent(node) = Σ_parents d(node)/d(parent) · tangent(parent). The output's
    tangent is d(output)/d(x_i), so the gradient costs one pass per input.

    Args:
        output: a scalar Value (a loss).
        inputs: the leaves to differentiate with respect to.

    Returns:
        ``(gradient, n_products)`` where ``n_products`` counts ``local · tangent`` products.

    Raises:
        TypeError: ``output`` is not a single Value, or an input is not a Value.

    Example:
        >>> a, b = Value(2.0), Value(1.0)
        >>> forward_mode_gradient((a + b) * (b + 1), [a, b])  # two passes over 6 edges
        ([2.0, 5.0], 12)
    """
    output = _scalar_output(output)
    leaves = _leaves(inputs)
    order = topological_order(output)
    gradient: list[float] = []
    n_products = 0
    for x in leaves:
        tangent = {id(node): 0.0 for node in order}
        if id(x) in tangent:
            tangent[id(x)] = 1.0
        for node in order:
            if node.parents:
                total = 0.0
                for parent, local in zip(node.parents, node.local_grads, strict=True):
                    total += local * tangent[id(parent)]
                    n_products += 1
                tangent[id(node)] = total
        gradient.append(tangent.get(id(output), 0.0) if id(x) in tangent else 0.0)
    return gradient, n_products

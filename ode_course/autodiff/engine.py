"""A scalar reverse-mode automatic differentiation engine: the chain rule, one node at a time.

Every operation creates a new :class:`Value` that remembers its parents and the
*local* partial derivative of its output with respect to each parent. The chain
rule then says that the derivative of a final output ``L`` with respect to any
node ``v`` is

    dL/dv = sum over children c of v:  dL/dc * dc/dv,

which :meth:`Value.backward` evaluates once per edge, visiting nodes in reverse
topological order (:func:`topological_order`; reverse accumulation). The two modes of reading
gradients off the same graph, compared operation by operation, are in ``gradients.py``.

Example:
    >>> a, b = Value(2.0, label="a"), Value(1.0, label="b")
    >>> e = (a + b) * (b + 1)
    >>> e.backward()
    >>> a.grad, b.grad
    (2.0, 5.0)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ode_course import _validate

__all__ = ["Value", "maximum", "topological_order"]

Number = int | float


def _number(x: Any, name: str, fix: str = "pass an int or a float") -> float:
    """``x`` as a float: a real number or a 0-d numpy array, never a sequence of numbers."""
    if isinstance(x, np.ndarray) and x.shape == ():
        x = x.item()
    elif isinstance(x, np.ndarray | Sequence) and not isinstance(x, str):
        _validate.fail(
            name,
            "a real number",
            f"{type(x).__name__} {x!r:.60}",
            "Value holds one number; make one Value per element, e.g. [Value(v) for v in xs]",
            TypeError,
        )
    return _validate.real(x, name, fix=fix)


class Value:
    """A scalar node in a computational graph: ``data`` and the gradient ``grad`` = dL/d(this).

    Args:
        data: the number this node holds.
        label: an optional name, used when the graph is drawn or an error is raised.

    Attributes:
        data: the value computed in the forward pass (a float).
        grad: dL/d(data) after :meth:`backward` on some output L; leaves accumulate it
            across calls (as in PyTorch), so reset it with ``v.grad = 0.0`` between steps.
        parents: the nodes this one was computed from.
        local_grads: d(this)/d(parent) for each parent, computed in the forward pass.
        op: the name of the operation that produced this node ('' for a leaf).

    Raises:
        TypeError: ``data`` is not a real number (a list, a string, None, ...).
        ValueError: ``data`` is inf or nan.

    Example:
        >>> x = Value(0.5)
        >>> y = (x * 2).tanh()
        >>> y.backward()
        >>> round(x.grad, 6)
        0.839949
    """

    __slots__ = ("data", "grad", "label", "local_grads", "op", "parents")

    def __init__(self, data: Number, label: str = "") -> None:
        self.data = _number(data, "data", fix="pass an int or a float, e.g. Value(2.0)")
        self.grad = 0.0
        self.parents: tuple[Value, ...] = ()
        self.local_grads: tuple[float, ...] = ()
        self.op = ""
        self.label = label

    @classmethod
    def from_op(
        cls,
        data: Number,
        parents: Sequence[Value],
        local_grads: Sequence[Number],
        op: str = "",
    ) -> Value:
        """Create the output of an operation: its value and d(output)/d(parent) for each parent.

        This is the only thing a new operation needs to supply; :meth:`backward` does the rest
        with the chain rule.

        Args:
            data: the output value.
            parents: the input nodes, in order (a node may appear twice, as in ``x * x``).
            local_grads: the partial derivative of the output with respect to each parent.
            op: a short name for drawing the graph.

        Returns:
            The new node.

        Raises:
            TypeError: a parent is not a Value, or ``data`` or a local gradient is not a number.
            ValueError: ``parents`` and ``local_grads`` differ in length, or ``data`` or a local
                gradient is inf or nan.

        Example:
            >>> x = Value(3.0)
            >>> square = Value.from_op(x.data ** 2, (x,), (2 * x.data,), op="square")
            >>> square.backward(); x.grad
            6.0
        """
        parents = tuple(parents)
        for i, p in enumerate(parents):
            if not isinstance(p, Value):
                _validate.fail(
                    f"parents[{i}]",
                    "a Value",
                    type(p).__name__,
                    "wrap numbers with Value(...) before combining them",
                    TypeError,
                )
        local = tuple(
            _number(g, f"local_grads[{i}]", fix="pass d(output)/d(parent) as a float")
            for i, g in enumerate(local_grads)
        )
        if len(local) != len(parents):
            _validate.fail(
                "local_grads",
                f"one local gradient per parent, {len(parents)} in all",
                f"{len(local)} local_grads",
                "pass one partial derivative d(output)/d(parent) for each parent, in order",
            )
        return cls._node(_number(data, "data"), parents, local, op)

    @classmethod
    def _node(
        cls, data: float, parents: tuple[Value, ...], local_grads: tuple[float, ...], op: str
    ) -> Value:
        """Build an operation's output without validation (the built-in operations use this)."""
        out = object.__new__(cls)
        out.data = data
        out.grad = 0.0
        out.parents = parents
        out.local_grads = local_grads
        out.op = op
        out.label = ""
        return out

    # ------------------------------------------------------------------ arithmetic
    @staticmethod
    def _lift(other: Any, op: str) -> Value:
        if isinstance(other, Value):
            return other
        if type(other) is float or type(other) is int:  # the common case, checked quickly
            return Value._node(float(other), (), (), "")
        if not isinstance(other, numbers.Real):
            _validate.fail(
                f"the other operand of {op}",
                "a Value, an int or a float",
                f"{type(other).__name__} {other!r:.40}",
                "combine a Value only with another Value, an int or a float",
                TypeError,
            )
        return Value(other)

    def __add__(self, other: Value | Number) -> Value:
        other = self._lift(other, "+")
        return Value._node(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __radd__(self, other: Number) -> Value:
        return self._lift(other, "+") + self

    def __mul__(self, other: Value | Number) -> Value:
        other = self._lift(other, "*")
        return Value._node(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __rmul__(self, other: Number) -> Value:
        return self._lift(other, "*") * self

    def __neg__(self) -> Value:
        return Value._node(-self.data, (self,), (-1.0,), "neg")

    def __sub__(self, other: Value | Number) -> Value:
        other = self._lift(other, "-")
        return Value._node(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __rsub__(self, other: Number) -> Value:
        return self._lift(other, "-") - self

    def __truediv__(self, other: Value | Number) -> Value:
        other = self._lift(other, "/")
        if other.data == 0.0:
            _validate.fail(
                "the denominator",
                "non-zero",
                f"{other._name()} equal to 0",
                "keep the denominator away from zero, e.g. x / (y + 1e-12)",
                ZeroDivisionError,
            )
        q = self.data / other.data
        return Value._node(q, (self, other), (1.0 / other.data, -q / other.data), "/")

    def __rtruediv__(self, other: Number) -> Value:
        return self._lift(other, "/") / self

    def __pow__(self, exponent: Number) -> Value:
        if isinstance(exponent, Value):
            _validate.fail(
                "the exponent of **",
                "a number, not a Value",
                exponent._name(),
                "for a Value exponent b write (b * a.log()).exp()",
                TypeError,
            )
        k = _number(exponent, "exponent", fix="pass an int or a float, e.g. x ** 2")
        x = self.data
        if x == 0.0 and k < 0:
            _validate.fail(
                "the base",
                f"non-zero for the negative exponent {k:g} (0 ** {k:g} is undefined)",
                f"{self._name()} = 0",
                "keep the base away from zero, e.g. (x + 1e-12) ** k",
            )
        if x < 0 and not k.is_integer():
            _validate.fail(
                "the base",
                f"positive for the non-integer power {k:g} (a negative number to a non-integer "
                "power is not real)",
                f"{self._name()} = {x:g}",
                "use an integer exponent or a positive base, e.g. (x * x) ** (k / 2)",
            )
        local = k * x ** (k - 1) if k != 0 else 0.0
        return Value._node(float(x**k), (self,), (float(local),), f"**{k:g}")

    # ------------------------------------------------------------------ functions
    def exp(self) -> Value:
        """e^x; d/dx = e^x."""
        y = math.exp(self.data)
        return Value._node(y, (self,), (y,), "exp")

    def log(self) -> Value:
        """ln x for x > 0; d/dx = 1/x.

        Raises:
            ValueError: x <= 0.
        """
        if self.data <= 0:
            _validate.fail(
                "the input of log",
                "positive",
                f"{self._name()} = {self.data:g}",
                "make the argument positive, e.g. (x * x + 1e-12).log() or (1 + x.exp()).log()",
            )
        return Value._node(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self) -> Value:
        """tanh x; d/dx = 1 - tanh² x."""
        y = math.tanh(self.data)
        return Value._node(y, (self,), (1.0 - y * y,), "tanh")

    def sigmoid(self) -> Value:
        """σ(x) = 1 / (1 + e^-x), computed without overflow; d/dx = σ(x)(1 - σ(x))."""
        x = self.data
        if x >= 0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            z = math.exp(x)
            s = z / (1.0 + z)
        return Value._node(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self) -> Value:
        """max(0, x); d/dx = 1 if x > 0 else 0 (0 at x = 0, as in PyTorch)."""
        return Value._node(max(0.0, self.data), (self,), (1.0 if self.data > 0 else 0.0,), "relu")

    def max(self, other: Value | Number) -> Value:
        """max(x, y): routes the gradient to the larger input (split equally on a tie)."""
        return maximum(self, other)

    # ------------------------------------------------------------------ backward
    def backward(self, gradient: Number = 1.0) -> None:
        """Reverse accumulation: fill ``grad`` of every node with d(self)/d(node) · gradient.

        Intermediate nodes are reset first, so they always hold the gradient of this call;
        leaves (nodes with no parents) accumulate, as in PyTorch.

        Args:
            gradient: the seed dL/d(self); 1.0 when ``self`` is the loss.

        Raises:
            TypeError: ``gradient`` is not a number.
            ValueError: ``gradient`` is inf or nan.
        """
        seed = _number(gradient, "gradient", fix="pass the seed dL/d(self) as one number, e.g. 1.0")
        order = topological_order(self)
        for node in order:
            if node.parents:
                node.grad = 0.0
        self.grad += seed
        for node in reversed(order):
            for parent, local in zip(node.parents, node.local_grads, strict=True):
                parent.grad += local * node.grad

    def _name(self) -> str:
        return f"Value {self.label!r}" if self.label else "a Value"

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"


def maximum(x: Value | Number, y: Value | Number) -> Value:
    """max(x, y) as a gate: the gradient goes to the larger input, half to each on a tie.

    The tie rule matches ``torch.maximum``.

    Example:
        >>> z, w = Value(2.0), Value(-1.0)
        >>> m = maximum(z, w); m.backward()
        >>> z.grad, w.grad
        (1.0, 0.0)
    """
    x = Value._lift(x, "max")
    y = Value._lift(y, "max")
    if x.data > y.data:
        local = (1.0, 0.0)
    elif y.data > x.data:
        local = (0.0, 1.0)
    else:
        local = (0.5, 0.5)
    return Value._node(max(x.data, y.data), (x, y), local, "max")


def topological_order(root: Value) -> list[Value]:
    """Every node that ``root`` depends on, each after all of its parents (root last).

    Iterative depth-first search, so deep graphs do not hit Python's recursion limit.

    Args:
        root: the output node.

    Returns:
        The nodes, each once, parents before children; :meth:`Value.backward` visits them in
        reverse.

    Raises:
        TypeError: ``root`` is not a Value.

    Example:
        >>> a = Value(1.0)
        >>> [node.op for node in topological_order(a * 2 + a)]  # a, the constant 2, *, +
        ['', '', '*', '+']
    """
    if not isinstance(root, Value):
        _validate.fail(
            "root",
            "a Value",
            type(root).__name__,
            "pass the output Value of the graph, e.g. topological_order(loss)",
            TypeError,
        )
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents):
            if id(parent) not in seen:
                stack.append((parent, False))
    return order

"""A scalar reverse-mode automatic differentiation engine.

Every operation creates a new :class:`Value` that remembers its parents and the
*local* partial derivative of its output with respect to each parent. The chain
rule then says that the derivative of a final output ``L`` with respect to any
node ``v`` is

    dL/dv = sum over children c of v:  dL/dc * dc/dv,

which :meth:`Value.backward` evaluates once per edge, visiting nodes in reverse
topological order (reverse accumulation). :func:`forward_mode_gradient` walks
the same graph in the other direction, one pass per input, so the two modes can
be compared operation by operation.

The module also holds the gradient-checking tools the later chapters reuse:
:func:`numerical_gradient` (central differences), :func:`relative_error` and
:func:`gradcheck`.

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
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "GradientCheckError",
    "Value",
    "forward_mode_gradient",
    "grad",
    "gradcheck",
    "maximum",
    "numerical_gradient",
    "relative_error",
    "reverse_mode_gradient",
    "topological_order",
]

Number = int | float


def _as_float(x: Any, name: str) -> float:
    """Return ``x`` as a Python float, or raise a TypeError that says what to pass."""
    if isinstance(x, numbers.Real):
        return float(x)
    if isinstance(x, np.ndarray) and x.shape == ():
        return float(x)
    kind = type(x).__name__
    if isinstance(x, np.ndarray | Sequence) and not isinstance(x, str):
        hint = "Value holds one number; make one Value per element, e.g. [Value(v) for v in xs]"
    else:
        hint = "pass an int or a float"
    raise TypeError(f"{name} must be a real number; got {kind} {x!r:.60}. Fix: {hint}.")


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
        TypeError: ``data`` is not a real number.

    Example:
        >>> x = Value(0.5)
        >>> y = (x * 2).tanh()
        >>> y.backward()
        >>> round(x.grad, 6)
        0.839949
    """

    __slots__ = ("data", "grad", "label", "local_grads", "op", "parents")

    def __init__(self, data: Number, label: str = "") -> None:
        self.data = _as_float(data, "data")
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
            TypeError: a parent is not a Value, or a local gradient is not a number.
            ValueError: ``parents`` and ``local_grads`` differ in length.

        Example:
            >>> x = Value(3.0)
            >>> square = Value.from_op(x.data ** 2, (x,), (2 * x.data,), op="square")
            >>> square.backward(); x.grad
            6.0
        """
        parents = tuple(parents)
        for i, p in enumerate(parents):
            if not isinstance(p, Value):
                raise TypeError(
                    f"parents[{i}] must be a Value; got {type(p).__name__}. "
                    "Fix: wrap numbers with Value(...) before combining them."
                )
        local = tuple(_as_float(g, f"local_grads[{i}]") for i, g in enumerate(local_grads))
        if len(local) != len(parents):
            raise ValueError(
                f"need one local gradient per parent; got {len(parents)} parents and "
                f"{len(local)} local_grads"
            )
        return cls._node(_as_float(data, "data"), parents, local, op)

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
        if isinstance(other, numbers.Real):
            return Value(other)
        raise TypeError(
            f"unsupported operand for {op}: Value and {type(other).__name__}. "
            "Fix: combine a Value only with another Value, an int or a float."
        )

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
            raise ZeroDivisionError(
                f"division by a Value equal to 0 ({other._name()}). "
                "Fix: keep the denominator away from zero, e.g. x / (y + 1e-12)."
            )
        q = self.data / other.data
        return Value._node(q, (self, other), (1.0 / other.data, -q / other.data), "/")

    def __rtruediv__(self, other: Number) -> Value:
        return self._lift(other, "/") / self

    def __pow__(self, exponent: Number) -> Value:
        if isinstance(exponent, Value):
            raise TypeError(
                "the exponent of ** must be a number, not a Value. "
                "Fix: for a Value exponent b write (b * a.log()).exp()."
            )
        k = _as_float(exponent, "exponent")
        x = self.data
        if x == 0.0 and k < 0:
            raise ValueError(
                f"0 ** {k:g} is undefined ({self._name()}). Fix: keep the base away from zero."
            )
        if x < 0 and not k.is_integer():
            raise ValueError(
                f"a negative base ({self._name()} = {x:g}) to the non-integer power {k:g} is not "
                "real. Fix: use an integer exponent or a positive base, e.g. (x * x) ** (k / 2)."
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
            raise ValueError(
                f"log needs a positive input; got {self._name()} = {self.data:g}. "
                "Fix: make the argument positive, e.g. (x * x + 1e-12).log() or "
                "(1 + x.exp()).log()."
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
        """
        seed = _as_float(gradient, "gradient")
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

    Raises:
        TypeError: ``root`` is not a Value.
    """
    if not isinstance(root, Value):
        raise TypeError(f"root must be a Value; got {type(root).__name__}")
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


def _check_output(output: Any) -> Value:
    if isinstance(output, Value):
        return output
    if isinstance(output, Iterable) and not isinstance(output, str):
        size = f" of {len(output)} elements" if hasattr(output, "__len__") else ""
        raise TypeError(
            f"backward needs a scalar output (one Value); got a {type(output).__name__}{size}. "
            "Fix: reduce it to one number first, e.g. sum(outputs) or a loss."
        )
    raise TypeError(f"output must be a Value; got {type(output).__name__}")


def _check_inputs(inputs: Any) -> list[Value]:
    inputs = list(inputs)
    for i, v in enumerate(inputs):
        if not isinstance(v, Value):
            raise TypeError(f"inputs[{i}] must be a Value; got {type(v).__name__}")
    return inputs


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

    One backward pass visits every edge of the graph once, whatever the number of inputs.

    Returns:
        ``(gradient, n_products)`` where ``n_products`` counts ``local · upstream`` products.
    """
    output = _check_output(output)
    inputs = _check_inputs(inputs)
    order = topological_order(output)
    adjoint = {id(node): 0.0 for node in order}
    adjoint[id(output)] = 1.0
    n_products = 0
    for node in reversed(order):
        for parent, local in zip(node.parents, node.local_grads, strict=True):
            adjoint[id(parent)] += local * adjoint[id(node)]
            n_products += 1
    return [adjoint.get(id(v), 0.0) for v in inputs], n_products


def forward_mode_gradient(output: Value, inputs: Sequence[Value]) -> tuple[list[float], int]:
    """The gradient by forward-mode tangent propagation, and the number of multiply-adds.

    For each input x_i, seed its tangent with 1 (all other inputs 0) and push tangents
    forward: tangent(node) = Σ_parents d(node)/d(parent) · tangent(parent). The output's
    tangent is d(output)/d(x_i), so the gradient costs one pass per input.

    Returns:
        ``(gradient, n_products)`` where ``n_products`` counts ``local · tangent`` products.
    """
    output = _check_output(output)
    inputs = _check_inputs(inputs)
    order = topological_order(output)
    gradient: list[float] = []
    n_products = 0
    for x in inputs:
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


# ---------------------------------------------------------------------- gradient checking
def numerical_gradient(f: Callable[[np.ndarray], Any], x: Any, eps: float = 1e-6) -> np.ndarray:
    """Central differences: ∂f/∂x_i ≈ (f(x + ε e_i) − f(x − ε e_i)) / 2ε, in float64.

    The truncation error is O(ε²); with ε = 1e-6 expect about 1e-9 relative accuracy.

    Args:
        f: maps an array shaped like ``x`` to a scalar (a float, a 0-d or 1-element array, a
            :class:`Value` or a 1-element tensor).
        x: the point, any shape; it is copied, never modified.
        eps: the step ε > 0.

    Returns:
        An array of ``x``'s shape, dtype float64.

    Raises:
        TypeError: ``f`` is not callable, ``x`` is not numeric, or ``f`` returns a non-scalar.
        ValueError: ``eps`` is not a positive finite number.

    Example:
        >>> numerical_gradient(lambda v: (v ** 2).sum(), [1.0, -2.0]).round(6)
        array([ 2., -4.])
    """
    if not callable(f):
        raise TypeError(f"f must be callable; got {type(f).__name__}")
    eps = _as_float(eps, "eps")
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"eps must be a positive finite step; got eps={eps}. Fix: use e.g. 1e-6.")
    try:
        point = np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"x must be numeric (array-like of floats); got {type(x).__name__}"
        ) from exc
    out = np.zeros_like(point)
    flat, gflat = point.reshape(-1), out.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = _scalar(f(point.copy()))
        flat[i] = old - eps
        f_minus = _scalar(f(point.copy()))
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2.0 * eps)
    return out


def _scalar(y: Any) -> float:
    if isinstance(y, Value):
        return y.data
    if hasattr(y, "detach"):  # a torch tensor
        y = y.detach().cpu().numpy()
    arr = np.asarray(y, dtype=np.float64)
    if arr.size != 1:
        raise TypeError(
            f"f must return a scalar; got an array of shape {arr.shape}. "
            "Fix: reduce the output to one number, e.g. with .sum() or a loss."
        )
    return float(arr.reshape(()))


def relative_error(a: Any, b: Any) -> float:
    """‖a − b‖ / max(‖a‖, ‖b‖) in the Euclidean norm (0 when both are zero).

    Below about 1e-7 two gradients agree to float64 finite-difference accuracy; above 1e-3
    one of them is almost certainly wrong.

    Raises:
        ValueError: ``a`` and ``b`` have different shapes.

    Example:
        >>> relative_error([1.0, 2.0], [1.0, 2.0 + 1e-9]) < 1e-9
        True
    """
    a = np.asarray(a.detach().cpu() if hasattr(a, "detach") else a, dtype=np.float64)
    b = np.asarray(b.detach().cpu() if hasattr(b, "detach") else b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)))
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b)) / scale


class GradientCheckError(ValueError):
    """Raised by :func:`gradcheck` when analytic and numerical gradients disagree."""


def gradcheck(
    fn: Callable[..., Value],
    inputs: Sequence[Number],
    *,
    eps: float = 1e-6,
    tol: float = 1e-6,
) -> float:
    """Check the engine's gradient of ``fn`` against central differences.

    Args:
        fn: takes one :class:`Value` per input and returns a scalar Value.
        inputs: the point at which to check, as numbers.
        eps: the finite-difference step.
        tol: the largest acceptable :func:`relative_error`.

    Returns:
        The relative error (≤ tol).

    Raises:
        GradientCheckError: the relative error exceeds ``tol``; the message lists each input's
            analytic and numerical derivative so the wrong one stands out.
        ValueError: ``tol`` is not positive.

    Example:
        >>> gradcheck(lambda a, b: (a + b) * (b + 1), [2.0, 1.0]) < 1e-8
        True
    """
    tol = _as_float(tol, "tol")
    if tol <= 0:
        raise ValueError(f"tol must be positive; got tol={tol}")
    point = [_as_float(v, f"inputs[{i}]") for i, v in enumerate(inputs)]
    leaves = [Value(v) for v in point]
    analytic = np.array(grad(_check_output(fn(*leaves)), leaves))
    numeric = numerical_gradient(lambda x: fn(*[Value(v) for v in x]), point, eps=eps)
    err = relative_error(analytic, numeric)
    if err > tol:
        rows = "\n".join(
            f"  input {i} = {p:g}: analytic {a:.10g}, numerical {n:.10g}"
            + ("   <-- differs" if abs(a - n) > tol * max(1.0, abs(n)) else "")
            for i, (p, a, n) in enumerate(zip(point, analytic, numeric, strict=True))
        )
        raise GradientCheckError(
            f"gradient check failed: relative error {err:.3g} > tol {tol:g}\n{rows}\n"
            "Fix: look for a wrong local derivative in the operations this input flows through."
        )
    return err

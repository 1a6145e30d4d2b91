"""Gradient checking: compare an analytic gradient with central finite differences.

A derivative coded by hand (a new :class:`~ode_course.autodiff.Value` operation in Chapter 1, a
backward pass in Chapter 2, an adjoint in Chapter 6) is trusted once it agrees with

    ∂f/∂x_i ≈ (f(x + ε e_i) − f(x − ε e_i)) / 2ε,

whose error is O(ε²) (plus a round-off of about 1e-16 · |f| / ε). :func:`numerical_gradient`
computes it for any function of an array, :func:`relative_error` measures the agreement of two
gradients, and :func:`gradcheck` puts the two together for a function of Values, raising a
:class:`GradientCheckError` that lists each input's two derivatives when they disagree.

Example:
    >>> gradcheck(lambda a, b: a * b + b.tanh(), [0.5, -1.0]) < 1e-8
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ode_course import _validate
from ode_course.autodiff.engine import Number, Value
from ode_course.autodiff.gradients import grad

__all__ = ["GradientCheckError", "gradcheck", "numerical_gradient", "relative_error"]


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
    _validate.callable_(f, "f", fix="pass a function of an array that returns a scalar")
    eps = _validate.positive(eps, "eps", fix="use e.g. eps=1e-6")
    try:
        point = np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        _validate.fail(
            "x",
            "numeric (array-like of floats)",
            f"{type(x).__name__} {x!r:.40}",
            "pass a number, a list of numbers or a float array",
            TypeError,
        )
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
        _validate.fail(
            "f",
            "a function that returns a scalar",
            f"an output of shape {arr.shape}",
            "reduce the output to one number, e.g. with .sum() or a loss",
            TypeError,
        )
    return float(arr.reshape(()))


def relative_error(a: Any, b: Any) -> float:
    """‖a − b‖ / max(‖a‖, ‖b‖) in the Euclidean norm (0 when both are zero).

    Below about 1e-7 two gradients agree to float64 finite-difference accuracy; above 1e-3
    one of them is almost certainly wrong.

    Args:
        a: one gradient: an array-like or a tensor, any shape.
        b: the other, of the same shape.

    Returns:
        The relative error, a float in [0, 2].

    Raises:
        ValueError: ``a`` and ``b`` have different shapes.

    Example:
        >>> relative_error([1.0, 2.0], [1.0, 2.0 + 1e-9]) < 1e-9
        True
    """
    a = np.asarray(a.detach().cpu() if hasattr(a, "detach") else a, dtype=np.float64)
    b = np.asarray(b.detach().cpu() if hasattr(b, "detach") else b, dtype=np.float64)
    if a.shape != b.shape:
        _validate.fail(
            "b",
            f"of the same shape as a, {a.shape}",
            f"shape {b.shape}",
            "compare two gradients of one shape, e.g. flatten both",
        )
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)))
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b)) / scale


class GradientCheckError(ValueError):
    """Raised by :func:`gradcheck` when analytic and numerical gradients disagree.

    Its message is a verdict rather than a complaint about an argument: the relative error
    against ``tol``, one row per input with its analytic and numerical derivative (the wrong
    ones marked ``<-- differs``), and a ``Fix:`` line saying where to look.
    """


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
        TypeError: ``fn`` is not callable or does not return a single Value, or an input is
            not a number.
        ValueError: ``tol`` or ``eps`` is not a positive finite number.

    Example:
        >>> gradcheck(lambda a, b: (a + b) * (b + 1), [2.0, 1.0]) < 1e-8
        True
    """
    _validate.callable_(fn, "fn", fix="pass a function that takes one Value per input")
    tol = _validate.positive(tol, "tol", fix="use e.g. tol=1e-6")
    point = [
        _validate.real(v, f"inputs[{i}]", fix="pass the point as a list of numbers")
        for i, v in enumerate(inputs)
    ]
    leaves = [Value(v) for v in point]
    analytic = np.array(grad(fn(*leaves), leaves))
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

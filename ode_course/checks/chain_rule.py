"""Chapter 1 (the chain rule): path sums by hand, and a new operation for the scalar engine."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ode_course.autodiff import Value
from ode_course.checks.harness import (
    CheckFailed,
    call,
    close,
    exercise_check,
    matches,
    number_answer,
    passed,
)

__all__ = ["check_path_sum", "check_softplus"]

# The two derivatives, as salted digests (ode_course.checks.harness.digest), not in clear.
_DE_DA = "3975f5cdf070f4ff47db7c1ed07b2878777bdad6d96d6da608703e438d6bfc92"
_DE_DB = "851723c446c03b9ccde766c68d38be894a4a32ad658e828d1feb6cc84fdf454e"


@exercise_check
def check_path_sum(de_da: float, de_db: float) -> None:
    """∂e/∂a and ∂e/∂b for e = (a + b)(b + 1) at a = 1, b = 2, found by path sums.

    With c = a + b and d = b + 1, a reaches e by one path (a → c → e) and b by two
    (b → c → e and b → d → e); the derivative along a path is the product of its edges.

    Args:
        de_da: the learner's ∂e/∂a.
        de_db: the learner's ∂e/∂b.

    Raises:
        CheckFailed: an answer is wrong; the message names the path that was missed or the
            factor that was mis-evaluated.

    Example:
        >>> try:
        ...     check_path_sum(2.0, 3.0)
        ... except CheckFailed as verdict:
        ...     print(verdict)  # doctest: +ELLIPSIS
        ∂e/∂a = 2 is not right. a reaches e by one path, ...
        you have 3, the contribution of one path only. b reaches e by two paths, ...
    """
    a, b = 1.0, 2.0
    c, d = a + b, b + 1
    problems = []
    if isinstance(de_da, str) or isinstance(de_db, str):
        raise CheckFailed("give both answers as numbers, e.g. check_path_sum(1.5, -2.0)")
    de_da, de_db = number_answer(de_da, "de_da"), number_answer(de_db, "de_db")
    if not matches(de_da, _DE_DA, "path_sum/de_da", 1e-6, window=2):
        problems.append(
            f"∂e/∂a = {de_da:g} is not right. a reaches e by one path, a → c → e: multiply "
            "∂c/∂a (= 1) by ∂e/∂c (= d = b + 1, evaluated at b = 2)."
        )
    if not matches(de_db, _DE_DB, "path_sum/de_db", 1e-6, window=2):
        if close(de_db, c) or close(de_db, d):
            hint = (
                f"you have {de_db:g}, the contribution of one path only. b reaches e by two "
                "paths, b → c → e and b → d → e: add both products."
            )
        else:
            hint = (
                f"∂e/∂b = {de_db:g} is not right. Sum the two paths: ∂c/∂b · ∂e/∂c + "
                "∂d/∂b · ∂e/∂d, where ∂e/∂c = d and ∂e/∂d = c."
            )
        problems.append(hint)
    if problems:
        raise CheckFailed("\n".join(problems))
    passed("both derivatives agree with the sum over paths.")


def _softplus(x: float) -> float:
    """ln(1 + eˣ), by torch in float64 (its stable form: finite for every float)."""
    return torch.nn.functional.softplus(torch.tensor(x, dtype=torch.float64), threshold=50).item()


def _sigmoid(x: float) -> float:
    """σ(x), by the engine's own :meth:`Value.sigmoid` (which no exponential overflows)."""
    return Value(x).sigmoid().data


@exercise_check
def check_softplus(softplus: Callable[[Value], Value]) -> None:
    """``softplus(x)`` must return a Value equal to ln(1 + eˣ) with gradient σ(x), for every x.

    The check calls it on Values at seven points, among them x = ±800 where eˣ or e⁻ˣ
    overflows a float, runs ``backward`` on each result and compares the value and ``x.grad``
    with ln(1 + eˣ) and the sigmoid σ(x) = 1 / (1 + e⁻ˣ).

    Args:
        softplus: the learner's operation, built with ``Value.from_op``.

    Raises:
        CheckFailed: the function returns something other than a Value, the value is wrong,
            the result is not connected to ``x``, the local derivative is wrong, or an
            exponential overflows at large |x|.

    Example:
        >>> def softplus(x):
        ...     value = max(x.data, 0.0) + math.log1p(math.exp(-abs(x.data)))
        ...     return Value.from_op(value, (x,), (_sigmoid(x.data),))
        >>> check_softplus(softplus)
        Correct: values and gradients match at 7 points, x = ±800 included.
        >>> def naive(x):
        ...     local_grad = 1 / (1 + math.exp(-x.data))
        ...     return Value.from_op(math.log1p(math.exp(x.data)), (x,), (local_grad,))
        >>> try:
        ...     check_softplus(naive)
        ... except CheckFailed as verdict:
        ...     print(verdict)  # doctest: +ELLIPSIS
        softplus(Value(-800.0)) overflows (OverflowError: math range error). ...
    """
    points = [-3.0, -0.5, 0.0, 0.7, 2.5, -800.0, 800.0]
    for x0 in points:
        x = Value(x0, label="x")
        try:
            y = call(softplus, f"softplus(Value({x0}))", x)
        except CheckFailed as verdict:
            if isinstance(verdict.__cause__, OverflowError):
                raise CheckFailed(
                    f"softplus(Value({x0})) overflows ({type(verdict.__cause__).__name__}: "
                    f"{verdict.__cause__}). math.exp of a large argument is too big for a "
                    "float: write the value and the local derivative so that every "
                    "exponential has an argument ≤ 0."
                ) from verdict.__cause__
            raise
        if not isinstance(y, Value):
            raise CheckFailed(
                f"softplus(Value({x0})) returned {type(y).__name__}, not a Value. Build the "
                "result with Value.from_op(data, (x,), (local_grad,)) so gradients can flow."
            )
        want = _softplus(x0)
        if not math.isfinite(y.data) or not close(y.data, want, 1e-9):
            overflow = " (an exponential overflowed)" if not math.isfinite(y.data) else ""
            raise CheckFailed(
                f"softplus({x0}) = {y.data:.6g}{overflow}, expected ln(1 + e^{x0}) = {want:.6g}."
            )
        y.backward()
        slope = _sigmoid(x0)
        if x.grad == 0.0 and slope != 0.0:
            raise CheckFailed(
                f"the gradient did not reach x (x.grad = 0 at x = {x0}). Pass (x,) as the parents "
                "in Value.from_op so that backward can find x."
            )
        if not math.isfinite(x.grad) or not close(x.grad, slope, 1e-9):
            raise CheckFailed(
                f"d softplus/dx at x = {x0} is {x.grad:.6g}, expected {slope:.6g}. The local "
                "derivative of ln(1 + eˣ) is eˣ / (1 + eˣ) = σ(x), the sigmoid."
            )
    passed(f"values and gradients match at {len(points)} points, x = ±800 included.")

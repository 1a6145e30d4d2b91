"""Chapter 2 (backprop): the backward passes of the sigmoid and of softmax + cross-entropy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ode_course.checks.harness import (
    CheckFailed,
    array_result,
    call,
    max_error,
    name_the_mistake,
    passed,
)

__all__ = ["check_sigmoid_backward", "check_softmax_cross_entropy_grad"]


def _allclose(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b))


def check_sigmoid_backward(
    sigmoid_backward: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> None:
    """``sigmoid_backward(a, grad_out)`` must return ∂L/∂z = grad_out · a (1 − a).

    Here a = σ(z) is the layer's cached output and grad_out = ∂L/∂a, both of shape (N, n).

    Args:
        sigmoid_backward: the learner's backward pass of the sigmoid layer.

    Raises:
        CheckFailed: the result has the wrong shape or values; the message names the likely slip.

    Example:
        >>> check_sigmoid_backward(lambda a, grad_out: grad_out * a * (1 - a))
        Correct: sigmoid_backward returns grad_out * a * (1 - a).
        >>> try:
        ...     check_sigmoid_backward(lambda a, grad_out: grad_out * a)
        ... except CheckFailed as verdict:
        ...     print(verdict)
        sigmoid_backward computes grad_out * a: the local derivative of σ is a (1 − a), not a.
    """
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 3))
    a = 1.0 / (1.0 + np.exp(-z))
    g = rng.normal(size=(4, 3))
    out = call(sigmoid_backward, "sigmoid_backward", a.copy(), g.copy())
    out = array_result(out, a.shape, "sigmoid_backward")
    want = g * a * (1 - a)
    if np.allclose(out, want, rtol=1e-10, atol=1e-12):
        passed("sigmoid_backward returns grad_out * a * (1 - a).")
        return
    mistakes = {
        "a * (1 - a) without grad_out (the chain rule multiplies by the upstream gradient)": (
            a * (1 - a)
        ),
        "grad_out * a: the local derivative of σ is a (1 − a), not a": g * a,
        "grad_out * (1 - a**2): that is tanh's derivative; σ'(z) = a (1 − a)": g * (1 - a**2),
        "grad_out * σ(a): apply the derivative formula to a = σ(z), do not apply σ again": g
        / (1 + np.exp(-a)),
    }
    name_the_mistake(out, mistakes, _allclose, "sigmoid_backward computes")
    raise CheckFailed(
        "sigmoid_backward returns wrong values (max error "
        f"{max_error(out, want):.3g}). Expected grad_out * a * (1 - a), elementwise."
    )


def check_softmax_cross_entropy_grad(
    grad_fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> None:
    """``grad_fn(z, y)`` must return ∂L/∂z = (softmax(z) − onehot(y)) / N.

    ``z`` are logits (N, K) and ``y`` integer labels (N,); L is the *mean* cross-entropy. A
    right answer must also stay finite for logits of ±1000.

    Args:
        grad_fn: the learner's gradient of the mean cross-entropy with respect to the logits.

    Raises:
        CheckFailed: the result has the wrong shape or values, or overflows for large logits;
            the message names the likely slip.

    Example:
        >>> def grad_fn(z, y):
        ...     p = np.exp(z - z.max(axis=1, keepdims=True))
        ...     p /= p.sum(axis=1, keepdims=True)
        ...     return (p - np.eye(z.shape[1])[y]) / len(y)
        >>> check_softmax_cross_entropy_grad(grad_fn)
        Correct: the gradient is (softmax(z) − onehot(y)) / N, and it is stable.
        >>> try:
        ...     check_softmax_cross_entropy_grad(lambda z, y: -grad_fn(z, y))
        ... except CheckFailed as verdict:
        ...     print(verdict)
        grad_fn returns onehot(y) − softmax(z): the sign is flipped.
    """
    rng = np.random.default_rng(1)
    z, y = rng.normal(size=(5, 4)) * 3, np.array([0, 3, 1, 1, 2])
    out = array_result(call(grad_fn, "grad_fn", z.copy(), y.copy()), z.shape, "grad_fn")
    shifted = z - z.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    onehot = np.eye(4)[y]
    want = (p - onehot) / len(y)
    if np.allclose(out, want, rtol=1e-9, atol=1e-12):
        big = call(grad_fn, "grad_fn", np.array([[1000.0, 0.0, -1000.0]]), np.array([0]))
        if not np.all(np.isfinite(big)):
            raise CheckFailed(
                "correct for moderate logits, but logits of ±1000 give inf or nan. Subtract the "
                "row maximum before exponentiating: softmax(z) = softmax(z − max z)."
            )
        passed("the gradient is (softmax(z) − onehot(y)) / N, and it is stable.")
        return
    mistakes = {
        "softmax(z) − onehot(y) without dividing by N (the loss is a mean over the batch)": p
        - onehot,
        "onehot(y) − softmax(z): the sign is flipped": (onehot - p) / len(y),
        "softmax(z) / N: subtract 1 at the true class": p / len(y),
    }
    name_the_mistake(out, mistakes, _allclose, "grad_fn returns")
    raise CheckFailed(
        f"grad_fn returns wrong values (max error {max_error(out, want):.3g}). Expected "
        "(softmax(z) − onehot(y)) / N."
    )

"""Chapter 2 (backprop): the backward passes of the sigmoid and of softmax + cross-entropy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ode_course.checks.harness import (
    CheckFailed,
    array_result,
    call,
    close,
    exercise_check,
    matches,
    max_error,
    name_the_mistake,
    number_answer,
    passed,
)

__all__ = ["check_initial_loss", "check_sigmoid_backward", "check_softmax_cross_entropy_grad"]

# The expected initial loss, as a salted digest (ode_course.checks.harness.digest).
_INITIAL_LOSS_26 = "0afd04a638ce02cb16aece4bfca375493cf32ed06ed44401797a2e1d1c0fff90"


def _allclose(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b))


@exercise_check
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
        Correct: sigmoid_backward matches ∂L/∂z on a random batch.
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
        passed("sigmoid_backward matches ∂L/∂z on a random batch.")
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


@exercise_check
def check_softmax_cross_entropy_grad(
    grad_fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> None:
    """``grad_fn(z, y)`` must return ∂L/∂z = (softmax(z) − onehot(y)) / N.

    ``z`` are logits (N, K) and ``y`` integer labels (N,); L is the *mean* cross-entropy. A
    right answer must also stay finite for logits of ±1000, and on a batch whose rows have very
    different scales (rows near +1000, near −1000 and near 0 together): a maximum taken over the
    whole batch instead of over each row leaves the rows far below it as 0/0.

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
        Correct: the gradient matches, and it stays finite on rows of very different scales.
        >>> def batch_max(z, y):
        ...     p = np.exp(z - z.max())
        ...     p /= p.sum(axis=1, keepdims=True)
        ...     return (p - np.eye(z.shape[1])[y]) / len(y)
        >>> try:
        ...     check_softmax_cross_entropy_grad(batch_max)
        ... except CheckFailed as verdict:
        ...     print(verdict)  # doctest: +ELLIPSIS
        correct on one row, but inf or nan on a batch whose rows have very different scales...
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
        with np.errstate(all="ignore"):  # a naive answer overflows: that is what is tested
            big = call(grad_fn, "grad_fn", np.array([[1000.0, 0.0, -1000.0]]), np.array([0]))
        if not np.all(np.isfinite(big)):
            raise CheckFailed(
                "correct for moderate logits, but logits of ±1000 give inf or nan. Subtract the "
                "row maximum before exponentiating: softmax(z) = softmax(z − max z)."
            )
        # rows of very different scales in one batch: a batch-wide maximum fails here
        z_rows = rng.normal(size=(4, 5)) * np.array([[1.0], [3.0], [3.0], [30.0]])
        z_rows += np.array([[0.0], [1000.0], [-1000.0], [0.0]])
        y_rows = np.array([2, 0, 4, 1])
        with np.errstate(all="ignore"):
            rows = call(grad_fn, "grad_fn", z_rows.copy(), y_rows.copy())
        rows = array_result(rows, z_rows.shape, "grad_fn")
        shifted = z_rows - z_rows.max(axis=1, keepdims=True)
        p_rows = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        want_rows = (p_rows - np.eye(5)[y_rows]) / len(y_rows)
        if not np.all(np.isfinite(rows)):
            raise CheckFailed(
                "correct on one row, but inf or nan on a batch whose rows have very different "
                "scales (logits near +1000, −1000 and 0). One maximum for the whole batch leaves "
                "the rows far below it as 0/0: subtract each row's own maximum, "
                "z.max(axis=1, keepdims=True)."
            )
        if not np.allclose(rows, want_rows, rtol=1e-9, atol=1e-12):
            raise CheckFailed(
                "correct on a batch of moderate logits, but wrong on a batch whose rows have very "
                f"different scales (max error {max_error(rows, want_rows):.3g}). Shift each row "
                "by its own maximum."
            )
        passed("the gradient matches, and it stays finite on rows of very different scales.")
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


@exercise_check
def check_initial_loss(expected_loss: object, classes: int = 26) -> None:
    """``expected_loss`` must be the cross-entropy of a classifier that prefers no class.

    Args:
        expected_loss: the learner's number (not a string).
        classes: K, the number of classes of the exercise (26 letters).

    Raises:
        CheckFailed: not answered yet, not a number, or a different value; the message names
            the likely slip.
        ValueError: ``classes`` is not 26, the exercise's number of classes.

    Example:
        >>> try:
        ...     check_initial_loss(1 / 26)
        ... except CheckFailed as verdict:
        ...     print(verdict)
        that is the probability of the true class; the loss is minus its logarithm.
    """
    if classes != 26:
        raise ValueError(f"classes must be 26, the exercise's number of classes; got {classes}.")
    value = number_answer(expected_loss, "expected_loss_26")

    def right(x: float) -> bool:
        return matches(x, _INITIAL_LOSS_26, "initial_loss/26", 1e-2, window=3)

    if right(value):
        passed("that is the loss of a classifier that prefers no class.")
        return
    if right(-value):
        raise CheckFailed(
            "that is log(1/K), with the wrong sign: the loss is −log p, and it is positive."
        )
    mistakes = {
        "that is the probability of the true class; the loss is minus its logarithm": 1 / classes,
        "that is log10: the cross-entropy uses the natural logarithm": float(np.log10(classes)),
        "that is the answer for the digits (K = 10): the exercise has K = 26 letters": float(
            np.log(10)
        ),
    }
    name_the_mistake(value, mistakes, lambda a, b: close(a, b, 1e-2))
    raise CheckFailed(
        f"expected_loss_26 = {value:g} is not right. With no class preferred, every class gets "
        "the same probability: what is it for K classes, and what is the loss −log p of it?"
    )

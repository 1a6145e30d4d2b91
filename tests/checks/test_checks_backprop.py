"""Tests for ode_course.checks.backprop (Chapter 2): the verdicts the notebook prints, and
each slip named."""

from __future__ import annotations

from inspect import unwrap

import numpy as np
import pytest

from ode_course.checks.backprop import (
    check_initial_loss,
    check_sigmoid_backward,
    check_softmax_cross_entropy_grad,
)
from ode_course.checks.harness import CheckFailed


def softmax_ce_grad(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return (p - np.eye(z.shape[1])[y]) / len(y)


def test_the_verdicts_for_right_answers_are_the_texts_the_notebook_prints(capsys):
    check_sigmoid_backward(lambda a, grad_out: grad_out * a * (1 - a))
    check_softmax_cross_entropy_grad(softmax_ce_grad)
    assert capsys.readouterr().out == (
        "Correct: sigmoid_backward matches ∂L/∂z on a random batch.\n"
        "Correct: the gradient matches, and it stays finite on rows of very different scales.\n"
    )


def test_a_typical_mistake_is_named_in_full():
    with pytest.raises(CheckFailed) as info:
        unwrap(check_softmax_cross_entropy_grad)(lambda z, y: softmax_ce_grad(z, y) * len(y))
    assert str(info.value) == (
        "grad_fn returns softmax(z) − onehot(y) without dividing by N (the loss is a mean over "
        "the batch)."
    )


def test_an_unknown_wrong_answer_gets_the_max_error():
    with pytest.raises(CheckFailed, match=r"^sigmoid_backward returns wrong values \(max error"):
        unwrap(check_sigmoid_backward)(lambda a, grad_out: grad_out + 1.0)


def test_check_sigmoid_backward_accepts_the_answer(capsys):
    check_sigmoid_backward(lambda a, g: g * a * (1 - a))
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "attempt,match",
    [
        (lambda a, g: a * (1 - a), "without grad_out"),
        (lambda a, g: g * a, "not a"),
        (lambda a, g: g * (1 - a**2), "tanh's derivative"),
        (lambda a, g: g / (1 + np.exp(-a)), "do not apply σ again"),
        (lambda a, g: None, "forget the return"),
        (lambda a, g: g[:, :1], r"shape \(4, 1\); expected \(4, 3\)"),
        (lambda a, g: g * 2.0, "wrong values"),
    ],
)
def test_check_sigmoid_backward_explains_mistakes(attempt, match):
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_sigmoid_backward)(attempt)


def naive_softmax_ce_grad(z, y):
    """The right formula, unstable: exp overflows for logits of ±1000."""
    with np.errstate(all="ignore"):
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


def test_check_softmax_cross_entropy_grad(capsys):
    check_softmax_cross_entropy_grad(softmax_ce_grad)
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="logits of ±1000 give inf or nan"):
        unwrap(check_softmax_cross_entropy_grad)(naive_softmax_ce_grad)
    with pytest.raises(CheckFailed, match="without dividing by N"):
        unwrap(check_softmax_cross_entropy_grad)(lambda z, y: softmax_ce_grad(z, y) * len(y))
    with pytest.raises(CheckFailed, match="sign is flipped"):
        unwrap(check_softmax_cross_entropy_grad)(lambda z, y: -softmax_ce_grad(z, y))
    with pytest.raises(CheckFailed, match="subtract 1 at the true class"):
        unwrap(check_softmax_cross_entropy_grad)(
            lambda z, y: softmax_ce_grad(z, y) + np.eye(z.shape[1])[y] / len(y)
        )


def test_a_batch_wide_maximum_shift_is_rejected():
    """The hole: one test row let z − z.max() (one maximum for the whole batch) pass."""

    def batch_max(z, y):
        p = np.exp(z - z.max())
        p /= p.sum(axis=1, keepdims=True)
        return (p - np.eye(z.shape[1])[y]) / len(y)

    with pytest.raises(CheckFailed, match=r"each row's own maximum"):
        unwrap(check_softmax_cross_entropy_grad)(batch_max)


def test_success_messages_do_not_give_the_formula_away(capsys):
    def grad_fn(z, y):
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return (p - np.eye(z.shape[1])[y]) / len(y)

    check_sigmoid_backward(lambda a, grad_out: grad_out * a * (1 - a))
    check_softmax_cross_entropy_grad(grad_fn)
    out = capsys.readouterr().out
    assert "onehot" not in out and "(1 - a)" not in out and "softmax" not in out


def test_check_initial_loss():
    import math

    check_initial_loss(math.log(26))
    with pytest.raises(CheckFailed, match="not answered yet"):
        unwrap(check_initial_loss)(None)
    with pytest.raises(CheckFailed, match="a number, please"):
        unwrap(check_initial_loss)("3.26")
    with pytest.raises(CheckFailed, match="natural logarithm"):
        unwrap(check_initial_loss)(math.log10(26))
    with pytest.raises(CheckFailed, match="K = 26"):
        unwrap(check_initial_loss)(math.log(10))

"""Tests for ode_course.checks.optimizers (Chapter 3): the verdicts the notebook prints, and
each slip named."""

from __future__ import annotations

from inspect import unwrap

import numpy as np
import pytest

from ode_course.checks.harness import CheckFailed
from ode_course.checks.optimizers import check_adam_bias_correction, check_momentum_step


def momentum_step(theta, grad, velocity, lr, mu):
    velocity = mu * velocity - lr * grad
    return theta + velocity, velocity


def test_the_verdicts_for_right_answers_are_the_texts_the_notebook_prints(capsys):
    check_momentum_step(momentum_step)
    check_adam_bias_correction(lambda m, v, t, b1, b2: (m / (1 - b1**t), v / (1 - b2**t)))
    assert capsys.readouterr().out == (
        "Correct: 30 steps of your heavy ball match ode_course.optim.Momentum.\n"
        "Correct: both corrected moments match at t = 1, 2, 10 and 1000.\n"
    )


def test_success_messages_do_not_give_the_answer_away(capsys):
    check_momentum_step(momentum_step)
    check_adam_bias_correction(lambda m, v, t, b1, b2: (m / (1 - b1**t), v / (1 - b2**t)))
    out = capsys.readouterr().out
    for formula in ("μ v", "lr g", "1 − β", "β₁ᵗ", "/ (1"):
        assert formula not in out


def buffer_step(theta, grad, buffer, lr, mu):
    buffer = mu * buffer + grad
    return theta - lr * buffer, buffer


def test_the_velocity_form_is_accepted(capsys):
    check_momentum_step(momentum_step)
    assert capsys.readouterr().out.startswith("Correct")


def test_pytorchs_buffer_form_is_accepted_as_the_same_method(capsys):
    check_momentum_step(buffer_step)
    assert capsys.readouterr().out.startswith("Correct")


def test_buffer_form_slips_are_still_named():
    slips = {
        "against the gradient": lambda t, g, b, lr, mu: (t + lr * (mu * b + g), mu * b + g),
        "scaled by μ": lambda t, g, b, lr, mu: (t - lr * (b + g), b + g),
        "old velocity": lambda t, g, b, lr, mu: (t - lr * b, mu * b + g),
        "returned velocity .* PyTorch's buffer": lambda t, g, b, lr, mu: (
            t - lr * (mu * b + g),
            mu * b + 2 * g,
        ),
    }
    for match, attempt in slips.items():
        with pytest.raises(CheckFailed, match=match):
            unwrap(check_momentum_step)(attempt)


def test_a_momentum_slip_is_named_with_its_step():
    with pytest.raises(CheckFailed) as info:
        unwrap(check_momentum_step)(lambda t, g, v, lr, mu: (t + v, mu * v - lr * g))
    assert str(info.value) == (
        "at step 1: θ moved with the old velocity: update v first, then θ ← θ + v_new."
    )


def test_an_unknown_trajectory_shows_theta_and_the_reference():
    with pytest.raises(CheckFailed, match=r"^at step 1 theta is \[.*\], expected \[.*\] \(v ←"):
        unwrap(check_momentum_step)(lambda t, g, v, lr, mu: (t * 0.5, v))
    with pytest.raises(CheckFailed, match=r"^at t = 1: m_hat ="):
        unwrap(check_adam_bias_correction)(lambda m, v, t, b1, b2: (m + 1.0, v))
    with pytest.raises(CheckFailed, match="new_theta returned None"):
        unwrap(check_momentum_step)(lambda t, g, v, lr, mu: (None, np.zeros(2)))


def test_check_momentum_step(capsys):
    check_momentum_step(momentum_step)
    assert "Correct" in capsys.readouterr().out
    slips = {
        "against the gradient": lambda t, g, v, lr, mu: (t + mu * v + lr * g, mu * v + lr * g),
        "scaled by μ": lambda t, g, v, lr, mu: (t + v - lr * g, v - lr * g),
        "old velocity": lambda t, g, v, lr, mu: (t + v, mu * v - lr * g),
        "must return a pair": lambda t, g, v, lr, mu: t - lr * g,
        "returned velocity": lambda t, g, v, lr, mu: (t - lr * g, v),
    }
    for match, attempt in slips.items():
        with pytest.raises(CheckFailed, match=match):
            unwrap(check_momentum_step)(attempt)


def test_check_adam_bias_correction(capsys):
    check_adam_bias_correction(lambda m, v, t, b1, b2: (m / (1 - b1**t), v / (1 - b2**t)))
    assert "Correct" in capsys.readouterr().out
    slips = {
        "counts steps from 1": lambda m, v, t, b1, b2: (
            m / np.float64(1 - b1 ** (t - 1)) if t > 1 else m * np.inf,
            v / (1 - b2**t),
        ),
        "multiplies": lambda m, v, t, b1, b2: (m * (1 - b1**t), v * (1 - b2**t)),
        "swapped": lambda m, v, t, b1, b2: (m / (1 - b2**t), v / (1 - b1**t)),
        "power of β is missing": lambda m, v, t, b1, b2: (m / (1 - b1), v / (1 - b2)),
        "return a pair": lambda m, v, t, b1, b2: m,
        "uses the power t \\+ 1": lambda m, v, t, b1, b2: (
            m / (1 - b1 ** (t + 1)),
            v / (1 - b2 ** (t + 1)),
        ),
        "v̂ is not corrected": lambda m, v, t, b1, b2: (m / (1 - b1**t), v),
        "m̂ is not corrected": lambda m, v, t, b1, b2: (m, v / (1 - b2**t)),
    }
    for match, attempt in slips.items():
        with pytest.raises(CheckFailed, match=match):
            unwrap(check_adam_bias_correction)(attempt)

"""Tests for ode_course.checks.chain_rule (Chapter 1): the verdicts the notebook prints, and
each slip named."""

from __future__ import annotations

import math
from inspect import unwrap

import pytest

from ode_course.autodiff import Value
from ode_course.checks.chain_rule import check_path_sum, check_softplus
from ode_course.checks.harness import CheckFailed


def softplus(x: Value) -> Value:
    """The stable form: max(x, 0) + ln(1 + e^(−|x|)), with σ(x) written without overflow."""
    t = x.data
    value = max(t, 0.0) + math.log1p(math.exp(-abs(t)))
    slope = 1 / (1 + math.exp(-t)) if t >= 0 else math.exp(t) / (1 + math.exp(t))
    return Value.from_op(value, (x,), (slope,))


def naive_softplus(x: Value) -> Value:
    return Value.from_op(math.log1p(math.exp(x.data)), (x,), (1 / (1 + math.exp(-x.data)),))


def test_the_verdicts_for_right_answers_are_the_texts_the_notebook_prints(capsys):
    check_path_sum(3.0, 6.0)
    check_softplus(softplus)
    assert capsys.readouterr().out == (
        "Correct: both derivatives agree with the sum over paths.\n"
        "Correct: values and gradients match at 7 points, x = ±800 included.\n"
    )


def test_success_messages_do_not_give_the_answers_away(capsys):
    check_path_sum(3.0, 6.0)
    check_softplus(softplus)
    out = capsys.readouterr().out
    assert "3" not in out and "6" not in out and "sigma" not in out and "σ" not in out


def test_the_naive_softplus_is_rejected_and_the_overflow_named():
    """The hole: checking only |x| ≤ 3 accepted a softplus that overflows at x = −800."""
    with pytest.raises(CheckFailed, match=r"^softplus\(Value\(-800.0\)\) overflows"):
        unwrap(check_softplus)(naive_softplus)


def test_a_softplus_stable_in_value_only_is_rejected_at_large_x():
    def half_stable(x: Value) -> Value:
        t = x.data
        value = max(t, 0.0) + math.log1p(math.exp(-abs(t)))
        return Value.from_op(value, (x,), (1 / (1 + math.exp(-t)),))

    with pytest.raises(CheckFailed, match="overflows"):
        unwrap(check_softplus)(half_stable)


def test_unanswered_path_sums_say_so():
    with pytest.raises(CheckFailed, match="not answered yet"):
        unwrap(check_path_sum)(None, None)


def test_both_wrong_answers_are_reported_on_two_lines():
    with pytest.raises(CheckFailed) as info:
        unwrap(check_path_sum)(2.0, 3.0)
    first, second = str(info.value).split("\n")
    assert first.startswith("∂e/∂a = 2 is not right.")
    assert second.startswith("you have 3, the contribution of one path only.")


def test_an_exception_in_softplus_names_the_point():
    with pytest.raises(CheckFailed, match=r"^softplus\(Value\(-3.0\)\) raised ZeroDivisionError"):
        unwrap(check_softplus)(lambda x: 1 / 0)


def test_check_path_sum_accepts_the_answer(capsys):
    check_path_sum(3.0, 6.0)
    assert "Correct" in capsys.readouterr().out


def test_check_path_sum_names_the_missing_path():
    with pytest.raises(CheckFailed, match=r"one path only.*two\s+paths"):
        unwrap(check_path_sum)(3.0, 3.0)
    with pytest.raises(CheckFailed, match="∂e/∂a = 2 is not right"):
        unwrap(check_path_sum)(2.0, 6.0)
    with pytest.raises(CheckFailed, match="give both answers as numbers"):
        unwrap(check_path_sum)("3", 6.0)


def test_check_softplus_accepts_a_correct_operation(capsys):
    check_softplus(softplus)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "attempt,match",
    [
        (lambda v: math.log1p(math.exp(v.data)), "returned float, not a Value"),
        (lambda v: Value(softplus(v).data), "gradient did not reach x"),
        (lambda v: Value.from_op(math.exp(v.data), (v,), (math.exp(v.data),)), "expected ln"),
        (
            lambda v: Value.from_op(math.log1p(math.exp(v.data)), (v,), (math.exp(v.data),)),
            "the sigmoid",
        ),
        (lambda v: v.nonexistent(), "raised AttributeError"),
    ],
)
def test_check_softplus_explains_mistakes(attempt, match):
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_softplus)(attempt)

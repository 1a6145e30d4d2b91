"""Tests for ode_course.checks.chain_rule (Chapter 1): the verdicts the notebook prints, and
each slip named."""

from __future__ import annotations

import math

import pytest

from ode_course.autodiff import Value
from ode_course.checks.chain_rule import check_path_sum, check_softplus
from ode_course.checks.harness import CheckFailed


def softplus(x: Value) -> Value:
    return Value.from_op(math.log1p(math.exp(x.data)), (x,), (1 / (1 + math.exp(-x.data)),))


def test_the_verdicts_for_right_answers_are_the_texts_the_notebook_prints(capsys):
    check_path_sum(3.0, 6.0)
    check_softplus(softplus)
    assert capsys.readouterr().out == (
        "Correct: ∂e/∂a = 3 and ∂e/∂b = 6 (two paths: 3 + 3).\n"
        "Correct: values and gradients of softplus match at 5 points.\n"
    )


def test_both_wrong_answers_are_reported_on_two_lines():
    with pytest.raises(CheckFailed) as info:
        check_path_sum(2.0, 3.0)
    first, second = str(info.value).split("\n")
    assert first.startswith("∂e/∂a = 2 is not right.")
    assert second.startswith("you have 3, the contribution of one path only.")


def test_an_exception_in_softplus_names_the_point():
    with pytest.raises(CheckFailed, match=r"^softplus\(Value\(-3.0\)\) raised ZeroDivisionError"):
        check_softplus(lambda x: 1 / 0)


def test_check_path_sum_accepts_the_answer(capsys):
    check_path_sum(3.0, 6.0)
    assert "Correct" in capsys.readouterr().out


def test_check_path_sum_names_the_missing_path():
    with pytest.raises(CheckFailed, match=r"one path only.*two\s+paths"):
        check_path_sum(3.0, 3.0)
    with pytest.raises(CheckFailed, match="∂e/∂a = 2 is not right"):
        check_path_sum(2.0, 6.0)
    with pytest.raises(CheckFailed, match="give both answers as numbers"):
        check_path_sum("3", 6.0)


def test_check_softplus_accepts_a_correct_operation(capsys):
    check_softplus(softplus)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "attempt,match",
    [
        (lambda v: math.log1p(math.exp(v.data)), "returned float, not a Value"),
        (lambda v: Value(math.log1p(math.exp(v.data))), "gradient did not reach x"),
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
        check_softplus(attempt)

"""Tests for ode_course.checks.neural_ode (Chapter 5): the verdicts the notebook prints, and
each slip named."""

from __future__ import annotations

from inspect import unwrap

import pytest

from ode_course.checks.harness import CheckFailed
from ode_course.checks.neural_ode import check_odefunc_parameters, check_rk4_nfe, check_rk4_step
from ode_course.models import ODEFunc, ResBlock, count_parameters


def rk4_step(f, t, y, h):
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k2)
    k4 = f(t + h, y + h * k3)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def test_the_verdicts_for_right_answers_are_the_texts_the_notebook_prints(capsys):
    check_rk4_step(rk4_step)
    check_rk4_nfe(16)
    check_odefunc_parameters(8384)
    assert capsys.readouterr().out == (
        "Correct: one step of your RK4 equals ode_course.solvers.RK4 to 12 digits.\n"
        "Correct: steps times stages per step, and RK4 shares no stage between steps.\n"
        "Correct: weights and biases of both layers, and the same count whatever the depth.\n"
    )


@pytest.mark.parametrize(
    "nfe,message",
    [
        (5, "RK4 does not reuse the last stage (no FSAL): count 4 evaluations per step."),
        (17, "the start is not evaluated separately: k₁ of the first step is f(t₀, y₀)."),
        (3, "3 is not right: count steps × stages per step."),
        (
            None,
            "rk4_nfe is not answered yet: it is still None. Set it in the answer cell above this "
            "check, run that cell, then this one.",
        ),
        ("16", "rk4_nfe must be a number, please: write 16 without quotes, not '16'."),
        ([16], "rk4_nfe must be a number, please; got [16]."),
        (16.5, "16.5 is not right: count steps × stages per step."),
    ],
)
def test_each_wrong_count_gets_its_full_message(nfe, message):
    with pytest.raises(CheckFailed) as info:
        unwrap(check_rk4_nfe)(nfe)
    assert str(info.value) == message


def test_a_parameter_count_times_the_steps_is_named():
    with pytest.raises(CheckFailed) as info:
        unwrap(check_odefunc_parameters)(6 * 8384)
    assert str(info.value) == (
        "an ODE block has one vector field, shared by every step: do not multiply by the number "
        "of steps or blocks."
    )


def equal_weights(f, t, y, h):
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k2)
    k4 = f(t + h, y + h * k3)
    return y + h * (k1 + k2 + k3 + k4) / 4


def test_equal_weights_are_named():
    with pytest.raises(CheckFailed) as info:
        unwrap(check_rk4_step)(equal_weights)
    assert str(info.value) == "rk4_step gets the weights: use (k₁ + 2k₂ + 2k₃ + k₄)/6."


def _rk4_with(weights=(1, 2, 2, 1), k4_step=1.0, k4_time=1.0):
    def step(f, t, y, h):
        k1 = f(t, y)
        k2 = f(t + h / 2, y + h / 2 * k1)
        k3 = f(t + h / 2, y + h / 2 * k2)
        k4 = f(t + k4_time * h, y + k4_step * h * k3)
        a, b, c, d = weights
        return y + h / 6 * (a * k1 + b * k2 + c * k3 + d * k4)

    return step


@pytest.mark.parametrize(
    "answer,match",
    [
        (_rk4_with(weights=(1, 1, 1, 1)), "the weights without their 2s"),
        (_rk4_with(k4_step=0.5), r"k₄ from y \+ h/2 k₃"),
        (_rk4_with(k4_step=0.5, k4_time=0.5), r"evaluates k₄ at t \+ h/2"),
    ],
)
def test_the_common_rk4_slips_are_named(answer, match):
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_rk4_step)(answer)


@pytest.mark.parametrize(
    "change,match",
    [
        (lambda y, h, step: y + (step - y) / h, "rk4_step gets the step"),
        (lambda y, h, step: step + 1.0, r"^rk4_step returns \[.*\], expected \[.*\]\.$"),
        (lambda y, h, step: step[:1], "must return a tensor shaped like y"),
    ],
)
def test_a_wrong_step_is_named(change, match):
    def answer(f, t, y, h):
        return change(y, h, rk4_step(f, t, y, h))

    with pytest.raises(CheckFailed, match=match):
        unwrap(check_rk4_step)(answer)


def test_check_rk4_functions(capsys):
    check_rk4_step(rk4_step)
    check_rk4_nfe(16)
    assert capsys.readouterr().out.count("Correct") == 2
    with pytest.raises(CheckFailed, match="Euler step"):
        unwrap(check_rk4_step)(lambda f, t, y, h: y + h * f(t, y))
    with pytest.raises(CheckFailed, match="number of steps"):
        unwrap(check_rk4_nfe)(4)
    with pytest.raises(CheckFailed, match="rk4_nfe is not answered yet"):
        unwrap(check_rk4_nfe)(None)
    with pytest.raises(CheckFailed, match="rk4_step is not answered yet"):
        unwrap(check_rk4_step)(
            lambda f, t, y, h: (_ for _ in ()).throw(NotImplementedError("write it"))
        )


def test_check_odefunc_parameters(capsys):
    check_odefunc_parameters(count_parameters(ODEFunc(64, 64)))
    assert capsys.readouterr().out.startswith("Correct: weights and biases")
    slips = {
        count_parameters(ResBlock(64, 64)): "first layer also reads t",
        65 * 64 + 64 * 64: "biases are missing",
        6 * 8384: "shared by every step",
        16 * 8384: "do not multiply by the NFE",
        100: "100 is not right",
        None: "n_params is not answered yet",
        True: "give the count as an integer",
    }
    for answer, match in slips.items():
        with pytest.raises(CheckFailed, match=match):
            unwrap(check_odefunc_parameters)(answer)


def test_no_success_message_reveals_the_answer(capsys):
    check_rk4_step(rk4_step)
    check_rk4_nfe(16)
    check_odefunc_parameters(8384)
    out = capsys.readouterr().out
    for answer in ("16", "8384", "k₁ + 2k₂", "65·64"):
        assert answer not in out


def t_instead_of_midpoint(f, t, y, h):
    k1 = f(t, y)
    k2 = f(t, y + h / 2 * k1)
    k3 = f(t, y + h / 2 * k2)
    k4 = f(t + h, y + h * k3)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def test_stages_at_the_wrong_times_are_reported_with_their_times():
    with pytest.raises(CheckFailed) as info:
        unwrap(check_rk4_step)(t_instead_of_midpoint)
    assert str(info.value) == (
        "rk4_step evaluates f at t + (0, 0, 0, h); the stages are at t + (0, h/2, h/2, h): "
        "k₂ and k₃ at the midpoint t + h/2, k₄ at the end t + h."
    )


def test_stages_at_other_fractions_of_h_are_shown_as_such():
    def quarter(f, t, y, h):
        k1 = f(t, y)
        k2 = f(t + h / 4, y + h / 2 * k1)
        k3 = f(t + h / 2, y + h / 2 * k2)
        k4 = f(t + h, y + h * k3)
        return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    with pytest.raises(CheckFailed, match=r"t \+ \(0, 0.25h, h/2, h\)"):
        unwrap(check_rk4_step)(quarter)


def k1_in_k3(f, t, y, h):
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k1)
    k4 = f(t + h, y + h * k3)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def test_k1_in_k3_is_named():
    with pytest.raises(CheckFailed) as info:
        unwrap(check_rk4_step)(k1_in_k3)
    assert str(info.value) == (
        "rk4_step gets k₁ in k₃: the third stage starts from y + h/2 k₂, not y + h/2 k₁."
    )


def test_a_step_that_calls_f_too_few_times_says_so():
    def three_stages(f, t, y, h):
        k1 = f(t, y)
        k2 = f(t + h / 2, y + h / 2 * k1)
        k3 = f(t + h, y + h * k2)
        return y + h / 6 * (k1 + 4 * k2 + k3) + 1.0

    with pytest.raises(CheckFailed, match=r"\(it calls f 3 times, RK4 four\)\.$"):
        unwrap(check_rk4_step)(three_stages)

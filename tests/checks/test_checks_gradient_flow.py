"""Tests for ode_course.checks.gradient_flow (Chapter 4): the verdict the notebook prints.

The tests of each slip still live in tests/test_gradient_flow.py (test_check_stability_limit).
"""

from __future__ import annotations

from inspect import unwrap

import numpy as np
import pytest

from ode_course.checks.gradient_flow import check_stability_limit, check_stiff_choice
from ode_course.checks.harness import CheckFailed, NotAnswered


def test_the_verdict_for_a_right_answer_is_the_text_the_notebook_prints(capsys):
    check_stability_limit(lambda H: 2.0 / np.linalg.eigvalsh(H).max())
    assert capsys.readouterr().out == (
        "Correct: your limit matches on 3 Hessians of sizes 2, 5 and 8.\n"
    )


def test_a_typical_mistake_is_named_in_full_and_other_answers_get_the_limit():
    with pytest.raises(CheckFailed) as info:
        unwrap(check_stability_limit)(lambda H: 2.0 / np.linalg.eigvalsh(H).min())
    assert str(info.value) == (
        "max_stable_lr returns 2/λ_min: the largest eigenvalue, not the smallest, limits the step."
    )
    with pytest.raises(CheckFailed, match=r"^for a 2×2 Hessian you return 0.1; expected 2/λ_max"):
        unwrap(check_stability_limit)(lambda H: 0.1)
    with pytest.raises(CheckFailed, match=r"^max_stable_lr must return a number; got None$"):
        unwrap(check_stability_limit)(lambda H: None)


def test_check_stiff_choice_accepts_the_estimate_and_names_the_slips(capsys):
    estimate = np.log(1e4) / (0.95 * 2 / 1e4)
    check_stiff_choice(estimate, "BDF")
    check_stiff_choice(round(estimate * 1.05), " bdf ")  # within 10%, any case and spacing
    assert capsys.readouterr().out.count("Correct") == 2
    for steps, solver, match in (
        (estimate, "RK45", "RK45 is explicit"),
        (2 * estimate, "BDF", "not within about 10% of the estimate"),
        (estimate / np.log(10), "BDF", "not within about 10%"),  # log10 instead of ln
        (estimate, "Radau", "must be the string 'BDF' or 'RK45'"),
        ("48000", "BDF", "a number, please"),
    ):
        with pytest.raises(CheckFailed, match=match):
            unwrap(check_stiff_choice)(steps, solver)
    check_stiff_choice(None, None)
    assert "predicted_steps is not answered yet" in capsys.readouterr().out
    with pytest.raises(NotAnswered):
        unwrap(check_stiff_choice)(estimate, None)

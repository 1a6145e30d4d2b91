"""Tests for ode_course.checks.harness: the verdicts and the parts every check shares."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest
import torch

import ode_course
import ode_course.checks
from ode_course.checks.harness import (
    CheckFailed,
    NotAnswered,
    answered,
    array_result,
    call,
    close,
    exercise_check,
    max_error,
    name_the_mistake,
    number_answer,
    number_result,
    passed,
    returned,
    tensor_result,
)

CHECKS = Path(ode_course.checks.__file__).parent
CHAPTERS = sorted(p for p in CHECKS.glob("*.py") if p.stem not in {"__init__", "harness"})


def test_check_failed_is_an_assertion_error_and_is_exported_everywhere():
    assert issubclass(CheckFailed, AssertionError)
    assert ode_course.checks.CheckFailed is CheckFailed


def test_passed_prints_the_verdict_of_a_right_answer(capsys):
    passed("16 evaluations of f.")
    assert capsys.readouterr().out == "Correct: 16 evaluations of f.\n"


def test_call_returns_the_result_or_turns_the_learners_exception_into_a_verdict():
    assert call(lambda x, y: x + y, "add", 1, 2) == 3
    with pytest.raises(
        NotAnswered, match=r"^rk4_step is not answered yet: it still raises NotImplementedError"
    ) as info:
        call(lambda: (_ for _ in ()).throw(NotImplementedError("write it")), "rk4_step")
    assert isinstance(info.value.__cause__, NotImplementedError)


def _stub_function(f, t, y, h):
    raise NotImplementedError


class _StubField:
    def __call__(self, t, y):
        raise NotImplementedError


def test_an_untouched_stub_is_told_which_cell_defines_it():
    with pytest.raises(
        NotAnswered, match=r"the cell that starts `def _stub_function\(f, t, y, h\):`"
    ):
        call(_stub_function, "rk4_step", None, 0.0, None, 0.1)
    with pytest.raises(NotAnswered, match=r"the cell that starts `class _StubField`"):
        call(_StubField(), "the field", 0.0, None)


def test_a_decorated_check_prints_not_answered_and_lets_run_all_go_on(capsys):
    @exercise_check
    def check_nfe(nfe):
        number_answer(nfe, "nfe")
        if nfe != 16:
            raise CheckFailed("nfe is not 16.")
        passed("16.")

    assert check_nfe(None) is None  # no exception: the next cells run
    assert capsys.readouterr().out.startswith("nfe is not answered yet: it is still None.")
    with pytest.raises(CheckFailed, match="nfe is not 16"):  # a wrong answer stays loud
        check_nfe(4)
    with pytest.raises(NotAnswered):  # what the grader calls: unanswered still fails
        inspect.unwrap(check_nfe)(None)


def test_a_verdict_shows_alone_in_jupyter_without_the_checks_traceback():
    assert CheckFailed("rk4_step gets an Euler step.")._render_traceback_() == [
        "CheckFailed: rk4_step gets an Euler step."
    ]


def test_returned_names_a_forgotten_return():
    assert returned(0, "f") == 0
    with pytest.raises(
        CheckFailed, match=r"^f returned None: did you forget the return statement\?$"
    ):
        returned(None, "f")


def test_array_result_converts_and_checks_the_shape():
    out = array_result([[1, 2, 3]], (1, 3), "grad")
    assert out.dtype == np.float64 and out.shape == (1, 3)
    with pytest.raises(CheckFailed, match=r"^grad returned shape \(3,\); expected \(1, 3\)\.$"):
        array_result([1, 2, 3], (1, 3), "grad")
    with pytest.raises(CheckFailed, match="grad returned None"):
        array_result(None, (1, 3), "grad")


def test_tensor_result_checks_type_and_shape_and_hints_at_a_missing_sum():
    t = torch.zeros(4)
    assert tensor_result(t, (4,), "kl_fn") is t
    with pytest.raises(CheckFailed, match=r"must return a torch.Tensor; got list\.$"):
        tensor_result([0.0] * 4, (4,), "kl_fn")
    with pytest.raises(CheckFailed, match=r"shape \(4, 3\); expected \(4,\)\. Sum over the dim"):
        tensor_result(torch.zeros(4, 3), (4,), "kl_fn")
    with pytest.raises(CheckFailed, match=r"shape \(3,\); expected \(4,\)\.$"):
        tensor_result(torch.zeros(3), (4,), "kl_fn")
    with pytest.raises(CheckFailed, match="kl_fn returned None"):
        tensor_result(None, (4,), "kl_fn")


def test_number_result_accepts_numbers_and_names_anything_else():
    assert number_result(np.float64(0.25), "lr") == 0.25
    assert number_result(torch.tensor(2.0), "lr") == 2.0
    with pytest.raises(CheckFailed, match=r"^lr must return a number; got None$"):
        number_result(None, "lr")
    with pytest.raises(CheckFailed, match=r"^lr must return a number; got 'x'$"):
        number_result("x", "lr")


def test_close_is_relative_for_large_numbers_and_absolute_near_zero():
    assert close(1e6 + 0.5, 1e6) and not close(1e6 + 2.0, 1e6)
    assert close(1e-9, 0.0) and not close(1e-5, 0.0)
    assert close(1.0 + 1e-10, 1.0, 1e-9) and not close(1.0 + 1e-8, 1.0, 1e-9)


def test_max_error_for_arrays_and_tensors():
    assert max_error(np.array([1.0, -2.0]), np.array([1.5, 1.0])) == 3.0
    assert max_error(torch.tensor([1.0, -2.0]), torch.tensor([1.5, 1.0])) == 3.0


def _equal(a: object, b: object) -> bool:
    return a == b


def test_name_the_mistake_names_the_first_match_with_the_lead():
    mistakes = {"the first": 1, "the second": 2, "the second again": 2}
    name_the_mistake(3, mistakes, _equal, "f computes")  # no match: nothing happens
    with pytest.raises(CheckFailed, match=r"^f computes the second\.$"):
        name_the_mistake(2, mistakes, _equal, "f computes")
    with pytest.raises(CheckFailed, match=r"^the first\.$"):
        name_the_mistake(1, mistakes, _equal)
    name_the_mistake(1, {}, _equal)


def test_name_the_mistake_uses_the_checks_own_comparison():
    mistakes = {"twice the answer": np.array([2.0, 4.0])}
    with pytest.raises(CheckFailed, match="twice"):
        name_the_mistake(np.array([2.0, 4.0 + 1e-12]), mistakes, lambda a, b: np.allclose(a, b))
    name_the_mistake(np.array([2.0, 4.0 + 1e-12]), mistakes, lambda a, b: np.array_equal(a, b))


def test_every_chapter_module_has_an_all_of_checks_and_ode_course_checks_exports_them():
    names = set()
    for path in CHAPTERS:
        module = getattr(ode_course.checks, path.stem)
        assert module.__all__ and all(n.startswith("check_") for n in module.__all__), path.name
        for name in module.__all__:
            check = getattr(module, name)
            assert "Example:" in check.__doc__, f"{path.stem}.{name} has no example"
            assert getattr(ode_course.checks, name) is check
            assert inspect.unwrap(check) is not check, f"{name} is not an @exercise_check"
        names |= set(module.__all__)
    assert ode_course.checks.__all__ == sorted({"CheckFailed", "NotAnswered", *names})


def _loops_that_raise_check_failed(path: Path) -> list[int]:
    """Lines of ``for key, value in table.items(): if …: raise …`` loops: copies of the
    harness's matching loop (a loop over the cases of a check, with more in its body, is fine)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.For)
            and isinstance(node.iter, ast.Call)
            and isinstance(node.iter.func, ast.Attribute)
            and node.iter.func.attr == "items"
            and len(node.body) == 1
            and isinstance(node.body[0], ast.If)
            and any(isinstance(n, ast.Raise) for n in node.body[0].body)
        ):
            found.append(node.lineno)
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_check_copies_the_loop_that_matches_typical_mistakes(path):
    assert _loops_that_raise_check_failed(path) == [], "use harness.name_the_mistake"


def test_the_loop_scan_finds_a_copy(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "for slip, value in slips.items():\n"
        "    if value == out:\n"
        "        raise CheckFailed(slip)\n",
        encoding="utf-8",
    )
    assert _loops_that_raise_check_failed(sample) == [1]


@pytest.mark.parametrize("starter", [None, ...])
def test_an_untouched_answer_reads_not_answered_yet(starter):
    with pytest.raises(CheckFailed, match=r"^nfe is not answered yet"):
        answered(starter, "nfe")
    with pytest.raises(CheckFailed, match=r"^nfe is not answered yet"):
        number_answer(starter, "nfe")


@pytest.mark.parametrize("typed", ["16", " 16 ", True, [16]])
def test_a_number_answer_must_be_a_number(typed):
    with pytest.raises(CheckFailed, match=r"^nfe must be a number, please"):
        number_answer(typed, "nfe")


@pytest.mark.parametrize("number", [16, 16.0, np.int64(16), torch.tensor(16.0)])
def test_a_number_answer_accepts_every_kind_of_number(number):
    assert number_answer(number, "nfe") == 16.0

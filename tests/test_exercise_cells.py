"""Every answer a learner types reaches its check, in the book and in the student edition.

The defect these tests keep out: a student edition with two cells that define the same answer
before its check (the notebook's own "your answer" cell, then a stub generated from the
solution's ``student_stub``), so that an answer typed where the notebook says is overwritten and
the check says "not answered yet". The rules:

- each graded answer name is defined in exactly one cell between the previous check and its own
  check (names the check only reads, such as the chapter's field, are defined earlier);
- a stub defines the names, and the functions with the signatures, that its solution defines,
  and says where the answer goes: "your answer" when a check follows, "Your experiment
  (ungraded" otherwise;
- typed into that cell, the solution makes the check print "Correct" (executed, one exercise per
  chapter; ``make grade-check`` does every exercise of every chapter).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_tools.editions import student_editions
from course_tools.myst import find_exercises, source

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EDITIONS = student_editions(ROOT / "notebooks")


def _book(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _defined(code: str) -> dict[str, ast.AST]:
    """The names a cell binds at its top level (def, class, assignment, import, for, with)."""
    names: dict[str, ast.AST] = {}
    try:
        tree = ast.parse("\n".join(line for line in code.splitlines() if not line.startswith("%")))
    except SyntaxError:
        return names
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names[node.name] = node
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.For):
            targets = [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    names[leaf.id] = node
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = node
    return names


def _checks(cells: list[dict]) -> list[int]:
    return [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "code" and "grade" in c.get("metadata", {})
    ]


def _where_answers_are_defined(cells: list[dict]) -> list[tuple[str, str, list[int], bool]]:
    """(exercise id, answer name, cells between the previous check and this one that define
    it, whether it is defined before that window) for every graded answer."""
    found = []
    previous = -1
    for j in _checks(cells):
        grade = cells[j]["metadata"]["grade"]
        window = range(previous + 1, j)
        for name in grade["answer"]:
            defining = [
                i
                for i in window
                if cells[i]["cell_type"] == "code" and name in _defined(source(cells[i]))
            ]
            before = any(
                cells[i]["cell_type"] == "code" and name in _defined(source(cells[i]))
                for i in range(previous + 1)
            )
            found.append((grade["id"], name, defining, before))
        previous = j
    return found


@pytest.mark.parametrize("edition", ["book", "student"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_graded_answer_is_defined_in_exactly_one_cell_before_its_check(path, edition):
    cells = _book(path) if edition == "book" else EDITIONS[path.name]["cells"]
    rows = _where_answers_are_defined(cells)
    assert rows, f"{path.name} has no graded exercise"
    by_exercise: dict[str, list] = {}
    for exercise, name, defining, before in rows:
        assert len(defining) <= 1, (
            f"{edition} edition of {path.name}: {name} ({exercise}) is defined in cells "
            f"{defining}: an answer typed in the first is overwritten by the second. Fix: keep "
            "one cell (the solution, whose student_stub is the student's answer cell)."
        )
        assert defining or before, f"{path.name}: {name} ({exercise}) is never defined"
        by_exercise.setdefault(exercise, []).append(len(defining))
    for exercise, counts in by_exercise.items():
        assert any(counts), f"{path.name}: {exercise} asks for nothing between its checks"


def _stubbed_solutions(cells: list[dict]) -> list[tuple[int, dict]]:
    return [
        (i, c)
        for i, c in enumerate(cells)
        if "solution" in c["metadata"].get("tags", []) and "student_stub" in c["metadata"]
    ]


def _signature(node: ast.AST) -> str | None:
    if isinstance(node, ast.FunctionDef):
        return ast.unparse(node.args)
    if isinstance(node, ast.ClassDef):
        methods = [n for n in node.body if isinstance(n, ast.FunctionDef)]
        return ";".join(f"{m.name}({ast.unparse(m.args)})" for m in methods)
    return None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_stub_defines_what_its_solution_defines_and_says_where_to_answer(path):
    cells = _book(path)
    checks = _checks(cells)
    graded = {n for j in checks for n in cells[j]["metadata"]["grade"]["answer"]}
    for i, cell in _stubbed_solutions(cells):
        stub = cell["metadata"]["student_stub"]
        solution, starter = _defined(source(cell)), _defined(stub)
        answers = graded & set(solution)
        for name in answers:
            assert name in starter, f"{path.name} cell {i}: the stub does not define {name}"
            assert _signature(starter[name]) == _signature(solution[name]), (
                f"{path.name} cell {i}: {name}'s stub and solution differ in their arguments"
            )
        if answers:
            assert "your answer" in stub.lower(), (
                f"{path.name} cell {i}: the stub must say 'your answer' where the answer goes"
            )
        else:
            assert "Your experiment (ungraded" in stub, (
                f"{path.name} cell {i}: a stub no check reads is an ungraded experiment: say so"
            )


def _typed_prefix(path: Path) -> tuple[list, int, str, str]:
    """The student edition up to its first check, the index of the answer cell, and the
    solution's source (the text a learner who knows the answer types there)."""
    book = _book(path)
    cells = EDITIONS[path.name]["cells"]
    check = _checks(cells)[0]
    names = set(cells[check]["metadata"]["grade"]["answer"])
    answer = next(
        i
        for i in range(check - 1, -1, -1)
        if "stub" in cells[i]["metadata"].get("tags", [])
        and names & set(_defined(source(cells[i])))
    )
    solution = next(
        source(c)
        for _, c in _stubbed_solutions(book)
        if c["metadata"]["student_stub"] == source(cells[answer])
    )
    return cells[: check + 1], answer, solution, cells[check]["metadata"]["grade"]["id"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_solution_typed_into_the_answer_cell_makes_the_check_say_correct(path, tmp_path):
    """Run the student edition to its first check: untouched, the check says "not answered
    yet" and raises nothing; with the solution typed into the answer cell, "Correct"."""
    cells, answer, solution, exercise = _typed_prefix(path)
    nb = nbformat.reads(json.dumps({**EDITIONS[path.name], "cells": cells}), as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3")
    with client.setup_kernel(cwd=str(tmp_path)):
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
        assert "is not answered yet" in printed, (exercise, printed)
        nb.cells[answer].source = solution
        client.execute_cell(nb.cells[answer], answer)
        client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
        printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert printed.startswith("Correct"), (exercise, printed)


def test_a_mixed_exercise_has_its_written_answer_after_its_check():
    """An exercise with a check and a rubric: stub, check, the code after it, then the answer."""
    for path in NOTEBOOKS:
        cells = EDITIONS[path.name]["cells"]
        for ex in find_exercises(_book(path)):
            if not (ex.checks and ex.rubric):
                continue
            answer = next(
                i
                for i, c in enumerate(cells)
                if c["metadata"].get("grade", {}).get("manual")
                and c["metadata"]["grade"]["id"] == ex.label
            )
            check = next(
                i
                for i, c in enumerate(cells)
                if c["cell_type"] == "code" and c["metadata"].get("grade", {}).get("id") == ex.label
            )
            assert check < answer, (path.name, ex.label)
            assert all(c["cell_type"] == "code" for c in cells[check + 1 : answer])

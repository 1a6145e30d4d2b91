"""The grader on whole chapter notebooks: a student edition scores 0 untouched, full marks solved.

The solved student edition is the repository notebook's code cell for cell (each solution typed
into the answer cell that replaces it), so it also shows that the book's notebooks grade in full.

Executing a chapter takes 15 s to two minutes, so these run only under ``make grade-check``
(which ``make test`` runs), with ``ODE_COURSE_GRADE_NOTEBOOKS=1``; the cheats are tested on small
synthetic notebooks in ``test_grading_cheats.py``, in the normal unit suite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from course_tools.editions import solved_edition, student_edition
from course_tools.grade import EXERCISES, grade_notebook

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(
    path
    for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
    if any(e.chapter == int(path.name[:2]) for e in EXERCISES.values())
)

pytestmark = pytest.mark.skipif(
    os.environ.get("ODE_COURSE_GRADE_NOTEBOOKS") != "1",
    reason="whole notebooks are graded by `make grade-check` (ODE_COURSE_GRADE_NOTEBOOKS=1)",
)


def _auto(report):
    return [s for s in report.scores if s.points is not None]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_untouched_student_edition_scores_zero(path, tmp_path):
    edition = student_edition(json.loads(path.read_text(encoding="utf-8")))
    student = tmp_path / path.name
    student.write_text(json.dumps(edition), encoding="utf-8")
    report = grade_notebook(student, seed=1)
    print(report.summary())
    # "Run all" on the untouched edition reaches the end: each check says "not answered yet"
    assert not report.errors and not report.timed_out, report.summary()
    assert report.chapter == int(path.name[:2])
    assert _auto(report), report.summary()
    for score in _auto(report):
        assert score.points == 0, (score.exercise, score.message)
        assert "not answered yet" in score.message or "not defined" in score.message, (
            score.exercise,
            score.message,
        )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_student_edition_with_every_solution_typed_in_its_answer_cell_scores_full_marks(
    path, tmp_path
):
    """As a learner who knows every answer: the solution typed where the edition says."""
    edition = solved_edition(json.loads(path.read_text(encoding="utf-8")))
    student = tmp_path / path.name
    student.write_text(json.dumps(edition), encoding="utf-8")
    report = grade_notebook(student, seed=2)
    print(report.summary())
    assert not report.errors and not report.timed_out, report.summary()
    wanted = {e.id for e in EXERCISES.values() if e.chapter == int(path.name[:2])}
    assert {s.exercise for s in _auto(report)} == wanted
    for score in _auto(report):
        assert score.points == score.max > 0, (score.exercise, score.message)

"""The Gradescope autograder, built for a chapter and run as Gradescope runs it.

The zip is laid out as in Gradescope's container (``source/``, ``submission/``, ``results/``)
and its own ``run_autograder`` is executed, with this checkout's environment standing in for
the one ``setup.sh`` builds. Executes notebooks, so it runs under ``make grade-check``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from course_tools.course import chapters
from course_tools.editions import student_edition
from course_tools.gradescope import build, unpack

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("ODE_COURSE_GRADE_NOTEBOOKS") != "1",
        reason="notebooks are graded by `make grade-check` (ODE_COURSE_GRADE_NOTEBOOKS=1)",
    ),
    pytest.mark.xdist_group("gradescope"),
]

CHAPTER = next(p for p in chapters() if p.name.startswith("01_"))


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    return build(1, tmp_path_factory.mktemp("zip") / "autograder.zip", timeout=300)


def test_the_zip_ships_the_setup_the_runner_the_wheel_and_no_solution(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        shipped = json.loads(archive.read(f"course/notebooks/{CHAPTER.name}"))
    assert {"setup.sh", "run_autograder", "course/_toc.yml"} <= names
    assert any(n.startswith("ode_course-") and n.endswith(".whl") for n in names)
    edition = student_edition(json.loads(CHAPTER.read_text(encoding="utf-8")))

    def text(source):
        return "".join(source) if isinstance(source, list) else source

    assert [text(c["source"]) for c in shipped["cells"]] == [
        text(c["source"]) for c in edition["cells"]
    ]
    assert not any("solution" in c["metadata"].get("tags", []) for c in shipped["cells"])


def _run(autograder_zip, tmp_path, notebook: dict) -> dict:
    base = unpack(autograder_zip, tmp_path / "autograder")
    (base / "submission" / "homework.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    env = {**os.environ, "AUTOGRADER": str(base), "PYTHON": sys.executable}
    subprocess.run([str(base / "run_autograder")], env=env, check=True, timeout=600)
    return json.loads((base / "results" / "results.json").read_text(encoding="utf-8"))


def test_the_repository_notebook_gets_full_marks(autograder_zip, tmp_path):
    result = _run(autograder_zip, tmp_path, json.loads(CHAPTER.read_text(encoding="utf-8")))
    auto = [t for t in result["tests"] if t["max_score"] > 0]
    assert {t["name"] for t in auto} == {"ex-path-sum", "ex-softplus"}
    assert result["score"] == sum(t["max_score"] for t in auto) == 3, result


def test_the_results_of_an_untouched_edition_say_zero_and_leave_the_written_answers():
    from course_tools.grade.grader import ExerciseScore, NotebookReport
    from course_tools.gradescope import results

    report = NotebookReport("homework.ipynb", 1)
    report.scores = [
        ExerciseScore("ex-path-sum", 0, 1, "de_da is not answered yet"),
        ExerciseScore("ex-eps", None, 2, "written answer, 0 characters: for the instructor"),
    ]
    other = NotebookReport("notes.py", 1, not_graded="not a .ipynb notebook")
    data = results([report, other], sandboxed=False)
    assert data["score"] == 0
    assert [(t["name"], t["score"], t["max_score"]) for t in data["tests"]] == [
        ("ex-path-sum", 0, 1),
        ("ex-eps (written, graded by hand)", 0, 0),
        ("notes.py", 0, 0),
    ]
    assert "without the bubblewrap sandbox" in data["output"]

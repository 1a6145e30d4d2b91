"""Grade submitted notebooks: run each, score its answers in a fresh process, write a CSV.

:func:`grade_notebook` grades one notebook in three steps: find its chapter and exercises,
execute it with answer captures (:mod:`course_tools.grade.runner`), then score the captured
answers in a new Python process (:mod:`course_tools.grade.scoring`). :func:`grade_submissions`
does that for a folder and writes the CSV; ``python -m course_tools.grade`` is its command line.

The exercises, their points and how each is scored come from the course's own notebooks
(:func:`~course_tools.grade.load_exercises`, for the course given or the checkout in use), never
from the submission: a submission that edits its metadata changes nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_tools.grade.exercises import Exercise, load_exercises
from ode_course import _validate

__all__ = ["ExerciseScore", "NotebookReport", "grade_notebook", "grade_submissions"]

CSV_COLUMNS = ("student file", "exercise", "points", "max", "message")
"""The columns of the grader's CSV, in order."""


@dataclass(frozen=True)
class ExerciseScore:
    """One exercise of one notebook: points (None for a written answer), max, and why."""

    exercise: str
    points: int | None
    max: int
    message: str
    reference: bool = False


@dataclass
class NotebookReport:
    """A graded notebook: its scores and how its run ended."""

    file: str
    chapter: int | None
    scores: list[ExerciseScore] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    timed_out: bool = False
    kernel_died: bool = False
    seconds: float = 0.0
    seed: int = 0

    @property
    def total(self) -> int:
        """The points earned on the auto-graded exercises."""
        return sum(s.points or 0 for s in self.scores if s.points is not None)

    @property
    def max(self) -> int:
        """The points available on the auto-graded exercises."""
        return sum(s.max for s in self.scores if s.points is not None)

    def summary(self) -> str:
        """One paragraph: total/max, and whether it crashed, timed out or used a reference."""
        lines = [
            f"{self.file}: chapter {self.chapter}, {self.total}/{self.max} points "
            f"(ran in {self.seconds:.1f} s)"
        ]
        if self.errors:
            lines.append(f"  crashed: {len(self.errors)} cell(s) raised, first {self.errors[0]}")
        if self.kernel_died:
            lines.append("  crashed: the kernel died")
        if self.timed_out:
            lines.append("  timed out: the cells after the limit were not run")
        cheats = [s.exercise for s in self.scores if s.reference]
        if cheats:
            lines.append(f"  reference used: {', '.join(cheats)} (scored 0)")
        manual = [s for s in self.scores if s.points is None]
        if manual:
            lines.append(f"  {len(manual)} written answer(s) left for the instructor")
        return "\n".join(lines)


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _grade_meta(cell: dict[str, Any]) -> dict[str, Any] | None:
    meta = cell.get("metadata", {}).get("grade")
    return meta if isinstance(meta, dict) and "id" in meta else None


def detect_chapter(
    notebook: dict[str, Any], path: Path, exercises: dict[str, Exercise] | None = None
) -> int | None:
    """The chapter: from the exercises' ``grade.id`` metadata, else the file name (``05_…``)."""
    table = exercises if exercises is not None else _exercises(None)
    votes = Counter(
        table[m["id"]].chapter
        for m in map(_grade_meta, notebook.get("cells", []))
        if m is not None and m["id"] in table
    )
    if votes:
        return votes.most_common(1)[0][0]
    chapter = notebook.get("metadata", {}).get("ode_course", {}).get("chapter")
    if isinstance(chapter, int):
        return chapter
    match = re.search(r"(?:^|\D)(\d{1,2})_[A-Za-z]", path.name)
    return int(match.group(1)) if match else None


def _exercises(course: str | Path | None) -> dict[str, Exercise]:
    """The course's exercise table: of ``course`` if given, else of the course in use."""
    if course is not None:
        return load_exercises(course)
    from course_tools.grade import exercises

    return exercises.EXERCISES


def _check_cell(cells: list[dict[str, Any]], exercise: Exercise) -> int | None:
    """The index of the exercise's check cell: by metadata, else by the check's name."""
    for i, cell in enumerate(cells):
        meta = _grade_meta(cell)
        if cell.get("cell_type") == "code" and meta is not None and meta["id"] == exercise.id:
            return i
    name = exercise.check.partition(":")[2]
    for i, cell in enumerate(cells):
        src = _source(cell)
        if cell.get("cell_type") == "code" and re.search(rf"^\s*{name}\(", src, re.M):
            return i
    return None


def _manual_scores(cells: list[dict[str, Any]]) -> list[ExerciseScore]:
    scores = []
    for cell in cells:
        meta = _grade_meta(cell)
        if cell.get("cell_type") != "markdown" or meta is None or not meta.get("manual"):
            continue
        text = _source(cell)
        marker = text.find("*Your answer:*")
        answer = text[marker + len("*Your answer:*") :] if marker >= 0 else text
        scores.append(
            ExerciseScore(
                meta["id"],
                None,
                int(meta.get("points", 0)),
                f"written answer, {len(answer.strip())} characters: for the instructor",
            )
        )
    return scores


def grade_notebook(
    path: str | Path,
    *,
    chapter: int | None = None,
    timeout: float = 600.0,
    seed: int = 0,
    exercises: list[str] | None = None,
    course: str | Path | None = None,
) -> NotebookReport:
    """Execute and score one submitted notebook.

    Args:
        path: the ``.ipynb`` file.
        chapter: its chapter; read from the notebook (its exercises' metadata, or a file name
            starting ``NN_``) when None.
        timeout: seconds for executing the whole notebook.
        seed: the seed of the randomised inputs.
        exercises: grade these exercise ids (of any chapters) instead of the chapter's.
        course: the course checkout whose notebooks hold the points (default: the course of
            :func:`course_tools.course.root`, when there is one).

    Returns:
        The notebook's report.

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    path = Path(path)
    if not path.is_file():
        _validate.fail(
            "path",
            "an existing .ipynb file",
            repr(str(path)),
            "pass a submitted notebook",
            FileNotFoundError,
        )
    from course_tools.grade.runner import Spec, run_notebook

    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        report = NotebookReport(path.name, chapter, seed=seed)
        report.errors.append(f"the file is not a notebook ({type(exc).__name__})")
        return report
    table = _exercises(course)
    chapter = chapter if chapter is not None else detect_chapter(notebook, path, table)
    report = NotebookReport(path.name, chapter, seed=seed)
    cells = notebook.get("cells", [])
    chosen = (
        [table[i] for i in exercises]
        if exercises is not None
        else [e for e in table.values() if e.chapter == chapter]
    )
    specs = [Spec(e.id, e.points, e.answer, _check_cell(cells, e)) for e in chosen]
    with tempfile.TemporaryDirectory(prefix="ode_course_grade_") as tmp:
        folder = Path(tmp)
        run = run_notebook(notebook, specs, folder, timeout)
        report.errors, report.timed_out = run.errors, run.timed_out
        report.kernel_died, report.seconds = run.kernel_died, run.seconds
        job = {
            "seed": seed,
            "limit": 120.0,
            "exercises": [
                {
                    "id": s.id,
                    "points": s.points,
                    "files": [str(p) for p in run.answers[s.id]],
                    "exercise": dataclasses.asdict(table[s.id]),
                }
                for s in specs
            ],
        }
        (folder / "job.json").write_text(json.dumps(job), encoding="utf-8")
        result = folder / "result.json"
        scoring = folder / "scoring"
        scoring.mkdir()
        # -I: the scoring process imports nothing from its folder or PYTHONPATH, so files that
        # the notebook wrote cannot stand in for numpy, torch or the checks
        command = [sys.executable, "-I", "-W", "ignore", "-m", "course_tools.grade.scoring"]
        process = subprocess.run(
            [*command, str(folder / "job.json"), str(result)],
            capture_output=True,
            text=True,
            timeout=120 * max(1, len(specs)) + 60,
            cwd=scoring,
        )
        rows = json.loads(result.read_text(encoding="utf-8")) if result.exists() else []
    done = {row["id"]: row for row in rows}
    for spec in specs:
        row = done.get(spec.id)
        if row is None:
            tail = process.stderr.strip().splitlines()[-1:] or ["no output"]
            row = {"points": 0, "message": f"the scoring process failed: {tail[0][:200]}"}
        report.scores.append(
            ExerciseScore(
                spec.id,
                int(row["points"]),
                spec.points,
                row["message"],
                row.get("reference", False),
            )
        )
    report.scores += _manual_scores(cells)
    return report


def grade_submissions(
    submissions: str | Path,
    *,
    chapter: int | None = None,
    csv_path: str | Path | None = None,
    timeout: float = 600.0,
    seed: int = 0,
    echo: bool = True,
    course: str | Path | None = None,
) -> list[NotebookReport]:
    """Grade every ``*.ipynb`` in a folder (or one file) and write the CSV.

    Args:
        submissions: a folder of notebooks, or one notebook.
        chapter: the chapter of all of them; read from each notebook when None.
        csv_path: where to write the CSV (columns :data:`CSV_COLUMNS`), or None for none.
        timeout: seconds for executing each notebook.
        seed: the seed of the randomised inputs, the same for every notebook.
        echo: print each notebook's summary as it is graded.
        course: the course checkout, as for :func:`grade_notebook`.

    Returns:
        One report per notebook, in file-name order.

    Raises:
        FileNotFoundError: ``submissions`` is neither a notebook nor a folder holding some.
    """
    root = Path(submissions)
    files = sorted(root.glob("*.ipynb")) if root.is_dir() else [root] if root.is_file() else []
    if not files:
        _validate.fail(
            "submissions",
            "a .ipynb file or a folder that holds some",
            repr(str(root)),
            "pass the folder of submitted notebooks",
            FileNotFoundError,
        )
    reports = []
    for path in files:
        report = grade_notebook(path, chapter=chapter, timeout=timeout, seed=seed, course=course)
        reports.append(report)
        if echo:
            print(report.summary(), flush=True)
    if csv_path is not None:
        write_csv(reports, csv_path)
    return reports


def write_csv(reports: list[NotebookReport], path: str | Path) -> None:
    """Write one row per notebook and exercise: student file, exercise, points, max, message."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for report in reports:
            if not report.scores:
                writer.writerow([report.file, "", 0, 0, "; ".join(report.errors) or "no exercises"])
            for s in report.scores:
                points = "" if s.points is None else s.points
                writer.writerow([report.file, s.exercise, points, s.max, s.message])

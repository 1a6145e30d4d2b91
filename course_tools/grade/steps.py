"""The two steps that touch student code, each run as its own process in its own sandbox.

``python -I _boot.py ROOT execute BOX`` executes the submission ``BOX/submission.ipynb`` with answer
captures (:func:`course_tools.grade.runner.run_notebook`) and writes ``BOX/run.json``;
``python -I _boot.py ROOT score BOX`` loads the captured answers and scores them
(:mod:`course_tools.grade.scoring`), writing ``BOX/result.json`` and the record of what the
answers returned, ``BOX/observed.json``; ``python -I _boot.py ROOT judge BOX`` runs the checks
again on that record alone, in a box that holds nothing of the student's
(:mod:`course_tools.grade.observe`). ``BOX/job.json``, written by
the grader from the course's own exercise table, says what to capture and score.

What crosses back to the grader is JSON that the grader reads as data and checks field by
field (:func:`read_run`, :func:`read_result`): nothing of the student's is unpickled outside a
sandbox. ``-I`` keeps the step's own imports away from the files a notebook wrote, and
``_boot.py`` puts the course's bytecode image first on ``sys.path``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

__all__: list[str] = []

IMAGE = "/course_image"


def argv(step: str, box: str, root: str = IMAGE) -> list[str]:
    """The command line of ``step`` (``"execute"`` or ``"score"``) on the folder ``box``, with
    the packages found in ``root`` (the image inside a sandbox, else the checkout)."""
    boot = Path(root) / "course_tools" / "grade" / ("_boot.pyc" if root == IMAGE else "_boot.py")
    return [sys.executable, "-I", "-W", "ignore", str(boot), root, step, box]


def execute(box: Path) -> None:
    """Run the submission with captures; write ``run.json`` (errors, time, how it ended)."""
    from course_tools.grade.runner import Spec, run_notebook

    job = json.loads((box / "job.json").read_text(encoding="utf-8"))
    notebook = json.loads((box / "submission.ipynb").read_text(encoding="utf-8"))
    specs = [Spec(s["id"], s["points"], tuple(s["answer"]), s["cell"]) for s in job["specs"]]
    answers = box / "answers"
    answers.mkdir(exist_ok=True)
    result = run_notebook(notebook, specs, answers, job["timeout"], work=box / "work")
    record = {
        "errors": result.errors,
        "timed_out": result.timed_out,
        "kernel_died": result.kernel_died,
        "seconds": result.seconds,
    }
    (box / "run.json").write_text(json.dumps(record), encoding="utf-8")


def score(box: Path) -> None:
    """Score the captured answers; write ``result.json``, one row per exercise."""
    from course_tools.grade.exercises import Exercise
    from course_tools.grade.scoring import score_exercise

    job = json.loads((box / "job.json").read_text(encoding="utf-8"))
    rows, observed = [], {}
    for item in job["exercises"]:
        exercise = Exercise.from_record(item["exercise"])
        files = [str(box / "answers" / name) for name in item["files"]]
        row = score_exercise(exercise, files, item["points"], job["seed"], job["limit"])
        if "observed" in row:
            observed[exercise.id] = row.pop("observed")
        rows.append(row)
        (box / "result.json").write_text(json.dumps(rows), encoding="utf-8")  # kept if killed
    (box / "observed.json").write_text(json.dumps(observed), encoding="utf-8")
    (box / "result.json").write_text(json.dumps(rows), encoding="utf-8")


def judge(box: Path) -> None:
    """Judge the replayable exercises from ``observed.json`` alone (no student file is in this
    box, and nothing of the student's is loaded): write ``result.json``."""
    from course_tools.grade.exercises import Exercise
    from course_tools.grade.scoring import judge_exercise

    job = json.loads((box / "job.json").read_text(encoding="utf-8"))
    observed = json.loads((box / "observed.json").read_text(encoding="utf-8"))
    rows = []
    for item in job["exercises"]:
        exercise = Exercise.from_record(item["exercise"])
        record = observed.get(exercise.id) if isinstance(observed, dict) else None
        rows.append(judge_exercise(exercise, record, item["points"], job["seed"], job["limit"]))
        (box / "result.json").write_text(json.dumps(rows), encoding="utf-8")


# ----------------------------------------------------------------- read back, in the grader
def _text(value: Any, limit: int = 300) -> str:
    return str(value)[:limit] if isinstance(value, str) else ""


def read_run(box: Path) -> dict[str, Any]:
    """``run.json`` as plain data, every field checked; a missing or bad file reads as a run
    that left nothing (the submission could have written it: it is the step's own report)."""
    empty: dict[str, Any] = {
        "errors": [],
        "timed_out": False,
        "kernel_died": True,
        "seconds": 0.0,
    }
    try:
        raw = json.loads((box / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty
    if not isinstance(raw, dict):
        return empty
    errors = raw.get("errors")
    seconds = raw.get("seconds")
    return {
        "errors": [_text(e) for e in errors[:20] if isinstance(e, str)]
        if isinstance(errors, list)
        else [],
        "timed_out": raw.get("timed_out") is True,
        "kernel_died": raw.get("kernel_died") is True,
        "seconds": float(seconds)
        if isinstance(seconds, int | float)
        and not isinstance(seconds, bool)
        and math.isfinite(seconds)
        else 0.0,
    }


def read_result(box: Path, points: dict[str, int]) -> dict[str, dict[str, Any]]:
    """``result.json`` as exercise id → row, for the ids of ``points`` only; each row's points
    are 0 or that exercise's maximum from the course, whatever the file says."""
    try:
        raw = json.loads((box / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    rows: dict[str, dict[str, Any]] = {}
    for row in raw if isinstance(raw, list) else []:
        if not isinstance(row, dict) or row.get("id") not in points or row["id"] in rows:
            continue
        full = row.get("points") == points[row["id"]] and not isinstance(row.get("points"), bool)
        rows[row["id"]] = {
            "points": points[row["id"]] if full else 0,
            "message": _text(row.get("message")) or "no message",
            "reference": row.get("reference") is True,
        }
    return rows


def main(args: list[str]) -> int:
    """``python -m course_tools.grade.steps execute|score BOX``."""
    step, box = args[0], Path(args[1])
    {"execute": execute, "score": score, "judge": judge}[step](box)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A Gradescope autograder for one chapter: ``python -m course_tools gradescope --chapter N``.

Gradescope runs each submission in its own container: it unpacks the autograder zip into
``/autograder/source``, runs ``setup.sh`` once when the image is built, then, per submission,
``/autograder/run_autograder`` with the student's files in ``/autograder/submission``, and reads
``/autograder/results/results.json``. The zip this module builds holds:

- ``setup.sh``: Python 3.11, Debian's bubblewrap, and the course's wheel with its
  ``instructor`` extra (and torch's CPU build) in a virtual environment;
- ``run_autograder``: grades ``/autograder/submission`` with this package's grader and writes
  ``results.json`` (:func:`results`): one test per exercise (points, max, the grader's
  message), written answers as tests of 0 points left for manual grading, a row for each
  file that was not graded, and the notes for the instructor in the overall output;
- ``course/``: the chapter's **student edition** (its exercises' ``grade`` metadata is all the
  grader needs) and a table of contents: no worked solution is shipped into the container;
- the wheel of ``ode_course`` and ``course_tools``.

Inside the container the grader still uses its bubblewrap sandbox where the container allows
user namespaces; where it does not, the container (one per submission) is the isolation, and
the report says it ran without the sandbox.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from course_tools import course as course_paths
from ode_course import _validate

__all__ = ["build", "results", "run"]

SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euxo pipefail
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y python3.11 python3.11-venv bubblewrap
python3.11 -m venv /autograder/source/venv
/autograder/source/venv/bin/pip install --upgrade pip
/autograder/source/venv/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
/autograder/source/venv/bin/pip install "$(ls /autograder/source/*.whl)[instructor]"
"""

RUN = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission: grade /autograder/submission, write results.json.
set -euo pipefail
AUTOGRADER="${{AUTOGRADER:-/autograder}}"
PYTHON="${{PYTHON:-$AUTOGRADER/source/venv/bin/python}}"
exec "$PYTHON" -m course_tools.gradescope run --chapter {chapter} \\
    --source "$AUTOGRADER/source" --submission "$AUTOGRADER/submission" \\
    --results "$AUTOGRADER/results/results.json" --timeout {timeout}
"""


def _chapter_notebook(chapter: int, course: str | Path | None) -> Path:
    for path in course_paths.chapters(course):
        if path.name.startswith(f"{chapter:02d}_"):
            return path
    _validate.fail(
        "chapter",
        "a chapter of the course",
        f"chapter={chapter}",
        "pass the number of a chapter in _toc.yml, e.g. chapter=5",
    )
    raise AssertionError  # unreachable: fail raises


def build(
    chapter: int,
    out: str | Path,
    *,
    course: str | Path | None = None,
    timeout: float = 600.0,
    wheel: str | Path | None = None,
) -> Path:
    """Write the autograder zip of ``chapter`` to ``out``.

    Args:
        chapter: the chapter number.
        out: the zip to write.
        course: the course checkout (default: the one in use).
        timeout: seconds per submission's run.
        wheel: a built wheel of the course to ship (default: built here with ``pip wheel``).

    Returns:
        The path of the zip.

    Raises:
        ValueError: ``chapter`` is not a chapter of the course.
    """
    from course_tools.editions import student_edition
    from course_tools.notebook import dumps, read

    chapter = _validate.integer(chapter, "chapter", fix="e.g. chapter=5")
    notebook = _chapter_notebook(chapter, course)
    root = Path(course) if course is not None else course_paths.root()
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="ode_course_gradescope_") as tmp:
        if wheel is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp, str(root)],
                check=True,
            )
            wheel = next(Path(tmp).glob("ode_course-*.whl"))
        edition = student_edition(read(notebook))
        toc = f"format: jb-book\nroot: intro\nchapters:\n  - file: notebooks/{notebook.stem}\n"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("setup.sh", SETUP)
            archive.writestr("run_autograder", RUN.format(chapter=chapter, timeout=timeout))
            archive.writestr("course/_toc.yml", toc)
            archive.writestr(f"course/notebooks/{notebook.name}", dumps(edition))
            archive.write(wheel, Path(wheel).name)
    return out


def results(reports: list[Any], *, sandboxed: bool) -> dict[str, Any]:
    """Gradescope's ``results.json`` for the grader's reports of one submission."""
    tests: list[dict[str, Any]] = []
    notes: list[str] = []
    for report in reports:
        if report.not_graded:
            tests.append(
                {
                    "name": report.file,
                    "score": 0,
                    "max_score": 0,
                    "output": f"not graded: {report.not_graded}",
                }
            )
            continue
        for s in report.scores:
            written = s.points is None
            tests.append(
                {
                    "name": f"{s.exercise} (written, graded by hand)" if written else s.exercise,
                    "score": 0 if written else s.points,
                    "max_score": 0 if written else s.max,
                    "output": s.message,
                    "visibility": "visible",
                }
            )
        notes += [f"{report.file}: {note}" for note in report.notes]
        notes += [f"{report.file}: {line.strip()}" for line in report.summary().splitlines()[1:]]
    if not sandboxed:
        notes.append("graded without the bubblewrap sandbox: the container was the isolation")
    return {
        "score": sum(t["score"] for t in tests),
        "output": "\n".join(notes) or "graded",
        "tests": tests,
    }


def run(
    *,
    chapter: int,
    source: str | Path,
    submission: str | Path,
    results_path: str | Path,
    timeout: float = 600.0,
    seed: int | None = None,
) -> dict[str, Any]:
    """Grade a Gradescope submission folder and write ``results.json``; returns its content."""
    from course_tools.grade import grade_submissions
    from course_tools.grade import sandbox as sandboxing

    sandboxed = sandboxing.available()
    reports = grade_submissions(
        submission,
        chapter=chapter,
        course=Path(source) / "course",
        timeout=timeout,
        seed=seed if seed is not None else secrets.randbelow(2**31),
        echo=False,
        sandbox=sandboxed,
    )
    data = results(reports, sandboxed=sandboxed)
    path = Path(results_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return data


def main(argv: list[str] | None = None) -> int:
    """``python -m course_tools gradescope --chapter N [--out FILE]`` (and ``run``, used by
    the zip's ``run_autograder``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["run"]:
        parser = argparse.ArgumentParser(prog="python -m course_tools.gradescope run")
        parser.add_argument("--chapter", type=int, required=True)
        parser.add_argument("--source", required=True)
        parser.add_argument("--submission", required=True)
        parser.add_argument("--results", required=True)
        parser.add_argument("--timeout", type=float, default=600.0)
        parser.add_argument("--seed", type=int)
        ns = parser.parse_args(args[1:])
        run(
            chapter=ns.chapter,
            source=ns.source,
            submission=ns.submission,
            results_path=ns.results,
            timeout=ns.timeout,
            seed=ns.seed,
        )
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m course_tools gradescope",
        description="Build a Gradescope autograder zip for one chapter.",
    )
    parser.add_argument("--chapter", type=int, required=True)
    parser.add_argument("--out", help="the zip (default: autograder_NN.zip)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per submission")
    ns = parser.parse_args(args)
    out = build(ns.chapter, ns.out or f"autograder_{ns.chapter:02d}.zip", timeout=ns.timeout)
    print(f"wrote {out}: upload it as the autograder of chapter {ns.chapter} on Gradescope")
    return 0


def unpack(zip_path: str | Path, autograder: str | Path) -> Path:
    """Lay the zip out as Gradescope does (``source/``, ``run_autograder``, ``submission/``,
    ``results/``) under ``autograder``: a container-like run for tests and dry runs."""
    base = Path(autograder)
    (base / "source").mkdir(parents=True, exist_ok=True)
    (base / "submission").mkdir(exist_ok=True)
    (base / "results").mkdir(exist_ok=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(base / "source")
    shutil.copy(base / "source" / "run_autograder", base / "run_autograder")
    os.chmod(base / "run_autograder", 0o755)
    return base


if __name__ == "__main__":
    sys.exit(main())

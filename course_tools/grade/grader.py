"""Grade submitted notebooks: each in its own sandbox, scored from data, one CSV row per file.

:func:`grade_notebook` grades one notebook in four steps:

1. read it as data (JSON, checked cell by cell; a file that is not a notebook is a row that
   says so) and take its chapter, exercises, points and written answers' maxima from the
   course's own notebooks (:func:`~course_tools.grade.load_exercises`), never from the
   submission;
2. execute it with answer captures in a sandbox (:mod:`course_tools.grade.sandbox`, step
   ``execute`` of :mod:`course_tools.grade.steps`);
3. load and score the captured answers in a second, fresh sandbox (step ``score``): only the
   answer files cross over, and only JSON comes back, read field by field;
4. read its source as text (:mod:`course_tools.grade.static`): an answer that copies a
   reference scores 0; uses of exec, source reading, tracing hooks, threads and the like are
   reported for the instructor.

:func:`grade_submissions` does that for every file of a folder (``jobs`` at a time), writes a
CSV row as each notebook finishes, gives every other file a row that says why it was not
graded, and flags identical submissions; ``python -m course_tools.grade`` is its command line.
Without bubblewrap it refuses, unless told ``sandbox=False`` (``--unsafe-no-sandbox``).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import csv
import dataclasses
import functools
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_tools.grade import sandbox as sandboxing
from course_tools.grade import static, steps
from course_tools.grade.exercises import Exercise, load_exercises
from ode_course import _validate

__all__ = ["ExerciseScore", "NotebookReport", "grade_notebook", "grade_submissions"]

CSV_COLUMNS = ("student file", "exercise", "points", "max", "message")
"""The columns of the grader's CSV, in order."""

MAX_BYTES = 50 * 2**20
"""The largest submission read (bytes): a bigger file is a row that says so."""
_ANSWER_BYTES = 200 * 2**20  # the most the captured answers of one notebook may weigh


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
    """A graded notebook (or a file that could not be graded): its scores and how its run
    ended. ``not_graded`` says why a file got no scores; ``notes`` are findings for the
    instructor that did not change the points."""

    file: str
    chapter: int | None
    scores: list[ExerciseScore] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    timed_out: bool = False
    kernel_died: bool = False
    seconds: float = 0.0
    seed: int = 0
    not_graded: str = ""
    notes: list[str] = field(default_factory=list)
    digest: str = ""

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
        if self.not_graded:
            return f"{self.file}: not graded: {self.not_graded}"
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
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    def rows(self) -> list[list[Any]]:
        """The report's CSV rows (columns :data:`CSV_COLUMNS`): one per exercise, one per note,
        and one that says why for a file that was not graded."""
        if self.not_graded:
            return [[self.file, "", 0, 0, f"not graded: {self.not_graded}"]]
        rows: list[list[Any]] = [
            [self.file, s.exercise, "" if s.points is None else s.points, s.max, s.message]
            for s in self.scores
        ]
        if not self.scores:
            rows.append([self.file, "", 0, 0, "; ".join(self.errors) or "no exercises"])
        rows += [[self.file, "(review)", "", "", note] for note in self.notes]
        return rows


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        return "".join(part for part in src if isinstance(part, str))
    return src if isinstance(src, str) else ""


def _grade_meta(cell: Any) -> dict[str, Any] | None:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    grade = meta.get("grade") if isinstance(meta, dict) else None
    return grade if isinstance(grade, dict) and isinstance(grade.get("id"), str) else None


def detect_chapter(
    notebook: dict[str, Any], path: Path, exercises: dict[str, Exercise] | None = None
) -> int | None:
    """The chapter: from the exercises' ``grade.id`` metadata, else the file name (``05_…``)."""
    table = exercises if exercises is not None else _exercises(None)
    cells = notebook.get("cells")
    votes = Counter(
        table[m["id"]].chapter
        for m in map(_grade_meta, cells if isinstance(cells, list) else [])
        if m is not None and m["id"] in table
    )
    if votes:
        return votes.most_common(1)[0][0]
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
        if cell.get("cell_type") == "code" and re.search(rf"^\s*{name}\(", _source(cell), re.M):
            return i
    return None


def _read_submission(path: Path) -> tuple[dict[str, Any] | None, list[str], str]:
    """The notebook as plain, checked data, with notes on what was dropped; or None and why.

    Only cells that are objects with a known ``cell_type`` and a text source are kept (as
    ``{"cell_type", "source", "metadata"}``, the metadata only if it is an object); the
    notebook's own metadata is not kept (the kernel is the grader's).
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        return None, [], f"the file cannot be read ({type(exc).__name__})"
    if size > MAX_BYTES:
        return None, [], f"the file is {size / 2**20:.0f} MiB, above {MAX_BYTES // 2**20} MiB"
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return None, [], f"the file is not a notebook (not JSON: {type(exc).__name__})"
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return None, [], "the file is not a notebook (no list of cells)"
    cells: list[dict[str, Any]] = []
    notes: list[str] = []
    for i, cell in enumerate(raw["cells"]):
        kind = cell.get("cell_type") if isinstance(cell, dict) else None
        src = cell.get("source", "") if isinstance(cell, dict) else None
        ok_source = isinstance(src, str) or (
            isinstance(src, list) and all(isinstance(x, str) for x in src)
        )
        if kind not in ("code", "markdown", "raw") or not ok_source:
            notes.append(f"cell {i} is not a notebook cell: ignored")
            cells.append({"cell_type": "raw", "source": "", "metadata": {}})
            continue
        meta = cell.get("metadata")
        cells.append(
            {
                "cell_type": str(kind),
                "source": "".join(src) if isinstance(src, list) else src,
                "metadata": meta if isinstance(meta, dict) else {},
            }
        )
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    return notebook, notes, ""


def _course_notebook(course: str | Path | None, chapter: int) -> dict[str, Any] | None:
    """The course's own notebook of ``chapter`` (for its written exercises and its code)."""
    from course_tools.course import chapters

    for path in chapters(course):
        if path.name.startswith(f"{chapter:02d}_"):
            return json.loads(path.read_text(encoding="utf-8"))
    return None


def _manual_scores(
    submitted: list[dict[str, Any]], own: dict[str, Any] | None
) -> list[ExerciseScore]:
    """A row per written exercise of the course's notebook: its maximum from the course, the
    length of the submission's answer for the instructor."""
    answers: dict[str, str] = {}
    for cell in submitted:
        meta = _grade_meta(cell)
        if meta is not None and cell.get("cell_type") == "markdown":
            answers.setdefault(meta["id"], _source(cell))
    scores = []
    for cell in (own or {}).get("cells", []):
        meta = _grade_meta(cell)
        if cell.get("cell_type") != "markdown" or meta is None or not meta.get("manual"):
            continue
        text = answers.get(meta["id"])
        if text is None:
            message = "written answer not found (its cell was deleted?): for the instructor"
        else:
            marker = text.find("*Your answer:*")
            answer = text[marker + len("*Your answer:*") :] if marker >= 0 else text
            message = f"written answer, {len(answer.strip())} characters: for the instructor"
        scores.append(ExerciseScore(meta["id"], None, int(meta.get("points", 0)), message))
    return scores


def _digest(notebook: dict[str, Any]) -> str:
    """A fingerprint of the code a notebook runs (white space folded), to find identical ones."""
    code = "\n".join(
        re.sub(r"\s+", " ", _source(c)).strip()
        for c in notebook["cells"]
        if c.get("cell_type") == "code"
    )
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def grade_notebook(
    path: str | Path,
    *,
    chapter: int | None = None,
    timeout: float = 600.0,
    seed: int = 0,
    exercises: list[str] | None = None,
    course: str | Path | None = None,
    sandbox: bool = True,
    image: sandboxing.PackageImage | None = None,
    memory: int = 8 * 2**30,
    score_timeout: float = 120.0,
) -> NotebookReport:
    """Execute and score one submitted notebook; never raises for a bad submission.

    Args:
        path: the ``.ipynb`` file.
        chapter: its chapter; read from the notebook (its exercises' metadata, or a file name
            starting ``NN_``) when None.
        timeout: seconds for executing the whole notebook.
        seed: the seed of the randomised inputs.
        exercises: grade these exercise ids (of any chapters) instead of the chapter's.
        course: the course checkout whose notebooks hold the points (default: the course of
            :func:`course_tools.course.root`, when there is one).
        sandbox: run the student's code in a bubblewrap sandbox (see
            :mod:`course_tools.grade.sandbox`); False runs it as you (unsafe).
        image: the package image the sandboxes use (None: this process's own, built once).
        memory: bytes of address space per process in the sandbox.
        score_timeout: seconds to score one exercise (an answer that hangs only when the
            grader calls it scores 0 after this).

    Returns:
        The notebook's report (``not_graded`` set, and no scores, for a file it cannot grade).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        RuntimeError: ``sandbox`` is True and bubblewrap cannot run here.
    """
    path = Path(path)
    if not path.exists():
        _validate.fail(
            "path",
            "an existing .ipynb file",
            repr(str(path)),
            "pass a submitted notebook",
            FileNotFoundError,
        )
    if sandbox and not sandboxing.available():
        _validate.fail(
            "sandbox",
            "available: the grader runs student code only in a bubblewrap sandbox",
            "no working bwrap on this machine",
            "install it (Debian: apt-get install bubblewrap), or pass sandbox=False "
            "(--unsafe-no-sandbox) for notebooks you trust",
            RuntimeError,
        )
    report = NotebookReport(path.name, chapter, seed=seed)
    if path.is_dir():
        report.not_graded = "a folder, not a notebook file"
        return report
    notebook, notes, why = _read_submission(path)
    if notebook is None:
        report.not_graded = why
        return report
    report.notes += notes
    report.digest = _digest(notebook)
    table = _exercises(course)
    if chapter is None:
        chapter = detect_chapter(notebook, path, table)
    report.chapter = chapter
    chosen = (
        [table[i] for i in exercises]
        if exercises is not None
        else [e for e in table.values() if e.chapter == chapter]
    )
    own = _course_notebook(course, chapter) if chapter is not None else None
    if not chosen and own is None:
        report.not_graded = (
            f"no chapter of the course matches (read {chapter}): name the file NN_topic.ipynb "
            "or grade with --chapter N"
        )
        return report
    cells = notebook["cells"]
    if sandbox and image is None:
        image = _image()
    _run_and_score(
        report, notebook, chosen, timeout, seed, image if sandbox else None, memory, score_timeout
    )
    _static_findings(report, notebook, chosen, own)
    report.scores += _manual_scores(cells, own) if exercises is None else []
    return report


@functools.cache
def _image() -> sandboxing.PackageImage:
    """The package image of this process, built once (deleted when the process exits)."""
    import course_tools
    import ode_course

    image = sandboxing.PackageImage([ode_course, course_tools])
    atexit.register(image.cleanup)
    return image


def _steps_image(image: sandboxing.PackageImage | None) -> str:
    """The folder a step puts first on ``sys.path``: the image, or (unsafe) the checkout."""
    if image is not None:
        return steps.IMAGE
    import course_tools

    return str(Path(str(course_tools.__file__)).resolve().parents[1])


def _run_and_score(
    report: NotebookReport,
    notebook: dict[str, Any],
    chosen: list[Exercise],
    timeout: float,
    seed: int,
    image: sandboxing.PackageImage | None,
    memory: int,
    limit: float,
) -> None:
    from course_tools.grade.runner import Spec

    cells = notebook["cells"]
    specs = [Spec(e.id, e.points, e.answer, _check_cell(cells, e)) for e in chosen]
    points = {e.id: e.points for e in chosen}
    with tempfile.TemporaryDirectory(prefix="ode_course_grade_") as tmp:
        run_box, score_box = Path(tmp) / "execute", Path(tmp) / "score"
        run_box.mkdir()
        score_box.mkdir()
        (run_box / "submission.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
        job = {"timeout": timeout, "specs": [dataclasses.asdict(s) for s in specs]}
        done = _step("execute", run_box, job, image, timeout + 120, memory)
        run = steps.read_run(run_box)
        report.errors, report.timed_out = run["errors"], run["timed_out"]
        report.kernel_died, report.seconds = run["kernel_died"], run["seconds"]
        if done.returncode == -9:
            report.timed_out = True
        # only the answer files cross to the scoring sandbox: regular files, named as the
        # runner names them (found in the folder: a run killed before its report still
        # leaves the answers it captured), within the size limit
        (score_box / "answers").mkdir()
        total, files = 0, {}  # type: tuple[int, dict[str, list[str]]]
        for spec in specs:
            files[spec.id] = []
            for name in (f"{spec.id}.cell.pkl", f"{spec.id}.end.pkl"):
                source = run_box / "answers" / name
                if source.is_symlink() or not source.is_file():
                    continue
                total += source.stat().st_size
                if total > _ANSWER_BYTES:
                    break
                shutil.copyfile(source, score_box / "answers" / name)
                files[spec.id].append(name)
        job = {
            "seed": seed,
            "limit": limit,
            "exercises": [
                {"exercise": dataclasses.asdict(e), "files": files[e.id], "points": e.points}
                for e in chosen
            ],
        }
        scored = _step("score", score_box, job, image, limit * max(1, len(chosen)) + 60, memory)
        rows = steps.read_result(score_box, points)
        judged = _judge(Path(tmp) / "judge", score_box, job, chosen, image, limit, memory)
    for e in chosen:
        row = rows.get(e.id)
        if row is None:
            tail = scored.stderr.strip().splitlines()[-1:] or ["no output"]
            why = "it ran past its time limit" if scored.returncode == -9 else tail[0][:200]
            row = {"points": 0, "message": f"not scored: the scoring step failed ({why})"}
        elif e.replay and row["points"] and not row["reference"]:
            # the student's sandbox passed it; the verdict that counts is the judge's, given
            # on the record of what the answers returned, where no student code ran
            row = judged.get(e.id) or {
                "points": 0,
                "message": "not scored: the answers' record could not be judged",
            }
        report.scores.append(
            ExerciseScore(
                e.id, int(row["points"]), e.points, row["message"], row.get("reference", False)
            )
        )


_RECORD_BYTES = 64 * 2**20  # the record of what the answers returned, at most


def _judge(
    box: Path,
    score_box: Path,
    job: dict[str, Any],
    chosen: list[Exercise],
    image: sandboxing.PackageImage | None,
    limit: float,
    memory: int,
) -> dict[str, dict[str, Any]]:
    """Judge the replayable exercises on the score step's ``observed.json`` in a fresh box that
    holds only that record (re-encoded as JSON here: data, never code) and the job."""
    replayable = [e for e in chosen if e.replay]
    source = score_box / "observed.json"
    if not replayable or source.is_symlink() or not source.is_file():
        return {}
    if source.stat().st_size > _RECORD_BYTES:
        return {}
    try:
        record = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict):
        return {}
    box.mkdir()
    (box / "observed.json").write_text(json.dumps(record), encoding="utf-8")
    ids = {e.id for e in replayable}
    job = {**job, "exercises": [x for x in job["exercises"] if x["exercise"]["id"] in ids]}
    _step("judge", box, job, image, limit * len(replayable) + 60, memory)
    return steps.read_result(box, {e.id: e.points for e in replayable})


def _step(
    step: str,
    folder: Path,
    job: dict[str, Any],
    image: sandboxing.PackageImage | None,
    seconds: float,
    memory: int,
) -> subprocess.CompletedProcess[str]:
    """Write ``job.json`` into ``folder`` and run ``step`` on it, sandboxed unless ``image`` is
    None."""
    (folder / "job.json").write_text(json.dumps(job), encoding="utf-8")
    box = sandboxing.BOX if image is not None else str(folder)
    return sandboxing.run(
        steps.argv(step, box, _steps_image(image)),
        folder,
        image,
        sandboxing.Limits(seconds=seconds, memory=memory),
    )


def _static_findings(
    report: NotebookReport,
    notebook: dict[str, Any],
    chosen: list[Exercise],
    own: dict[str, Any] | None,
) -> None:
    """Copies of a reference score 0; other findings become notes for the instructor."""
    for i, score in enumerate(report.scores):
        exercise = next((e for e in chosen if e.id == score.exercise), None)
        if exercise is None or not exercise.references:
            continue
        copy = static.copies(notebook, exercise.answer, exercise.references)
        if copy is not None:
            name, reference, ratio = copy
            report.scores[i] = ExerciseScore(
                score.exercise,
                0,
                score.max,
                f"{name} is a copy of the reference {reference} (similarity {ratio:.2f}, a "
                f"copy from {static.SIMILAR:.2f}): the exercise asks you to write it yourself "
                "(scored 0).",
                True,
            )
    report.notes += [
        f"{finding}: no exercise needs this; read the cell"
        for finding in static.constructs(notebook, own)
    ]


def grade_submissions(
    submissions: str | Path,
    *,
    chapter: int | None = None,
    csv_path: str | Path | None = None,
    timeout: float = 600.0,
    seed: int = 0,
    echo: bool = True,
    course: str | Path | None = None,
    jobs: int = 1,
    sandbox: bool = True,
    memory: int = 8 * 2**30,
    score_timeout: float = 120.0,
) -> list[NotebookReport]:
    """Grade every file of a folder (or one notebook), ``jobs`` at a time, and write the CSV.

    Every entry of the folder gets a report: a notebook is graded; anything else (a ``.py``, a
    ``.zip``, a folder) is "not graded" with the reason. A notebook whose grading fails in any
    way gets a row that says so; the others are graded all the same. CSV rows are written as
    each notebook finishes; identical submissions are flagged at the end.

    Args:
        submissions: a folder of notebooks, or one notebook.
        chapter: the chapter of all of them. When None it is read once for the folder (the
            chapter most of the notebooks' exercise metadata and file names name); a notebook
            that names another is graded as the folder's chapter, with a note.
        csv_path: where to write the CSV (columns :data:`CSV_COLUMNS`), or None for none.
        timeout: seconds for executing each notebook.
        seed: the seed of the randomised inputs, the same for every notebook.
        echo: print each notebook's summary as it is graded.
        course: the course checkout, as for :func:`grade_notebook`.
        jobs: notebooks graded at once.
        sandbox: as for :func:`grade_notebook`.
        memory, score_timeout: as for :func:`grade_notebook`.

    Returns:
        One report per file, in file-name order.

    Raises:
        FileNotFoundError: ``submissions`` is neither a file nor a folder.
        RuntimeError: ``sandbox`` is True and bubblewrap cannot run here.
    """
    root = Path(submissions)
    if root.is_dir():
        files = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    elif root.is_file():
        files = [root]
    else:
        _validate.fail(
            "submissions",
            "a .ipynb file or a folder of submissions",
            repr(str(root)),
            "pass the folder of submitted notebooks",
            FileNotFoundError,
        )
    jobs = _validate.integer(jobs, "jobs", fix="e.g. jobs=2 (one per core)")
    if sandbox and not sandboxing.available():
        grade_notebook(root, sandbox=True)  # raises the message that says how to fix it
    if not sandbox:
        print(sandboxing.UNSAFE, flush=True)
    image = _image() if sandbox else None
    own_chapter: dict[Path, int | None] = {}
    if chapter is None:
        table = _exercises(course)
        for path in files:
            if path.is_file() and path.suffix == ".ipynb":
                notebook, _, _ = _read_submission(path)
                if notebook is not None:
                    own_chapter[path] = detect_chapter(notebook, path, table)
        votes = Counter(c for c in own_chapter.values() if c is not None)
        folder_chapter = votes.most_common(1)[0][0] if votes else None
    else:
        folder_chapter = chapter
    lock = threading.Lock()
    out = open(csv_path, "w", newline="", encoding="utf-8") if csv_path is not None else None
    writer = csv.writer(out) if out is not None else None
    if writer is not None:
        writer.writerow(CSV_COLUMNS)

    def one(path: Path) -> NotebookReport:
        if path.is_file() and path.suffix != ".ipynb":
            return NotebookReport(
                path.name, folder_chapter, seed=seed, not_graded="not a .ipynb notebook"
            )
        try:
            report = grade_notebook(
                path,
                chapter=folder_chapter,
                timeout=timeout,
                seed=seed,
                course=course,
                sandbox=sandbox,
                image=image,
                memory=memory,
                score_timeout=score_timeout,
            )
            mine = own_chapter.get(path)
            if chapter is None and mine is not None and mine != folder_chapter:
                report.notes.append(
                    f"its exercises name chapter {mine}; graded as chapter {folder_chapter}, the "
                    "folder's (grade it alone with --chapter if it belongs elsewhere)"
                )
            return report
        except Exception as exc:  # one notebook's failure is its row, never the run's end
            why = f"the grader failed on it ({type(exc).__name__}: {str(exc)[:200]})"
            return NotebookReport(path.name, folder_chapter, seed=seed, not_graded=why)

    def finished(report: NotebookReport) -> None:
        with lock:
            if echo:
                print(report.summary(), flush=True)
            if writer is not None and out is not None:
                writer.writerows(report.rows())
                out.flush()

    reports: dict[Path, NotebookReport] = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(one, path): path for path in files}
            for future in concurrent.futures.as_completed(futures):
                reports[futures[future]] = future.result()
                finished(reports[futures[future]])
        ordered = [reports[path] for path in files]
        for row in identical_rows(ordered):
            if echo:
                print(f"{row[0]}: note: {row[4]}", flush=True)
            if writer is not None:
                writer.writerow(row)
    finally:
        if out is not None:
            out.close()
    return ordered


def identical_rows(reports: list[NotebookReport]) -> list[list[Any]]:
    """A CSV row for each notebook whose code is identical to another's that earned points."""
    groups: dict[str, list[NotebookReport]] = {}
    for report in reports:
        if report.digest and not report.not_graded:
            groups.setdefault(report.digest, []).append(report)
    rows = []
    for group in groups.values():
        if len(group) < 2 or all(r.total == 0 for r in group):
            continue  # untouched editions are alike by design
        for report in group:
            others = ", ".join(r.file for r in group if r is not report)
            rows.append([report.file, "(review)", "", "", f"identical code to {others}: read them"])
    return rows


def write_csv(reports: list[NotebookReport], path: str | Path) -> None:
    """Write the reports' rows (:meth:`NotebookReport.rows`), then the identical-code flags."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for report in reports:
            writer.writerows(report.rows())
        writer.writerows(identical_rows(reports))

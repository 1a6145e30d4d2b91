"""The auto-graded exercises, read from where the author declares them: the chapters.

An exercise is declared once, in its chapter's notebook: the ``{exercise}`` directive with its
``:label:``, and the check cell that follows it, whose ``grade`` metadata holds the label as
``id``, the ``points``, the ``answer`` names the grader scores, and what only the grader needs,
``randomised`` (a comparison of :mod:`course_tools.grade.randomised` on inputs drawn from the
grader's seed), ``references`` (the package's or another library's implementations that the
answer must neither be, wrap nor call) and ``inputs``. The check is the ``check_*`` function
the cell calls. :func:`load_exercises` reads them all into :class:`Exercise` records, and
:data:`EXERCISES` is that table for the course in use (:func:`course_tools.course.root`): the
grader, the answer key, the guide and the tests all read it, and nobody types it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Exercise", "load_exercises"]  # and EXERCISES, read when first asked for


@dataclass(frozen=True)
class Exercise:
    """An auto-graded exercise.

    Attributes:
        id: its label, e.g. ``"ex-rk4-step"``.
        chapter: the chapter number.
        points: its points (the check cell's ``grade.points``).
        answer: the names that the notebook defines and the grader scores.
        check: ``"module:function"``, the chapter's check, called with the answers in order.
        randomised: the name of the randomised comparison in :mod:`course_tools.grade.randomised`,
            or ``None`` for a typed number (its check compares a salted hash) or a measurement
            (its check repeats it).
        references: the implementations that the answer must neither be, wrap nor call:
            ``"module"`` (all of it) or ``"module:qualname"``.
        inputs: names among ``answer`` that the check reads but the learner did not write (the
            chapter's field, say): saved and passed to the check, never taken for a copy of a
            reference.
        replay: True (the default) when the check needs only what the answers return: it is
            then judged again where no student code runs, on a record of those values (see
            :mod:`course_tools.grade.observe`); False (``"replay": false`` in the metadata) when
            the check needs the live answer (it counts the answer's calls of a field, follows
            its autograd graph, or instantiates it), judged in the scoring sandbox only.
    """

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Exercise:
        """The exercise from ``dataclasses.asdict(exercise)`` (as JSON turned it back)."""
        fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in record.items()
        }
        return cls(**fields)

    id: str
    chapter: int
    points: int
    answer: tuple[str, ...]
    check: str
    randomised: str | None = None
    references: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    replay: bool = True


_CHECK_CALL = re.compile(r"\b(check_\w+)\(")


def _check_path(name: str, where: str) -> str:
    """``"ode_course.checks.<module>:<name>"`` for the check ``name`` a cell calls."""
    import ode_course.checks

    for module in ode_course.checks.CHAPTER_MODULES:
        if name in module.__all__:
            return f"{module.__name__}:{name}"
    raise ValueError(f"{where} calls {name}, which no module of ode_course.checks exports")


def exercise_of(cell: dict[str, Any], chapter: int, where: str) -> Exercise | None:
    """The auto-graded exercise declared by a check cell (None for any other cell).

    Raises:
        ValueError: the cell's ``grade`` metadata lacks ``id``, ``points`` or ``answer``, or the
            cell does not call exactly one ``check_*`` function of ``ode_course.checks``.
    """
    meta = cell.get("metadata", {}).get("grade")
    if cell.get("cell_type") != "code" or not isinstance(meta, dict) or meta.get("manual"):
        return None
    missing = [key for key in ("id", "points", "answer") if key not in meta]
    source = "".join(cell.get("source", ""))
    calls = sorted(set(_CHECK_CALL.findall(source)))
    if missing or len(calls) != 1:
        raise ValueError(
            f"{where}: a check cell needs grade metadata with id, points and answer (missing: "
            f"{missing or 'none'}) and exactly one check_* call (found: {calls}). Fix the cell's "
            "metadata or its code (see CONTRIBUTING.md, exercise cells)."
        )
    return Exercise(
        id=str(meta["id"]),
        chapter=chapter,
        points=int(meta["points"]),
        answer=tuple(meta["answer"]),
        check=_check_path(calls[0], where),
        randomised=meta.get("randomised"),
        references=tuple(meta.get("references", ())),
        inputs=tuple(meta.get("inputs", ())),
        replay=meta.get("replay", True) is not False,
    )


def load_exercises(course: str | Path | None = None) -> dict[str, Exercise]:
    """Every auto-graded exercise of the course's chapters, by label, in chapter order.

    Args:
        course: the course checkout (default: :func:`course_tools.course.root`).

    Raises:
        ValueError: a check cell is malformed (see :func:`exercise_of`), or two cells
            declare the same id.
    """
    from course_tools import course as courses
    from course_tools import notebook

    found: dict[str, Exercise] = {}
    for path in courses.chapters(course):
        chapter = int(path.name[:2])
        cells = notebook.read(path)["cells"]
        for index, cell in enumerate(cells):
            exercise = exercise_of(cell, chapter, f"{path.name}, cell {index}")
            if exercise is None:
                continue
            if exercise.id in found:
                raise ValueError(f"{path.name}: exercise id {exercise.id!r} is declared twice")
            found[exercise.id] = exercise
    return found


_LOADED: dict[Path, dict[str, Exercise]] = {}


def __getattr__(name: str) -> Any:
    """``EXERCISES``: :func:`load_exercises` of the course in use, read once per course."""
    if name == "EXERCISES":
        from course_tools import course as courses

        root = courses.root()
        if root not in _LOADED:
            _LOADED[root] = load_exercises(root)
        return _LOADED[root]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

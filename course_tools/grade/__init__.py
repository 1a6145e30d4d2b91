"""Grade submitted notebooks: run each in a fresh kernel, score its answers with our own checks.

``python -m course_tools.grade SUBMISSIONS [--chapter N] [--csv scores.csv] [--timeout S]
[--seed K]`` (also ``make grade SUBMISSIONS=path``) grades a folder of notebooks, or one. The
package reads in one file per step:

- ``exercises.py``: every auto-graded exercise (:class:`Exercise`), read from the check cells
  of the course's notebooks (:func:`load_exercises`; ``EXERCISES`` for the course in use): its
  chapter, points, the names it is graded on, its check, and the reference implementations
  that its answer must not be, wrap or call;
- ``runner.py``: executes a notebook with nbclient under a time limit, continuing past errors,
  and saves each exercise's answers with cloudpickle right after its check cell
  (``capture.py`` runs inside the kernel);
- ``scoring.py``: a fresh process that loads the answers and scores them with the chapter's
  check and a comparison on inputs drawn from the grader's seed (``randomised.py``), and
  ``references.py``, which detects an answer that is, wraps or calls a reference;
- ``grader.py``: :func:`grade_notebook`, :func:`grade_submissions` and the CSV
  (student file, exercise, points, max, message).

What a notebook prints is never read, so redefining a ``check_*`` function to print
"Correct" gains nothing; a notebook that crashes or hangs keeps what it earned before.
"""

from __future__ import annotations

from course_tools.grade import exercises, grader
from course_tools.grade.exercises import Exercise, load_exercises
from course_tools.grade.grader import (
    ExerciseScore,
    NotebookReport,
    grade_notebook,
    grade_submissions,
)

__all__ = sorted({*exercises.__all__, *grader.__all__})


def __getattr__(name: str) -> object:
    """``EXERCISES``: the exercise table of the course in use (read on first use)."""
    if name == "EXERCISES":
        return exercises.EXERCISES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

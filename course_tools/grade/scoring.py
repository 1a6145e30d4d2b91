"""Score a notebook's saved answers in a fresh process, with the grader's own checks.

Called by the ``score`` step of :mod:`course_tools.grade.steps`, in its own sandbox (never inside
the learner's kernel). For each exercise of the job it loads the saved answers, rejects an
answer that is the package's own object or refers to a reference implementation, then calls
the chapter's check (imported here, so a notebook that redefined it changes nothing) and the
randomised comparison of :mod:`course_tools.grade.randomised`, while a
``CallRecorder`` (``course_tools.grade.references``) watches for calls of the references. An
exercise scores its points only if all of that passes, and 0 otherwise, with the message that
says why. The notebook's printed output is never read.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import pickle
import signal
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from course_tools.grade import observe, randomised, references
from course_tools.grade.exercises import Exercise
from ode_course.checks.harness import CheckFailed

__all__: list[str] = []


class _OutOfTime(BaseException):
    """Raised by the alarm: a BaseException, so that the checks' ``except Exception`` lets it by."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def stop(signum: int, frame: Any) -> None:
        raise _OutOfTime

    if not hasattr(signal, "setitimer"):  # not on Windows: no limit inside the process
        yield
        return
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _load(exercise: Exercise, files: list[str]) -> tuple[dict[str, Any], str | None]:
    """The answers by name (from the first file that has each), or a message why not."""
    import cloudpickle  # noqa: F401  (needed to load)

    found: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    for path in files:
        if not Path(path).exists():
            continue
        with open(path, "rb") as f:
            saved = pickle.load(f)
        for name in exercise.answer:
            if name in found or name not in saved:
                continue
            status, payload = saved[name]
            if status == "ok":
                try:
                    found[name] = pickle.loads(payload)
                except Exception as exc:
                    reasons[name] = f"{name} could not be loaded ({type(exc).__name__}: {exc})"
            elif status == "error":
                reasons.setdefault(name, f"{name} could not be saved for grading ({payload})")
    missing = [n for n in exercise.answer if n not in found]
    if missing:
        why = [reasons.get(n, f"{n} is not defined in the notebook") for n in missing]
        return found, "; ".join(why) + "."
    return found, None


_VALUE_TYPES = (int, float, complex, bool, str, bytes, tuple, list, dict, np.ndarray, np.generic)


def _disguised(answers: dict[str, Any]) -> str | None:
    """Why an answer is not what it claims to be: a subclass of a number, string, container,
    array or tensor (which can redefine comparison to agree with anything), or None."""
    import torch

    for name, obj in answers.items():
        kind = type(obj)
        if isinstance(obj, torch.Tensor):
            plain = kind in (torch.Tensor, torch.nn.Parameter)
        elif isinstance(obj, _VALUE_TYPES):
            plain = kind in _VALUE_TYPES or kind.__module__ == "numpy"
        else:
            continue
        if not plain:
            return (
                f"{name} is a {kind.__qualname__}, a subclass of {kind.__mro__[1].__qualname__}: "
                "answers must be plain values, computed (scored 0)."
            )
    return None


def _forbidden_objects(exercise: Exercise) -> tuple[list[Any], tuple[str, ...]]:
    objects: list[Any] = []
    modules: list[str] = []
    for name in exercise.references:
        module, _, qualname = name.partition(":")
        if qualname:
            objects += references.resolve(name)[2]
        else:
            importlib.import_module(module)
            modules.append(module)
    return objects, tuple(modules)


_NAMED_OPS = {"LOAD_GLOBAL", "LOAD_ATTR", "LOAD_METHOD", "STORE_ATTR", "IMPORT_NAME", "LOAD_NAME"}
_SAME_CODE = 0.99  # instruction streams this alike are one function's code (the course's
# own solutions reach 0.95 at most: ex-straightness, against path_straightness)
_MIN_INSTRUCTIONS = 30  # shorter code (a formula or two) is alike by necessity


def _instructions(code: Any) -> tuple[tuple[str, Any], ...]:
    """The instruction stream of ``code``, with what renaming or recompiling changes taken out:
    jump offsets, local names (slots), caches, and LOAD_METHOD/LOAD_ATTR (the compiler picks
    either for ``obj.name(...)``); global and attribute names kept."""
    import dis

    stream = []
    for ins in dis.get_instructions(code):
        if ins.opname in ("CACHE", "NOP", "RESUME", "EXTENDED_ARG", "PRECALL"):
            continue
        op = "LOAD_ATTR" if ins.opname == "LOAD_METHOD" else ins.opname
        stream.append((op, ins.argval if ins.opname in _NAMED_OPS else None))
    return tuple(stream)


def _reference_bytecode(exercise: Exercise) -> list[tuple[tuple[tuple[str, Any], ...], str]]:
    """The instruction streams of the reference functions (read before the guard wraps them),
    each with the reference's name."""
    known = []
    for name in exercise.references:
        module_name, _, qualname = name.partition(":")
        module = importlib.import_module(module_name)
        for owner, attr, fn in references.reference_functions(module, qualname):
            for code in references.codes_of(fn):
                stream = _instructions(code)
                if len(stream) >= _MIN_INSTRUCTIONS:
                    known.append((stream, f"{getattr(owner, '__name__', owner)}.{attr}"))
    return known


def _bytecode_copy(
    exercise: Exercise, answers: dict[str, Any], known: list[tuple[Any, str]]
) -> str | None:
    """The reference whose compiled code an answer's function repeats, or None: a reference's
    source pasted, renamed, or read back with ``inspect.getsource`` and ``exec``'d compiles to
    the same instructions (at least :data:`_SAME_CODE` alike)."""
    import difflib

    for name, obj in answers.items():
        if name in exercise.inputs:
            continue
        for fn in references.functions_in(obj):
            for code in references.codes_of(fn):
                mine = _instructions(code)
                if len(mine) < _MIN_INSTRUCTIONS:
                    continue
                for stream, label in known:
                    matcher = difflib.SequenceMatcher(None, mine, stream, autojunk=False)
                    if matcher.real_quick_ratio() >= _SAME_CODE and matcher.ratio() >= _SAME_CODE:
                        return (
                            f"{name} is a copy of the reference {label} (the same compiled "
                            "code): the exercise asks you to write it yourself (scored 0)."
                        )
    return None


def _reference_message(
    exercise: Exercise, answers: dict[str, Any], known: list[tuple[Any, str]]
) -> str | None:
    """Why the answer is (or refers to) a reference implementation, or None."""
    copy = _bytecode_copy(exercise, answers, known)
    if copy is not None:
        return copy
    objects, modules = _forbidden_objects(exercise)
    for name, obj in answers.items():
        if name in exercise.inputs:  # the chapter's own objects, which the check only reads
            continue
        origin = references.packaged_origin(obj)
        if origin is not None and callable(obj):
            return (
                f"{name} is the package's own {origin}, not code of yours: write it yourself "
                "(scored 0)."
            )
        used = references.referenced(obj, objects, modules)
        if used is not None:
            return (
                f"{name} uses the reference implementation {used}: the exercise asks you to "
                "write it yourself (scored 0)."
            )
    return None


def _fingerprint() -> list[tuple[str, int, bytes]]:
    """What must not change while answers load: the checks' and the grader's code."""
    found = []
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if not (name.startswith("ode_course.checks") or name.startswith("course_tools.grade")):
            continue
        for attr, value in sorted(vars(module).items()):
            if isinstance(value, types.FunctionType):
                found.append((f"{name}.{attr}", id(value), value.__code__.co_code))
    return found


def _verdict(
    exercise: Exercise, answers: dict[str, Any], seed: int, limit: float
) -> tuple[bool, str, bool]:
    """Run the chapter's check and the randomised comparison on ``answers``: (passed, the
    message, whether it ran out of time)."""
    module, _, function = exercise.check.partition(":")
    # the undecorated check: an unanswered exercise raises NotAnswered (scored 0) instead of
    # printing "not answered yet" as it does in the notebook
    check = inspect.unwrap(getattr(importlib.import_module(module), function))
    printed = io.StringIO()
    try:
        with _time_limit(limit), contextlib.redirect_stdout(printed):
            check(*(answers[name] for name in exercise.answer))
            verdict = printed.getvalue().strip().splitlines()[-1] if printed.getvalue() else ""
            if exercise.randomised is not None:
                rng = np.random.default_rng(seed)
                summary = getattr(randomised, exercise.randomised)(answers, rng)
                verdict += f" Random inputs (seed {seed}): right on {summary}."
    except CheckFailed as failed:
        return False, str(failed), False
    except _OutOfTime:
        return False, f"grading took more than {limit:g} s: an endless loop?", True
    except observe.Unobservable as exc:
        return False, f"not scored: {exc} (the grader replays what the answer returns).", False
    except Exception as exc:
        return False, f"the check could not run the answer ({type(exc).__name__}: {exc}).", False
    return True, verdict or "Correct.", False


def judge_exercise(
    exercise: Exercise, record: Any, points: int, seed: int, limit: float = 60.0
) -> dict[str, Any]:
    """Judge one exercise from the record of what its answers returned (see
    :mod:`course_tools.grade.observe`), where no student code runs: the same check and
    randomised comparison as :func:`score_exercise`, with
    :class:`~course_tools.grade.observe.Replay` stand-ins for the answers."""
    row: dict[str, Any] = {"id": exercise.id, "points": 0, "max": points, "reference": False}
    try:
        answers = observe.replayed(exercise.answer, record)
    except observe.Unobservable as exc:
        row["message"] = f"not scored: {exc}."
        return row
    ok, message, _ = _verdict(exercise, answers, seed, limit)
    row.update(points=points if ok else 0, message=message)
    return row


def score_exercise(
    exercise: Exercise, files: list[str], points: int, seed: int, limit: float = 60.0
) -> dict[str, Any]:
    """Score one exercise: a dict with ``id``, ``points``, ``max``, ``message`` and flags."""
    row: dict[str, Any] = {"id": exercise.id, "points": 0, "max": points, "reference": False}
    known = _reference_bytecode(exercise)
    guard = references.ReferenceGuard(exercise.references)
    try:
        _score(row, exercise, files, points, seed, limit, guard, known)
    finally:
        guard.restore()
    return row


def _score(
    row: dict[str, Any],
    exercise: Exercise,
    files: list[str],
    points: int,
    seed: int,
    limit: float,
    guard: references.ReferenceGuard,
    known: list[tuple[Any, str]],
) -> None:
    before = _fingerprint()
    try:
        answers, missing = _load(exercise, files)
    except Exception as exc:
        answers, missing = {}, f"the saved answers could not be read ({type(exc).__name__})."
    if _fingerprint() != before:
        row["message"] = "loading the answers changed the grader's code: scored 0."
        row["reference"] = True
        return
    if missing:
        row["message"] = missing
        return
    cheat = _disguised(answers) or _reference_message(exercise, answers, known)
    if cheat:
        row.update(message=cheat, reference=True)
        return
    if exercise.replay:
        answers, row["observed"] = observe.observe(answers, exercise.inputs)
    recorder = references.CallRecorder(exercise.references)
    with recorder:
        ok, message, timed_out = _verdict(exercise, answers, seed, limit)
    row.update(points=points if ok else 0, message=message)
    # the profiler sees the guard's own wrappers as reference code too: name the references
    hits = [*guard.hits, *(h for h in recorder.hits if h not in guard.hits and "._wrap." not in h)]
    if hits:
        row.update(
            points=0,
            reference=True,
            message=f"calls the reference implementation {', '.join(hits)}: the "
            "exercise asks you to write it yourself (scored 0).",
        )
    elif recorder.tampered and not timed_out:
        row.update(
            points=0, reference=True, message="switched off the grader's call recording (scored 0)."
        )

"""What every check shares: the verdicts, running the learner's code, and naming a mistake.

A check runs in four moves, and this module holds the parts that are the same for all of them:

1. call the learner's function through :func:`call`, so that an exception inside it reads as
   feedback on the exercise ("rk4_step raised NotImplementedError: …") and not as a crash;
2. make sure an answer came back, of the right kind and shape: :func:`returned`,
   :func:`array_result`, :func:`tensor_result` and :func:`number_result`;
3. compare it with the right answer: :func:`close` for numbers (each check picks its own
   tolerance for arrays and tensors) and :func:`max_error` to say how far off it is;
4. give the verdict: :func:`passed` prints ``Correct: …`` for a right answer; a wrong one raises
   :class:`CheckFailed`, first through :func:`name_the_mistake`, which looks the answer up in the
   check's table of typical mistakes, and otherwise with the check's general message. An answer
   that is still the starter code raises :class:`NotAnswered`, which every public check
   (decorated with :func:`exercise_check`) prints ("… is not answered yet: …") without stopping
   the notebook, so that "Run all" on an untouched notebook reaches its end.

:class:`CheckFailed` and :class:`NotAnswered` are public; the chapters' check modules import the
rest.

Example:
    >>> mistakes = {"an Euler step: RK4 averages four slopes": 1.1}
    >>> try:
    ...     name_the_mistake(1.1, mistakes, close, "rk4_step takes")
    ... except CheckFailed as verdict:
    ...     print(verdict)
    rk4_step takes an Euler step: RK4 averages four slopes.
    >>> passed("16 evaluations of f.")
    Correct: 16 evaluations of f.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

import numpy as np
import torch

__all__ = ["CheckFailed", "NotAnswered"]

Answer = TypeVar("Answer")
P = ParamSpec("P")
R = TypeVar("R")


class CheckFailed(AssertionError):
    """An exercise answer is wrong; the message explains what to change.

    In Jupyter and Colab the verdict is shown alone, without the traceback through the check's
    own code (IPython displays what ``_render_traceback_`` returns instead of the traceback).
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class NotAnswered(CheckFailed):
    """The answer is still the exercise's starter code (``raise NotImplementedError``, ``None``).

    A check decorated with :func:`exercise_check` prints this verdict instead of raising it, so
    that "Run all" on an untouched notebook reaches its end; the grader calls the undecorated
    check (``inspect.unwrap``), for which an unanswered exercise still fails.
    """


def exercise_check(check: Callable[P, R]) -> Callable[P, R | None]:
    """Decorate a check: "not answered yet" is printed; a wrong answer still raises.

    Example:
        >>> @exercise_check
        ... def check_nfe(nfe):
        ...     answered(nfe, "nfe")
        ...     passed("16.")
        >>> check_nfe(None)  # doctest: +ELLIPSIS
        nfe is not answered yet: it is still None. Set it in the answer cell above this check, ...
        >>> inspect.unwrap(check_nfe) is not check_nfe
        True
    """

    @functools.wraps(check)
    def run(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return check(*args, **kwargs)
        except NotAnswered as verdict:
            print(verdict)
            return None

    return run


def passed(summary: str) -> None:
    """Print the verdict for a right answer: ``Correct: <summary>``.

    Example:
        >>> passed("4 steps of 4 stages each.")
        Correct: 4 steps of 4 stages each.
    """
    print(f"Correct: {summary}")


def close(a: float, b: float, tol: float = 1e-6) -> bool:
    """|a − b| ≤ tol · max(1, |b|): relative agreement, or absolute agreement near zero.

    Example:
        >>> close(1.0 + 1e-9, 1.0), close(1.1, 1.0)
        (True, False)
    """
    a, b = plain_number(a, "the value"), plain_number(b, "the expected value")
    return abs(a - b) <= tol * max(1.0, abs(b))


def plain_number(x: Any, name: str) -> float:
    """``x`` as a built-in float, refusing a subclass of a number that redefines arithmetic or
    comparison (an object that says it equals everything proves nothing).

    Raises:
        CheckFailed: ``x`` is not a real number of a plain type.

    Example:
        >>> plain_number(np.float64(0.5), "lr")
        0.5
    """
    plain = (int, float, np.floating, np.integer, np.bool_)
    if isinstance(x, torch.Tensor) and type(x) is torch.Tensor and x.numel() == 1:
        return float(x.item())
    if isinstance(x, bool) or not isinstance(x, plain) or type(x).__module__ not in _PLAIN_HOMES:
        raise CheckFailed(f"{name} must be a plain number; got {type(x).__qualname__} {x!r:.40}.")
    return float(x)


_PLAIN_HOMES = ("builtins", "numpy")


def max_error(got: np.ndarray | torch.Tensor, want: np.ndarray | torch.Tensor) -> float:
    """max |got − want| over all entries, for numpy arrays and torch tensors alike.

    Example:
        >>> f"{max_error(np.array([1.0, 2.5]), np.array([1.0, 2.0])):.3g}"
        '0.5'
    """
    return float(abs(got - want).max())


def name_the_mistake(
    got: Answer,
    mistakes: Mapping[str, Answer],
    same: Callable[[Answer, Answer], bool],
    lead: str = "",
) -> None:
    """Raise :class:`CheckFailed` naming the first typical mistake that gives the answer ``got``.

    Args:
        got: the learner's (wrong) answer.
        mistakes: the check's table of typical mistakes: a description of each (what was done,
            then how to fix it) mapped to the answer that mistake gives on the check's input.
        same: ``same(got, answer)`` is True when the two answers agree (with the check's
            tolerance).
        lead: the start of the message, e.g. ``"rk4_step gets"``; the message is
            ``"<lead> <description>."``.

    Returns:
        None, when no typical mistake gives ``got``: the check then raises its general message.

    Raises:
        CheckFailed: a typical mistake gives ``got``; the message names it.

    Example:
        >>> name_the_mistake(3, {"4 is the number of steps": 4}, lambda a, b: a == b)
        >>> name_the_mistake(4, {"4 is the number of steps": 4}, lambda a, b: a == b)
        Traceback (most recent call last):
            ...
        ode_course.checks.harness.CheckFailed: 4 is the number of steps.
    """
    for description, answer in mistakes.items():
        if same(got, answer):
            raise CheckFailed(" ".join(filter(None, (lead, description))) + ".")


def digest(salt: str, value: float, quantum: float = 1.0) -> str:
    """The SHA-256 of ``salt`` and round(value / quantum): a numeric answer, not in clear.

    A check that compares a typed number with the right answer stores this digest instead of
    the number, so that reading the check's source (``check_rk4_nfe??``) does not give the
    answer away; :func:`matches` compares a learner's number with it.

    Example:
        >>> digest("example", 2.5, 0.5) == digest("example", 2.4, 0.5)  # both round to 5
        True
    """
    return hashlib.sha256(f"{salt}|{round(value / quantum)}".encode()).hexdigest()


def matches(
    value: float, want: str, salt: str, quantum: float = 1.0, window: int = 0, integer: bool = False
) -> bool:
    """True if ``value`` is the answer whose :func:`digest` is ``want``.

    Args:
        value: the learner's number.
        want: the stored digest.
        salt: the salt it was made with (one per exercise).
        quantum: the rounding step of the digest.
        window: how many quanta ``value`` may be off (a tolerance of about
            ``(window + 0.5) · quantum``).
        integer: the answer is a whole number: a value with a fractional part never matches.

    Example:
        >>> matches(2.6, digest("example", 2.5, 0.1), "example", 0.1, window=1)
        True
        >>> matches(2.8, digest("example", 2.5, 0.1), "example", 0.1, window=1)
        False
    """
    value = float(value)
    if not math.isfinite(value) or (integer and not value.is_integer()):
        return False
    centre = round(value / quantum)
    return any(
        digest(salt, (centre + k) * quantum, quantum) == want for k in range(-window, window + 1)
    )


def call(fn: Callable[..., Any], name: str, *args: Any) -> Any:
    """``fn(*args)``, where an exception raised by the learner's ``fn`` becomes a verdict.

    Raises:
        CheckFailed: ``fn`` raised; the message says what it raised, under the name ``name``.

    Example:
        >>> try:
        ...     call(lambda x: 1 / x, "inverse", 0)
        ... except CheckFailed as verdict:
        ...     print(verdict)
        inverse raised ZeroDivisionError: division by zero
    """
    try:
        return fn(*args)
    except NotImplementedError as exc:  # the starter code, untouched
        raise NotAnswered(
            f"{name} is not answered yet: it still raises NotImplementedError (the starter "
            f"code). Replace that line in {_defining_cell(fn)} with your code, run that cell, "
            "then this one."
        ) from exc
    except Exception as exc:  # report the learner's error in the exercise's terms
        raise CheckFailed(f"{name} raised {type(exc).__name__}: {exc}") from exc


def answered(answer: Any, name: str) -> Any:
    """``answer``, unless it is still the starter value (``None`` or ``...``).

    Raises:
        CheckFailed: "not answered yet", for ``None`` or ``Ellipsis``.

    Example:
        >>> try:
        ...     answered(None, "nfe")
        ... except CheckFailed as verdict:
        ...     print(verdict)
        nfe is not answered yet: it is still None. Set it in the answer cell above this check, ...

    """
    if answer is None or answer is Ellipsis:
        raise NotAnswered(
            f"{name} is not answered yet: it is still {answer!r}. Set it in the answer cell "
            "above this check, run that cell, then this one."
        )
    return answer


def _defining_cell(fn: Any) -> str:
    """Where the learner wrote ``fn``: "the cell that starts `def f(x, y):`" when it can tell."""
    fn = inspect.unwrap(fn) if callable(fn) and hasattr(fn, "__wrapped__") else fn
    if inspect.isfunction(fn) and fn.__name__.isidentifier():
        try:
            return f"the cell that starts `def {fn.__name__}{inspect.signature(fn)}:`"
        except (TypeError, ValueError):
            pass
    cls = fn if inspect.isclass(fn) else type(getattr(fn, "__self__", fn))
    if not cls.__module__.startswith(("ode_course", "torch", "builtins")):
        return f"the cell that starts `class {cls.__name__}`"
    return "the exercise's answer cell (above this check)"


def number_answer(answer: Any, name: str) -> float:
    """A number the learner typed (not computed): "not answered yet" or "a number, please".

    Raises:
        CheckFailed: ``answer`` is the starter value, a string (``'16'``), a bool, or anything
            else that is not a real number.

    Example:
        >>> try:
        ...     number_answer("16", "nfe")
        ... except CheckFailed as verdict:
        ...     print(verdict)
        nfe must be a number, please: write 16 without quotes, not '16'.
        >>> number_answer(16, "nfe")
        16.0
    """
    answered(answer, name)
    if isinstance(answer, str):
        raise CheckFailed(
            f"{name} must be a number, please: write {answer.strip()} without quotes, "
            f"not {answer!r}."
        )
    if isinstance(answer, bool) or not isinstance(answer, int | float | np.number):
        one = isinstance(answer, torch.Tensor) and answer.numel() == 1
        if not (one or (isinstance(answer, np.ndarray) and answer.size == 1)):
            raise CheckFailed(f"{name} must be a number, please; got {answer!r:.60}.")
    return float(answer)


def returned(out: Any, name: str) -> Any:
    """``out``, unless the learner's function ``name`` returned nothing.

    Raises:
        CheckFailed: ``out`` is None (a forgotten ``return``).
    """
    if out is None:
        raise CheckFailed(f"{name} returned None: did you forget the return statement?")
    return out


def array_result(out: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    """``out`` as a float64 numpy array of shape ``shape``.

    Raises:
        CheckFailed: ``out`` is None or has another shape.

    Example:
        >>> array_result([1, 2], (2,), "grad")
        array([1., 2.])
    """
    result = np.asarray(returned(out, name), dtype=np.float64)
    if result.shape != shape:
        raise CheckFailed(f"{name} returned shape {result.shape}; expected {shape}.")
    return result


def tensor_result(out: Any, shape: tuple[int, ...], name: str) -> torch.Tensor:
    """``out`` if it is a torch tensor of shape ``shape``.

    Raises:
        CheckFailed: ``out`` is None, not a tensor, or has another shape (with a hint to sum
            over the extra dimensions when it has too many).
    """
    out = returned(out, name)
    if not isinstance(out, torch.Tensor):
        raise CheckFailed(f"{name} must return a torch.Tensor; got {type(out).__name__}.")
    if type(out) not in (torch.Tensor, torch.nn.Parameter):
        raise CheckFailed(
            f"{name} must return a plain torch.Tensor; got the subclass {type(out).__qualname__} "
            "(return the tensor itself)."
        )
    if tuple(out.shape) != shape:
        hint = ""
        if out.ndim > len(shape):
            hint = " Sum over the dimensions that are not the batch (e.g. .sum(dim=-1))."
        raise CheckFailed(f"{name} returned shape {tuple(out.shape)}; expected {shape}.{hint}")
    return out


def number_result(out: Any, name: str) -> float:
    """``out`` as a float.

    Raises:
        CheckFailed: ``out`` is not a number.

    Example:
        >>> number_result(np.float64(0.5), "max_stable_lr")
        0.5
    """
    if isinstance(out, float | int | np.floating | np.integer) and not isinstance(out, bool):
        return plain_number(out, f"{name}'s result")
    try:
        return float(out)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(f"{name} must return a number; got {out!r:.60}") from exc

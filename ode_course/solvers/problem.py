"""The initial-value problem dy/dt = f(t, y), y(t₀) = y₀: what a solver is given and returns.

Every solver receives the same three things, a vector field ``func(t, y)``, an initial state
``y0`` and the output times ``t``, and returns a :class:`Solution`. This module checks the three
once, before any step is taken (:func:`check_problem`), wraps the field so that each call is
counted and its result checked (:class:`CountedField`), and defines the error a solver raises
when it cannot go on (:class:`SolverError`).

Example:
    >>> t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> check_problem(lambda t, y: -y, torch.ones(2, dtype=torch.float64), t)
    [0.0, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ode_course import _validate

__all__ = ["Solution", "SolverError"]

VectorField = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Solution:
    """The result of :func:`~ode_course.solvers.solve`: the solution at the requested times and
    what it cost.

    Attributes:
        ys: the solution, shape ``(len(t), *y0.shape)``; ``ys[i]`` approximates y(t[i]).
        nfe: the number of evaluations of the vector field f.
        n_steps: the number of accepted steps.
        n_rejected: the number of rejected steps (always 0 for fixed-grid methods).
    """

    ys: torch.Tensor
    nfe: int
    n_steps: int
    n_rejected: int = 0


class SolverError(RuntimeError):
    """The solver could not continue: a non-finite state, a step size underflow, or more
    than ``max_num_steps`` steps. The message says at which time and what to try."""


def check_problem(func: Any, y0: Any, t: Any) -> list[float]:
    """Validate (func, y0, t) and return the times as Python floats.

    Raises:
        TypeError: ``func`` is not callable, ``y0`` or ``t`` is not a tensor, ``y0`` is not
            floating point, or ``t`` and ``y0`` differ in dtype.
        ValueError: ``t`` is not 1-D, holds fewer than 2 times, requires grad or is not
            strictly monotone; ``t`` and ``y0`` are on different devices; a value is not finite.
    """
    _validate.callable_(
        func, "func", fix="pass a function or torch.nn.Module f(t, y) such as lambda t, y: -y"
    )
    y0 = _validate.tensor(y0, "y0", floating=True)
    t = _validate.tensor(t, "t")
    if t.dtype != y0.dtype:
        _validate.fail(
            "t",
            f"of the dtype of y0 ({y0.dtype})",
            f"t.dtype={t.dtype}",
            "t = t.to(y0.dtype)",
            TypeError,
        )
    if t.device != y0.device:
        _validate.fail("t", f"on the device of y0 ({y0.device})", str(t.device), "t.to(y0.device)")
    _validate.shape(t, "t", "a 1-D tensor of times", t.ndim == 1, fix="t.flatten(), or linspace")
    if len(t) < 2:
        _validate.fail(
            "t",
            "a tensor of at least 2 times (the start t[0] and at least one output time)",
            f"{len(t)}",
            "e.g. t = torch.tensor([0.0, 1.0])",
        )
    if t.requires_grad:
        _validate.fail(
            "t",
            "a tensor that does not require grad (odeint differentiates the solution with "
            "respect to y0 and the parameters of func, not the times)",
            "t.requires_grad=True",
            "pass t.detach(); the derivative of y(t[i]) with respect to t[i] is "
            "func(t[i], y(t[i]))",
        )
    _validate.finite(y0, "y0")
    times = t.tolist()
    _validate.strictly_monotone(
        times,
        "t",
        fix="sort the times and drop repeats, e.g. t = torch.unique(t) (flip it to integrate "
        "backwards)",
    )
    return times


class CountedField:
    """f(t, y) called with t as a 0-d tensor like y, its output checked and its calls counted.

    Solvers work with times as Python floats; the user's field receives them as tensors of the
    state's dtype and device, as torchdiffeq passes them. ``nfe`` counts the calls.
    """

    def __init__(self, func: VectorField, y0: torch.Tensor) -> None:
        self.func, self.y0, self.nfe = func, y0, 0

    def __call__(self, t: float, y: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        dy = self.func(torch.tensor(t, dtype=self.y0.dtype, device=self.y0.device), y)
        if not isinstance(dy, torch.Tensor) or dy.shape != y.shape or dy.dtype != y.dtype:
            got = f"{dy.dtype} tensor of shape {tuple(dy.shape)}" if torch.is_tensor(dy) else dy
            raise TypeError(
                f"func(t, y) must return dy/dt as a tensor like y ({y.dtype}, shape "
                f"{tuple(y.shape)}); got {got!s:.80}. Fix: make func return a tensor of the "
                "state's shape and dtype (batched states are just extra dimensions)."
            )
        return dy


def all_finite(x: torch.Tensor) -> bool:
    """Whether every entry of x is finite. Under no_grad: torch.isfinite is built from abs(),
    which would otherwise record a node (and save x) in the autograd graph at every step."""
    with torch.no_grad():
        return bool(torch.isfinite(x).all())


def rms(x: torch.Tensor) -> float:
    """The root mean square √(mean xᵢ²) as a Python float."""
    return (torch.linalg.vector_norm(x) / math.sqrt(max(x.numel(), 1))).item()

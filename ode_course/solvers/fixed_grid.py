"""Fixed-grid Runge–Kutta solvers: Euler, the midpoint rule and the classical RK4.

A fixed-grid solver takes steps of one given length h between the output times, each step the
Runge–Kutta update y ← y + h Σᵢ bᵢ kᵢ of its tableau (``tableaux.py``). It never estimates its
error: its accuracy is set by h alone, the global error shrinking like hᵖ for a method of order
p (1, 2 and 4 here), and its cost is exactly s evaluations of f per step.

Example:
    >>> t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> RK4(step_size=0.25).integrate(lambda t, y: -y, torch.ones(1).double(), t).nfe
    16
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise
from typing import ClassVar

import torch

from ode_course import _validate
from ode_course.solvers.problem import (
    CountedField,
    Solution,
    SolverError,
    VectorField,
    all_finite,
    check_problem,
)
from ode_course.solvers.tableaux import (
    EULER,
    MIDPOINT,
    RK4_TABLEAU,
    ButcherTableau,
    combine,
    runge_kutta_stages,
)

__all__ = ["RK4", "Euler", "FixedGridSolver", "Midpoint"]


class FixedGridSolver:
    """An explicit Runge–Kutta method with fixed steps: y ← y + h Σᵢ bᵢ kᵢ.

    Between consecutive output times t[i−1] and t[i] the solver takes steps of ``step_size``
    and shortens the last one to land exactly on t[i] (so ``ys[i]`` is a step end, never an
    interpolation; if t[i] − t[i−1] is a multiple of ``step_size`` all steps are equal). A
    subclass sets ``tableau``.

    Args:
        step_size: the step length h > 0; the direction of time comes from ``t``.
        max_num_steps: the most steps allowed for one solve.

    Raises:
        ValueError: ``step_size`` is not positive and finite, or ``max_num_steps`` is not a
            positive integer.
        TypeError: ``step_size`` is not a real number.

    Example:
        >>> t = torch.tensor([0.0, 1.0], dtype=torch.float64)
        >>> solution = Euler(step_size=0.5).integrate(lambda t, y: y, torch.ones(1).double(), t)
        >>> solution.ys[-1].item(), solution.nfe  # (1 + 1/2)²
        (2.25, 2)
    """

    tableau: ClassVar[ButcherTableau]

    def __init__(self, step_size: float, max_num_steps: int = 10_000) -> None:
        fix = "pass the step length, e.g. step_size=0.01 (the direction comes from t)"
        self.step_size = _validate.positive(step_size, "step_size", fix=fix)
        self.max_num_steps = _validate.integer(max_num_steps, "max_num_steps", fix="e.g. 10_000")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(step_size={self.step_size!r})"

    def step(self, f: Callable, t: float, y: torch.Tensor, h: float) -> torch.Tensor:
        """One step from (t, y) of signed length h: returns y + h Σᵢ bᵢ kᵢ."""
        ks, _ = runge_kutta_stages(f, self.tableau, t, y, h)
        return combine(h, self.tableau.b, ks, y)

    def integrate(self, func: VectorField, y0: torch.Tensor, t: torch.Tensor) -> Solution:
        """Solve dy/dt = func(t, y), y(t[0]) = y0, at the times t.

        Args:
            func: the vector field f(t, y) → dy/dt, t a 0-d tensor, y shaped like ``y0``.
            y0: the initial state, a floating-point tensor of any shape.
            t: the output times, 1-D, strictly increasing or strictly decreasing, same dtype
                and device as ``y0``.

        Returns:
            A :class:`Solution` with ``ys`` of shape ``(len(t), *y0.shape)``.

        Raises:
            TypeError, ValueError: bad inputs (see :func:`solve`).
            SolverError: too many steps, or the state became non-finite.
        """
        times = check_problem(func, y0, t)
        f, h = CountedField(func, y0), self.step_size
        # steps per interval; the 1e-9 keeps rounding from adding a tiny extra step
        n_per_interval = [max(1, math.ceil(abs(b - a) / h - 1e-9)) for a, b in pairwise(times)]
        if sum(n_per_interval) > self.max_num_steps:
            raise SolverError(
                f"{self!r} needs {sum(n_per_interval)} steps to go from t={times[0]:g} to "
                f"t={times[-1]:g}, more than max_num_steps={self.max_num_steps}. Fix: raise "
                "max_num_steps or use a larger step_size (or an adaptive method, method='dopri5')."
            )
        ys, y = [y0], y0
        for (t_start, t_end), n in zip(pairwise(times), n_per_interval, strict=True):
            dt = math.copysign(h, t_end - t_start)
            t_now = t_start
            for i in range(1, n + 1):
                # t_start + i·dt rather than a running sum (no drift); the last step ends on t_end
                t_next = t_end if i == n else t_start + i * dt
                y = self.step(f, t_now, y, t_next - t_now)
                t_now = t_next
                if not all_finite(y):
                    raise SolverError(
                        f"the state became non-finite (inf or nan) at t={t_now:g} with {self!r}. "
                        "Fix: try a smaller step_size (explicit methods blow up when step_size "
                        "times the stiffness is too large), check func for division by zero or "
                        "log/sqrt of negative numbers, or try method='dopri5'."
                    )
            ys.append(y)
        return Solution(torch.stack(ys), nfe=f.nfe, n_steps=sum(n_per_interval))


class Euler(FixedGridSolver):
    """Explicit Euler, order 1: y ← y + h f(t, y) (a ResNet block is one Euler step)."""

    tableau = EULER


class Midpoint(FixedGridSolver):
    """The explicit midpoint rule, order 2: y ← y + h f(t + h/2, y + (h/2) f(t, y))."""

    tableau = MIDPOINT


class RK4(FixedGridSolver):
    """Classical Runge–Kutta, order 4: y ← y + h (k₁ + 2k₂ + 2k₃ + k₄)/6."""

    tableau = RK4_TABLEAU

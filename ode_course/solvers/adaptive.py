"""An adaptive Runge–Kutta solver: Dormand–Prince 5(4) with error control and dense output.

An embedded pair computes, from the same stages, a solution of order p and one of order p − 1;
their difference estimates the local error of the step. The solver accepts a step whose error
is within the tolerances, rejects it otherwise, and chooses the next step size from the error,
so that it takes long steps where the solution is smooth and short ones where it is not. The
output times are read off an interpolating polynomial, so they never shorten a step.

Example:
    >>> t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> solver = Dopri5(rtol=1e-9, atol=1e-9)
    >>> solution = solver.integrate(lambda t, y: -y, torch.ones(1, dtype=torch.float64), t)
    >>> f"{solution.ys[-1].item():.6f}", solution.n_rejected
    ('0.367879', 0)
"""

from __future__ import annotations

import math
from collections.abc import Callable
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
    rms,
)
from ode_course.solvers.tableaux import DOPRI5, ButcherTableau, combine, runge_kutta_stages

__all__ = ["AdaptiveSolver", "Dopri5"]


class AdaptiveSolver:
    """An embedded Runge–Kutta pair with step-size control and dense output.

    Each step from (t, y) with size h computes the stages kᵢ, the solution
    y_new = y + h Σ bᵢ kᵢ and the error estimate e = h Σ (bᵢ − b̂ᵢ) kᵢ, and measures it as

        err = rms(e / (atol + rtol · max(|y|, |y_new|)))

    (a mixed absolute/relative RMS norm over all entries of the state, batch included). The
    step is accepted if err ≤ 1, rejected otherwise; either way the next size is

        h ← h · min(10, max(0.2, 0.9 · err^(−1/p)))    (p = the order of the solution),

    and after an accepted step h never shrinks (torchdiffeq's rule). A non-finite trial step is
    rejected with factor 0.2. The first h comes from the algorithm of Hairer, Nørsett & Wanner
    (Solving ODEs I, §II.4). With FSAL tableaux (first same as last: the last stage is f at
    y_new) that last stage is the next step's first, so a step costs s − 1 evaluations.

    Steps are not shortened to hit the requested times (the last one may end past t[-1]): the
    solution there is read off the quartic dense-output polynomial of the step that contains
    it, written as Runge–Kutta weights, y(t + θh) ≈ y + h Σᵢ bᵢ(θ) kᵢ (see :meth:`dense_weights`).

    A subclass sets ``tableau``: an FSAL pair (the last row of a equals b) with ``b_err`` and
    ``b_mid``. The step-size constants are the class attributes ``SAFETY``, ``MIN_FACTOR`` and
    ``MAX_FACTOR``.

    Args:
        rtol: the relative tolerance, > 0.
        atol: the absolute tolerance, > 0.
        max_num_steps: the most steps (accepted plus rejected) allowed for one solve.

    Raises:
        ValueError: a tolerance is not positive and finite, or ``max_num_steps`` is not a
            positive integer.
        TypeError: a tolerance is not a real number.

    Example:
        >>> t = torch.tensor([0.0, 2.0], dtype=torch.float64)
        >>> solver = Dopri5(rtol=1e-8, atol=1e-8)
        >>> solution = solver.integrate(lambda t, y: -y, torch.ones(1, dtype=torch.float64), t)
        >>> f"{solution.ys[-1].item():.8f}"  # e^{−2}
        '0.13533528'
        >>> solution.nfe == 2 + 6 * (solution.n_steps + solution.n_rejected)  # f(t₀, y₀), h₀, FSAL
        True
    """

    tableau: ClassVar[ButcherTableau]
    SAFETY: ClassVar[float] = 0.9
    MIN_FACTOR: ClassVar[float] = 0.2
    MAX_FACTOR: ClassVar[float] = 10.0

    def __init__(
        self,
        rtol: float = 1e-7,
        atol: float = 1e-9,
        max_num_steps: int = 10_000,
        error_norm: Callable[[torch.Tensor], float] | None = None,
    ) -> None:
        self.rtol = _validate.positive(rtol, "rtol", fix="use a small number, e.g. rtol=1e-6")
        self.atol = _validate.positive(atol, "atol", fix="use a small number, e.g. atol=1e-8")
        self.max_num_steps = _validate.integer(max_num_steps, "max_num_steps", fix="e.g. 10_000")
        if error_norm is not None and not callable(error_norm):
            raise TypeError(
                f"error_norm must be a function of the scaled error vector returning a float, "
                f"or None for the RMS norm; got {type(error_norm).__name__}."
            )
        # the norm of the scaled error e / (atol + rtol·|y|) that the step control keeps ≤ 1
        self.error_norm: Callable[[torch.Tensor], float] = error_norm or rms

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rtol={self.rtol!r}, atol={self.atol!r})"

    def dense_weights(self, theta: float) -> list[float]:
        """The weights bᵢ(θ) of the dense output y(t + θh) ≈ y + h Σᵢ bᵢ(θ) kᵢ, 0 ≤ θ ≤ 1.

        The quartic p(θ) matches y and slope h·k₁ at θ = 0, y_new and slope h·kₛ at θ = 1, and
        the midpoint value y + h Σ b_midᵢ kᵢ at θ = ½ (torchdiffeq's ``_interp_fit``). All five
        are linear in the stages, so p(θ) = y + h Σᵢ bᵢ(θ) kᵢ with bᵢ(1) = bᵢ, bᵢ(½) = b_midᵢ.
        """
        tab = self.tableau
        first = [1.0 if i == 0 else 0.0 for i in range(tab.n_stages)]
        last = [1.0 if i == tab.n_stages - 1 else 0.0 for i in range(tab.n_stages)]
        th2, th3, th4 = theta**2, theta**3, theta**4
        return [
            theta * f1
            + th2 * (fs - 4 * f1 - 5 * b + 16 * m)
            + th3 * (5 * f1 - 3 * fs + 14 * b - 32 * m)
            + th4 * (2 * fs - 2 * f1 - 8 * b + 16 * m)
            for f1, fs, b, m in zip(first, last, tab.b, tab.b_mid or (), strict=True)
        ]

    def initial_step(
        self, f: Callable, t0: float, y0: torch.Tensor, f0: torch.Tensor, direction: float = 1.0
    ) -> float:
        """|h₀| from Hairer, Nørsett & Wanner (Solving ODEs I, §II.4), one evaluation of f.

        With sc = atol + rtol·|y₀|, d₀ = rms(y₀/sc), d₁ = rms(f₀/sc): a tentative step
        h₀ = 0.01·d₀/d₁ (10⁻⁶ if either is tiny), an Euler step to estimate the second derivative
        d₂ = rms((f(t₀ + h₀, y₀ + h₀f₀) − f₀)/sc)/h₀, then
        h₁ = (0.01/max(d₁, d₂))^(1/p) and h = min(100·h₀, h₁).
        """
        with torch.no_grad():
            scale = self.atol + self.rtol * y0.abs()
            d0, d1 = rms(y0 / scale), rms(f0 / scale)
            h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
            f1 = f(t0 + direction * h0, y0 + (direction * h0) * f0)
            d2 = rms((f1 - f0) / scale) / h0
            if max(d1, d2) <= 1e-15:
                h1 = max(1e-6, h0 * 1e-3)
            else:
                h1 = (0.01 / max(d1, d2)) ** (1 / self.tableau.order)
            return min(100 * h0, h1)

    def step_factor(self, err: float) -> float:
        """h_next / h = 0.9·err^(−1/p) clipped to [0.2, 10], or to [1, 10] if err ≤ 1.

        An error of 0 gives the largest growth, 10; a non-finite one the largest cut, 0.2.
        """
        if not math.isfinite(err):
            return self.MIN_FACTOR
        if err == 0:
            return self.MAX_FACTOR
        lower = 1.0 if err <= 1 else self.MIN_FACTOR  # after an accepted step h never shrinks
        return min(self.MAX_FACTOR, max(lower, self.SAFETY * err ** (-1 / self.tableau.order)))

    def attempt(
        self, f: Callable, t: float, y: torch.Tensor, f0: torch.Tensor, h: float
    ) -> tuple[torch.Tensor, list[torch.Tensor], float]:
        """One trial step: returns (y_new, the stages k₁…kₛ, err); kₛ = f(t + h, y_new)."""
        tab = self.tableau
        # FSAL: the last row of a is b, so the last stage was evaluated at y_new
        ks, y_new = runge_kutta_stages(f, tab, t, y, h, k1=f0)
        with torch.no_grad():  # the step-size control is not differentiated
            scale = torch.maximum(y.abs(), y_new.abs()).mul_(self.rtol).add_(self.atol)
            err = self.error_norm(combine(h, tab.b_err or (), ks).div_(scale))
            if not all_finite(y_new):
                err = math.nan
        return y_new, ks, err

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
            SolverError: the state became non-finite, the step size underflowed, or more than
                ``max_num_steps`` steps were needed.
        """
        times = check_problem(func, y0, t)
        f = CountedField(func, y0)
        direction = 1.0 if times[-1] > times[0] else -1.0
        t_now, y_now, f_now = times[0], y0, f(times[0], y0)
        if not all_finite(f_now):
            raise SolverError(
                f"func(t, y0) is not finite (inf or nan) at t={t_now:g}. Fix: check func at the "
                "initial state for division by zero or log/sqrt of negative numbers."
            )
        h = direction * self.initial_step(f, t_now, y_now, f_now, direction)
        err = 0.0
        ys, n_steps, n_rejected = [y0], 0, 0
        for t_out in times[1:]:
            while direction * (t_out - t_now) > 0:  # step until the last step contains t_out
                if n_steps + n_rejected >= self.max_num_steps:
                    raise SolverError(
                        f"{self!r} took max_num_steps={self.max_num_steps} steps and reached "
                        f"only t={t_now:g} on the way to t={times[-1]:g}. Fix: raise "
                        "max_num_steps, loosen rtol/atol, or, if the problem is stiff, use an "
                        "implicit solver such as scipy.integrate.solve_ivp(method='Radau')."
                    )
                if abs(h) <= 10 * math.ulp(t_now):  # t_now + h is (almost) t_now
                    raise SolverError(self._underflow_message(t_now, h, nonfinite=math.isnan(err)))
                y_new, ks, err = self.attempt(f, t_now, y_now, f_now, h)
                if err <= 1:  # accept (nan compares False: rejected)
                    step = (t_now, y_now, h, ks)  # what the dense output needs
                    t_now, y_now, f_now = t_now + h, y_new, ks[-1]
                    n_steps += 1
                else:
                    n_rejected += 1
                h *= self.step_factor(err)
            # t_out lies in the last accepted step (there is one: t_out is past t[0])
            t_start, y_start, h_step, ks_step = step
            if t_out == t_now:
                ys.append(y_now)
            else:
                weights = self.dense_weights((t_out - t_start) / h_step)
                ys.append(combine(h_step, weights, ks_step, y_start))
        return Solution(torch.stack(ys), nfe=f.nfe, n_steps=n_steps, n_rejected=n_rejected)

    def _underflow_message(self, t: float, h: float, nonfinite: bool) -> str:
        if nonfinite:
            return (
                f"the state became non-finite (inf or nan) at t={t:g} for every step size tried, "
                f"down to h={h:.3g}. Fix: check func near t={t:g} for division by zero, log or "
                "sqrt of negative numbers, or a solution that blows up in finite time (y' = y² "
                "from y(0) = 1 blows up at t = 1); integrate over a shorter interval."
            )
        return (
            f"step size underflow at t={t:g} (h={h:.3g}): no step size meets rtol={self.rtol:g}, "
            f"atol={self.atol:g}. The solution may blow up near this time, or the problem may be "
            "stiff. Fix: check func for blow-up (y' = y² from y(0) = 1 blows up at t = 1), loosen "
            "rtol/atol, or use a stiff solver such as scipy.integrate.solve_ivp(method='Radau')."
        )


class Dopri5(AdaptiveSolver):
    """Dormand–Prince 5(4) with FSAL and 4th-order dense output: 6 evaluations per step."""

    tableau = DOPRI5

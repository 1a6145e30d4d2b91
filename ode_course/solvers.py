"""ODE solvers from scratch in torch: y(t) with dy/dt = f(t, y), y(t₀) = y₀.

An explicit Runge–Kutta method with s stages advances y by one step of length h as

    kᵢ = f(t + cᵢ h, y + h Σ_{j<i} aᵢⱼ kⱼ),  i = 1, …, s,        y_new = y + h Σᵢ bᵢ kᵢ,

so a method *is* its Butcher tableau (c, a, b), stored here as data (:class:`ButcherTableau`).
Two families share that step:

- fixed-grid solvers (:class:`Euler`, :class:`Midpoint`, :class:`RK4`; orders 1, 2, 4) take
  steps of a given ``step_size``;
- the adaptive solver (:class:`Dopri5`, Dormand–Prince 5(4)) estimates each step's error from
  an embedded 4th-order solution, rejects steps whose error is too large, chooses the next
  step size from the error, and interpolates the solution at the requested times.

:func:`odeint` returns the solution tensor, as ``torchdiffeq.odeint`` does; :func:`solve`
returns a :class:`Solution` that also holds the cost: ``nfe`` (the number of evaluations of f),
``n_steps`` and ``n_rejected``. :class:`CountNFE` counts the evaluations of any vector field,
with these solvers or with torchdiffeq's. Everything is ordinary torch code, so gradients with
respect to y₀ and to the parameters of f come from autograd (discretise-then-differentiate).

Example:
    >>> f = lambda t, y: -y  # y(t) = y₀ e^{−t}
    >>> t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> y = odeint(f, torch.tensor([1.0], dtype=torch.float64), t)
    >>> f"{y[-1].item():.6f}"
    '0.367879'
    >>> solution = solve(f, torch.ones(1, dtype=torch.float64), t, method="rk4", step_size=0.1)
    >>> solution.nfe, solution.n_steps  # 4 evaluations of f per step, 10 steps
    (40, 10)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, ClassVar

import torch

__all__ = [
    "DOPRI5",
    "EULER",
    "MIDPOINT",
    "RK4",
    "RK4_TABLEAU",
    "SOLVERS",
    "AdaptiveSolver",
    "ButcherTableau",
    "CountNFE",
    "Dopri5",
    "Euler",
    "FixedGridSolver",
    "Midpoint",
    "Solution",
    "SolverError",
    "odeint",
    "solve",
]

VectorField = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


# ------------------------------------------------------------------------------------ tableaux
@dataclass(frozen=True)
class ButcherTableau:
    """The coefficients of an explicit Runge–Kutta method: kᵢ = f(t + cᵢh, y + h Σⱼ aᵢⱼ kⱼ).

    Args:
        c: the stage times cᵢ (c₁ = 0), one per stage.
        a: the lower-triangular matrix, row by row: ``a[i]`` holds aᵢⱼ for j < i
            (so ``a[0] == ()``).
        b: the weights of the solution, y_new = y + h Σᵢ bᵢ kᵢ.
        order: the order p of that solution (global error O(hᵖ)).
        b_err: for embedded pairs, bᵢ − b̂ᵢ, so that h Σᵢ (bᵢ − b̂ᵢ) kᵢ estimates the local
            error; ``None`` for methods without an error estimate.
        b_mid: for dense output, the weights of the solution at the middle of the step,
            y(t + h/2) ≈ y + h Σᵢ b_midᵢ kᵢ; ``None`` if the method has none.

    Raises:
        ValueError: the shapes do not fit (``a`` not lower triangular, or lengths differ).

    Example:
        >>> EULER.c, EULER.b, EULER.order
        ((0.0,), (1.0,), 1)
    """

    c: tuple[float, ...]
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    order: int
    b_err: tuple[float, ...] | None = None
    b_mid: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        s = len(self.c)
        if len(self.a) != s or any(len(row) != i for i, row in enumerate(self.a)):
            raise ValueError(
                f"a must be strictly lower triangular with one row per stage: row i holding i "
                f"entries; got rows of lengths {[len(row) for row in self.a]} for {s} stages"
            )
        for name in ("b", "b_err", "b_mid"):
            weights = getattr(self, name)
            if weights is not None and len(weights) != s:
                raise ValueError(f"{name} must have one weight per stage ({s}); got {len(weights)}")

    @property
    def n_stages(self) -> int:
        """s, the number of stages (evaluations of f per step, before any reuse)."""
        return len(self.c)


EULER = ButcherTableau(c=(0.0,), a=((),), b=(1.0,), order=1)
"""Explicit Euler: y_new = y + h f(t, y)."""

MIDPOINT = ButcherTableau(c=(0.0, 1 / 2), a=((), (1 / 2,)), b=(0.0, 1.0), order=2)
"""The explicit midpoint rule: y_new = y + h f(t + h/2, y + (h/2) f(t, y))."""

RK4_TABLEAU = ButcherTableau(
    c=(0.0, 1 / 2, 1 / 2, 1.0),
    a=((), (1 / 2,), (0.0, 1 / 2), (0.0, 0.0, 1.0)),
    b=(1 / 6, 1 / 3, 1 / 3, 1 / 6),
    order=4,
)
"""The classical 4th-order Runge–Kutta method."""

_DOPRI5_B = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
# The embedded 4th-order weights b̂ used by torchdiffeq. Hairer's DOPRI5 and scipy's RK45 use
# b̂ = (5179/57600, 0, 7571/16695, 393/640, −92097/339200, 187/2100, 1/40) instead: both are
# 4th order, and b − b̂ here is exactly 2/3 of theirs, so this error estimate is 2/3 as large
# and the steps are (3/2)^(1/5) ≈ 1.08 times longer for the same tolerances.
_DOPRI5_B_HAT = (1951 / 21600, 0.0, 22642 / 50085, 451 / 720, -12231 / 42400, 649 / 6300, 1 / 60)
DOPRI5 = ButcherTableau(
    c=(0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0),
    a=(
        (),
        (1 / 5,),
        (3 / 40, 9 / 40),
        (44 / 45, -56 / 15, 32 / 9),
        (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
        (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
        _DOPRI5_B[:6],  # FSAL: the 7th stage is f at the new solution
    ),
    b=_DOPRI5_B,
    order=5,
    b_err=tuple(b - b_hat for b, b_hat in zip(_DOPRI5_B, _DOPRI5_B_HAT, strict=True)),
    b_mid=tuple(
        w / 2
        for w in (
            6025192743 / 30085553152,
            0.0,
            51252292925 / 65400821598,
            -2691868925 / 45128329728,
            187940372067 / 1594534317056,
            -1776094331 / 19743644256,
            11237099 / 235043384,
        )
    ),
)
"""Dormand–Prince 5(4) (Dormand & Prince 1980): a 5th-order solution b with 7 stages, the last
evaluated at the new solution (FSAL), an embedded 4th-order solution b̂ for the error estimate
(torchdiffeq's choice, see the comment above), and Shampine's (1986) weights for the solution
at the middle of the step, used by the dense output (as in torchdiffeq)."""


# ------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class Solution:
    """The result of :func:`solve`: the solution at the requested times and what it cost.

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


# ------------------------------------------------------------------------------------ checks
def _positive_real(x: Any, name: str, fix: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"{name} must be a real number; got {type(x).__name__} {x!r:.60}. Fix: {fix}."
        )
    x = float(x)
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be positive and finite; got {name}={x:g}. Fix: {fix}.")
    return x


def _positive_int(n: Any, name: str, fix: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be a positive integer; got {name}={n!r}. Fix: {fix}.")
    return int(n)


def _check_problem(func: Any, y0: Any, t: Any) -> list[float]:
    """Validate (func, y0, t) and return the times as Python floats."""
    if not callable(func):
        raise TypeError(
            f"func must be callable as func(t, y) and return dy/dt; got {type(func).__name__}. "
            "Fix: pass a function or torch.nn.Module such as lambda t, y: -y."
        )
    for name, x in (("y0", y0), ("t", t)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f"{name} must be a torch.Tensor; got {type(x).__name__}. "
                f"Fix: {name} = torch.tensor({name}, dtype=torch.float64)."
            )
    if not y0.is_floating_point():
        raise TypeError(
            f"y0 must have a floating-point dtype; got {y0.dtype}. "
            "Fix: y0 = y0.to(torch.float64) (or torch.float32)."
        )
    if t.dtype != y0.dtype:
        raise TypeError(
            f"t and y0 must have the same dtype; got t.dtype={t.dtype} and y0.dtype={y0.dtype}. "
            "Fix: t = t.to(y0.dtype)."
        )
    if t.device != y0.device:
        raise ValueError(
            f"t and y0 must be on the same device; got t on {t.device} and y0 on {y0.device}. "
            "Fix: t = t.to(y0.device)."
        )
    if t.ndim != 1:
        raise ValueError(
            f"t must be a 1-D tensor of times; got shape {tuple(t.shape)}. "
            "Fix: t = t.flatten(), or torch.linspace(t0, t1, n)."
        )
    if len(t) < 2:
        raise ValueError(
            f"t must hold at least 2 times (the start t[0] and at least one output time); got "
            f"{len(t)}. Fix: e.g. t = torch.tensor([0.0, 1.0])."
        )
    if t.requires_grad:
        raise ValueError(
            "t must not require grad: odeint differentiates the solution with respect to y0 and "
            "the parameters of func, not the times. Fix: pass t.detach() "
            "(the derivative of y(t[i]) with respect to t[i] is func(t[i], y(t[i])))."
        )
    if not _all_finite(y0):
        raise ValueError("y0 must be finite; it holds inf or nan. Fix: check how y0 was computed.")
    times = t.tolist()
    if not all(math.isfinite(ti) for ti in times):
        raise ValueError(f"t must be finite; got t={times}. Fix: remove inf/nan times.")
    increasing = times[1] > times[0]
    for i in range(1, len(times)):
        if (times[i] > times[i - 1]) != increasing or times[i] == times[i - 1]:
            raise ValueError(
                f"t must be strictly increasing or decreasing; got t[{i}]={times[i]:g} after "
                f"t[{i - 1}]={times[i - 1]:g}. Fix: sort the times and drop repeats, e.g. "
                "t = torch.unique(t) (flip it to integrate backwards)."
            )
    return times


class _Field:
    """f(t, y) called with t as a 0-d tensor like y, its output checked and its calls counted."""

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


def _combine(h: float, weights: Sequence[float], ks: Sequence[torch.Tensor], y=None):
    """y + h Σⱼ wⱼ kⱼ (or h Σⱼ wⱼ kⱼ when y is None), one fused multiply–add per stage."""
    total = y
    for w, k in zip(weights, ks, strict=True):
        if w != 0:
            total = k * (h * w) if total is None else torch.add(total, k, alpha=h * w)
    return total


def _all_finite(x: torch.Tensor) -> bool:
    """Whether every entry of x is finite. Under no_grad: torch.isfinite is built from abs(),
    which would otherwise record a node (and save x) in the autograd graph at every step."""
    with torch.no_grad():
        return bool(torch.isfinite(x).all())


def _rms(x: torch.Tensor) -> float:
    """The root mean square √(mean xᵢ²) as a Python float."""
    return (torch.linalg.vector_norm(x) / math.sqrt(max(x.numel(), 1))).item()


# ------------------------------------------------------------------------------------ fixed grid
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
        self.step_size = _positive_real(step_size, "step_size", fix)
        self.max_num_steps = _positive_int(max_num_steps, "max_num_steps", "e.g. 10_000")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(step_size={self.step_size!r})"

    def step(self, f: Callable, t: float, y: torch.Tensor, h: float) -> torch.Tensor:
        """One step from (t, y) of signed length h: returns y + h Σᵢ bᵢ kᵢ."""
        tab = self.tableau
        ks = [f(t, y)]
        for c_i, a_i in zip(tab.c[1:], tab.a[1:], strict=True):
            ks.append(f(t + c_i * h, _combine(h, a_i, ks, y)))
        return _combine(h, tab.b, ks, y)

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
        times = _check_problem(func, y0, t)
        f, h = _Field(func, y0), self.step_size
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
                if not _all_finite(y):
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


# ------------------------------------------------------------------------------------ adaptive
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

    def __init__(self, rtol: float = 1e-7, atol: float = 1e-9, max_num_steps: int = 10_000) -> None:
        self.rtol = _positive_real(rtol, "rtol", "use a small positive number, e.g. rtol=1e-6")
        self.atol = _positive_real(atol, "atol", "use a small positive number, e.g. atol=1e-8")
        self.max_num_steps = _positive_int(max_num_steps, "max_num_steps", "e.g. 10_000")

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
            for f1, fs, b, m in zip(first, last, tab.b, tab.b_mid, strict=True)
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
            d0, d1 = _rms(y0 / scale), _rms(f0 / scale)
            h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
            f1 = f(t0 + direction * h0, y0 + (direction * h0) * f0)
            d2 = _rms((f1 - f0) / scale) / h0
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
        ks = [f0]
        for c_i, a_i in zip(tab.c[1:], tab.a[1:], strict=True):
            y_i = _combine(h, a_i, ks, y)
            ks.append(f(t + c_i * h, y_i))
        y_new = y_i  # FSAL: the last row of a is b, so the last stage was evaluated at y_new
        with torch.no_grad():  # the step-size control is not differentiated
            scale = torch.maximum(y.abs(), y_new.abs()).mul_(self.rtol).add_(self.atol)
            err = _rms(_combine(h, tab.b_err, ks).div_(scale))
            if not _all_finite(y_new):
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
        times = _check_problem(func, y0, t)
        f = _Field(func, y0)
        direction = 1.0 if times[-1] > times[0] else -1.0
        t_now, y_now, f_now = times[0], y0, f(times[0], y0)
        if not _all_finite(f_now):
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
                ys.append(_combine(h_step, weights, ks_step, y_start))
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


SOLVERS: dict[str, type[FixedGridSolver] | type[AdaptiveSolver]] = {
    "euler": Euler,
    "midpoint": Midpoint,
    "rk4": RK4,
    "dopri5": Dopri5,
}
"""The solvers by name, as ``method=`` takes them."""


# ------------------------------------------------------------------------------------ entry points
def solve(
    func: VectorField,
    y0: torch.Tensor,
    t: torch.Tensor,
    *,
    method: str = "dopri5",
    rtol: float = 1e-7,
    atol: float = 1e-9,
    step_size: float | None = None,
    max_num_steps: int = 10_000,
) -> Solution:
    """Solve dy/dt = func(t, y), y(t[0]) = y0 at the times t, and report the cost.

    Args:
        func: the vector field f(t, y) → dy/dt (a function or ``torch.nn.Module``); t is a
            0-d tensor like y0, y has the shape of ``y0``, and so must the result.
        y0: the initial state, a floating-point tensor of any shape (a batch of states is just
            extra dimensions: shape ``(B, D)`` solves B systems at once).
        t: 1-D tensor of output times, strictly increasing or strictly decreasing (to integrate
            backwards), with the dtype and device of ``y0``; t[0] is the initial time.
        method: one of ``SOLVERS``: ``"euler"``, ``"midpoint"``, ``"rk4"`` (fixed grid) or
            ``"dopri5"`` (adaptive).
        rtol: relative tolerance of ``"dopri5"`` (ignored by fixed-grid methods).
        atol: absolute tolerance of ``"dopri5"`` (ignored by fixed-grid methods).
        step_size: the step length of the fixed-grid methods (required by them, and an error
            with ``"dopri5"``, which chooses its own steps).
        max_num_steps: the most steps allowed (for ``"dopri5"``: accepted plus rejected).

    Returns:
        A :class:`Solution`: ``ys`` of shape ``(len(t), *y0.shape)`` with ``ys[0]`` equal to
        ``y0``, ``nfe`` (evaluations of func), ``n_steps`` and ``n_rejected``. ``ys`` is
        differentiable by autograd with respect to ``y0`` and the parameters of ``func``.

    Raises:
        TypeError: ``func`` is not callable, ``y0`` or ``t`` is not a tensor, ``y0`` is not
            floating point, ``t`` and ``y0`` differ in dtype, or func returns the wrong shape.
        ValueError: ``t`` is not 1-D, has fewer than 2 times, is not strictly monotone, or
            requires grad; ``t`` and ``y0`` are on different devices; an unknown ``method``;
            a missing or non-positive ``step_size``; a non-positive ``rtol``/``atol``.
        SolverError: (a RuntimeError) the state became non-finite, the step size underflowed,
            or more than ``max_num_steps`` steps were needed.

    Example:
        >>> f = lambda t, y: torch.stack([y[1], -y[0]])  # a rotation: y = (sin t, cos t)
        >>> t = torch.tensor([0.0, math.pi / 2], dtype=torch.float64)
        >>> solution = solve(f, torch.tensor([0.0, 1.0], dtype=torch.float64), t, rtol=1e-9)
        >>> [f"{v:.6f}" for v in solution.ys[-1].abs().tolist()], solution.nfe
        (['1.000000', '0.000000'], 134)
    """
    if not isinstance(method, str) or method not in SOLVERS:
        raise ValueError(
            f"method must be one of {', '.join(map(repr, SOLVERS))}; got method={method!r}. "
            "Fix: e.g. method='dopri5' (adaptive) or method='rk4' with a step_size."
        )
    cls = SOLVERS[method]
    if issubclass(cls, FixedGridSolver):
        if step_size is None:
            raise ValueError(
                f"method={method!r} is a fixed-grid method and needs step_size; got "
                "step_size=None. Fix: pass e.g. step_size=0.01 (smaller is more accurate), or "
                "use method='dopri5', which chooses its steps from rtol and atol."
            )
        solver = cls(step_size=step_size, max_num_steps=max_num_steps)
    else:
        if step_size is not None:
            raise ValueError(
                f"step_size is only used by the fixed-grid methods; method={method!r} chooses "
                f"its own steps from rtol and atol; got step_size={step_size!r}. Fix: drop "
                "step_size, or use method='euler', 'midpoint' or 'rk4'."
            )
        solver = cls(rtol=rtol, atol=atol, max_num_steps=max_num_steps)
    return solver.integrate(func, y0, t)


def odeint(
    func: VectorField,
    y0: torch.Tensor,
    t: torch.Tensor,
    *,
    method: str = "dopri5",
    rtol: float = 1e-7,
    atol: float = 1e-9,
    step_size: float | None = None,
    max_num_steps: int = 10_000,
) -> torch.Tensor:
    """The solution y(t[i]) of dy/dt = func(t, y), y(t[0]) = y0, shape ``(len(t), *y0.shape)``.

    The same as :func:`solve` (see it for the arguments and errors) but returns only the
    tensor, like ``torchdiffeq.odeint``. To get the number of function evaluations, call
    :func:`solve` and read ``.nfe``, or wrap the vector field in :class:`CountNFE`.

    Example:
        >>> y0 = torch.tensor([1.0, 2.0])
        >>> ys = odeint(lambda t, y: -y, y0, torch.linspace(0, 1, 5), method="rk4", step_size=0.1)
        >>> tuple(ys.shape), torch.equal(ys[0], y0), ys.dtype
        ((5, 2), True, torch.float32)
    """
    return solve(
        func,
        y0,
        t,
        method=method,
        rtol=rtol,
        atol=atol,
        step_size=step_size,
        max_num_steps=max_num_steps,
    ).ys


class CountNFE(torch.nn.Module):
    """A vector field f(t, y) that counts its calls in ``.nfe``: works with any solver.

    Wrap a ``torch.nn.Module`` (its parameters stay visible through this module) or a plain
    callable, solve with :func:`odeint` or ``torchdiffeq.odeint``, then read ``.nfe``;
    :meth:`reset` sets it back to 0.

    Args:
        func: the vector field f(t, y) → dy/dt.

    Raises:
        TypeError: ``func`` is not callable.

    Example:
        >>> f = CountNFE(lambda t, y: -y)
        >>> t = torch.tensor([0.0, 1.0])
        >>> _ = odeint(f, torch.ones(3), t, method="midpoint", step_size=0.25)
        >>> f.nfe  # 4 steps of 2 evaluations
        8
        >>> f.reset(); f.nfe
        0
    """

    def __init__(self, func: VectorField) -> None:
        super().__init__()
        if not callable(func):
            raise TypeError(
                f"func must be callable as func(t, y); got {type(func).__name__}. "
                "Fix: pass a function or torch.nn.Module."
            )
        self.func = func
        self.nfe = 0

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Count one evaluation and return func(t, y)."""
        self.nfe += 1
        return self.func(t, y)

    def reset(self) -> None:
        """Set the count back to 0."""
        self.nfe = 0

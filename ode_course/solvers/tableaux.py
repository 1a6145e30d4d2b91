"""Butcher tableaux: an explicit Runge–Kutta method as data, and the step they all share.

An explicit Runge–Kutta method with s stages advances y by one step of length h as

    kᵢ = f(t + cᵢ h, y + h Σ_{j<i} aᵢⱼ kⱼ),  i = 1, …, s,        y_new = y + h Σᵢ bᵢ kᵢ,

so a method *is* its table of coefficients (c, a, b). :class:`ButcherTableau` holds them and
checks that they are consistent; :func:`runge_kutta_stages` evaluates the stages of any tableau;
:func:`combine` forms y + h Σ wᵢ kᵢ. The fixed-grid solvers (``fixed_grid.py``) and the adaptive
one (``adaptive.py``) are both built on these two functions.

Example:
    >>> RK4_TABLEAU.n_stages, RK4_TABLEAU.order, math.isclose(sum(RK4_TABLEAU.b), 1.0)
    (4, 4, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

__all__ = ["DOPRI5", "EULER", "HEUN", "MIDPOINT", "RK4_TABLEAU", "ButcherTableau"]

_TOL = 1e-12  # the coefficients are fractions stored as floats: exact to about 1e-16


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

    The tableau checks its own consistency: the shapes fit, each row of ``a`` sums to its
    stage time (Σⱼ aᵢⱼ = cᵢ), the weights sum to one (Σᵢ bᵢ = 1), the error weights to zero
    (Σᵢ (bᵢ − b̂ᵢ) = 0) and the midpoint weights to one half.

    Raises:
        ValueError: the shapes do not fit, or a consistency condition fails; the message names
            the failing row or weight vector.

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
                "a must be strictly lower triangular with one row per stage, row i holding i "
                f"entries; got rows of lengths {[len(row) for row in self.a]} for {s} stages. "
                "Fix: a[0] == (), a[1] == (a21,), a[2] == (a31, a32), and so on."
            )
        for name in ("b", "b_err", "b_mid"):
            weights = getattr(self, name)
            if weights is not None and len(weights) != s:
                raise ValueError(
                    f"{name} must have one weight per stage ({s}); got {len(weights)}. "
                    f"Fix: give {name} exactly {s} entries (zeros where a stage is unused)."
                )
        # consistency: each stage sits where its row points, and the weights integrate exactly
        for i, (c_i, row) in enumerate(zip(self.c, self.a, strict=True)):
            if not math.isclose(sum(row), c_i, rel_tol=0, abs_tol=_TOL):
                raise ValueError(
                    f"row {i} of a must sum to c[{i}] = {c_i:g} (each stage is evaluated at "
                    f"t + c_i h, where the row's combination of slopes lands); got sum(a[{i}]) = "
                    f"{sum(row):.12g}. Fix: correct row {i} of a or c[{i}]."
                )
        checks: list[tuple[str, tuple[float, ...] | None, float, str]] = [
            ("b", self.b, 1.0, "a step of y' = 1 must advance y by h"),
            ("b_err", self.b_err, 0.0, "b and b̂ must both be consistent"),
            ("b_mid", self.b_mid, 0.5, "half a step of y' = 1 advances y by h/2"),
        ]
        for name, weights, total, why in checks:
            if weights is not None and not math.isclose(sum(weights), total, abs_tol=_TOL):
                raise ValueError(
                    f"{name} must sum to {total:g} ({why}); got sum({name}) = "
                    f"{sum(weights):.12g}. Fix: correct the weights of {name}."
                )

    @property
    def n_stages(self) -> int:
        """s, the number of stages (evaluations of f per step, before any reuse)."""
        return len(self.c)


EULER = ButcherTableau(c=(0.0,), a=((),), b=(1.0,), order=1)
"""Explicit Euler: y_new = y + h f(t, y)."""

MIDPOINT = ButcherTableau(c=(0.0, 1 / 2), a=((), (1 / 2,)), b=(0.0, 1.0), order=2)
"""The explicit midpoint rule: y_new = y + h f(t + h/2, y + (h/2) f(t, y))."""

HEUN = ButcherTableau(c=(0.0, 1.0), a=((), (1.0,)), b=(1 / 2, 1 / 2), order=2)
"""Heun's method (the explicit trapezoidal rule):
y_new = y + (h/2) (f(t, y) + f(t + h, y + h f(t, y)))."""

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


def combine(
    h: float, weights: Sequence[float], ks: Sequence[torch.Tensor], y: torch.Tensor | None = None
) -> torch.Tensor:
    """y + h Σⱼ wⱼ kⱼ (or h Σⱼ wⱼ kⱼ when y is None), one fused multiply–add per stage.

    Zero weights are skipped, so a sparse tableau costs no extra arithmetic.

    Example:
        >>> ks = [torch.tensor([1.0]), torch.tensor([2.0])]
        >>> combine(0.5, (1.0, 0.5), ks, torch.tensor([10.0])).item()  # 10 + 0.5·(1 + 1)
        11.0
    """
    total = y
    for w, k in zip(weights, ks, strict=True):
        if w != 0:
            total = k * (h * w) if total is None else torch.add(total, k, alpha=h * w)
    if total is None:
        raise ValueError(
            "weights must hold at least one non-zero entry when y is None; got all zeros. "
            "Fix: pass the tableau's b or b_err, or pass y."
        )
    return total


def runge_kutta_stages(
    f: Callable[[float, torch.Tensor], torch.Tensor],
    tableau: ButcherTableau,
    t: float,
    y: torch.Tensor,
    h: float,
    k1: torch.Tensor | None = None,
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The stages k₁ … kₛ of one step from (t, y) of signed length h, and the last stage's state.

    kᵢ = f(t + cᵢ h, yᵢ) with yᵢ = y + h Σ_{j<i} aᵢⱼ kⱼ. Returns ``(ks, y_s)``, where ``y_s`` is
    the state the last stage was evaluated at: for a first-same-as-last (FSAL) tableau, whose last
    row of a is b, that is already the new solution. Pass ``k1`` = f(t, y) when it is known (the
    FSAL stage of the previous step), to save one evaluation.

    Example:
        >>> ks, _ = runge_kutta_stages(lambda t, y: y, EULER, 0.0, torch.tensor([2.0]), 0.1)
        >>> [k.item() for k in ks]
        [2.0]
    """
    ks, y_i = [f(t, y) if k1 is None else k1], y
    for c_i, a_i in zip(tableau.c[1:], tableau.a[1:], strict=True):
        y_i = combine(h, a_i, ks, y)
        ks.append(f(t + c_i * h, y_i))
    return ks, y_i

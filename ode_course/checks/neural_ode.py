"""Chapter 5 (neural ODEs): one RK4 step, its cost in evaluations of f, and an ODE-Net's size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ode_course.checks.harness import (
    CheckFailed,
    answered,
    call,
    exercise_check,
    matches,
    name_the_mistake,
    number_answer,
    passed,
)
from ode_course.solvers import RK4

__all__ = ["check_odefunc_parameters", "check_rk4_nfe", "check_rk4_step"]

Field = Callable[[float, torch.Tensor], torch.Tensor]


def _equal(a: Any, b: Any) -> bool:
    return bool(a == b)


# The numeric answers, as salted digests (ode_course.checks.harness.digest), not in clear.
_RK4_NFE = "ecb5011a36ac3011963372002f85a8997b8406e730dbd0f006751e9a451a656c"
_ODEFUNC_PARAMETERS = "c088c2e1d696bc8c567852e5788c86b26a8aa077190dbbec10ab6e75a0ad8159"


@exercise_check
def check_rk4_step(rk4_step: Callable[[Field, float, torch.Tensor, float], torch.Tensor]) -> None:
    """``rk4_step(f, t, y, h)`` returns y + h/6 (k₁ + 2k₂ + 2k₃ + k₄).

    k₁ = f(t, y), k₂ = f(t + h/2, y + h/2 k₁), k₃ = f(t + h/2, y + h/2 k₂), k₄ = f(t + h, y + h k₃).
    The check compares one step on a time-dependent linear system with the package's RK4. On a
    wrong answer it reports the times at which the learner's step evaluated f, when they are not
    the stage times t, t + h/2, t + h/2, t + h, and otherwise names the typical slip (k₁ used in
    k₃, the weights, a missing h, an Euler step).

    Args:
        rk4_step: the learner's step of the classical Runge–Kutta method.

    Raises:
        CheckFailed: the step is wrong; the message names the likely slip.

    Example:
        >>> try:
        ...     check_rk4_step(lambda f, t, y, h: y + h * f(t, y))
        ... except CheckFailed as verdict:
        ...     print(verdict)
        rk4_step gets an Euler step, y + h f(t, y); RK4 averages four slopes.
    """
    A = torch.tensor([[-0.5, 1.0], [-1.0, -0.2]], dtype=torch.float64)

    def f(t: float | torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (y @ A.T) * (1.0 + t)

    y, t, h = torch.tensor([1.0, 0.5], dtype=torch.float64), 0.3, 0.2
    times_called: list[float] = []

    def recorded(s: float | torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        times_called.append(float(s))
        return f(s, z)

    out = call(rk4_step, "rk4_step", recorded, t, y.clone(), h)
    if not isinstance(out, torch.Tensor) or out.shape != y.shape:
        raise CheckFailed(
            f"rk4_step must return a tensor shaped like y {tuple(y.shape)}; got {out!r:.60}"
        )
    times = torch.tensor([t, t + h], dtype=torch.float64)
    want = RK4(step_size=h).integrate(f, y, times).ys[-1]

    def same(a: torch.Tensor, b: torch.Tensor) -> bool:
        return torch.allclose(a, b, rtol=1e-12, atol=1e-14)

    if same(out, want):
        passed("one step of your RK4 equals ode_course.solvers.RK4 to 12 digits.")
        return
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k2)
    k4 = f(t + h, y + h * k3)
    if len(times_called) == 4 and not np.allclose(
        times_called, [t, t + h / 2, t + h / 2, t + h], rtol=0, atol=1e-12
    ):
        if np.allclose(times_called, [t, t + h / 2, t + h / 2, t + h / 2], rtol=0, atol=1e-12):
            raise CheckFailed(
                "rk4_step evaluates k₄ at t + h/2, with h/2: the last stage is at the end of the "
                "step, k₄ = f(t + h, y + h k₃)."
            )
        shown = ", ".join(_offset(s - t, h) for s in times_called)
        raise CheckFailed(
            f"rk4_step evaluates f at t + ({shown}); the stages are at t + (0, h/2, h/2, h): "
            "k₂ and k₃ at the midpoint t + h/2, k₄ at the end t + h."
        )
    mistakes = {
        "k₁ in k₃: the third stage starts from y + h/2 k₂, not y + h/2 k₁": y
        + h / 6 * (k1 + 2 * k2 + 2 * k2 + f(t + h, y + h * k2)),
        "the weights: use (k₁ + 2k₂ + 2k₃ + k₄)/6": y + h * (k1 + k2 + k3 + k4) / 4,
        "the weights without their 2s: the midpoint slopes k₂ and k₃ count twice, "
        "(k₁ + 2k₂ + 2k₃ + k₄)/6": y + h * (k1 + k2 + k3 + k4) / 6,
        "k₄ from y + h/2 k₃: the last stage starts from the full step, y + h k₃": y
        + h / 6 * (k1 + 2 * k2 + 2 * k3 + f(t + h, y + h / 2 * k3)),
        "the step: multiply the weighted slope by h": y + (k1 + 2 * k2 + 2 * k3 + k4) / 6,
        "an Euler step, y + h f(t, y); RK4 averages four slopes": y + h * k1,
    }
    name_the_mistake(out, mistakes, same, "rk4_step gets")
    calls = "" if len(times_called) == 4 else f" (it calls f {len(times_called)} times, RK4 four)"
    raise CheckFailed(f"rk4_step returns {out.tolist()}, expected {want.tolist()}{calls}.")


def _offset(d: float, h: float) -> str:
    """A stage time's offset from t, in units of h: "0", "h/2", "h", or "0.3h"."""
    names = {0.0: "0", 0.5: "h/2", 1.0: "h"}
    ratio = round(d / h, 9)
    return names.get(ratio, f"{ratio:.3g}h")


@exercise_check
def check_rk4_nfe(nfe: Any) -> None:
    """The number of evaluations of f by RK4 over [0, 1] with step 0.25.

    Args:
        nfe: the learner's count (``None`` until answered).

    Raises:
        CheckFailed: not answered yet, not a number, or the number is wrong; the message says
            how to count.

    Example:
        >>> try:
        ...     check_rk4_nfe(4)
        ... except CheckFailed as verdict:
        ...     print(verdict)
        4 is the number of steps; each RK4 step evaluates f four times.
    """
    count = number_answer(nfe, "rk4_nfe")
    if matches(count, _RK4_NFE, "rk4_nfe", integer=True):
        passed("steps times stages per step, and RK4 shares no stage between steps.")
        return
    mistakes = {
        "4 is the number of steps; each RK4 step evaluates f four times": 4,
        "RK4 does not reuse the last stage (no FSAL): count 4 evaluations per step": 5,
        "the start is not evaluated separately: k₁ of the first step is f(t₀, y₀)": 17,
    }
    name_the_mistake(count, mistakes, _equal)
    raise CheckFailed(f"{nfe} is not right: count steps × stages per step.")


@exercise_check
def check_odefunc_parameters(n_params: int) -> None:
    """The number of trainable parameters of ``ODEFunc(dim=64, hidden=64)``.

    The vector field is Linear(64 + 1, 64) → tanh → Linear(64, 64): the first layer also reads
    the time t. Each Linear(n_in, n_out) has n_in·n_out weights and n_out biases.

    Args:
        n_params: the learner's count.

    Raises:
        CheckFailed: the number is wrong; the message names the likely slip.

    Example:
        >>> try:
        ...     check_odefunc_parameters(65 * 64 + 64 * 64)
        ... except CheckFailed as verdict:
        ...     print(verdict)
        the biases are missing: each Linear(n_in, n_out) adds n_out of them.
    """
    answered(n_params, "n_params")
    if not isinstance(n_params, int | np.integer) or isinstance(n_params, bool):
        raise CheckFailed(
            "give the count as an integer, e.g. check_odefunc_parameters(1234); "
            f"got {n_params!r:.60}"
        )
    count = int(n_params)

    def right(value: float) -> bool:
        return matches(value, _ODEFUNC_PARAMETERS, "odefunc_parameters", integer=True)

    if right(count):
        passed("weights and biases of both layers, and the same count whatever the depth.")
        return
    mistakes = {
        "that is a ResBlock(64, 64): ODEFunc's first layer also reads t, so it has 65 inputs": (
            (64 * 64 + 64) * 2
        ),
        "the biases are missing: each Linear(n_in, n_out) adds n_out of them": 65 * 64 + 64 * 64,
    }
    name_the_mistake(count, mistakes, _equal)
    multiples = {
        "an ODE block has one vector field, shared by every step: do not multiply by the "
        "number of steps or blocks": 6,
        "an ODE block has one vector field, shared by every evaluation: do not multiply by "
        "the NFE": 16,
    }
    # a count that is the answer times the factor (compared through the digest)
    name_the_mistake(
        count, multiples, lambda got, factor: got % factor == 0 and right(got // factor)
    )
    raise CheckFailed(f"{n_params} is not right: add up weights and biases of both layers.")

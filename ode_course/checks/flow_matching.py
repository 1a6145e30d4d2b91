"""Chapter 9 (flow matching): the conditional target velocity, an Euler sampler, straightness."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

from ode_course.checks.harness import (
    CheckFailed,
    call,
    exercise_check,
    max_error,
    name_the_mistake,
    passed,
    returned,
    tensor_result,
)
from ode_course.flow_matching.straightness import path_straightness

__all__ = ["check_conditional_velocity", "check_euler_sampler", "check_straightness"]

F64 = torch.float64


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and torch.allclose(a, b, rtol=1e-9, atol=1e-11)
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))


def _takes_time(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` takes a third positional argument (the time t)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return True
    return sum(p.kind in kinds for p in parameters) >= 3


@exercise_check
def check_conditional_velocity(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(x0, x1)`` returns the velocity of the straight path x_t = (1 − t) x₀ + t x₁.

    x0 and x1 have shape (N, D); the answer has shape (N, D), one velocity per pair. A
    function of three arguments is called as ``fn(x0, x1, t)`` with t of shape (N, 1). The
    check compares with :func:`ode_course.flow_matching.conditional_velocity` on random pairs.

    Args:
        fn: the learner's target velocity.

    Raises:
        CheckFailed: a wrong value or shape, or an input changed in place; the message names
            the typical slip (the sign, the point x_t instead of its velocity, a factor t, ...).

    Example:
        >>> check_conditional_velocity(lambda x0, x1: x1 - x0)
        Correct: right for every pair of points tried, at every time.
    """
    gen = torch.Generator().manual_seed(19)
    n, d = 6, 3
    x0 = torch.randn(n, d, dtype=F64, generator=gen)
    x1 = 2.0 + torch.randn(n, d, dtype=F64, generator=gen)
    t = torch.rand(n, 1, dtype=F64, generator=gen) * 0.8 + 0.1
    with_time = _takes_time(fn)
    args = (x0.clone(), x1.clone(), t.clone()) if with_time else (x0.clone(), x1.clone())
    out = tensor_result(call(fn, "the target velocity", *args), (n, d), "the target velocity")
    if not (torch.equal(args[0], x0) and torch.equal(args[1], x1)):
        raise CheckFailed(
            "the target velocity changes x0 or x1 in place (e.g. x1 -= x0): compute a new "
            "tensor, since the training loop uses the batch again."
        )
    out = out.detach().to(F64)
    want = x1 - x0
    if _same(out, want):
        passed("right for every pair of points tried, at every time.")
        return
    x_t = (1 - t) * x0 + t * x1
    mistakes = {
        "x₀ − x₁: the path runs from x₀ at t = 0 to x₁ at t = 1, so its velocity points "
        "towards x₁": x0 - x1,
        "x₁, the end point: the velocity is the change of position per unit time, so "
        "subtract where the path starts": x1,
        "x₁ + x₀: differentiate (1 − t) x₀ with respect to t (the sign of x₀)": x1 + x0,
        "(x₁ − x₀)/2, half the displacement: the path covers all of it in one unit of time": (
            x1 - x0
        )
        / 2,
    }
    if with_time:
        mistakes |= {
            "x_t, the point on the path: the target is its velocity, the derivative of x_t "
            "with respect to t": x_t,
            "t (x₁ − x₀), the displacement up to time t: differentiate x_t with respect to t": t
            * (x1 - x0),
            "x₁ − x_t, the displacement still to go: it is covered in the time 1 − t that "
            "is left": x1 - x_t,
        }
    name_the_mistake(out, mistakes, _same, "the target velocity returns")
    raise CheckFailed(
        "the target velocity is not the derivative of x_t = (1 − t) x₀ + t x₁ with respect to "
        f"t (largest error {max_error(out, want):.3g} on random pairs). Differentiate each "
        "term of x_t, treating x₀ and x₁ as constants."
    )


# --- an Euler sampler ---------------------------------------------------------------------------

_A = torch.tensor([[0.4, -1.2], [1.0, 0.3]], dtype=F64)
_B = torch.tensor([0.8, -0.5], dtype=F64)


def _velocity(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A nonlinear, time-dependent test field v(t, x) = tanh(x Aᵀ) + 2t b."""
    return torch.tanh(x @ _A.T) + 2.0 * t * _B


def _euler(x0: torch.Tensor, dt: float, times: list[float]) -> torch.Tensor:
    """Euler steps x ← x + dt · v(t_k, x), one per time t_k of ``times`` (the reference and its
    slips)."""
    x = x0
    for t in times:
        x = x + dt * _velocity(torch.tensor(t, dtype=F64), x)
    return x


def _euler_sample(x0: torch.Tensor, steps: int) -> torch.Tensor:
    """The right answer: ``steps`` steps of dt = 1/steps from t = 0, the field at t_k = k/steps."""
    return _euler(x0, 1.0 / steps, [k / steps for k in range(steps)])


def _euler_slips(x0: torch.Tensor, steps: int) -> dict[str, torch.Tensor]:
    """What the typical slips of an Euler sampler return, with ``steps`` steps."""
    h, ks = 1.0 / steps, range(steps)
    slips = {"x0 unchanged: update x at every step and return it": x0}
    if steps > 1:
        slips[
            f"the end point of steps of 1/(steps − 1) = 1/{steps - 1}: {steps} steps on [0, 1] "
            "are 1/steps long each"
        ] = _euler(x0, 1 / (steps - 1), [k / (steps - 1) for k in ks])
    slips |= {
        "one step too many (range(steps + 1)): the last step would end past t = 1": _euler(
            x0, h, [k * h for k in range(steps + 1)]
        ),
        "the end point of steps of length 1: multiply the velocity by Δt = 1/steps": _euler(
            x0, 1.0, [k * h for k in ks]
        ),
        "the field evaluated at t = 0 at every step: advance the time, t_k = k/steps": _euler(
            x0, h, [0.0 for _ in ks]
        ),
        "the field evaluated at the step index k: the time is t_k = k Δt = k/steps": _euler(
            x0, h, [float(k) for k in ks]
        ),
        "the field evaluated at the end of each step, t_(k+1): Euler takes the slope at the "
        "start, t_k": _euler(x0, h, [(k + 1) * h for k in ks]),
    }
    return slips


class _RecordedField:
    """The test field, recording the time of each call (t a number, 0-d, (N,) or (N, 1))."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.times: list[float] = []

    def __call__(self, t: Any, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.shape != (self.n, 2):
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise TypeError(f"field(t, x) takes x of shape ({self.n}, 2); got {shape}")
        tt = torch.as_tensor(t, dtype=F64)
        if tt.numel() == 1:
            tt = tt.reshape(())
        elif tt.numel() == self.n:
            tt = tt.reshape(self.n, 1)
        else:
            raise TypeError(
                f"field(t, x) takes t as a number (or one time per point); got shape "
                f"{tuple(tt.shape)}"
            )
        self.times.append(float(tt.flatten()[0]))
        return _velocity(tt, x)


@exercise_check
def check_euler_sampler(
    fn: Callable[[Callable[..., torch.Tensor], torch.Tensor, int], Any],
) -> None:
    """``fn(field, x0, steps)`` returns x(1) by ``steps`` Euler steps of dx/dt = field(t, x).

    From x(0) = x0 (shape (N, D)) on [0, 1]: each step x ← x + Δt · field(t_k, x) with
    Δt = 1/steps and t_k = k Δt, k = 0, …, steps − 1, one evaluation of the field per step.
    The check runs a time-dependent nonlinear field for several ``steps`` and compares the
    end points, the number of evaluations and the times of evaluation with a reference.

    Args:
        fn: the learner's sampler; it calls ``field(t, x)`` with t a number or 0-d tensor.

    Raises:
        CheckFailed: a wrong end point, shape or cost; the message names the typical slip
            (a wrong Δt, one step too many, the time not advanced, the slope at the end of the
            step, the whole trajectory returned, ...).

    Example:
        >>> def euler(field, x0, steps):
        ...     x, dt = x0, 1.0 / steps
        ...     for k in range(steps):
        ...         x = x + dt * field(k * dt, x)
        ...     return x
        >>> check_euler_sampler(euler)
        Correct: the end points, the cost and the times agree with a reference sampler.
    """
    gen = torch.Generator().manual_seed(23)
    n = 5
    x0 = torch.randn(n, 2, dtype=F64, generator=gen)
    for steps in (4, 1, 3):
        field = _RecordedField(n)
        raw = returned(call(fn, "the Euler sampler", field, x0.clone(), steps), "the sampler")
        if isinstance(raw, torch.Tensor) and raw.ndim == 3 and raw.shape[1:] == (n, 2):
            raise CheckFailed(
                f"the sampler returns {raw.shape[0]} points per particle (shape "
                f"{tuple(raw.shape)}): return only the end point x(1), of shape ({n}, 2)."
            )
        out = tensor_result(raw, (n, 2), "the Euler sampler").detach().to(F64)
        want = _euler_sample(x0, steps)
        expected_times = [k / steps for k in range(steps)]
        if _same(out, want):
            if len(field.times) != steps:
                extra = (
                    " The evaluation at t = 1 is never used: Euler with n steps costs n."
                    if len(field.times) == steps + 1
                    else ""
                )
                raise CheckFailed(
                    f"the end points are right, but with steps={steps} the sampler evaluates "
                    f"the field {len(field.times)} times, not {steps}.{extra}"
                )
            continue
        mistakes = _euler_slips(x0, steps)
        name_the_mistake(out, mistakes, _same, f"with steps={steps}, the sampler returns")
        times = [round(s, 4) for s in field.times]
        if len(times) != steps or not all(
            abs(a - b) < 1e-9 for a, b in zip(field.times, expected_times, strict=False)
        ):
            raise CheckFailed(
                f"with steps={steps}, the sampler evaluates the field at t = {times[:8]}; Euler "
                f"evaluates it once per step, at t_k = k/steps = "
                f"{[round(s, 4) for s in expected_times]}."
            )
        raise CheckFailed(
            f"with steps={steps}, the end points are off by up to {max_error(out, want):.3g}, "
            "although the field was evaluated at the right times: check the update "
            "x ← x + Δt · field(t_k, x) (use the x of the current step, and Δt = 1/steps)."
        )
    passed("the end points, the cost and the times agree with a reference sampler.")


# --- straightness ------------------------------------------------------------------------------


def _number(out: Any, n: int, t_plus_1: int) -> float:
    out = returned(out, "straightness")
    if isinstance(out, torch.Tensor):
        if out.numel() != 1:
            shape = tuple(out.shape)
            hint = (
                "one value per particle: average them over the particles"
                if out.numel() == n
                else "one value per time: the length sums the segments over time, then "
                "average over the particles"
                if out.numel() in (t_plus_1, t_plus_1 - 1)
                else "reduce it to one number, the mean over the particles"
            )
            raise CheckFailed(f"straightness returns a tensor of shape {shape}, {hint}.")
        return float(out.detach())
    try:
        return float(out)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(f"straightness must return a number; got {out!r:.60}") from exc


@exercise_check
def check_straightness(fn: Callable[[torch.Tensor], Any]) -> None:
    """``fn(traj)`` returns the mean over particles of (path length − chord length).

    ``traj`` has shape (T + 1, N, D): N paths sampled at T + 1 times. The length of path i is
    Σₖ |xᵢ(t_{k+1}) − xᵢ(t_k)| (Euclidean norms), its chord |xᵢ(t_T) − xᵢ(t₀)|. The check
    tries curved random paths and straight paths of varying speed (where the answer is 0).

    Args:
        fn: the learner's measure, returning a number (a float or a one-element tensor).

    Raises:
        CheckFailed: a wrong value or shape, or ``traj`` changed in place; the message names
            the typical slip (chord minus length, a sum over particles, squared or L1 norms,
            the norm over the wrong axis, a ratio, ...).

    Example:
        >>> def straightness(traj):
        ...     length = (traj[1:] - traj[:-1]).norm(dim=-1).sum(dim=0)
        ...     return (length - (traj[-1] - traj[0]).norm(dim=-1)).mean()
        >>> check_straightness(straightness)
        Correct: right for curved paths and for straight ones.
    """
    gen = torch.Generator().manual_seed(29)
    steps, n, d = 8, 12, 2
    curved = torch.randn(steps + 1, n, d, dtype=F64, generator=gen).cumsum(dim=0)
    direction = torch.randn(1, n, d, dtype=F64, generator=gen)
    speeds = torch.rand(steps, n, 1, dtype=F64, generator=gen) + 0.1
    start = torch.randn(1, n, d, dtype=F64, generator=gen)
    distance = torch.cat([torch.zeros(1, n, 1, dtype=F64), speeds.cumsum(dim=0)])
    straight = start + distance * direction
    for name, traj in (("curved paths", curved), ("straight paths", straight)):
        given = traj.clone()
        got = _number(call(fn, "straightness", given), n, steps + 1)
        if not torch.equal(given, traj):
            raise CheckFailed("straightness changes traj in place: compute new tensors instead.")
        want = float(path_straightness(traj))
        if _same(got, want):
            continue
        seg = traj[1:] - traj[:-1]
        chord = traj[-1] - traj[0]
        length = seg.norm(dim=-1).sum(dim=0)
        mistakes = {
            "chord minus length: the detour is the length minus the chord, never negative": -want,
            "the path length alone: subtract the chord |x(t_T) − x(t_0)|": length.mean(),
            "the chord alone: the measure is the length of the path minus the chord": chord.norm(
                dim=-1
            ).mean(),
            "a sum over the particles: take the mean over them": float(path_straightness(traj)) * n,
            "the mean of the segment lengths over time: the length of a path is their sum": (
                seg.norm(dim=-1).mean(dim=0) - chord.norm(dim=-1)
            ).mean(),
            "squared lengths: use the Euclidean norm |Δx|, not |Δx|²": (
                (seg**2).sum(dim=-1).sum(dim=0) - (chord**2).sum(dim=-1)
            ).mean(),
            "L1 norms (sums of |components|): use the Euclidean norm, .norm(dim=-1)": (
                seg.abs().sum(dim=-1).sum(dim=0) - chord.abs().sum(dim=-1)
            ).mean(),
            "norms over the particles (dim=1) instead of the coordinates (dim=-1)": (
                seg.norm(dim=1).sum(dim=0) - chord.norm(dim=0)
            ).mean(),
            "the ratio length/chord − 1: the measure is the difference, length − chord": (
                length / chord.norm(dim=-1) - 1
            ).mean(),
            "the ratio length/chord: the measure is the difference, length − chord": (
                length / chord.norm(dim=-1)
            ).mean(),
        }
        name_the_mistake(
            got, {k: float(v) for k, v in mistakes.items()}, _same, f"for {name}, straightness is"
        )
        zero = " (a straight path has no detour)" if name == "straight paths" else ""
        raise CheckFailed(
            f"for {name}, straightness returns {got:.6g}, expected {want:.6g}{zero}: sum the "
            "Euclidean lengths of the segments of each path, subtract its chord, and average "
            "over the particles."
        )
    passed("right for curved paths and for straight ones.")

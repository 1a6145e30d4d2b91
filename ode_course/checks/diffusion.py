"""Chapter 10 (diffusion): the forward marginal, a DDIM step, the probability-flow drift, the end
time of sampling."""

from __future__ import annotations

import math
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
from ode_course.diffusion.sampling import ddim_step
from ode_course.diffusion.schedule import VPSchedule

__all__ = ["check_ddim_step", "check_end_time", "check_pf_drift", "check_vp_marginal"]

F64 = torch.float64


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-9, atol=1e-11)


def _pair(out: Any, name: str, shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The (mean, std) pair as float64 tensors of ``shape`` (the std may be a column (N, 1))."""
    out = returned(out, name)
    if not isinstance(out, tuple | list) or len(out) != 2:
        raise CheckFailed(f"{name} must return a pair (mean, std); got {type(out).__name__}.")
    parts = []
    for x, what in zip(out, ("the mean", "the std"), strict=True):
        if not isinstance(x, torch.Tensor) or type(x) not in (torch.Tensor, torch.nn.Parameter):
            raise CheckFailed(f"{what} must be a plain torch.Tensor; got {type(x).__name__}.")
        try:
            parts.append(x.detach().to(F64).expand(shape))
        except RuntimeError as exc:
            raise CheckFailed(
                f"{what} has shape {tuple(x.shape)}, which does not fit x0's {shape}."
            ) from exc
    return parts[0], parts[1]


@exercise_check
def check_vp_marginal(vp_marginal: Callable[..., Any]) -> None:
    """``vp_marginal(x0, t, beta_min, beta_max)`` returns the mean and std of x_t given x₀.

    For dx = −½β(t)x dt + √β(t) dW with β(t) = β_min + t(β_max − β_min): mean α_t x₀ and
    std σ_t = √(1 − α_t²), where log α_t = −½∫₀ᵗ β(s) ds. ``x0`` has shape (N, D) and ``t``
    shape (N, 1); the std may be returned with shape (N, 1) or (N, D).

    Raises:
        CheckFailed: a wrong mean or std; the message names the typical slip (β(t)·t for the
            integral, a missing ½, 1 − α for σ, α in place of α², ...).

    Example:
        >>> def vp_marginal(x0, t, beta_min, beta_max):
        ...     log_alpha = -0.25 * t**2 * (beta_max - beta_min) - 0.5 * t * beta_min
        ...     alpha = torch.exp(log_alpha)
        ...     return alpha * x0, torch.sqrt(1 - alpha**2)
        >>> check_vp_marginal(vp_marginal)
        Correct: the mean and the std match the closed form at every time tried.
    """
    gen = torch.Generator().manual_seed(31)
    x0 = torch.randn(6, 2, dtype=F64, generator=gen)
    t = torch.tensor([[0.01], [0.1], [0.3], [0.5], [0.8], [1.0]], dtype=F64)
    for b_min, b_max in ((0.1, 20.0), (0.5, 5.0)):
        vp = VPSchedule(b_min, b_max)
        mean, std = _pair(
            call(vp_marginal, "vp_marginal", x0.clone(), t.clone(), b_min, b_max),
            "vp_marginal",
            (6, 2),
        )
        want_mean, want_std = vp.marginal(x0, t)
        want_std = want_std.expand(6, 2)
        if _same(mean, want_mean) and _same(std, want_std):
            continue
        integral = b_min * t + 0.5 * t**2 * (b_max - b_min)
        wrong_means = {
            "uses β(t)·t for ∫₀ᵗ β(s) ds: β grows with t, integrate it "
            "(β_min t + ½ t² (β_max − β_min))": torch.exp(-0.5 * vp.beta(t) * t),
            "drops the ½: log α_t = −½ ∫₀ᵗ β(s) ds": torch.exp(-integral),
            "uses the variance of the noise, not its scale: log α_t = −½ ∫ β": torch.exp(
                -0.25 * integral
            ),
        }
        alpha = vp.alpha(t)
        name_the_mistake(
            mean, {slip: wrong * x0 for slip, wrong in wrong_means.items()}, _same, "the mean"
        )
        if _same(mean, want_mean):
            name_the_mistake(
                std,
                {
                    "the std is 1 − α_t: σ_t² = 1 − α_t², so σ_t = √(1 − α_t²)": (1 - alpha).expand(
                        6, 2
                    ),
                    "the std is √(1 − α_t): it is √(1 − α_t²)": (1 - alpha).sqrt().expand(6, 2),
                    "the std is the variance 1 − α_t²: take its square root": (1 - alpha**2).expand(
                        6, 2
                    ),
                },
                _same,
                "",
            )
            raise CheckFailed(
                f"the mean is right but the std is off by up to {max_error(std, want_std):.3g} "
                f"(β_min = {b_min}, β_max = {b_max}): σ_t = √(1 − α_t²) keeps the variance 1."
            )
        raise CheckFailed(
            f"the mean is off by up to {max_error(mean, want_mean):.3g} (β_min = {b_min}, "
            f"β_max = {b_max}): the mean is α_t x₀ with log α_t = −½ ∫₀ᵗ β(s) ds."
        )
    passed("the mean and the std match the closed form at every time tried.")


@exercise_check
def check_ddim_step(ddim: Callable[..., Any]) -> None:
    """``ddim(x, eps, t, t_next, schedule)`` returns (α_{t'}/α_t) x − σ_{t'} (e^h − 1) ε.

    Here h = λ_{t'} − λ_t > 0 for t' < t, with λ = ``schedule.log_snr``; ``x`` and ``eps`` have
    shape (N, D) and t, t_next are floats with 0 < t_next < t ≤ 1.

    Raises:
        CheckFailed: a wrong step; the message names the typical slip (the sign of h, σ_t in
            place of σ_{t'}, e^{−h}, a missing −1, ...).

    Example:
        >>> def ddim(x, eps, t, t_next, schedule):
        ...     h = schedule.log_snr(t_next) - schedule.log_snr(t)
        ...     ratio = schedule.alpha(t_next) / schedule.alpha(t)
        ...     return ratio * x - schedule.sigma(t_next) * torch.expm1(h) * eps
        >>> check_ddim_step(ddim)
        Correct: your step matches the exponential integrator on 3 steps, near the data included.
    """
    gen = torch.Generator().manual_seed(37)
    vp = VPSchedule()
    x = torch.randn(5, 3, dtype=F64, generator=gen)
    eps = torch.randn(5, 3, dtype=F64, generator=gen)
    for t, s in ((1.0, 0.7), (0.5, 0.45), (0.05, 0.001)):
        got = tensor_result(
            call(ddim, "ddim", x.clone(), eps.clone(), t, s, vp), (5, 3), "ddim"
        ).to(F64)
        want = ddim_step(x, eps, t, s, vp)
        if _same(got, want):
            continue
        h = vp.log_snr(s) - vp.log_snr(t)
        ratio = vp.alpha(s) / vp.alpha(t)
        mistakes = {
            "takes h = λ_t − λ_{t'}, the wrong sign: h = λ_{t'} − λ_t > 0 towards the data": ratio
            * x
            - vp.sigma(s) * torch.expm1(-h) * eps,
            "multiplies ε by σ_t: the step ends at t', so it is σ_{t'}": ratio * x
            - vp.sigma(t) * torch.expm1(h) * eps,
            "uses e^h without the −1: the factor is (e^h − 1)": ratio * x
            - vp.sigma(s) * torch.exp(h) * eps,
            "scales x by α_t/α_{t'}: the signal shrinks towards noise, so it is α_{t'}/α_t": (
                1 / ratio
            )
            * x
            - vp.sigma(s) * torch.expm1(h) * eps,
            "adds the noise term: it is subtracted, x_{t'} = (α_{t'}/α_t) x − σ_{t'}(e^h − 1) ε": (
                ratio * x + vp.sigma(s) * torch.expm1(h) * eps
            ),
        }
        name_the_mistake(got, mistakes, _same, f"from t = {t} to {s}, ddim")
        raise CheckFailed(
            f"from t = {t} to t' = {s} the step is off by up to {max_error(got, want):.3g}: "
            "x_{t'} = (α_{t'}/α_t) x − σ_{t'} (e^h − 1) ε with h = λ_{t'} − λ_t."
        )
    passed("your step matches the exponential integrator on 3 steps, near the data included.")


@exercise_check
def check_pf_drift(pf_drift: Callable[..., Any]) -> None:
    """``pf_drift(score, t, x, schedule)`` returns f(t, x) − ½ g(t)² score(t, x).

    For the variance-preserving SDE, f(t, x) = −½ β(t) x and g(t)² = β(t), so the drift is
    −½ β(t) (x + score(t, x)); ``score(t, x)`` returns ∇ log p_t(x) with x's shape (N, D).

    Raises:
        CheckFailed: a wrong drift; the message names the typical slip (the reverse SDE's
            drift, no ½ on g², the wrong sign of the score term, ...).

    Example:
        >>> def pf_drift(score, t, x, schedule):
        ...     beta = schedule.beta(t)
        ...     return -0.5 * beta * x - 0.5 * beta * score(t, x)
        >>> check_pf_drift(pf_drift)
        Correct: the drift has the probability flow's marginals: −½β(t)(x + ∇log p_t).
    """
    gen = torch.Generator().manual_seed(41)
    vp = VPSchedule()
    a = torch.randn(2, 2, dtype=F64, generator=gen)

    def score(t: Any, x: torch.Tensor) -> torch.Tensor:
        return -x + torch.tanh(x @ a.T) * (1 + torch.as_tensor(t, dtype=F64))

    x = torch.randn(6, 2, dtype=F64, generator=gen)
    for t in (0.9, 0.2):
        got = tensor_result(call(pf_drift, "pf_drift", score, t, x.clone(), vp), (6, 2), "pf_drift")
        beta = vp.beta(t)
        s = score(t, x)
        want = -0.5 * beta * (x + s)
        if _same(got.to(F64), want):
            continue
        mistakes = {
            "the reverse SDE's drift f − g² s: the ODE takes half the score term, f − ½ g² s": -0.5
            * beta
            * x
            - beta * s,
            "adds ½ g² s: the probability flow subtracts it, f − ½ g² s": -0.5 * beta * (x - s),
            "uses g(t) = √β instead of g² = β in front of the score": -0.5 * beta * x
            - 0.5 * beta.sqrt() * s,
            "leaves out the forward drift f(t, x) = −½ β(t) x": -0.5 * beta * s,
        }
        name_the_mistake(got.to(F64), mistakes, _same, f"at t = {t}, pf_drift is")
        raise CheckFailed(
            f"at t = {t} the drift is off by up to {max_error(got.to(F64), want):.3g}: it is "
            "f(t, x) − ½ g(t)² ∇log p_t(x) with f = −½β(t) x and g² = β(t)."
        )
    passed("the drift has the probability flow's marginals: −½β(t)(x + ∇log p_t).")


@exercise_check
def check_end_time(solve_to_end: Callable[..., Any]) -> None:
    """``solve_to_end(drift, x1, t_end)`` integrates dx/dt = drift(t, x) from t = 1 to t_end.

    The check's drift, like the probability-flow drift, is undefined at t ≤ 0 (it returns nan
    there) and stiff near 0; an adaptive solver asked to reach t = 0 fails with "underflow in
    dt". A right answer stops at ``t_end`` and never evaluates the drift below it (clamp the
    time passed to the drift, or ask only for times ≥ t_end), and returns x(t_end), shape
    (N, D), accurate to 1e-4.

    Raises:
        CheckFailed: the drift was evaluated below t_end, or the end point is wrong.

    Example:
        >>> from ode_course.solvers import odeint
        >>> def solve_to_end(drift, x1, t_end):
        ...     def clamped(t, x):
        ...         return drift(torch.clamp(t, min=t_end), x)
        ...     times = torch.tensor([1.0, t_end], dtype=x1.dtype)
        ...     return odeint(clamped, x1, times, rtol=1e-7, atol=1e-9)[-1]
        >>> check_end_time(solve_to_end)
        Correct: you stop at t_end, the drift never sees an earlier time, and x(t_end) is right.
    """
    vp = VPSchedule()
    seen: list[float] = []

    def drift(t: Any, x: torch.Tensor) -> torch.Tensor:
        time = float(torch.as_tensor(t))
        seen.append(time)
        if time <= 0:
            return torch.full_like(x, math.nan)
        return -0.5 * vp.beta(time).to(x.dtype) * (x - x / vp.sigma(time).to(x.dtype) ** 2 * 0.5)

    gen = torch.Generator().manual_seed(43)
    x1 = torch.randn(4, 2, dtype=F64, generator=gen)
    for t_end in (1e-2, 1e-3):
        seen.clear()
        got = tensor_result(
            call(solve_to_end, "solve_to_end", drift, x1.clone(), t_end), (4, 2), "solve_to_end"
        ).to(F64)
        early = [t for t in seen if t < t_end * (1 - 1e-9)]
        if early:
            raise CheckFailed(
                f"with t_end = {t_end} the drift was evaluated at t = {min(early):.3g} < t_end: "
                "the drift is undefined near t = 0, so clamp the time it receives "
                "(torch.clamp(t, min=t_end)) and ask the solver only for times down to t_end."
            )
        if not seen:
            raise CheckFailed("solve_to_end never called the drift: integrate the ODE it gives.")
        want = _reference_end(drift, x1, t_end)
        if not torch.allclose(got, want, rtol=1e-4, atol=1e-6):
            raise CheckFailed(
                f"with t_end = {t_end}, x(t_end) is off by up to {max_error(got, want):.3g}: "
                "integrate from t = 1 down to t_end (the time grid decreases) and return the "
                "state at t_end, of shape (N, D)."
            )
    passed("you stop at t_end, the drift never sees an earlier time, and x(t_end) is right.")


def _reference_end(drift: Callable[..., Any], x1: torch.Tensor, t_end: float) -> torch.Tensor:
    from ode_course.solvers import odeint

    times = torch.tensor([1.0, t_end], dtype=F64)
    return odeint(drift, x1, times, rtol=1e-10, atol=1e-12)[-1]

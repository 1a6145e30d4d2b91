"""The forward SDE, simulated: Euler–Maruyama, checked against the closed-form marginals.

An SDE dx = f(t, x) dt + g(t) dW is simulated by Euler–Maruyama, the stochastic twin of
Euler's method (Chapter 5): over a step of length h,

    x ← x + h f(t, x) + g(t) √h z,   z ~ N(0, I),

which converges weakly with order 1 (the moments of x_t are right to O(h)). For the
variance-preserving SDE, f(t, x) = −½ β(t) x and g(t) = √β(t), so a simulation can be checked
against the exact mean α_t x₀ and variance σ_t² of :class:`~ode_course.diffusion.VPSchedule`.

Example:
    >>> vp = VPSchedule()
    >>> x0 = torch.full((20000, 1), 2.0, dtype=torch.float64)
    >>> gen = torch.Generator().manual_seed(0)
    >>> xt = forward_sde(vp, x0, t=0.5, steps=200, generator=gen)
    >>> mean, std = vp.marginal(x0[:1], 0.5)
    >>> abs(xt.mean().item() - mean.item()) < 0.02, abs(xt.std().item() - std.item()) < 0.02
    (True, True)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch

from ode_course import _validate
from ode_course.diffusion.schedule import Time, VPSchedule, as_time

__all__ = ["euler_maruyama", "forward_sde"]

Drift = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Diffusion = Callable[[torch.Tensor], torch.Tensor]


def euler_maruyama(
    drift: Drift,
    diffusion: Diffusion,
    x0: torch.Tensor,
    times: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """x at the last of ``times`` for dx = drift(t, x) dt + diffusion(t) dW, by Euler–Maruyama.

    One step per interval of ``times`` (increasing or decreasing: a decreasing grid integrates
    backwards in time, as the reverse SDE does, with √|h| in the noise).

    Args:
        drift: f(t, x), with t a 0-d float64 tensor and x of shape (N, D).
        diffusion: g(t), a 0-d tensor (the same noise scale for every coordinate).
        x0: the start, shape (N, D).
        times: the grid t₀, t₁, …, t_K, a 1-d tensor, strictly monotonic.
        generator: the random numbers of the noise (for a reproducible draw).

    Returns:
        x(t_K), shape (N, D).

    Raises:
        TypeError: ``drift`` or ``diffusion`` is not callable, ``x0`` is not a float tensor.
        ValueError: ``times`` has fewer than two entries or is not strictly monotonic.
    """
    _validate.callable_(drift, "drift", fix="pass f(t, x), e.g. lambda t, x: -x")
    _validate.callable_(diffusion, "diffusion", fix="pass g(t), e.g. lambda t: t * 0 + 1")
    x = _validate.points(x0, "x0")
    times = _grid(times)
    for t, t_next in itertools.pairwise(times):
        h = t_next - t
        z = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        x = x + h.to(x.dtype) * drift(t, x) + (diffusion(t) * h.abs().sqrt()).to(x.dtype) * z
    return x


def _grid(times: torch.Tensor) -> torch.Tensor:
    if not isinstance(times, torch.Tensor) or times.ndim != 1 or len(times) < 2:
        _validate.fail(
            "times",
            "a 1-d tensor of at least two times",
            repr(times)[:60],
            "pass e.g. torch.linspace(0, 1, 101)",
        )
    _validate.strictly_monotone(times.tolist(), "times")
    return times.to(torch.float64)


def forward_sde(
    schedule: VPSchedule,
    x0: torch.Tensor,
    t: Time,
    *,
    steps: int = 100,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A draw of x_t from x₀ along dx = −½ β(t) x dt + √β(t) dW, by ``steps`` Euler–Maruyama
    steps from 0 to t (compare :meth:`VPSchedule.marginal`, the exact law).

    Raises:
        ValueError: ``t`` outside (0, 1]; ``steps`` not a positive integer.
    """
    t_end = float(as_time(t))
    steps = _validate.integer(steps, "steps", fix="e.g. steps=100")
    times = torch.linspace(0.0, t_end, steps + 1, dtype=torch.float64)
    return euler_maruyama(
        lambda s, x: -0.5 * schedule.beta(s).to(x.dtype) * x,
        lambda s: schedule.beta(s).sqrt(),
        x0,
        times,
        generator=generator,
    )

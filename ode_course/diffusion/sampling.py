"""Sampling a diffusion model: the reverse SDE, the probability-flow ODE, and solvers built for it.

Run backwards from noise at t = 1, two processes have the same marginals p_t as the forward SDE
(Song et al. 2021):

- the reverse SDE  dx = [−½ β x − β ∇log p_t(x)] dt + √β dW̄   (:func:`reverse_sde`), and
- the probability-flow ODE  dx/dt = −½ β(t) [x + ∇log p_t(x)] = −½ β(t) [x − ε_θ(t, x)/σ_t]
  (:func:`probability_flow`), a deterministic map from noise to data that any ODE solver can
  integrate, from t = 1 to a small end time t_end > 0 (at t = 0, σ_t = 0 and the drift
  is undefined).

The drift is linear in x plus the network's part, and the linear part integrates exactly
(Lu et al. 2022): written in the log-SNR λ = log(α/σ), the solution from t to t' is

    x_{t'} = (α_{t'}/α_t) x_t − α_{t'} ∫_{λ_t}^{λ_{t'}} e^{−λ} ε_θ(t_λ, x_λ) dλ,

and approximating ε_θ by a polynomial in λ gives the exponential integrators: DDIM (Song,
Meng & Ermon 2021) is the first-order one,

    x_{t'} = (α_{t'}/α_t) x_t − σ_{t'} (e^h − 1) ε_θ(t, x_t),

DPM-Solver-2 adds a midpoint evaluation (second order, two evaluations per step), and
DPM-Solver++(2M) predicts the data x̂₀ = (x_t − σ_t ε_θ)/α_t and reuses the previous step's
prediction (second order, one evaluation per step). ``SAMPLERS`` lists them beside Chapter 5's
Runge–Kutta tableaux applied to the ODE in t ("euler", "heun", "rk4"). :func:`time_grid` spaces
the steps uniformly in t or in λ ("logsnr": more steps near the data, where the ODE is stiff).

Example:
    >>> from ode_course.diffusion import GaussianEpsilon
    >>> vp = VPSchedule()
    >>> exact = GaussianEpsilon(vp, mean=[1.0], std=[0.5])  # the exact ε of N(1, 0.25)
    >>> x1 = torch.randn(4000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> out = sample_diffusion(exact, x1, method="dpmpp2m", steps=20)
    >>> out.nfe, abs(out.x.mean().item() - 1.0) < 0.05, abs(out.x.std().item() - 0.5) < 0.05
    (20, True, True)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ode_course import _validate
from ode_course.diffusion.schedule import VPSchedule, as_time
from ode_course.diffusion.sde import euler_maruyama
from ode_course.solvers import CountNFE
from ode_course.solvers.tableaux import (
    EULER,
    HEUN,
    RK4_TABLEAU,
    ButcherTableau,
    combine,
    runge_kutta_stages,
)

__all__ = [
    "EVALUATIONS_PER_STEP",
    "SAMPLERS",
    "SPACINGS",
    "DiffusionSamples",
    "GaussianEpsilon",
    "ddim_step",
    "probability_flow",
    "reverse_sde",
    "sample_diffusion",
    "time_grid",
]

T_END = 1e-3
"""The default end time of sampling: σ(10⁻³) ≈ 0.01, small next to the data's scale."""

_TABLEAUX: dict[str, ButcherTableau] = {"euler": EULER, "heun": HEUN, "rk4": RK4_TABLEAU}
SAMPLERS = ("euler", "heun", "rk4", "ddim", "dpm2", "dpmpp2m")
"""The ODE samplers of :func:`sample_diffusion`: Runge–Kutta in t (Chapter 5's tableaux) and the
exponential integrators in λ (DDIM, DPM-Solver-2, DPM-Solver++(2M))."""

EVALUATIONS_PER_STEP = {"euler": 1, "heun": 2, "rk4": 4, "ddim": 1, "dpm2": 2, "dpmpp2m": 1}
"""Network evaluations per step of each sampler (NFE = steps × this)."""

SPACINGS = ("logsnr", "uniform")
"""How :func:`time_grid` spaces the steps: uniformly in λ = log(α/σ), or uniformly in t."""


@dataclass(frozen=True)
class DiffusionSamples:
    """The end points of a sampler and what they cost.

    Attributes:
        x: the samples at t_end, shape (N, D).
        nfe: the evaluations of the network.
    """

    x: torch.Tensor
    nfe: int


def _model(model: Any) -> Callable[..., torch.Tensor]:
    return _validate.callable_(model, "model", fix="pass the trained noise predictor ε_θ(t, x)")


def _epsilon(model: Callable[..., torch.Tensor], t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """ε_θ(t, x) with t given to the network as a column of shape (N, 1) in x's dtype."""
    return model(t.to(x.dtype).expand(x.shape[0], 1), x)


def time_grid(
    steps: int,
    *,
    schedule: VPSchedule | None = None,
    t_end: float = T_END,
    spacing: str = "logsnr",
) -> torch.Tensor:
    """``steps + 1`` decreasing times from 1 to ``t_end``, equally spaced in λ or in t.

    Raises:
        ValueError: ``steps`` not a positive integer; ``t_end`` outside (0, 1); an unknown
            ``spacing`` (see ``SPACINGS``).

    Example:
        >>> [round(t, 4) for t in time_grid(2, spacing="uniform", t_end=0.5).tolist()]
        [1.0, 0.75, 0.5]
    """
    steps = _validate.integer(steps, "steps", fix="e.g. steps=20")
    spacing = _validate.one_of(spacing, "spacing", SPACINGS, fix="e.g. spacing='logsnr'")
    end = float(as_time(t_end, "t_end"))
    if end >= 1.0:
        _validate.fail("t_end", "a small end time in (0, 1)", repr(t_end), "e.g. t_end=1e-3")
    schedule = schedule or VPSchedule()
    if spacing == "uniform":
        return torch.linspace(1.0, end, steps + 1, dtype=torch.float64)
    lam = torch.linspace(
        float(schedule.log_snr(1.0)), float(schedule.log_snr(end)), steps + 1, dtype=torch.float64
    )
    grid = schedule.time(lam)
    grid[0], grid[-1] = 1.0, end  # exact ends, whatever the round-off of the inverse
    return grid


def probability_flow(
    model: Callable[..., torch.Tensor], schedule: VPSchedule | None = None
) -> Callable[[Any, torch.Tensor], torch.Tensor]:
    """The probability-flow drift dx/dt = −½ β(t) (x − ε_θ(t, x)/σ_t) as a field f(t, x).

    Example:
        >>> f = probability_flow(lambda t, x: torch.zeros_like(x))  # no noise predicted
        >>> f"{f(0.5, torch.ones(1, 1)).item():.4f}"  # −½ β(0.5) x
        '-5.0250'
    """
    model = _model(model)
    schedule = schedule or VPSchedule()

    def drift(t: Any, x: torch.Tensor) -> torch.Tensor:
        t = as_time(t)
        beta, sigma = schedule.beta(t).to(x.dtype), schedule.sigma(t).to(x.dtype)
        return -0.5 * beta * (x - _epsilon(model, t, x) / sigma)

    return drift


def ddim_step(
    x: torch.Tensor, eps: torch.Tensor, t: float, t_next: float, schedule: VPSchedule
) -> torch.Tensor:
    """One DDIM step: x_{t'} = (α_{t'}/α_t) x − σ_{t'} (e^h − 1) ε, h = λ_{t'} − λ_t.

    The exact solution of the probability-flow ODE from t to t' when ε_θ is constant along the
    step: the first-order exponential integrator in λ (DPM-Solver-1).

    Example:
        >>> vp = VPSchedule()
        >>> x = ddim_step(torch.ones(1, 1), torch.zeros(1, 1), 1.0, 0.5, vp)  # no noise predicted
        >>> torch.allclose(x, vp.alpha(0.5) / vp.alpha(1.0) * torch.ones(1, 1))
        True
    """
    t_, s_ = as_time(t), as_time(t_next, "t_next")
    h = schedule.log_snr(s_) - schedule.log_snr(t_)
    ratio = torch.exp(schedule.log_alpha(s_) - schedule.log_alpha(t_)).to(x.dtype)
    return ratio * x - (schedule.sigma(s_) * torch.expm1(h)).to(x.dtype) * eps


def _runge_kutta(model: Any, schedule: VPSchedule, tableau: ButcherTableau) -> Any:
    drift = probability_flow(model, schedule)

    def run(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        for t, t_next in zip(grid[:-1].tolist(), grid[1:].tolist(), strict=True):
            h = t_next - t
            ks, _ = runge_kutta_stages(drift, tableau, t, x, h)
            x = combine(h, tableau.b, ks, x)
        return x

    return run


def _ddim(model: Any, schedule: VPSchedule) -> Any:
    def run(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        for t, t_next in itertools.pairwise(grid):
            x = ddim_step(x, _epsilon(model, t, x), float(t), float(t_next), schedule)
        return x

    return run


def _dpm2(model: Any, schedule: VPSchedule, r: float = 0.5) -> Any:
    """DPM-Solver-2 (Lu et al. 2022, Algorithm 1): singlestep, an intermediate point at λ + r h."""

    def run(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        for t, t_next in itertools.pairwise(grid):
            lam_t, lam_next = schedule.log_snr(t), schedule.log_snr(t_next)
            h = lam_next - lam_t
            s = schedule.time(lam_t + r * h)
            eps_t = _epsilon(model, t, x)
            u = ddim_step(x, eps_t, float(t), float(s), schedule)
            eps_s = _epsilon(model, s, u)
            x = ddim_step(x, eps_t, float(t), float(t_next), schedule) - (
                schedule.sigma(t_next) / (2 * r) * torch.expm1(h)
            ).to(x.dtype) * (eps_s - eps_t)
        return x

    return run


def _dpmpp2m(model: Any, schedule: VPSchedule) -> Any:
    """DPM-Solver++(2M) (Lu et al. 2022b, Algorithm 2): multistep, in the data prediction."""

    def run(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        previous: torch.Tensor | None = None
        h_previous = 0.0
        for t, t_next in itertools.pairwise(grid):
            alpha_t, sigma_t = schedule.alpha(t).to(x.dtype), schedule.sigma(t).to(x.dtype)
            data = (x - sigma_t * _epsilon(model, t, x)) / alpha_t
            h = float(schedule.log_snr(t_next) - schedule.log_snr(t))
            if previous is None:
                d = data
            else:
                r = h_previous / h
                d = (1 + 1 / (2 * r)) * data - (1 / (2 * r)) * previous
            x = (schedule.sigma(t_next) / sigma_t).to(x.dtype) * x - (
                schedule.alpha(t_next) * math.expm1(-h)
            ).to(x.dtype) * d
            previous, h_previous = data, h
        return x

    return run


_BUILDERS: dict[str, Callable[[Any, VPSchedule], Any]] = {
    "euler": lambda m, s: _runge_kutta(m, s, EULER),
    "heun": lambda m, s: _runge_kutta(m, s, HEUN),
    "rk4": lambda m, s: _runge_kutta(m, s, RK4_TABLEAU),
    "ddim": _ddim,
    "dpm2": _dpm2,
    "dpmpp2m": _dpmpp2m,
}


def sample_diffusion(
    model: Callable[..., torch.Tensor],
    x1: torch.Tensor,
    *,
    method: str = "dpmpp2m",
    steps: int = 20,
    schedule: VPSchedule | None = None,
    t_end: float = T_END,
    spacing: str = "logsnr",
) -> DiffusionSamples:
    """Solve the probability-flow ODE from noise x₁ at t = 1 to t_end, with ``steps`` steps.

    Args:
        model: the noise predictor ε_θ(t, x), t of shape (N, 1), x of shape (N, D) (an
            ``nn.Module`` or any callable).
        x1: the starting noise, shape (N, D) (draws of N(0, I)).
        method: one of ``SAMPLERS``; it costs ``EVALUATIONS_PER_STEP[method]`` evaluations per
            step.
        steps: the number of steps.
        schedule: the noise schedule the model was trained with (default :class:`VPSchedule`).
        t_end: the end time in (0, 1).
        spacing: ``"logsnr"`` or ``"uniform"`` (see :func:`time_grid`).

    Returns:
        :class:`DiffusionSamples`: x(t_end) and the NFE.

    Raises:
        TypeError: ``model`` is not callable; ``x1`` is not numbers.
        ValueError: an unknown ``method`` or ``spacing`` (the message lists them); ``steps``
            not a positive integer; ``t_end`` outside (0, 1).
    """
    model = _model(model)
    x = _validate.points(x1, "x1")
    method = _validate.one_of(method, "method", SAMPLERS, fix="e.g. method='dpmpp2m'")
    schedule = schedule or VPSchedule()
    grid = time_grid(steps, schedule=schedule, t_end=t_end, spacing=spacing)
    counted = CountNFE(model)
    with torch.no_grad():
        out = _BUILDERS[method](counted, schedule)(x, grid)
    return DiffusionSamples(out, counted.nfe)


def reverse_sde(
    model: Callable[..., torch.Tensor],
    x1: torch.Tensor,
    *,
    steps: int = 200,
    schedule: VPSchedule | None = None,
    t_end: float = T_END,
    generator: torch.Generator | None = None,
) -> DiffusionSamples:
    """Samples by Euler–Maruyama on the reverse SDE dx = [−½βx − β∇log p_t] dt + √β dW̄, from
    t = 1 to t_end on a uniform grid (the score is −ε_θ/σ_t).

    Raises:
        As :func:`sample_diffusion`.
    """
    model = _model(model)
    x = _validate.points(x1, "x1")
    schedule = schedule or VPSchedule()
    grid = time_grid(steps, schedule=schedule, t_end=t_end, spacing="uniform")
    counted = CountNFE(model)

    def drift(t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        beta, sigma = schedule.beta(t).to(y.dtype), schedule.sigma(t).to(y.dtype)
        return -0.5 * beta * y + beta * _epsilon(counted, t, y) / sigma

    with torch.no_grad():
        out = euler_maruyama(drift, lambda t: schedule.beta(t).sqrt(), x, grid, generator=generator)
    return DiffusionSamples(out, counted.nfe)


class GaussianEpsilon(nn.Module):
    """The exact noise predictor of Gaussian data N(μ, diag(s²)): an oracle for every sampler.

    The forward process keeps Gaussian data Gaussian, x_t ~ N(α_t μ, α_t² s² + σ_t²), so the
    score is −(x − α_t μ)/(α_t² s² + σ_t²) and ε*(t, x) = σ_t (x − α_t μ)/(α_t² s² + σ_t²). The
    probability-flow ODE is then linear, and its solution is known:
    x_{t'} = α_{t'} μ + (v_{t'}/v_t)^{1/2} (x_t − α_t μ) with v_t = α_t² s² + σ_t²
    (:meth:`flow`), which measures a sampler's error exactly.

    Args:
        schedule: the noise schedule.
        mean, std: μ and s, sequences of D numbers (s > 0).
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, schedule: VPSchedule, mean: Any, std: Any) -> None:
        super().__init__()
        self.schedule = schedule
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float64).reshape(1, -1))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float64).reshape(1, -1))
        if self.mean.shape != self.std.shape or not bool((self.std > 0).all()):
            _validate.fail(
                "std",
                "positive, one per coordinate of mean",
                f"mean {tuple(self.mean.shape)}, std {self.std.flatten().tolist()}",
                "pass e.g. GaussianEpsilon(VPSchedule(), mean=[0.0, 1.0], std=[1.0, 0.5])",
            )

    def _variance(self, t: Any) -> torch.Tensor:
        return self.schedule.alpha(t) ** 2 * self.std**2 + self.schedule.sigma(t) ** 2

    def forward(self, t: Any, x: torch.Tensor) -> torch.Tensor:
        """ε*(t, x), shape (N, D)."""
        t = as_time(t)
        alpha, sigma = self.schedule.alpha(t), self.schedule.sigma(t)
        out = sigma * (x.to(torch.float64) - alpha * self.mean) / self._variance(t)
        return out.to(x.dtype)

    def flow(self, x: torch.Tensor, t: float, t_next: float) -> torch.Tensor:
        """The exact probability-flow map from time t to t_next."""
        a, b = self.schedule.alpha(t), self.schedule.alpha(t_next)
        scale = (self._variance(t_next) / self._variance(t)).sqrt()
        return (b * self.mean + scale * (x.to(torch.float64) - a * self.mean)).to(x.dtype)

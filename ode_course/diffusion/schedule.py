"""The variance-preserving noise schedule: how much signal is left at time t.

The forward process of a diffusion model adds noise to a data point x₀ along the SDE

    dx = −½ β(t) x dt + √β(t) dW,   t ∈ [0, 1],

with the linear schedule β(t) = β_min + t (β_max − β_min) (Ho et al. 2020; Song et al. 2021).
The SDE is linear, so its marginals are Gaussian and known in closed form:

    x_t | x₀ ~ N(α_t x₀, σ_t² I),   log α_t = −¼ t² (β_max − β_min) − ½ t β_min,   σ_t² = 1 − α_t²

("variance preserving": data of unit variance keep unit variance). Everything a sampler needs
is a function of the half log signal-to-noise ratio

    λ_t = log(α_t / σ_t) = ½ log SNR(t),   SNR(t) = α_t² / σ_t²,

which falls from +∞ at t = 0 to about −5 at t = 1 with the default β's; :meth:`VPSchedule.time`
inverts it in closed form. Times must lie in (0, 1]: at t = 0, σ = 0 and λ = +∞, which is why
samplers stop at a small end time t_ε > 0.

Example:
    >>> vp = VPSchedule()
    >>> f"{vp.alpha(1.0).item():.4f}", f"{vp.sigma(1.0).item():.4f}"  # almost pure noise
    ('0.0066', '1.0000')
    >>> f"{vp.time(vp.log_snr(0.3)).item():.12f}"
    '0.300000000000'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ode_course import _validate

__all__ = ["VPSchedule"]

Time = float | torch.Tensor


def as_time(t: Any, name: str = "t", *, allow_zero: bool = False) -> torch.Tensor:
    """``t`` as a float64 tensor (any shape) of times in (0, 1] ([0, 1] with ``allow_zero``).

    Raises:
        TypeError: ``t`` is not a real number or a real tensor.
        ValueError: a time lies outside (0, 1], or is not finite.
    """
    if isinstance(t, bool) or not isinstance(t, int | float | torch.Tensor):
        _validate.fail(
            name,
            "a time in (0, 1], a float or a tensor",
            type(t).__name__,
            "pass e.g. t=0.5",
            TypeError,
        )
    tensor = t if isinstance(t, torch.Tensor) else torch.tensor(float(t), dtype=torch.float64)
    if tensor.is_complex() or tensor.dtype == torch.bool:
        _validate.fail(name, "real", str(tensor.dtype), "pass real times", TypeError)
    tensor = tensor.to(torch.float64) if not tensor.is_floating_point() else tensor
    low_ok = (tensor >= 0) if allow_zero else (tensor > 0)
    if not bool(torch.isfinite(tensor).all() and low_ok.all() and (tensor <= 1).all()):
        bad = tensor[~(torch.isfinite(tensor) & low_ok & (tensor <= 1))].flatten()[0].item()
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        _validate.fail(
            name,
            f"a time in {interval}",
            f"{bad!r}",
            "diffusion time runs from the data at t = 0 to noise at t = 1, and samplers stop at "
            "a small end time t_end > 0 (e.g. 1e-3) where σ(t) > 0",
        )
    return tensor


@dataclass(frozen=True)
class VPSchedule:
    """The linear variance-preserving schedule β(t) = β_min + t (β_max − β_min), t ∈ [0, 1].

    Args:
        beta_min: β(0) > 0 (default 0.1, as Song et al. 2021).
        beta_max: β(1) > beta_min (default 20).

    Raises:
        ValueError: β_min ≤ 0, or β_max ≤ β_min, or either is not finite.

    Every method takes t as a float or a tensor of any shape and returns a tensor of that
    shape (float64 for a Python float).

    Example:
        >>> vp = VPSchedule(beta_min=0.1, beta_max=20.0)
        >>> f"{vp.beta(0.5).item():.2f}"
        '10.05'
    """

    beta_min: float = 0.1
    beta_max: float = 20.0

    def __post_init__(self) -> None:
        _validate.positive(self.beta_min, "beta_min", fix="e.g. beta_min=0.1 (β must be > 0)")
        _validate.positive(self.beta_max, "beta_max", fix="e.g. beta_max=20.0")
        if not self.beta_max > self.beta_min:
            _validate.fail(
                "beta_max",
                f"greater than beta_min = {self.beta_min}",
                f"{self.beta_max}",
                "noise must be added faster as t grows: e.g. VPSchedule(0.1, 20.0)",
            )

    def beta(self, t: Time) -> torch.Tensor:
        """β(t) = β_min + t (β_max − β_min)."""
        t = as_time(t, allow_zero=True)
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def log_alpha(self, t: Time) -> torch.Tensor:
        """log α_t = −½ ∫₀ᵗ β(s) ds = −¼ t² (β_max − β_min) − ½ t β_min."""
        t = as_time(t, allow_zero=True)
        return -0.25 * t**2 * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min

    def alpha(self, t: Time) -> torch.Tensor:
        """α_t, the scale of the signal: x_t = α_t x₀ + σ_t ε."""
        return torch.exp(self.log_alpha(t))

    def sigma(self, t: Time) -> torch.Tensor:
        """σ_t = √(1 − α_t²), the standard deviation of the noise (without cancellation)."""
        return torch.sqrt(-torch.expm1(2 * self.log_alpha(t)))

    def log_snr(self, t: Time) -> torch.Tensor:
        """λ_t = log(α_t / σ_t), half the log signal-to-noise ratio; +∞ at t = 0 is refused."""
        t = as_time(t)
        log_alpha = self.log_alpha(t)
        return log_alpha - 0.5 * torch.log(-torch.expm1(2 * log_alpha))

    def time(self, lam: Time) -> torch.Tensor:
        """The time t at which λ_t = ``lam`` (the inverse of :meth:`log_snr`, in closed form).

        α² = 1 / (1 + e^{−2λ}) gives ½ t² (β_max − β_min) + t β_min = log(1 + e^{−2λ}), a
        quadratic in t.

        Raises:
            ValueError: ``lam`` lies outside [λ₁, ∞), so that t would not be in (0, 1].
        """
        lam = torch.as_tensor(lam, dtype=torch.float64) if not torch.is_tensor(lam) else lam
        c = torch.nn.functional.softplus(-2 * lam)
        d = self.beta_max - self.beta_min
        t = 2 * c / (self.beta_min + torch.sqrt(self.beta_min**2 + 2 * d * c))
        t = torch.where((t > 1) & (t < 1 + 1e-6), torch.ones_like(t), t)  # round-off at λ₁
        return as_time(t, "the time of lam")

    def marginal(self, x0: torch.Tensor, t: Time) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean α_t x₀ and standard deviation σ_t of x_t given x₀ (shapes broadcast).

        Example:
            >>> mean, std = VPSchedule().marginal(torch.ones(2, 1), 1.0)
            >>> f"{mean[0, 0].item():.4f}, {std.item():.4f}"
            '0.0066, 1.0000'
        """
        return self.alpha(t).to(x0.dtype) * x0, self.sigma(t).to(x0.dtype)

    def perturb(self, x0: torch.Tensor, t: Time, noise: torch.Tensor) -> torch.Tensor:
        """x_t = α_t x₀ + σ_t ε: a draw of the forward process at time t (t of shape (N, 1))."""
        mean, std = self.marginal(x0, t)
        return mean + std * noise

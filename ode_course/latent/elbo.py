"""The ELBO's terms: the Gaussian KL in closed form and the masked Gaussian log-likelihood.

For one series with the approximate posterior q(z₀ | x) = N(μ, diag s²),

    ELBO = E_{z₀ ~ q}[Σᵢ log N(xᵢ; g(z(tᵢ)), σ² I)] − KL(q(z₀ | x) ‖ N(0, I)):

- :func:`gaussian_kl`: KL between diagonal Gaussians, in closed form;
- :func:`masked_gaussian_log_likelihood`: the log-likelihood of the observed entries only;
- :func:`masked_mse`: the mean squared error over the observed entries only (the baseline's
  loss);
- :class:`ELBOTerms`: the two terms, per series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ode_course import _validate

__all__ = ["ELBOTerms", "gaussian_kl", "masked_gaussian_log_likelihood", "masked_mse"]


def gaussian_kl(
    mu_q: torch.Tensor,
    logvar_q: torch.Tensor,
    mu_p: torch.Tensor | None = None,
    logvar_p: torch.Tensor | None = None,
) -> torch.Tensor:
    """KL(N(μ_q, σ_q²) ‖ N(μ_p, σ_p²)) = ½ Σₗ [ln(σ_p²/σ_q²) + (σ_q² + (μ_q − μ_p)²)/σ_p² − 1].

    For Gaussians with diagonal covariances the divergence is a sum over the dimensions l of
    the closed form for one dimension.

    Args:
        mu_q: the means of q, shape (..., L).
        logvar_q: ln σ_q², shape (..., L).
        mu_p: the means of p, broadcastable to (..., L); default 0.
        logvar_p: ln σ_p², broadcastable to (..., L); default 0 (so p = N(0, I) by default).

    Returns:
        The divergence, summed over the last dimension: shape (...).

    Raises:
        ValueError: ``mu_q`` and ``logvar_q`` have different shapes.

    Example:
        >>> mu, logvar = torch.tensor([1.0, 0.0]), torch.tensor([0.0, math.log(4.0)])
        >>> round(gaussian_kl(mu, logvar).item(), 6)  # ½(1) + ½(4 − 1 − ln 4)
        1.306853
    """
    _validate.shape(
        logvar_q,
        "logvar_q",
        f"of the shape of mu_q, {tuple(mu_q.shape)}",
        logvar_q.shape == mu_q.shape,
        fix="the encoder outputs one mean and one log-variance per latent dimension",
    )
    mu_p = torch.zeros_like(mu_q) if mu_p is None else mu_p
    logvar_p = torch.zeros_like(logvar_q) if logvar_p is None else logvar_p
    ratio = torch.exp(logvar_q - logvar_p)
    terms = logvar_p - logvar_q + ratio + (mu_q - mu_p) ** 2 * torch.exp(-logvar_p) - 1.0
    return 0.5 * terms.sum(dim=-1)


def masked_gaussian_log_likelihood(
    x: torch.Tensor, mean: torch.Tensor, mask: torch.Tensor, std: float
) -> torch.Tensor:
    """Σ_{t,d: m=1} log N(x_td; mean_td, σ²) = Σ m [−½ ln(2πσ²) − (x − mean)²/(2σ²)], per series.

    Masked-out entries contribute nothing, whatever ``x`` holds there (nan included).

    Args:
        x: observations, shape (B, T, D).
        mean: the model's means, shape (B, T, D).
        mask: bool, shape (B, T, D): True where x was observed.
        std: the observation noise σ > 0.

    Returns:
        The log-likelihood of each series, shape (B,).

    Raises:
        ValueError: the shapes differ, or ``std`` is not positive.
        TypeError: ``std`` is not a number.

    Example:
        >>> x, mean = torch.tensor([[[1.0], [9.0]]]), torch.zeros(1, 2, 1)
        >>> mask = torch.tensor([[[True], [False]]])
        >>> ll = masked_gaussian_log_likelihood(x, mean, mask, std=1.0)
        >>> round(ll.item(), 6) == round(-0.5 * math.log(2 * math.pi) - 0.5, 6)
        True
    """
    for name, other in (("mean", mean), ("mask", mask)):
        _validate.shape(
            other,
            name,
            f"of the shape (B, T, D) of x, {tuple(x.shape)}",
            other.shape == x.shape,
            fix="decode at the batch's times",
        )
    std = _validate.positive(std, "std", fix="pass the observation noise, e.g. std=0.1")
    residual = torch.where(mask, x - mean, torch.zeros_like(mean))
    log_density = -0.5 * math.log(2 * math.pi * std**2) - residual**2 / (2 * std**2)
    return (log_density * mask).flatten(1).sum(dim=1)


def masked_mse(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of (prediction − target)² over the observed entries (mask True) only.

    Args:
        prediction, target: shape (B, T, D).
        mask: bool, shape (B, T, D).

    Returns:
        A scalar tensor.

    Raises:
        ValueError: the shapes differ or nothing is observed.

    Example:
        >>> p, x = torch.zeros(1, 2, 1), torch.tensor([[[2.0], [float("nan")]]])
        >>> masked_mse(p, x, torch.tensor([[[True], [False]]])).item()
        4.0
    """
    for name, other in (("target", target), ("mask", mask)):
        _validate.shape(
            other,
            name,
            f"of the shape of prediction, {tuple(prediction.shape)}",
            other.shape == prediction.shape,
            fix="predict at the times of the target, one row per series",
        )
    n = mask.sum()
    if n == 0:
        _validate.fail(
            "mask",
            "True for at least one entry (there is nothing to average otherwise)",
            "no entry selected",
            "average over series and times with observations",
        )
    residual = torch.where(mask, prediction - target, torch.zeros_like(prediction))
    return (residual**2).sum() / n


@dataclass(frozen=True)
class ELBOTerms:
    """The two terms of the ELBO for each series of a batch, all of shape (B,).

    Attributes:
        log_likelihood: Σ over observed entries of log N(x; g(z(t)), σ²), at one sample z₀ ~ q.
        kl: KL(q(z₀ | x) ‖ N(0, I)), in closed form.
    """

    log_likelihood: torch.Tensor
    kl: torch.Tensor

    @property
    def elbo(self) -> torch.Tensor:
        """log_likelihood − kl, shape (B,)."""
        return self.log_likelihood - self.kl

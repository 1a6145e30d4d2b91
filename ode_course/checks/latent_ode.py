"""Chapter 8 (latent ODEs): the two terms of the ELBO, a Gaussian KL and a masked likelihood."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch

from ode_course.checks.harness import (
    CheckFailed,
    call,
    exercise_check,
    name_the_mistake,
    passed,
    tensor_result,
)
from ode_course.latent import gaussian_kl, masked_gaussian_log_likelihood

__all__ = ["check_gaussian_kl", "check_masked_log_likelihood"]


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def _judge(
    out: torch.Tensor,
    want: torch.Tensor,
    mistakes: Mapping[str, torch.Tensor],
    what: str,
    formula: str,
) -> None:
    """Return if ``out`` is ``want``; otherwise raise, naming nan, a typical mistake, or the
    ``formula`` to follow."""
    if _same(out, want):
        return
    if not bool(torch.isfinite(out).all()):
        raise CheckFailed(
            f"{what} is not finite (inf or nan). Masked-out entries may hold nan: select with "
            "torch.where(mask, ..., 0) rather than multiplying by the mask (nan · 0 = nan)."
        )
    name_the_mistake(out, mistakes, _same, f"{what} computes")
    raise CheckFailed(f"{what} returns {out.tolist()}; expected {want.tolist()}: {formula}.")


def _kl(
    logvar_q: torch.Tensor, logvar_p: torch.Tensor, squared_distance: torch.Tensor
) -> torch.Tensor:
    """:func:`~ode_course.latent.gaussian_kl` with (μ_q − μ_p)² given instead of the means (μ_q
    = √d², μ_p = 0); the check feeds it wrong arguments to build the typical mistakes."""
    return gaussian_kl(squared_distance.sqrt(), logvar_q, torch.zeros_like(logvar_q), logvar_p)


@exercise_check
def check_gaussian_kl(
    kl_fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
) -> None:
    """``kl_fn(mu_q, logvar_q, mu_p, logvar_p)`` is KL(q ‖ p) for diagonal Gaussians.

    q = N(μ_q, diag e^{logvar_q}) and p = N(μ_p, diag e^{logvar_p}); the inputs have shape
    (..., L) and the result, summed over the L dimensions, shape (...):
    ½ Σₗ [ln σ_p² − ln σ_q² + (σ_q² + (μ_q − μ_p)²)/σ_p² − 1]. The check compares with
    :func:`~ode_course.latent.gaussian_kl` for a general p and for p = N(0, I).

    Args:
        kl_fn: the learner's KL divergence.

    Raises:
        CheckFailed: the result has the wrong shape or values; the message names the likely slip.

    Example:
        >>> def kl_fn(mu_q, logvar_q, mu_p, logvar_p):
        ...     ratio = (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp()
        ...     return 0.5 * (logvar_p - logvar_q + ratio - 1).sum(-1)
        >>> check_gaussian_kl(kl_fn)
        Correct: your KL matches the closed form for a general p and for p = N(0, I).
        >>> try:
        ...     check_gaussian_kl(lambda *args: 2 * kl_fn(*args))
        ... except CheckFailed as verdict:
        ...     print(verdict)
        for a general p, kl_fn computes twice the KL: the closed form has a factor ½.
    """
    gen = torch.Generator().manual_seed(8)
    shape = (4, 3)
    mu_q, logvar_q, mu_p, logvar_p = (
        torch.randn(shape, generator=gen, dtype=torch.float64) for _ in range(4)
    )
    zeros = torch.zeros(shape, dtype=torch.float64)
    for p_mu, p_logvar, name in ((mu_p, logvar_p, "a general p"), (zeros, zeros, "p = N(0, I)")):
        args = (mu_q.clone(), logvar_q.clone(), p_mu.clone(), p_logvar.clone())
        out = tensor_result(call(kl_fn, "kl_fn", *args), shape[:-1], "kl_fn")
        want = gaussian_kl(mu_q, logvar_q, p_mu, p_logvar)
        d2 = (mu_q - p_mu) ** 2
        mistakes = {
            "twice the KL: the closed form has a factor ½": 2 * want,
            "the KL plus L/2: subtract 1 once per dimension, inside the sum": want + 0.5 * 3,
            "KL(p ‖ q): the divergence is not symmetric; q (the posterior) comes first": _kl(
                p_logvar, logvar_q, d2
            ),
            "(μ_q − μ_p)² without dividing by σ_p²": _kl(logvar_q, p_logvar, d2 * p_logvar.exp()),
            "σ = e^{logvar}: logvar is ln σ², so σ² = e^{logvar}": _kl(
                2 * logvar_q, 2 * p_logvar, d2
            ),
        }
        formula = "½ Σ [logvar_p − logvar_q + (e^{logvar_q} + (μ_q − μ_p)²)/e^{logvar_p} − 1]"
        _judge(out, want, mistakes, f"for {name}, kl_fn", formula)
    passed("your KL matches the closed form for a general p and for p = N(0, I).")


@exercise_check
def check_masked_log_likelihood(
    log_likelihood: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, float], torch.Tensor],
) -> None:
    """``log_likelihood(x, mean, mask, std)`` sums log N(x; mean, std²) where observed.

    x, mean and mask have shape (B, T, D) (mask bool) and the result, one number per series,
    shape (B,): Σ_{t,d: mask} [−½ ln(2π std²) − (x − mean)²/(2 std²)]. Masked-out entries of x
    hold nan in the check, as missing values can in real data. The check compares with
    :func:`~ode_course.latent.masked_gaussian_log_likelihood`.

    Args:
        log_likelihood: the learner's masked Gaussian log-likelihood.

    Raises:
        CheckFailed: the result has the wrong shape or values; the message names the likely slip.

    Example:
        >>> def log_likelihood(x, mean, mask, std):
        ...     r = torch.where(mask, x - mean, torch.zeros_like(mean))
        ...     terms = -0.5 * math.log(2 * math.pi * std**2) - r**2 / (2 * std**2)
        ...     return torch.where(mask, terms, torch.zeros_like(terms)).sum(dim=(1, 2))
        >>> check_masked_log_likelihood(log_likelihood)
        Correct: the masked Gaussian log-likelihood matches, and masked nans are ignored.
    """
    gen = torch.Generator().manual_seed(9)
    shape, std = (3, 5, 2), 0.3
    mean = torch.randn(shape, generator=gen, dtype=torch.float64)
    clean = mean + std * torch.randn(shape, generator=gen, dtype=torch.float64)
    mask = torch.rand(shape, generator=gen) < 0.6
    mask[:, 0] = True  # every series observed at least once
    x = torch.where(mask, clean, torch.full_like(clean, float("nan")))
    args = (x.clone(), mean.clone(), mask.clone(), std)
    out = call(log_likelihood, "log_likelihood", *args)
    out = tensor_result(out, shape[:1], "log_likelihood")
    want = masked_gaussian_log_likelihood(x, mean, mask, std)
    r2 = torch.where(mask, clean - mean, torch.zeros_like(mean)) ** 2
    m = mask.to(mean.dtype)
    const = -0.5 * math.log(2 * math.pi * std**2)

    def total(values: torch.Tensor) -> torch.Tensor:
        return (values * m).sum(dim=(1, 2))

    mistakes = {
        "the mean over observed entries, not the sum (the likelihood multiplies densities)": want
        / m.sum(dim=(1, 2)),
        "(x − mean)²/std² without the ½ of the Gaussian exponent": total(const - r2 / std**2),
        "(x − mean)²/(2 std): divide by the variance std², not by std": total(
            const - r2 / (2 * std)
        ),
        "no −½ ln(2π std²): the normalising constant counts once per observed entry": total(
            -r2 / (2 * std**2)
        ),
    }
    formula = "Σ over observed entries of −½ ln(2π std²) − (x − mean)²/(2 std²)"
    _judge(out, want, mistakes, "log_likelihood", formula)
    passed("the masked Gaussian log-likelihood matches, and masked nans are ignored.")

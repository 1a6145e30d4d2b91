"""Tests for ode_course.latent.elbo: the ELBO's terms against hand computations and
torch's distributions, and their errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from ode_course.latent import (
    gaussian_kl,
    masked_gaussian_log_likelihood,
    masked_mse,
)

F64 = torch.float64


def test_gaussian_kl_by_hand():
    mu, logvar = torch.tensor([1.0, 0.0], dtype=F64), torch.tensor([0.0, math.log(4.0)], dtype=F64)
    # dimension 1: ½(1 + 1 − 1 − 0) = ½; dimension 2: ½(4 + 0 − 1 − ln 4)
    assert gaussian_kl(mu, logvar).item() == pytest.approx(0.5 + 0.5 * (3 - math.log(4.0)))
    # two one-dimensional Gaussians: N(1, 4) against N(−1, 1/4)
    kl = gaussian_kl(
        *(torch.tensor([v], dtype=F64) for v in (1.0, math.log(4), -1.0, -math.log(4)))
    )
    want = 0.5 * (math.log(0.25 / 4) + (4 + 2**2) / 0.25 - 1)
    assert kl.item() == pytest.approx(want)


def test_gaussian_kl_matches_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    mu_q, logvar_q, mu_p, logvar_p = (
        torch.randn(2, 5, 4, generator=gen, dtype=F64) for _ in range(4)
    )
    ours = gaussian_kl(mu_q, logvar_q, mu_p, logvar_p)
    q, p = Normal(mu_q, (0.5 * logvar_q).exp()), Normal(mu_p, (0.5 * logvar_p).exp())
    assert ours.shape == (2, 5)
    torch.testing.assert_close(ours, kl_divergence(q, p).sum(-1))
    prior = Normal(torch.zeros_like(mu_q), torch.ones_like(mu_q))
    torch.testing.assert_close(gaussian_kl(mu_q, logvar_q), kl_divergence(q, prior).sum(-1))
    assert (ours > 0).all() and gaussian_kl(mu_q, logvar_q, mu_q, logvar_q).abs().max() < 1e-12


def test_gaussian_kl_shape_error():
    with pytest.raises(ValueError, match=r"logvar_q must be of the shape of mu_q.*Fix: "):
        gaussian_kl(torch.zeros(3), torch.zeros(2))


def test_masked_log_likelihood_by_hand():
    x = torch.tensor([[[1.0, 2.0], [0.5, 7.0]], [[0.0, 0.0], [-1.0, 3.0]]], dtype=F64)
    mean = torch.tensor([[[0.0, 2.5], [0.5, 0.0]], [[0.0, 0.0], [0.0, 0.0]]], dtype=F64)
    mask = torch.tensor([[[True, True], [True, False]], [[False, False], [True, False]]])
    std = 0.5
    const = -0.5 * math.log(2 * math.pi * std**2)
    # series 0: residuals 1, −0.5, 0 observed; series 1: residual −1 observed
    want0 = 3 * const - (1.0 + 0.25 + 0.0) / (2 * std**2)
    want1 = const - 1.0 / (2 * std**2)
    got = masked_gaussian_log_likelihood(x, mean, mask, std)
    torch.testing.assert_close(got, torch.tensor([want0, want1], dtype=F64))


def test_masked_log_likelihood_matches_torch_and_ignores_masked_entries():
    gen = torch.Generator().manual_seed(1)
    x, mean = torch.randn(4, 6, 3, generator=gen, dtype=F64), torch.randn(4, 6, 3, generator=gen)
    mean = mean.double()
    mask = torch.rand(4, 6, 3, generator=gen) < 0.5
    want = (Normal(mean, 0.3).log_prob(x) * mask).sum(dim=(1, 2))
    got = masked_gaussian_log_likelihood(x, mean, mask, 0.3)
    torch.testing.assert_close(got, want)
    spoiled = torch.where(mask, x, torch.full_like(x, float("nan")))
    torch.testing.assert_close(masked_gaussian_log_likelihood(spoiled, mean, mask, 0.3), want)


@pytest.mark.parametrize(
    "args,match",
    [
        ((torch.zeros(1, 2, 1), torch.zeros(1, 2, 2), torch.ones(1, 2, 1, dtype=torch.bool), 1.0),
         r"mean must be of the shape \(B, T, D\) of x, \(1, 2, 1\); got shape \(1, 2, 2\)"),
        ((torch.zeros(1, 2, 1), torch.zeros(1, 2, 1), torch.ones(1, 3, 1, dtype=torch.bool), 1.0),
         r"mask must be of the shape \(B, T, D\) of x"),
        ((torch.zeros(1, 2, 1), torch.zeros(1, 2, 1), torch.ones(1, 2, 1, dtype=torch.bool), 0.0),
         "std must be positive; got std=0"),
    ],
)  # fmt: skip
def test_masked_log_likelihood_errors(args, match):
    with pytest.raises(ValueError, match=match) as info:
        masked_gaussian_log_likelihood(*args)
    assert "Fix: " in str(info.value)


def test_masked_mse_by_hand_and_errors():
    prediction = torch.tensor([[[1.0], [2.0], [0.0]]])
    target = torch.tensor([[[0.0], [float("nan")], [3.0]]])
    mask = torch.tensor([[[True], [False], [True]]])
    assert masked_mse(prediction, target, mask).item() == pytest.approx((1 + 9) / 2)
    with pytest.raises(ValueError, match=r"target must be of the shape of prediction.*Fix: "):
        masked_mse(prediction, target[:, :2], mask)
    with pytest.raises(ValueError, match=r"mask must be of the shape of prediction.*Fix: "):
        masked_mse(prediction, target, mask[:, :2])
    with pytest.raises(ValueError, match=r"mask must be True for at least one entry.*Fix: "):
        masked_mse(prediction, target, torch.zeros_like(mask))

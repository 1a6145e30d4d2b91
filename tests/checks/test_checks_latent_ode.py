"""Tests for ode_course.checks.latent_ode (Chapter 8): right answers pass, each slip is named."""

from __future__ import annotations

import math
from inspect import unwrap

import pytest
import torch

from ode_course.checks.harness import CheckFailed
from ode_course.checks.latent_ode import check_gaussian_kl, check_masked_log_likelihood


def kl_right(mu_q, logvar_q, mu_p, logvar_p):
    return 0.5 * (
        logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1
    ).sum(-1)


def test_gaussian_kl_check_accepts_the_closed_form(capsys):
    check_gaussian_kl(kl_right)
    assert capsys.readouterr().out == (  # the text the notebook prints
        "Correct: your KL matches the closed form for a general p and for p = N(0, I).\n"
    )


def stub(*args):
    raise NotImplementedError("write it")


@pytest.mark.parametrize(
    "kl_fn,match",
    [
        (lambda *a: 2 * kl_right(*a), "factor ½"),
        (lambda *a: kl_right(*a) + 1.5, "subtract 1 once per dimension"),
        (lambda mq, lq, mp, lp: kl_right(mp, lp, mq, lq), "not symmetric"),
        (
            lambda mq, lq, mp, lp: (
                0.5 * (lp - lq + lq.exp() / lp.exp() + (mq - mp) ** 2 - 1).sum(-1)
            ),
            "without dividing by σ_p²",
        ),
        (
            lambda mq, lq, mp, lp: kl_right(mq, 2 * lq, mp, 2 * lp),
            "logvar is ln σ²",
        ),
        (lambda mq, lq, mp, lp: kl_right(mq, lq, mp, lp)[..., None], "Sum over the dimensions"),
        (lambda mq, lq, mp, lp: 0.5 * (lq.exp() - 1 - lq + mq**2).sum(-1), "for a general p"),
        (lambda *a: kl_right(*a).tolist(), "must return a torch.Tensor"),
        (lambda *a: None, "returned None"),
        (stub, "not answered yet"),
    ],
)
def test_gaussian_kl_check_names_the_slip(kl_fn, match):
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_gaussian_kl)(kl_fn)


def ll_right(x, mean, mask, std):
    r = torch.where(mask, x - mean, torch.zeros_like(mean))
    return ((-0.5 * math.log(2 * math.pi * std**2) - r**2 / (2 * std**2)) * mask).sum(dim=(1, 2))


def test_masked_log_likelihood_check_accepts_the_right_answer(capsys):
    check_masked_log_likelihood(ll_right)
    assert capsys.readouterr().out == (  # the text the notebook prints
        "Correct: the masked Gaussian log-likelihood matches, and masked nans are ignored.\n"
    )


def residual(x, mean, mask):
    return torch.where(mask, x - mean, torch.zeros_like(mean))


def const(std):
    return -0.5 * math.log(2 * math.pi * std**2)


@pytest.mark.parametrize(
    "fn,match",
    [
        (lambda x, m, k, s: ll_right(x, m, k, s) / k.sum(dim=(1, 2)), "the mean over observed"),
        (
            lambda x, m, k, s: ((const(s) - residual(x, m, k) ** 2 / s**2) * k).sum(dim=(1, 2)),
            "without the ½",
        ),
        (
            lambda x, m, k, s: ((const(s) - residual(x, m, k) ** 2 / (2 * s)) * k).sum(dim=(1, 2)),
            "divide by the variance",
        ),
        (
            lambda x, m, k, s: ((-(residual(x, m, k) ** 2) / (2 * s**2)) * k).sum(dim=(1, 2)),
            "normalising constant",
        ),
        (
            lambda x, m, k, s: ((const(s) - (x - m) ** 2 / (2 * s**2)) * k).sum(dim=(1, 2)),
            "nan · 0 = nan",
        ),
        (lambda x, m, k, s: ll_right(x, m, k, s)[:, None], "expected \\(3,\\)"),
        (lambda x, m, k, s: ll_right(x, m, k, s) + 1.0, "Σ over observed entries"),
        (stub, "not answered yet"),
    ],
)
def test_masked_log_likelihood_check_names_the_slip(fn, match):
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_masked_log_likelihood)(fn)

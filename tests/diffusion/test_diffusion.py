"""The diffusion package against closed forms: marginals, moments, scores, flows and orders."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ode_course.cnf import TimeMLP
from ode_course.diffusion import (
    EVALUATIONS_PER_STEP,
    FlowVelocity,
    GaussianEpsilon,
    VPSchedule,
    ddim_step,
    denoising_loss,
    euler_maruyama,
    fit_diffusion,
    forward_sde,
    mixture_score,
    probability_flow,
    probability_flow_nll,
    reverse_sde,
    sample_diffusion,
    score_matching_loss,
    time_grid,
)
from ode_course.flow_matching import GaussianMixture1D

F64 = torch.float64
VP = VPSchedule()


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- the schedule ------------------------------------------------------------------------------
def test_alpha_is_the_integral_of_beta_and_the_marginal_variance_is_preserved():
    t = torch.linspace(0.01, 1.0, 9, dtype=F64)
    for ti in t:
        s = torch.linspace(0.0, float(ti), 20001, dtype=F64)
        integral = torch.trapezoid(VP.beta(s), s)
        assert math.isclose(VP.log_alpha(ti).item(), -0.5 * integral.item(), rel_tol=1e-8)
    assert torch.allclose(VP.alpha(t) ** 2 + VP.sigma(t) ** 2, torch.ones_like(t), atol=1e-15)


def test_log_snr_is_inverted_in_closed_form_and_decreases():
    t = torch.linspace(1e-4, 1.0, 50, dtype=F64)
    lam = VP.log_snr(t)
    assert bool((lam.diff() < 0).all())
    assert torch.allclose(VP.time(lam), t, rtol=1e-9, atol=1e-12)
    assert torch.allclose(lam, torch.log(VP.alpha(t) / VP.sigma(t)), rtol=1e-12)


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan"), torch.tensor([0.5, 0.0])])
def test_times_outside_the_interval_name_the_fix(bad):
    with pytest.raises(ValueError, match=r"t must be a time in \(0, 1\].*t_end > 0"):
        VP.log_snr(bad)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"beta_min": -1.0}, "beta_min"), ({"beta_min": 1.0, "beta_max": 0.5}, "beta_max")],
)
def test_a_bad_schedule_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VPSchedule(**kwargs)


def test_euler_maruyama_matches_the_closed_form_marginal():
    x0 = torch.full((40_000, 1), 1.5, dtype=F64)
    xt = forward_sde(VP, x0, 0.4, steps=400, generator=_gen())
    mean, std = VP.marginal(x0[:1], 0.4)
    se = std.item() / math.sqrt(len(x0))
    assert abs(xt.mean().item() - mean.item()) < 5 * se + 2e-3  # + the O(h) bias of EM
    assert abs(xt.std().item() - std.item()) < 0.02


def test_euler_maruyama_refuses_a_grid_that_turns_back():
    with pytest.raises(ValueError, match="strictly increasing or decreasing"):
        euler_maruyama(lambda t, x: x, lambda t: t, torch.zeros(2, 1), torch.tensor([0.0, 1, 0.5]))


# --- score matching ----------------------------------------------------------------------------
MIX = GaussianMixture1D((0.3, 0.7), (-1.5, 1.0), (0.3, 0.5))


def test_the_mixture_score_is_the_gradient_of_the_log_density():
    x = torch.linspace(-3, 3, 13, dtype=F64).reshape(-1, 1).requires_grad_()
    t = 0.3
    alpha, sigma = VP.alpha(t), VP.sigma(t)
    var = alpha**2 * torch.tensor(MIX.stds, dtype=F64) ** 2 + sigma**2
    means = alpha * torch.tensor(MIX.means, dtype=F64)
    log_p = torch.logsumexp(
        torch.log(torch.tensor(MIX.weights, dtype=F64))
        - 0.5 * torch.log(2 * math.pi * var)
        - 0.5 * (x - means) ** 2 / var,
        dim=1,
    )
    (grad,) = torch.autograd.grad(log_p.sum(), x)
    assert torch.allclose(mixture_score(MIX, VP, t, x.detach()), grad, rtol=1e-10, atol=1e-12)


def test_denoising_and_score_matching_losses_differ_by_a_constant():
    x0 = MIX.sample(200_000, generator=_gen(1), dtype=F64)
    differences = []
    for seed in range(3):
        torch.manual_seed(seed)
        net = TimeMLP(1, hidden=(8,)).double()
        dsm = denoising_loss(net, x0, VP, generator=_gen(5)).item()
        sm = score_matching_loss(
            net, x0, lambda t, x: mixture_score(MIX, VP, t, x), VP, generator=_gen(5)
        ).item()
        differences.append(dsm - sm)
    assert max(differences) - min(differences) < 0.01 * abs(np.mean(differences))


def test_fit_diffusion_learns_the_noise_of_gaussian_data():
    torch.manual_seed(0)
    data = 0.5 * torch.randn(2000, 1, generator=_gen(2), dtype=F64) + 1.0
    net = TimeMLP(1, hidden=(32,)).double()
    exact = GaussianEpsilon(VP, [1.0], [0.5])
    t = torch.full((400, 1), 0.5, dtype=F64)
    x = torch.linspace(-2, 2, 400, dtype=F64).reshape(-1, 1)

    def error() -> float:
        with torch.no_grad():
            return (net(t, x) - exact(t, x)).abs().mean().item()

    before = error()
    fit = fit_diffusion(net, data, steps=600, batch_size=256, lr=1e-2)
    assert fit.nfe_per_step == 1 and error() < 0.25 * before


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: fit_diffusion("net", torch.zeros(4, 1)), TypeError, "model"),
        (lambda: fit_diffusion(TimeMLP(1), torch.zeros(4, 1), steps=0), ValueError, "steps"),
        (lambda: denoising_loss(TimeMLP(2), torch.zeros(4)), ValueError, "x0"),
        (
            lambda: sample_diffusion(TimeMLP(2), torch.zeros(3, 2), method="dpm3"),
            ValueError,
            "dpmpp2m",
        ),
        (lambda: time_grid(5, t_end=0.0), ValueError, "t_end"),
        (lambda: time_grid(5, spacing="cosine"), ValueError, "spacing"),
        (lambda: GaussianEpsilon(VP, [0.0], [-1.0]), ValueError, "std"),
        (lambda: probability_flow_nll(lambda t, x: x, torch.zeros(2, 2)), TypeError, "model"),
    ],
)
def test_bad_inputs_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- the samplers on an ODE whose solution is known --------------------------------------------
EXACT = GaussianEpsilon(VP, [1.0, -0.5], [0.5, 1.5])
X1 = torch.randn(500, 2, generator=_gen(3), dtype=F64)
TRUE_END = EXACT.flow(X1, 1.0, 1e-3)


def _error(method: str, steps: int, spacing: str = "logsnr") -> float:
    out = sample_diffusion(EXACT, X1, method=method, steps=steps, spacing=spacing)
    assert out.nfe == steps * EVALUATIONS_PER_STEP[method]
    return (out.x - TRUE_END).norm(dim=1).max().item()


@pytest.mark.parametrize(
    ("method", "order"),
    [("euler", 1), ("heun", 2), ("rk4", 4), ("ddim", 1), ("dpm2", 2), ("dpmpp2m", 2)],
)
def test_each_sampler_converges_with_its_order(method, order):
    steps = {1: 200, 2: 100, 4: 40}[order]
    ratio = _error(method, steps) / _error(method, 2 * steps)
    assert 2 ** (order - 0.3) < ratio < 2 ** (order + 0.3), ratio


def test_ddim_is_exact_when_the_noise_prediction_is_constant_and_euler_in_lambda_is_not():
    eps = torch.tensor([[0.3, -1.2]], dtype=F64)
    const = lambda t, x: eps.expand_as(x)  # noqa: E731
    x = torch.tensor([[0.7, 0.1]], dtype=F64)
    one = sample_diffusion(const, x, method="ddim", steps=1, t_end=0.2).x
    many = sample_diffusion(const, x, method="rk4", steps=400, t_end=0.2).x
    assert torch.allclose(one, many, rtol=1e-7)
    # the formula, term by term
    h = VP.log_snr(0.2) - VP.log_snr(1.0)
    want = VP.alpha(0.2) / VP.alpha(1.0) * x - VP.sigma(0.2) * torch.expm1(h) * eps
    assert torch.allclose(ddim_step(x, eps, 1.0, 0.2, VP), want, rtol=1e-13)


def test_ddim_is_euler_in_lambda_for_the_scaled_state():
    """In y = x/α and σ/α = e^{−λ}, the ODE is dy/dλ = −e^{−λ} ε: DDIM is its exact step for
    constant ε, and Euler in the variable e^{−λ}: y' = y + (e^{−λ'} − e^{−λ}) ε."""
    eps = torch.tensor([[0.4]], dtype=F64)
    x = torch.tensor([[1.3]], dtype=F64)
    t, s = 0.8, 0.3
    y_next = x / VP.alpha(t) + (torch.exp(-VP.log_snr(s)) - torch.exp(-VP.log_snr(t))) * eps
    assert torch.allclose(ddim_step(x, eps, t, s, VP) / VP.alpha(s), y_next, rtol=1e-13)


def test_the_grid_is_uniform_in_lambda_and_ends_exactly():
    grid = time_grid(10, t_end=1e-3)
    assert grid[0].item() == 1.0 and grid[-1].item() == 1e-3
    steps = VP.log_snr(grid).diff()
    assert torch.allclose(steps, steps[0].expand_as(steps), rtol=1e-8)


def test_the_reverse_sde_reaches_the_data_distribution():
    x1 = torch.randn(20_000, 2, generator=_gen(4), dtype=F64)
    out = reverse_sde(EXACT, x1, steps=500, generator=_gen(5))
    assert out.nfe == 500
    assert torch.allclose(out.x.mean(0), EXACT.mean[0], atol=0.05)
    assert torch.allclose(out.x.std(0), EXACT.std[0], atol=0.05)


def test_the_probability_flow_drift_uses_the_score():
    x = torch.tensor([[0.2, 1.0]], dtype=F64)
    t = 0.6
    score = -EXACT(torch.tensor(t, dtype=F64), x) / VP.sigma(t)
    want = -0.5 * VP.beta(t) * (x + score)
    assert torch.allclose(probability_flow(EXACT)(t, x), want, rtol=1e-13)


# --- the exact likelihood ----------------------------------------------------------------------
def test_the_probability_flow_nll_of_gaussian_data_is_the_gaussian_nll():
    """The exact flow of Gaussian data is affine, so the model's density is known: N(0, I) at
    t = 1 pulled back by z = α₁μ + (v₁/v_ε)^{1/2} (x − α_ε μ)."""
    x = torch.randn(50, 2, generator=_gen(6), dtype=F64) * 0.7 + 0.2
    v_end, v_one = EXACT._variance(1e-3), EXACT._variance(1.0)
    z = VP.alpha(1.0) * EXACT.mean + (v_one / v_end).sqrt() * (x - VP.alpha(1e-3) * EXACT.mean)
    log_p = -0.5 * (z**2).sum(1) - math.log(2 * math.pi) + 0.5 * torch.log(v_one / v_end).sum()
    got = probability_flow_nll(EXACT, x, rtol=1e-9, atol=1e-9).nll
    assert abs(got + log_p.mean().item()) < 1e-6


def test_the_flow_velocity_runs_chapter_9s_time():
    velocity = FlowVelocity(EXACT)
    x = torch.tensor([[0.5, 0.5]], dtype=F64)
    assert torch.allclose(velocity(0.25, x), -probability_flow(EXACT)(0.75, x), rtol=1e-13)
    assert torch.allclose(velocity(1.0, x), velocity(1 - 1e-3, x))  # clamped at t_end

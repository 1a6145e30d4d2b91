"""Tests for ode_course.flow_matching.mixture: the mixture's samples and density (scipy), the path
density (quadrature of the convolution), and the closed-form marginal velocity: its limits at
t = 0 and 1, E[x₁ − x₀ | x_t] by Monte Carlo, the continuity equation by finite differences,
and its flow carrying N(0, 1) onto the mixture (quantiles); the errors."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from ode_course.flow_matching import GaussianMixture1D
from ode_course.solvers import odeint

pytestmark = pytest.mark.usefixtures("one_thread")

F64 = torch.float64
MIX = GaussianMixture1D((0.3, 0.7), (-1.5, 2.0), (0.4, 0.6))
W, MU, SIGMA = np.array(MIX.weights), np.array(MIX.means), np.array(MIX.stds)


def grid(n=41, low=-4.0, high=4.0):
    return torch.linspace(low, high, n, dtype=F64)[:, None]


def scipy_log_prob(x, t=1.0):
    scale = np.sqrt((1 - t) ** 2 + t**2 * SIGMA**2)
    return np.log((W * stats.norm.pdf(x[:, None], t * MU, scale)).sum(axis=1))


def test_weights_are_normalised_and_the_mixture_is_frozen():
    mix = GaussianMixture1D([2, 6], [0, 1], [1, 1])
    assert mix.weights == (0.25, 0.75) and mix.means == (0.0, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        mix.weights = (1.0,)  # type: ignore[misc]


def test_samples_have_the_mixture_moments():
    n = 50_000
    x = MIX.sample(n, generator=torch.Generator().manual_seed(0), dtype=F64)
    assert x.shape == (n, 1) and x.dtype == F64
    mean = (W * MU).sum()
    var = (W * (SIGMA**2 + MU**2)).sum() - mean**2
    assert abs(x.mean().item() - mean) < 5 * math.sqrt(var / n)
    assert abs(x.var().item() - var) / var < 0.03
    # the fraction in the left component (well separated: below 0)
    assert abs((x < 0).double().mean().item() - 0.3) < 5 * math.sqrt(0.21 / n)


def test_log_prob_and_path_log_prob_match_scipy():
    x = grid()
    np.testing.assert_allclose(MIX.log_prob(x).numpy(), scipy_log_prob(x[:, 0].numpy()), rtol=1e-12)
    np.testing.assert_allclose(
        MIX.path_log_prob(x[:, 0], 0.0).numpy(), stats.norm.logpdf(x[:, 0].numpy()), rtol=1e-12
    )
    torch.testing.assert_close(MIX.path_log_prob(x, 1.0), MIX.log_prob(x))


@pytest.mark.parametrize("t", [0.3, 0.8])
def test_the_path_density_is_the_convolution_of_base_and_data(t):
    # p_t(x) = ∫ N(x₀; 0, 1) p₁((x − (1 − t) x₀)/t) / t dx₀, by quadrature
    p1 = lambda y: (W * stats.norm.pdf(y, MU, SIGMA)).sum()  # noqa: E731
    for x in (-1.0, 0.2, 1.7):
        want, _ = integrate.quad(
            lambda x0, x=x: stats.norm.pdf(x0) * p1((x - (1 - t) * x0) / t) / t, -10, 10, limit=200
        )
        got = math.exp(MIX.path_log_prob(torch.tensor([[x]], dtype=F64), t).item())
        assert abs(got - want) < 1e-8 * max(1, want)


def test_the_marginal_velocity_at_the_ends():
    x = grid()
    # t = 0: x_t = x₀ is independent of x₁, so u₀(x) = E[x₁] − x; t = 1: u₁(x) = x − E[x₀] = x
    torch.testing.assert_close(MIX.marginal_velocity(0.0, x), (W * MU).sum() - x)
    torch.testing.assert_close(MIX.marginal_velocity(1.0, x), x)


def test_one_component_gives_the_linear_regression_of_x1_minus_x0_on_x_t():
    mix = GaussianMixture1D((1.0,), (2.0,), (0.5,))
    t, x = 0.4, grid()
    s2 = (1 - t) ** 2 + t**2 * 0.25
    torch.testing.assert_close(
        mix.marginal_velocity(t, x), 2.0 + (t * 0.25 - (1 - t)) / s2 * (x - t * 2.0)
    )


@pytest.mark.parametrize("t", [0.25, 0.6, 0.9])
def test_the_marginal_velocity_is_the_conditional_mean_by_monte_carlo(t):
    n = 400_000
    gen = torch.Generator().manual_seed(5)
    x1 = MIX.sample(n, generator=gen, dtype=F64)
    x0 = torch.randn(n, 1, dtype=F64, generator=gen)
    x_t = (1 - t) * x0 + t * x1
    residual = (x1 - x0) - MIX.marginal_velocity(t, x_t)
    # within any bin of x_t, E[x₁ − x₀ − u_t(x_t) | bin] = 0 exactly (no binning bias)
    edges = torch.linspace(-2.5, 2.5, 11, dtype=F64)
    for low, high in itertools.pairwise(edges):
        inside = residual[(x_t >= low) & (x_t < high)]
        if len(inside) > 1000:
            assert abs(inside.mean().item()) < 5 * inside.std().item() / len(inside) ** 0.5


@pytest.mark.parametrize("t", [0.1, 0.5, 0.85])
def test_the_continuity_equation_holds_by_finite_differences(t):
    # ∂p/∂t + ∂(p u)/∂x = 0, central differences of step h (error O(h²))
    x, h = grid(61).requires_grad_(False), 1e-4
    p = lambda x, t: MIX.path_log_prob(x, t).exp()  # noqa: E731
    flux = lambda x, t: p(x, t) * MIX.marginal_velocity(t, x)[:, 0]  # noqa: E731
    dp_dt = (p(x, t + h) - p(x, t - h)) / (2 * h)
    dflux_dx = (flux(x + h, t) - flux(x - h, t)) / (2 * h)
    scale = dp_dt.abs().max().item()
    assert scale > 0.05
    assert (dp_dt + dflux_dx).abs().max().item() < 1e-6 * scale


def path_cdf(x, t):
    scale = np.sqrt((1 - t) ** 2 + t**2 * SIGMA**2)
    return (W * stats.norm.cdf(x[:, None], t * MU, scale)).sum(axis=1)


def test_the_flow_of_the_marginal_velocity_carries_the_base_quantiles_to_the_data():
    # in 1-D the flow keeps the order of points, so it maps the quantile Φ⁻¹(q) of N(0, 1) to the
    # quantile q of p_t: F_t(φ_t(x₀)) = Φ(x₀)
    x0 = torch.linspace(-2.5, 2.5, 21, dtype=F64)[:, None]
    times = torch.tensor([0.0, 0.5, 1.0], dtype=F64)
    xs = odeint(MIX.marginal_velocity, x0, times, rtol=1e-10, atol=1e-10)
    for t, x in zip(times.tolist(), xs, strict=True):
        np.testing.assert_allclose(
            path_cdf(x[:, 0].numpy(), t), stats.norm.cdf(x0[:, 0].numpy()), atol=1e-7
        )


def test_shapes_of_points_and_times():
    x = grid(5)
    assert MIX.marginal_velocity(0.5, x).shape == (5, 1)
    assert MIX.marginal_velocity(0.5, x[:, 0]).shape == (5,)
    torch.testing.assert_close(
        MIX.marginal_velocity(torch.full((5,), 0.5, dtype=F64), x), MIX.marginal_velocity(0.5, x)
    )
    assert MIX.path_log_prob(x, torch.full((5, 1), 0.5, dtype=F64)).shape == (5,)
    assert MIX.sample(3).dtype == torch.get_default_dtype()


def test_bad_inputs_name_the_argument_and_the_fix():
    with pytest.raises(ValueError, match="weights, means and stds must be of one length"):
        GaussianMixture1D((0.5, 0.5), (0.0,), (1.0, 1.0))
    with pytest.raises(ValueError, match=r"weights\[1\] must be positive"):
        GaussianMixture1D((0.5, 0.0), (0.0, 1.0), (1.0, 1.0))
    with pytest.raises(ValueError, match=r"stds\[0\] must be positive.*small positive std"):
        GaussianMixture1D((1.0,), (0.0,), (0.0,))
    with pytest.raises(TypeError, match="means must be a non-empty sequence"):
        GaussianMixture1D((1.0,), 0.0, (1.0,))
    with pytest.raises(TypeError, match=r"means\[0\] must be a real number"):
        GaussianMixture1D((1.0,), ("a",), (1.0,))
    with pytest.raises(ValueError, match=r"x must be of shape \(N, 1\).*Fix: pass 1-D points"):
        MIX.log_prob(torch.zeros(3, 2))
    with pytest.raises(TypeError, match=r"x must be a tensor or array"):
        MIX.log_prob(["a"])
    with pytest.raises(ValueError, match="t must be finite"):
        MIX.marginal_velocity(math.inf, torch.zeros(3, 1))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        MIX.sample(0)

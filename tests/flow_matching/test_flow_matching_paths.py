"""Tests for ode_course.flow_matching.paths: the straight path and its velocity (autograd), the
times, the conditional loss (hand computations, a field with zero loss), the conditional and
marginal losses differing by a constant with equal gradients in expectation (closed-form
marginal velocity of a Gaussian mixture), and the errors."""

from __future__ import annotations

import pytest
import torch

from ode_course.cnf import TimeMLP
from ode_course.flow_matching import (
    GaussianMixture1D,
    conditional_velocity,
    flow_matching_loss,
    marginal_flow_matching_loss,
    sample_time,
    straight_path,
)

pytestmark = pytest.mark.usefixtures("one_thread")

F64 = torch.float64


def batch(n=6, d=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, dtype=F64, generator=gen), torch.randn(n, d, dtype=F64, generator=gen)


def test_the_path_starts_at_x0_ends_at_x1_and_takes_every_shape_of_t():
    x0, x1 = batch()
    torch.testing.assert_close(straight_path(x0, x1, 0.0), x0, rtol=0, atol=0)
    torch.testing.assert_close(straight_path(x0, x1, 1), x1, rtol=0, atol=0)
    t = torch.linspace(0, 1, 6, dtype=F64)
    want = (1 - t[:, None]) * x0 + t[:, None] * x1
    for tt in (t, t[:, None], t.float()):
        torch.testing.assert_close(straight_path(x0, x1, tt), want)
    scalar = straight_path(x0, x1, torch.tensor(0.3, dtype=F64))
    torch.testing.assert_close(scalar, 0.7 * x0 + 0.3 * x1)


def test_the_conditional_velocity_is_the_time_derivative_of_the_path():
    x0, x1 = batch()
    for t0 in (0.1, 0.5, 0.9):
        t = torch.full((6, 1), t0, dtype=F64, requires_grad=True)
        # x_t is linear in t: d x_t/dt per row by one backward pass per coordinate
        derivative = torch.stack(
            [
                torch.autograd.grad(straight_path(x0, x1, t)[:, j].sum(), t)[0][:, 0]
                for j in range(3)
            ],
            dim=1,
        )
        torch.testing.assert_close(derivative, conditional_velocity(x0, x1))
    torch.testing.assert_close(conditional_velocity(x0, x1), x1 - x0, rtol=0, atol=0)


def test_sample_time_is_uniform_on_the_unit_interval_and_reproducible():
    t = sample_time(20_000, generator=torch.Generator().manual_seed(1), dtype=F64)
    assert t.shape == (20_000, 1) and t.dtype == F64
    assert 0 <= t.min() and t.max() <= 1
    # mean 1/2 and variance 1/12, within 5 standard errors
    assert abs(t.mean().item() - 0.5) < 5 * (1 / 12) ** 0.5 / 20_000**0.5
    assert abs(t.var().item() - 1 / 12) < 5 * (1 / 180) ** 0.5 / 20_000**0.5
    again = sample_time(20_000, generator=torch.Generator().manual_seed(1), dtype=F64)
    assert torch.equal(t, again)
    assert sample_time(3).dtype == torch.get_default_dtype()


def test_the_loss_is_the_mean_squared_error_to_x1_minus_x0_by_hand():
    x0, x1 = batch()
    t = torch.rand(6, 1, dtype=F64, generator=torch.Generator().manual_seed(2))
    seen = []

    def field(s, x):
        seen.append(s.shape)
        return torch.sin(x) * s

    got = flow_matching_loss(field, x0, x1, t)
    x_t = (1 - t) * x0 + t * x1
    want = sum(((torch.sin(x_t[i]) * t[i] - (x1[i] - x0[i])) ** 2).sum() for i in range(6)) / 6
    torch.testing.assert_close(got, want)
    assert seen == [(6, 1)]  # one evaluation, one time per point


def test_the_marginal_loss_by_hand():
    x, t = batch()[0], torch.full((6, 1), 0.25, dtype=F64)
    got = marginal_flow_matching_loss(lambda s, z: 2 * z, lambda z, s: z * s, x, 0.25)
    torch.testing.assert_close(got, ((2 * x - 0.25 * x) ** 2).sum(dim=1).mean())
    got_t = marginal_flow_matching_loss(lambda s, z: 2 * z, lambda z, s: z * s, x, t)
    torch.testing.assert_close(got_t, got)


def test_a_field_that_knows_the_target_has_zero_loss():
    # from x0 = 0 the point x_t = t x1 determines the target x1 = x_t / t
    x1 = batch()[1]
    t = torch.linspace(0.1, 1, 6, dtype=F64)
    loss = flow_matching_loss(lambda s, x: x / s, torch.zeros_like(x1), x1, t)
    assert loss.item() < 1e-28


def test_the_loss_trains_a_time_mlp_with_distinct_times_and_is_reproducible():
    torch.manual_seed(0)
    field = TimeMLP(2, hidden=(8,)).double()
    x0, x1 = batch(32, 2)
    a = flow_matching_loss(field, x0, x1, generator=torch.Generator().manual_seed(3))
    b = flow_matching_loss(field, x0, x1, generator=torch.Generator().manual_seed(3))
    assert a.ndim == 0 and torch.equal(a, b)
    a.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in field.parameters())


class Linear(torch.nn.Module):
    """v_θ(t, x) = a x + b t + c, a linear field in its parameters θ = (a, b, c)."""

    def __init__(self, a, b, c):
        super().__init__()
        self.theta = torch.nn.Parameter(torch.tensor([a, b, c], dtype=F64))

    def forward(self, t, x):
        a, b, c = self.theta
        return a * x + b * t + c


MIX = GaussianMixture1D((0.3, 0.7), (-1.5, 2.0), (0.4, 0.6))


def draw(n, seed):
    gen = torch.Generator().manual_seed(seed)
    x1 = MIX.sample(n, generator=gen, dtype=F64)
    x0 = torch.randn(n, 1, dtype=F64, generator=gen)
    t = sample_time(n, generator=gen, dtype=F64)
    return x0, x1, t, (1 - t) * x0 + t * x1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_conditional_and_marginal_gradients_agree_in_expectation(seed):
    n = 100_000
    x0, x1, t, x_t = draw(n, seed)
    field = Linear(0.3, -0.7, 0.2)
    g_cond = torch.autograd.grad(flow_matching_loss(field, x0, x1, t), field.theta)[0]
    g_marg = torch.autograd.grad(
        marginal_flow_matching_loss(field, MIX.marginal_velocity, x_t, t), field.theta
    )[0]
    # the difference is the mean of 2 (u_t(x_t) − (x₁ − x₀)) ∂v/∂θ, whose expectation is 0
    # because u_t(x) = E[x₁ − x₀ | x_t = x]: it must lie within 5 standard errors of 0
    terms = (
        2 * (MIX.marginal_velocity(t, x_t) - (x1 - x0)) * torch.cat([x_t, t, torch.ones_like(t)], 1)
    )
    torch.testing.assert_close(g_cond - g_marg, terms.mean(dim=0))
    se = terms.std(dim=0) / n**0.5
    assert ((g_cond - g_marg).abs() < 5 * se).all()
    assert ((g_cond - g_marg).abs() < 0.05 * g_cond.abs().max()).all()  # small next to the gradient


def test_the_losses_differ_by_a_constant_independent_of_the_parameters():
    n = 100_000
    x0, x1, t, x_t = draw(n, 4)
    u_cond, u_marg = x1 - x0, MIX.marginal_velocity(t, x_t)
    gaps = []
    fields = [Linear(0.0, 0.0, 0.0), Linear(1.0, -2.0, 0.5), Linear(-0.5, 3.0, -1.0)]
    with torch.no_grad():
        for field in fields:
            cond = flow_matching_loss(field, x0, x1, t)
            marg = marginal_flow_matching_loss(field, MIX.marginal_velocity, x_t, t)
            gaps.append((cond - marg).item())
    # the constant is E|x₁ − x₀|² − E|u_t(x_t)|² (θ = 0 gives it on these samples exactly)
    assert abs(gaps[0] - ((u_cond**2).mean() - (u_marg**2).mean()).item()) < 1e-10
    for field, gap in zip(fields[1:], gaps[1:], strict=True):
        with torch.no_grad():
            v = field(t, x_t)
        # gap(θ) − gap(0) = −2 mean(v_θ (u_cond − u_marg)), of mean 0: within 5 standard errors
        wiggle = -2 * v * (u_cond - u_marg)
        assert abs(gap - gaps[0] - wiggle.mean().item()) < 1e-9
        assert abs(gap - gaps[0]) < 5 * wiggle.std().item() / n**0.5


# --- errors -----------------------------------------------------------------------------------


def test_bad_inputs_name_the_argument_and_the_fix():
    x0, x1 = batch()
    torch.testing.assert_close(straight_path(x0.numpy(), x1, 0.5), straight_path(x0, x1, 0.5))
    with pytest.raises(TypeError, match="x1 must be of the dtype of x0"):
        conditional_velocity(x0, x1.long())  # integers become torch's default dtype
    with pytest.raises(TypeError, match=r"x1 must be of the dtype of x0.*Fix: x1 = x1.to"):
        conditional_velocity(x0, x1.float())
    with pytest.raises(ValueError, match=r"x1 must be of the shape of x0.*randn_like"):
        straight_path(x0, x1[:3], 0.5)
    with pytest.raises(ValueError, match=r"x0 must be of shape \(N, D\).*x0\[:, None\]"):
        conditional_velocity(x0[:, 0], x1[:, 0])
    with pytest.raises(ValueError, match=r"t must be in \[0, 1\].*clamp"):
        straight_path(x0, x1, 1.5)
    with pytest.raises(ValueError, match=r"t must be in \[0, 1\]"):
        straight_path(x0, x1, torch.linspace(-1, 1, 6))
    with pytest.raises(ValueError, match=r"t must be a number or a tensor of shape \(\), \(6,\)"):
        straight_path(x0, x1, torch.zeros(5))
    with pytest.raises(TypeError, match="t must be a real number"):
        straight_path(x0, x1, "0.5")
    with pytest.raises(ValueError, match="n must be a positive integer"):
        sample_time(0)
    with pytest.raises(TypeError, match="field must be callable"):
        flow_matching_loss(None, x0, x1)
    with pytest.raises(ValueError, match=r"field\(t, x\) must be a tensor of the shape of x"):
        flow_matching_loss(lambda t, x: x.sum(dim=1), x0, x1)
    with pytest.raises(TypeError, match="velocity must be callable"):
        marginal_flow_matching_loss(lambda t, x: x, 3, x0, 0.5)
    with pytest.raises(ValueError, match=r"velocity\(t, x\) must be a tensor of the shape of x_t"):
        marginal_flow_matching_loss(lambda t, x: x, lambda t, x: x[:, 0], x0, 0.5)

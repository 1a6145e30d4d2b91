"""Tests for ode_course.cnf.traces: the exact trace against autograd's Jacobian, Hutchinson's
estimate against the exact trace, the variance formulas against Monte Carlo, the probes'
moments, and every error."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ode_course.cnf import (
    NOISE_TYPES,
    TRACE_ESTIMATORS,
    exact_trace,
    hutchinson_trace,
    hutchinson_variance,
    sample_probe,
)

# small tensors: one thread is fastest, and immune to a busy machine
pytestmark = pytest.mark.usefixtures("one_thread")

F64 = torch.float64


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_exact_trace_matches_the_trace_of_autograds_jacobian(random_net):
    net = random_net(dim=4, hidden=(12,), seed=2)
    z = torch.randn(6, 4, dtype=F64, generator=generator(0)).requires_grad_()
    got = exact_trace(net(0.3, z), z)
    for n in range(6):
        jac = torch.autograd.functional.jacobian(lambda v: net(0.3, v[None])[0], z[n].detach())
        torch.testing.assert_close(got[n], torch.trace(jac), rtol=1e-12, atol=1e-12)
    A = torch.randn(3, 3, dtype=F64, generator=generator(1))
    w = torch.randn(2, 3, dtype=F64).requires_grad_()
    torch.testing.assert_close(exact_trace(w @ A.T, w), torch.trace(A).expand(2))


def test_exact_trace_is_differentiable_with_create_graph(random_net):
    net = random_net(dim=2, hidden=(8,), seed=4)
    z = torch.randn(3, 2, dtype=F64, generator=generator(0)).requires_grad_()
    trace = exact_trace(net(0.0, z), z, create_graph=True)
    (grad_w,) = torch.autograd.grad(trace.sum(), net.layers[0].weight)
    assert grad_w.abs().max() > 0
    assert not exact_trace(net(0.0, z), z).requires_grad


def test_trace_of_a_field_that_ignores_z_is_zero():
    z = torch.randn(3, 2, dtype=F64).requires_grad_()
    constant = torch.ones(3, 2, dtype=F64)
    assert torch.all(exact_trace(constant, z) == 0)
    assert torch.all(hutchinson_trace(constant, z, torch.ones(3, 2, dtype=F64)) == 0)


@pytest.mark.parametrize("noise", NOISE_TYPES)
def test_hutchinson_mean_is_within_three_standard_errors_of_the_exact_trace(noise, random_net):
    net = random_net(dim=4, hidden=(16,), seed=5, scale=2.0)
    m = 20_000
    z = torch.randn(1, 4, dtype=F64, generator=generator(1)).expand(m, 4).clone()
    z.requires_grad_()
    fz = net(0.5, z)
    probes = sample_probe((m, 4), noise, generator=generator(2))
    estimates = hutchinson_trace(fz, z, probes).detach()
    exact = exact_trace(fz, z)[0].item()
    se = estimates.std().item() / math.sqrt(m)
    assert abs(estimates.mean().item() - exact) < 3 * se
    # and the spread is the one hutchinson_variance predicts for this Jacobian
    jac = torch.autograd.functional.jacobian(lambda v: net(0.5, v[None])[0], z[0].detach())
    assert estimates.var().item() == pytest.approx(hutchinson_variance(jac, noise), rel=0.05)


def test_hutchinson_variance_formulas_against_monte_carlo():
    A = torch.randn(5, 5, dtype=F64, generator=generator(3))
    m = 200_000
    for noise in NOISE_TYPES:
        eps = sample_probe((m, 5), noise, generator=generator(4))
        samples = ((eps @ A) * eps).sum(dim=1)
        assert samples.var().item() == pytest.approx(hutchinson_variance(A, noise), rel=0.03)
    S = (A + A.T) / 2
    assert hutchinson_variance(A, "gaussian") == pytest.approx(2 * (S**2).sum().item())
    assert hutchinson_variance(A.numpy(), "rademacher") < hutchinson_variance(A, "gaussian")
    assert hutchinson_variance(torch.diag(torch.tensor([1.0, -2.0, 3.0])), "rademacher") == 0.0


def test_sample_probe_moments_and_values():
    g = sample_probe((100_000, 3), "gaussian", generator=generator(0))
    r = sample_probe((100_000, 3), "rademacher", dtype=torch.float32, generator=generator(0))
    assert r.dtype == torch.float32 and set(r.unique().tolist()) == {-1.0, 1.0}
    for eps in (g, r.double()):
        cov = eps.T @ eps / len(eps)
        torch.testing.assert_close(cov, torch.eye(3, dtype=F64), rtol=0, atol=0.02)


def test_the_registries():
    assert TRACE_ESTIMATORS == ("exact", "hutchinson")
    assert NOISE_TYPES == ("gaussian", "rademacher")


def test_bad_inputs_name_the_argument_and_the_fix():
    z = torch.zeros(3, 2)
    with pytest.raises(ValueError, match=r"z must be a tensor that requires grad.*Fix: z = z\.req"):
        exact_trace(z * 2, z)
    zg = z.clone().requires_grad_()
    with pytest.raises(ValueError, match=r"fz must be of the shape of z, \(3, 2\).*Fix: for a sin"):
        exact_trace((zg * 2).sum(dim=1), zg)
    z1 = torch.zeros(2).requires_grad_()
    with pytest.raises(ValueError, match=r"z must be of shape \(N, D\).*Fix: .*z\[None\]"):
        exact_trace(z1 * 2, z1)
    with pytest.raises(TypeError, match=r"fz must be a torch\.Tensor; got ndarray\. Fix: pass"):
        hutchinson_trace(np.zeros((3, 2)), zg, torch.ones(3, 2))
    with pytest.raises(TypeError, match=r"z must be a torch\.Tensor; got list\. Fix: "):
        exact_trace(torch.zeros(3, 2), [[0.0, 0.0]])
    with pytest.raises(
        ValueError, match=r"probe must be shaped like z \(3, 2\).*Fix: probe = sample_probe"
    ):
        hutchinson_trace(zg * 2, zg, torch.ones(2, 2))
    with pytest.raises(TypeError, match=r"probe must be a torch\.Tensor.*Fix: probe = sample_"):
        hutchinson_trace(zg * 2, zg, None)
    with pytest.raises(
        ValueError, match=r"noise must be one of 'gaussian', 'rademacher'; got noise='normal'.*Fix"
    ):
        sample_probe((2, 2), "normal")
    with pytest.raises(ValueError, match=r"noise must be one of .*Fix: "):
        hutchinson_variance(torch.eye(2), "uniform")
    with pytest.raises(ValueError, match=r"matrix must be square.*got shape \(2, 3\)\. Fix: "):
        hutchinson_variance(torch.ones(2, 3))

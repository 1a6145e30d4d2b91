"""Tests for ode_course.cnf.flow: the linear flow against its closed form, inversion, the
three solver backends, gradients against finite
differences, and every error."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from ode_course.cnf import (
    CNF,
    NOISE_TYPES,
    TRACE_ESTIMATORS,
    LinearField,
    sample_probe,
    standard_normal_log_prob,
)

# small tensors: one thread is fastest, and immune to a busy machine
pytestmark = pytest.mark.usefixtures("one_thread")

F64 = torch.float64
TIGHT = {"method": "dopri5", "rtol": 1e-9, "atol": 1e-9}


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def linear_closed_form(A: torch.Tensor, x: torch.Tensor, t1: float) -> torch.Tensor:
    """log p(x) for z(t₁) = e^{t₁A} z(0), z(0) ~ N(0, I): log N(e^{−t₁A} x) − t₁ tr A."""
    z0 = x @ torch.as_tensor(scipy.linalg.expm(-t1 * A.numpy())).T
    return standard_normal_log_prob(z0) - t1 * torch.trace(A)


# ---------------------------------------------------------------------- the linear flow
@pytest.mark.parametrize("backend", ["ode_course", "torchdiffeq"])
@pytest.mark.parametrize("dim,t1", [(2, 1.0), (3, 0.7)])
def test_linear_flow_log_prob_matches_the_closed_form(backend, dim, t1):
    A = torch.randn(dim, dim, dtype=F64, generator=generator(dim))
    x = torch.randn(7, dim, dtype=F64, generator=generator(10 + dim)) * 2
    cnf = CNF(dim, net=LinearField(A), t1=t1, backend=backend, **TIGHT)
    torch.testing.assert_close(cnf.log_prob(x), linear_closed_form(A, x, t1), rtol=1e-8, atol=1e-8)
    # the change of log-density along each path is exactly −t₁ tr A: log-det = −t·tr A
    _, ells = cnf.flow(x, [t1, 0.0])
    torch.testing.assert_close(ells[-1], torch.full((7,), t1 * torch.trace(A).item(), dtype=F64))


@pytest.mark.parametrize("noise", NOISE_TYPES)
def test_hutchinson_probe_is_held_fixed_during_a_solve(noise):
    # for f(z) = Az the Jacobian is constant, so with one fixed probe per solve the change of
    # log-density is exactly −t₁ εᵀAε; a probe re-drawn at each evaluation would average several
    A = torch.tensor([[0.3, -1.2], [0.8, 0.5]], dtype=F64)
    cnf = CNF(2, net=LinearField(A), trace="hutchinson", noise=noise, method="rk4", step_size=0.1)
    x = torch.randn(50, 2, dtype=F64, generator=generator(1))
    _, ells = cnf.flow(x, [0.0, 1.0], generator=generator(5))
    eps = sample_probe((50, 2), noise, generator=generator(5))
    torch.testing.assert_close(ells[-1], -((eps @ A) * eps).sum(dim=1), rtol=1e-12, atol=1e-12)
    assert cnf.nfe == 40  # 10 rk4 steps, 4 evaluations each


def test_hutchinson_log_prob_is_unbiased_for_the_linear_flow():
    A = torch.tensor([[0.4, -0.9, 0.1], [0.7, -0.3, 0.5], [0.0, 0.6, 0.2]], dtype=F64)
    x = torch.tensor([[0.5, -1.0, 0.3]], dtype=F64).expand(4000, 3)
    cnf = CNF(3, net=LinearField(A), trace="hutchinson", method="rk4", step_size=0.5)
    torch.manual_seed(0)
    estimates = cnf.log_prob(x)
    se = estimates.std() / math.sqrt(len(estimates))
    assert abs(estimates.mean() - linear_closed_form(A, x[:1], 1.0)[0]) < 3 * se


# ---------------------------------------------------------------------- inversion
@pytest.mark.parametrize("trace", TRACE_ESTIMATORS)
def test_sample_then_log_prob_round_trip(trace, random_net):
    cnf = CNF(2, net=random_net(scale=1.5), trace=trace, **TIGHT)
    with torch.no_grad():
        x, log_p = cnf.sample(20, generator=generator(3), return_log_prob=True)
        base = torch.randn(20, 2, dtype=F64, generator=generator(3))
        assert (x - base).abs().max() > 0.5  # the flow moves the points
        zs, _ = cnf.flow(x, [1.0, 0.0])
    torch.testing.assert_close(zs[-1], base, rtol=0, atol=1e-4)
    if trace == "exact":  # (Hutchinson's estimates differ from probe to probe)
        torch.testing.assert_close(cnf.log_prob(x), log_p, rtol=0, atol=1e-4)


def test_both_directions_share_one_vector_field_and_snapshots_follow_the_path(random_net):
    cnf = CNF(2, net=random_net(scale=1.5), **TIGHT)
    z0 = torch.randn(5, 2, dtype=F64, generator=generator(0))
    times = torch.linspace(0, 1, 5, dtype=F64)
    zs, ells = cnf.flow(z0, times)
    assert zs.shape == (5, 5, 2) and ells.shape == (5, 5)
    torch.testing.assert_close(zs[0], z0)
    assert torch.all(ells[0] == 0)
    back, back_ells = cnf.flow(zs[-1], times.flip(0))
    torch.testing.assert_close(back.flip(0), zs, rtol=0, atol=1e-6)
    torch.testing.assert_close(back_ells[-1], -ells[-1], rtol=0, atol=1e-6)


# ---------------------------------------------------------------------- gradients and backends
def test_gradients_of_log_prob_match_finite_differences(random_net):
    cnf = CNF(2, net=random_net(hidden=(6,), seed=7), method="rk4", step_size=0.25)
    x = torch.randn(4, 2, dtype=F64, generator=generator(8))
    weight = cnf.net.layers[0].weight
    (grad,) = torch.autograd.grad(cnf.log_prob(x).sum(), weight)
    h = 1e-6
    with torch.no_grad():
        for i, j in [(0, 0), (3, 1), (5, 2)]:
            weight[i, j] += h
            up = cnf.log_prob(x).sum()
            weight[i, j] -= 2 * h
            down = cnf.log_prob(x).sum()
            weight[i, j] += h
            assert grad[i, j].item() == pytest.approx(((up - down) / (2 * h)).item(), rel=1e-6)


@pytest.mark.parametrize("trace", TRACE_ESTIMATORS)
@pytest.mark.parametrize(
    ("backend", "grad_rtol"),
    # the adjoint's gradients come from a second, backward solve: close, not identical
    [("torchdiffeq", 1e-5), ("adjoint", 1e-4)],
)
def test_every_backend_agrees_with_ours_in_values_and_gradients(
    trace, backend, grad_rtol, random_net
):
    x = torch.randn(6, 2, dtype=F64, generator=generator(9))
    results = []
    for name in ("ode_course", backend):
        cnf = CNF(2, net=random_net(seed=9), trace=trace, backend=name, **TIGHT)
        torch.manual_seed(1)  # the same probe
        log_p = cnf.log_prob(x)
        grads = torch.autograd.grad(log_p.sum(), list(cnf.parameters()))
        results.append((log_p, grads))
    (a, ga), (b, gb) = results
    torch.testing.assert_close(a, b, rtol=0, atol=1e-7)
    for g1, g2 in zip(ga, gb, strict=True):
        torch.testing.assert_close(g1, g2, rtol=grad_rtol, atol=1e-6)


def test_adjoint_backend_passes_the_solver_options_on(random_net):
    net = random_net()
    x = torch.randn(3, 2, dtype=F64, generator=generator(0))
    want = CNF(2, net=net, method="rk4", step_size=0.1).log_prob(x)
    cnf = CNF(2, net=net, backend="adjoint", method="rk4", step_size=0.1)
    torch.testing.assert_close(cnf.log_prob(x), want, rtol=0, atol=0)  # the same forward solve
    assert cnf.nfe == 40  # 10 rk4 steps of 4 evaluations, as with our odeint


def test_cnf_accepts_numpy_data_and_counts_evaluations():
    torch.manual_seed(0)
    cnf = CNF(2, hidden=(8,), method="rk4", step_size=0.25).double()
    assert cnf.nfe == 0 and cnf.backend == "ode_course"
    log_p = cnf.log_prob(np.zeros((3, 2)))
    assert log_p.shape == (3,) and log_p.dtype == F64 and cnf.nfe == 16
    assert "trace='exact'" in repr(cnf) and "rk4" in repr(cnf)
    assert "backend='ode_course'" in repr(cnf)
    assert torch.equal(cnf(np.zeros((3, 2))), log_p)


# ---------------------------------------------------------------------- the deprecated keyword


def test_torchdiffeq_backend_accepts_its_own_methods():
    cnf = CNF(2, hidden=(4,), backend="torchdiffeq", method="bosh3").double()
    assert cnf.log_prob(torch.zeros(2, 2, dtype=F64)).shape == (2,) and cnf.nfe > 0


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (
            {"trace": "exactly"},
            ValueError,
            r"trace must be one of 'exact', 'hutchinson'; got trace='exactly'\. Fix: ",
        ),
        (
            {"noise": "uniform"},
            ValueError,
            r"noise must be one of 'gaussian', 'rademacher'; got noise='uniform'\. Fix: ",
        ),
        ({"method": "rk45"}, ValueError, r"method must be one of .*'dopri5'.*'rk45'\. Fix: pick"),
        ({"activation": "relu"}, ValueError, r"activation must be one of 'tanh'.*Fix: "),
        ({"dim": 0}, ValueError, r"dim must be a positive integer; got dim=0\. Fix: "),
        ({"dim": True}, TypeError, r"dim must be an integer >= 1; got bool True\. Fix: "),
        ({"hidden": (8, 0)}, ValueError, r"hidden\[1\] must be a positive integer.*Fix: "),
        ({"t1": 0.0}, ValueError, r"t1 must be positive; got t1=0\. Fix: pass an end time"),
        ({"t1": math.inf}, ValueError, r"t1 must be finite; got t1=inf\. Fix: pass an end time"),
        ({"t1": "1"}, TypeError, r"t1 must be a real number; got str '1'\. Fix: "),
        ({"net": lambda t, z: z}, TypeError, r"net must be a torch\.nn\.Module.*Fix: wrap"),
    ],
)
def test_cnf_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        CNF(**kwargs)


def test_other_bad_inputs():
    cnf = CNF(2, hidden=(4,), method="rk4", step_size=0.5).double()
    with pytest.raises(ValueError, match=r"n must be a positive integer; got n=0\. Fix: ask"):
        cnf.sample(0)
    with pytest.raises(ValueError, match=r"z must be of shape \(N, 2\).*Fix: "):
        cnf.flow(torch.zeros(3, 1), [0.0, 1.0])
    cnf.method = "rk45"  # the solver's settings are read, and checked, at every solve
    with pytest.raises(ValueError, match=r"method must be one of .*Fix: "):
        cnf.log_prob(torch.zeros(1, 2))


def test_an_unknown_backend_raises_naming_it_and_the_fix():
    with pytest.raises(
        ValueError,
        match=r"backend must be one of 'ode_course', 'adjoint', 'torchdiffeq'; "
        r"got backend='scipy'\. Fix: pass backend='ode_course'",
    ):
        CNF(2, hidden=(4,), backend="scipy")

"""Tests for ode_course.flow_matching.sampling: sample_flow against ode_course.solvers.odeint and
torchdiffeq.odeint with every method, the closed-form flow of a linear field (values and the
order of convergence), the NFE, trajectories, and the errors."""

from __future__ import annotations

import pytest
import torch
import torchdiffeq

from ode_course.flow_matching import SAMPLING_METHODS, FlowSamples, sample_flow, trajectories
from ode_course.solvers import CountNFE, odeint

pytestmark = pytest.mark.usefixtures("one_thread")

F64 = torch.float64
A = torch.tensor([[-0.3, 1.0], [-1.0, -0.3]], dtype=F64)
STAGES = {"euler": 1, "midpoint": 2, "rk4": 4}
T01 = torch.tensor([0.0, 1.0], dtype=F64)


def linear(t, x):
    return x @ A.T


def base(n=7, seed=0):
    return torch.randn(n, 2, dtype=F64, generator=torch.Generator().manual_seed(seed))


def test_the_methods_are_chapter_5s_solvers():
    assert SAMPLING_METHODS == ("euler", "midpoint", "rk4", "dopri5")


@pytest.mark.parametrize("method", ["euler", "midpoint", "rk4"])
def test_fixed_steps_equal_odeint_and_cost_steps_times_stages(method, random_net):
    field, x0 = random_net(2, hidden=(8,), scale=2.0), base()
    out = sample_flow(field, x0, method=method, steps=5)
    assert isinstance(out, FlowSamples) and out.x.shape == (7, 2)
    assert out.nfe == 5 * STAGES[method] and out.n_steps == 5
    want = odeint(field, x0, T01, method=method, step_size=0.2)[-1]
    torch.testing.assert_close(out.x, want.detach(), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("method", ["euler", "midpoint"])
def test_fixed_steps_equal_torchdiffeq(method, random_net):
    field, x0 = random_net(2, hidden=(8,), scale=2.0), base()
    out = sample_flow(field, x0, method=method, steps=8)
    with torch.no_grad():
        want = torchdiffeq.odeint(field, x0, T01, method=method, options={"step_size": 1 / 8})[-1]
    torch.testing.assert_close(out.x, want, rtol=1e-12, atol=1e-12)


def test_rk4_and_dopri5_agree_with_torchdiffeq(random_net):
    # torchdiffeq's rk4 is the 3/8 rule, another 4th-order method: agreement to O(h⁴)
    field, x0 = random_net(2, hidden=(8,), scale=2.0), base()
    with torch.no_grad():
        rk4_38 = torchdiffeq.odeint(field, x0, T01, method="rk4", options={"step_size": 1 / 64})
        reference = torchdiffeq.odeint(field, x0, T01, method="dopri5", rtol=1e-11, atol=1e-11)
    ours = sample_flow(field, x0, method="rk4", steps=64).x
    assert (ours - rk4_38[-1]).abs().max() < 1e-7
    assert (ours - reference[-1]).abs().max() < 1e-7
    tight = sample_flow(field, x0, method="dopri5", rtol=1e-11, atol=1e-11).x
    assert (tight - reference[-1]).abs().max() < 1e-9


def test_dopri5_counts_its_evaluations_as_odeint_does():
    counted, x0 = CountNFE(linear), base()
    out = sample_flow(counted, x0, method="dopri5", rtol=1e-6, atol=1e-6)
    assert out.nfe == counted.nfe > 0
    torch.testing.assert_close(out.x, odeint(linear, x0, T01, rtol=1e-6, atol=1e-6)[-1])


@pytest.mark.parametrize("method, order", [("euler", 1), ("midpoint", 2), ("rk4", 4)])
def test_the_error_against_the_closed_form_flow_shrinks_with_the_order(method, order):
    x0 = base()
    exact = x0 @ torch.linalg.matrix_exp(A).T  # x(1) = e^{A} x₀
    errors = [
        (sample_flow(linear, x0, method=method, steps=s).x - exact).abs().max().item()
        for s in (16, 32)
    ]
    assert abs(errors[0] / errors[1] / 2**order - 1) < 0.15


def test_samples_are_detached_even_from_a_base_that_requires_grad():
    x0 = base().requires_grad_()
    for kwargs in ({"method": "rk4", "steps": 2}, {"method": "dopri5", "rtol": 1e-3, "atol": 1e-3}):
        assert not sample_flow(linear, x0, **kwargs).x.requires_grad


def test_trajectories_start_at_x0_end_at_the_samples_and_match_torchdiffeq(random_net):
    field, x0 = random_net(2, hidden=(8,), scale=2.0), base()
    traj = trajectories(field, x0, steps=6)
    assert traj.shape == (7, 7, 2) and not traj.requires_grad
    assert torch.equal(traj[0], x0)
    torch.testing.assert_close(traj[-1], sample_flow(field, x0, method="rk4", steps=6).x)
    grid = torch.linspace(0, 1, 7, dtype=F64)
    with torch.no_grad():
        want = torchdiffeq.odeint(field, x0, grid, method="euler", options={"step_size": 1 / 6})
    torch.testing.assert_close(trajectories(field, x0, steps=6, method="euler"), want)


def test_bad_inputs_name_the_argument_and_the_fix():
    x0 = base()
    with pytest.raises(ValueError, match=r"steps must be a positive integer.*steps=8"):
        sample_flow(linear, x0, method="rk4")
    with pytest.raises(ValueError, match=r"rtol, atol must be None for the fixed-step"):
        sample_flow(linear, x0, method="euler", steps=4, rtol=1e-3)
    with pytest.raises(ValueError, match=r"steps must be None for method='dopri5'"):
        sample_flow(linear, x0, method="dopri5", steps=4, rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match=r"rtol, atol must be numbers for method='dopri5'"):
        sample_flow(linear, x0, method="dopri5")
    with pytest.raises(ValueError, match="method must be one of 'euler'"):
        sample_flow(linear, x0, method="heun", steps=4)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        sample_flow(linear, x0, method="euler", steps=0)
    with pytest.raises(TypeError, match="field must be callable"):
        sample_flow("v", x0, steps=4)
    with pytest.raises(ValueError, match=r"x0 must be of shape \(N, D\)"):
        sample_flow(linear, x0[0], steps=4)
    with pytest.raises(ValueError, match="method must be one of 'euler', 'midpoint', 'rk4'"):
        trajectories(linear, x0, steps=4, method="dopri5")
    with pytest.raises(TypeError, match="steps must be an integer"):
        trajectories(linear, x0, steps=2.5)

"""Tests for ode_course.cnf.dynamics: the time-dependent MLP, the linear field, the augmented
field [f, −tr ∂f/∂z], and their errors."""

from __future__ import annotations

import pytest
import torch

from ode_course.cnf import (
    ACTIVATIONS,
    AugmentedDynamics,
    LinearField,
    TimeMLP,
    exact_trace,
    sample_probe,
)

# small tensors: one thread is fastest, and immune to a busy machine
pytestmark = pytest.mark.usefixtures("one_thread")

F64 = torch.float64


def test_time_mlp_sees_time_and_has_the_requested_widths():
    net = TimeMLP(3, hidden=(5, 7), activation="softplus").double()
    assert [layer.in_features for layer in net.layers] == [4, 6, 8]
    assert [layer.out_features for layer in net.layers] == [5, 7, 3]
    z = torch.randn(2, 3, dtype=F64)
    assert not torch.allclose(net(0.0, z), net(torch.tensor(1.0, dtype=F64), z))
    assert set(ACTIVATIONS) == {"tanh", "softplus"}


def test_linear_field_is_az_row_by_row():
    A = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=F64)
    z = torch.randn(5, 2, dtype=F64)
    torch.testing.assert_close(LinearField(A)(0.0, z), (A @ z.T).T)
    assert "matrix" in dict(LinearField(A).named_buffers())
    assert not list(LinearField(A).parameters())


def test_augmented_dynamics_returns_the_field_and_minus_the_trace(random_net):
    net = random_net(dim=3, hidden=(8,), seed=1)
    state = torch.randn(4, 4, dtype=F64)
    z = state[:, :-1].clone().requires_grad_()
    fz = net(0.2, z)
    with torch.no_grad():
        out = AugmentedDynamics(net)(torch.tensor(0.2, dtype=F64), state)
    assert not out.requires_grad  # detached when the caller has autograd off
    torch.testing.assert_close(out[:, :-1], fz.detach())
    torch.testing.assert_close(out[:, -1], -exact_trace(fz, z))
    probe = sample_probe((4, 3))
    hutch = AugmentedDynamics(net, "hutchinson", probe)(0.2, state)
    assert hutch.requires_grad  # differentiable when the caller has autograd on
    torch.testing.assert_close(hutch[:, :-1], fz)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"dim": 0}, ValueError, r"dim must be a positive integer; got dim=0\. Fix: "),
        ({"dim": 2.0}, TypeError, r"dim must be an integer >= 1; got float 2\.0\. Fix: "),
        ({"hidden": (8, 0)}, ValueError, r"hidden\[1\] must be a positive integer.*Fix: "),
        (
            {"activation": "relu"},
            ValueError,
            r"activation must be one of 'tanh', 'softplus'; got activation='relu'\. Fix: ",
        ),
    ],
)
def test_time_mlp_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        TimeMLP(**{"dim": 2, **kwargs})


def test_other_bad_arguments():
    with pytest.raises(ValueError, match=r"probe must be a tensor.*probe=None\. Fix: pass probe="):
        AugmentedDynamics(TimeMLP(2, (4,)), "hutchinson")
    with pytest.raises(ValueError, match=r"trace must be one of 'exact', 'hutchinson'.*Fix: "):
        AugmentedDynamics(TimeMLP(2, (4,)), "approximate")
    with pytest.raises(ValueError, match=r"matrix must be square.*got shape \(3,\)\. Fix: pass A"):
        LinearField(torch.ones(3))

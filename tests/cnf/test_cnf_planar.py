"""Tests for ode_course.cnf.planar: the planar flow's log-determinant against autograd, the
invertibility constraint, normalisation and sampling, and its errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ode_course.cnf import PlanarFlow, density_on_grid

# small tensors: one thread is fastest, and immune to a busy machine
pytestmark = pytest.mark.usefixtures("one_thread")

F64 = torch.float64


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_planar_log_det_matches_autograds_jacobian_determinant():
    torch.manual_seed(0)
    flow = PlanarFlow(2, n_layers=6, init_scale=1.0).double()
    for x in torch.randn(5, 2, dtype=F64, generator=generator(0)):
        _, log_det = flow.transform(x[None])
        jac = torch.autograd.functional.jacobian(lambda v: flow.transform(v[None])[0][0], x)
        torch.testing.assert_close(log_det[0], torch.linalg.slogdet(jac).logabsdet)


def test_planar_constraint_keeps_every_layer_invertible():
    flow = PlanarFlow(3, n_layers=2).double()
    with torch.no_grad():
        flow.w.copy_(torch.tensor([[1.0, 2.0, 0.0], [0.5, -1.0, 1.0]]))
        flow.u.copy_(-3 * flow.w)  # wᵀu far below −1: the raw layer would fold space
    wu_hat = (flow.w * flow.u_hat()).sum(dim=1)
    assert torch.all(wu_hat > -1)
    torch.testing.assert_close(wu_hat, -1 + nn.functional.softplus((flow.w * flow.u).sum(1)))
    x = torch.randn(50, 3, dtype=F64, generator=generator(1)) * 3
    torch.testing.assert_close(flow.inverse(flow.transform(x)[0]), x, rtol=0, atol=1e-10)


def test_planar_flow_is_a_normalised_density_and_samples_follow_it():
    torch.manual_seed(1)
    flow = PlanarFlow(2, n_layers=4, init_scale=1.0).double()
    _, _, p = density_on_grid(flow, bounds=(-7.0, 7.0), resolution=140)
    assert p.sum() * 0.1**2 == pytest.approx(1.0, abs=1e-3)
    x = flow.sample(20_000, generator=generator(0))
    assert x.shape == (20_000, 2)
    # the mean log-density of the samples estimates −entropy; compare with the grid's
    grid_entropy = -(p * np.log(p)).sum() * 0.1**2
    assert -flow.log_prob(x).mean().item() == pytest.approx(grid_entropy, abs=0.03)
    assert torch.equal(flow(x[:5]), flow.log_prob(x[:5]))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"n_layers": 0}, ValueError, r"n_layers must be a positive integer; got n_layers=0\. Fix"),
        ({"dim": 1.5}, TypeError, r"dim must be an integer >= 1; got float 1\.5\. Fix: "),
        ({"init_scale": -1.0}, ValueError, r"init_scale must be >= 0; got init_scale=-1\. Fix: "),
    ],
)
def test_planar_flow_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        PlanarFlow(**kwargs)


def test_planar_flow_rejects_bad_inputs():
    flow = PlanarFlow(2, n_layers=2)
    with pytest.raises(ValueError, match=r"n must be a positive integer; got n=0\. Fix: "):
        flow.sample(0)
    with pytest.raises(ValueError, match=r"z must be of shape \(N, 2\).*Fix: "):
        flow.inverse(torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"n_bisections must be a positive integer.*Fix: "):
        flow.inverse(torch.zeros(3, 2), n_bisections=0)
    with pytest.raises(ValueError, match=r"x must be finite.*Fix: "):
        flow.transform(torch.full((1, 2), float("nan")))

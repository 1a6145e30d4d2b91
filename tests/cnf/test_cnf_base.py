"""Tests for ode_course.cnf.base: the base density against torch.distributions, and the check
of the points (N, D) that every model takes (through the public models)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ode_course.cnf import CNF, PlanarFlow, standard_normal_log_prob

# small tensors: one thread is fastest, and immune to a busy machine
pytestmark = pytest.mark.usefixtures("one_thread")

F64 = torch.float64


def test_standard_normal_log_prob_matches_torch_distributions():
    z = torch.randn(4, 3, dtype=F64)
    want = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(dim=1)
    torch.testing.assert_close(standard_normal_log_prob(z), want)


def test_points_take_the_dtype_of_the_model():
    flow = PlanarFlow(2, n_layers=1).double()
    assert flow.log_prob([[0, 1], [2, 3]]).dtype == F64  # a nested list of ints
    assert PlanarFlow(2, n_layers=1).log_prob(np.zeros((1, 2))).dtype == torch.float32


@pytest.mark.parametrize(
    "x,error,match",
    [
        (
            torch.zeros(4, 3),
            ValueError,
            r"x must be of shape \(N, 2\).*got shape \(4, 3\)\. Fix:.*dim=3",
        ),
        (torch.zeros(2), ValueError, r"Fix: reshape it:.*x\[None\] for a single point"),
        (torch.zeros(0, 2), ValueError, r"x must be of shape \(N, 2\) with N >= 1.*Fix: "),
        (
            torch.tensor([[0.0, 1.0], [math.nan, 0.0]]),
            ValueError,
            r"x must be finite; got rows \[1\] holding nan or inf.*Fix: drop them",
        ),
        (np.array([[np.inf, 0.0]]), ValueError, r"x must be finite.*Fix: "),
        ([["a", "b"]], TypeError, r"x must be a tensor or array.*Fix: pass numbers"),
        (torch.zeros(2, 2, dtype=torch.complex64), TypeError, r"x must be of a real dtype.*Fix:"),
    ],
)
def test_cnf_rejects_bad_data(x, error, match):
    cnf = CNF(2, hidden=(4,), method="rk4", step_size=0.5)
    with pytest.raises(error, match=match):
        cnf.log_prob(x)

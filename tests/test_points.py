"""The package's one contract for a set of points: N ≥ 1 finite rows of dimension D.

Every public function that takes points (the flows of Chapter 7, the flow-matching losses,
samplers, couplings and distances of Chapter 9, the 1-D mixture) reads them through
``ode_course._validate.points``; these tests pin the contract once and then check that each
family of callers follows it (same accepted inputs, same messages)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ode_course import _validate
from ode_course.cnf import CNF, PlanarFlow
from ode_course.flow_matching import (
    GaussianMixture1D,
    energy_distance,
    ot_coupling,
    sample_flow,
    straight_path,
)

F64 = torch.float64


# --- the contract -----------------------------------------------------------------------------


def test_tensors_keep_dtype_and_graph_other_inputs_are_read_as_numbers():
    x = torch.ones(3, 2, dtype=torch.float32, requires_grad=True)
    out = _validate.points(x, "x")
    assert out is x  # nothing to convert: the caller's graph is untouched
    assert _validate.points([[0.5, 1.0]], "x").dtype == F64  # floats read by numpy
    assert _validate.points(np.zeros((2, 2), np.float32), "x").dtype == torch.float32
    assert _validate.points([[0, 1]], "x").dtype == torch.get_default_dtype()  # integers
    assert _validate.points(torch.arange(4).reshape(2, 2), "x").is_floating_point()
    like = torch.zeros((), dtype=F64)
    assert _validate.points(x, "x", like=like).dtype == F64  # the model's dtype rules
    assert _validate.points(torch.arange(3.0), "x", column=True).shape == (3, 1)


@pytest.mark.parametrize(
    "x,kwargs,error,match",
    [
        (
            torch.zeros(4, 3),
            {"dim": 2},
            ValueError,
            r"x must be of shape \(N, 2\).*got shape \(4, 3\)\. Fix:.*dim=3",
        ),
        (
            torch.zeros(2),
            {},
            ValueError,
            r"Fix: reshape it: x\[:, None\] for 1-D points, x\[None\] for a single point",
        ),
        (torch.zeros(0, 2), {}, ValueError, r"x must be of shape \(N, D\) with N >= 1"),
        (
            torch.zeros(2, 2, 2),
            {},
            ValueError,
            r"x must be of shape \(N, D\).*got shape \(2, 2, 2\)",
        ),
        (
            torch.tensor([[0.0, 1.0], [math.nan, 0.0]]),
            {},
            ValueError,
            r"x must be finite; got rows \[1\] holding nan or inf.*Fix: drop them",
        ),
        (np.array([[np.inf, 0.0]]), {}, ValueError, r"x must be finite.*Fix: "),
        ([["a", "b"]], {}, TypeError, r"x must be a tensor or array.*Fix: pass numbers"),
        (
            torch.zeros(2, 2, dtype=torch.complex64),
            {},
            TypeError,
            r"x must be of a real dtype.*Fix:",
        ),
        (torch.zeros(2, 2, dtype=torch.bool), {}, TypeError, r"x must be of a real dtype"),
    ],
)
def test_bad_points_name_the_argument_and_the_fix(x, kwargs, error, match):
    with pytest.raises(error, match=match):
        _validate.points(x, "x", **kwargs)


# --- every caller follows it ------------------------------------------------------------------

CALLERS = {
    "CNF.log_prob": lambda x: CNF(2, hidden=(4,), method="rk4", step_size=0.5).log_prob(x),
    "PlanarFlow.log_prob": lambda x: PlanarFlow(2, n_layers=1).log_prob(x),
    "straight_path": lambda x: straight_path(x, torch.zeros(2, 2, dtype=F64), 0.5),
    "ot_coupling": lambda x: ot_coupling(x, torch.zeros(2, 2, dtype=F64)),
    "sample_flow": lambda x: sample_flow(lambda t, y: -y, x, steps=2),
    "energy_distance": lambda x: energy_distance(x, torch.zeros(2, 2, dtype=F64)),
}
ARGUMENT = {"straight_path": "x0", "ot_coupling": "x0", "sample_flow": "x0"}


@pytest.mark.parametrize("caller", CALLERS)
def test_every_caller_takes_arrays_and_lists(caller):
    for value in ([[0.0, 1.0], [2.0, 3.0]], np.array([[0.0, 1.0], [2.0, 3.0]])):
        CALLERS[caller](value)  # no error: numbers are numbers, whatever holds them


@pytest.mark.parametrize("caller", CALLERS)
def test_every_caller_rejects_bad_points_with_the_same_message(caller):
    name = ARGUMENT.get(caller, "x")
    with pytest.raises(ValueError, match=rf"{name} must be finite; got rows \[0\]"):
        CALLERS[caller](torch.tensor([[math.nan, 0.0], [0.0, 0.0]], dtype=F64))
    with pytest.raises(ValueError, match=rf"{name} must be of shape \(N, (2|D)\) with N >= 1"):
        CALLERS[caller](torch.zeros(2, 2, 2, dtype=F64))


def test_the_mixture_reads_1d_points_in_either_shape():
    mix = GaussianMixture1D((0.5, 0.5), (-1.0, 1.0), (0.3, 0.3))
    flat = mix.marginal_velocity(0.5, torch.linspace(-1, 1, 5, dtype=F64))
    column = mix.marginal_velocity(0.5, torch.linspace(-1, 1, 5, dtype=F64)[:, None])
    assert flat.shape == (5,) and column.shape == (5, 1)
    torch.testing.assert_close(flat, column[:, 0])
    with pytest.raises(ValueError, match=r"x must be of shape \(N, 1\).*Fix: pass 1-D points"):
        mix.marginal_velocity(0.5, torch.zeros(3, 2, dtype=F64))

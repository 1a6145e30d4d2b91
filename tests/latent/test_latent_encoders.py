"""Tests for ode_course.latent.encoders: each series read on its own, the gaps, the
ODE-RNN's state and cost, and the construction errors of the modules."""

from __future__ import annotations

import pytest
import torch
from latent_support import latent_model, uneven_batch

from ode_course.data import collate_series
from ode_course.latent import (
    GRUEncoder,
    LatentDynamics,
    ODERNNEncoder,
    RNNBaseline,
    own_sequences,
)
from ode_course.solvers import count_evaluations

F64 = torch.float64


@pytest.mark.parametrize("encoder,tol", [("gru", 1e-12), ("odernn", 1e-6)])
def test_a_series_is_encoded_the_same_alone_or_in_a_batch(encoder, tol):
    batch = uneven_batch()
    model = latent_model(encoder, step_size=0.1)
    mu, logvar = model.encode(batch, t0=0.0)
    assert mu.shape == logvar.shape == (3, 3)
    for b in range(3):
        mu_b, logvar_b = model.encode(batch.subset([b]), t0=0.0)
        torch.testing.assert_close(mu_b[0], mu[b], rtol=0, atol=tol)
        torch.testing.assert_close(logvar_b[0], logvar[b], rtol=0, atol=tol)


def test_the_gru_encoder_reads_the_gaps():
    """Moving one observation in time, its value unchanged, changes the code."""
    model = latent_model()
    a = collate_series([[0.0, 1.0]], [[[1.0, 0.0], [0.0, 1.0]]])
    b = collate_series([[0.0, 1.5]], [[[1.0, 0.0], [0.0, 1.0]]])
    assert not torch.allclose(model.encode(a)[0], model.encode(b)[0])


def test_the_ode_rnn_state_moves_between_observations():
    """Unlike the GRU's, the ODE-RNN's code changes with t0 even before the first observation."""
    batch = collate_series([[1.0, 2.0]], [[[1.0, 0.0], [0.0, 1.0]]])
    ode = ODERNNEncoder(2, 3, 8, step_size=0.1).double()
    assert not torch.allclose(ode(batch, 0.0)[0], ode(batch, 0.5)[0])
    assert torch.equal(ode(batch, 1.0)[0], ode(batch)[0])


def test_own_sequences_forwards_and_backwards():
    batch = collate_series([[0.0, 2.0], [1.0], [0.0, 1.0, 3.0]], [[1.0, 2.0], [3.0], [4.0, 5, 6]])
    times, values, mask, lengths = own_sequences(batch)
    assert lengths.tolist() == [2, 1, 3]
    assert times.tolist() == [[0.0, 2.0, 2.0], [1.0, 1.0, 1.0], [0.0, 1.0, 3.0]]
    assert values[..., 0].tolist() == [[1.0, 2.0, 0.0], [3.0, 0.0, 0.0], [4.0, 5.0, 6.0]]
    assert mask[..., 0].tolist() == [[True, True, False], [True, False, False], [True] * 3]
    times, values, _, _ = own_sequences(batch, reverse=True)
    assert times.tolist() == [[2.0, 0.0, 0.0], [1.0, 1.0, 1.0], [3.0, 1.0, 0.0]]
    assert values[..., 0].tolist() == [[2.0, 1.0, 0.0], [3.0, 0.0, 0.0], [6.0, 5.0, 4.0]]


def test_module_construction_errors():
    with pytest.raises(ValueError, match=r"dim must be a positive integer.*Fix: "):
        LatentDynamics(0, 4)
    with pytest.raises(ValueError, match=r"obs_dim must be a positive integer.*Fix: "):
        RNNBaseline(obs_dim=0)
    with pytest.raises(ValueError, match=r"hidden must be a positive integer.*Fix: "):
        GRUEncoder(2, 2, hidden=-1)
    with pytest.raises(ValueError, match=r"backend must be one of.*Fix: "):
        ODERNNEncoder(2, 2, backend="torch")
    with pytest.raises(ValueError, match=r"step_size must be positive.*Fix: "):
        ODERNNEncoder(2, 2, step_size=0)


def test_encoder_nfe_counts_every_solve_of_its_latest_pass():
    encoder = ODERNNEncoder(2, 3, 8, method="rk4", step_size=0.25).double()
    assert encoder.nfe == 0
    # reading back over the union of times 3, 2.5, 2, 1.25, 1, 0.75, 0.5, 0.25, 0, with
    # steps of at most 0.25: 2 + 2 + 3 + 1 + 1 + 1 + 1 + 1 = 12 steps of 4 evaluations
    assert count_evaluations(encoder.dynamics, lambda: encoder(uneven_batch())) == 48
    assert encoder.nfe == 48
    encoder(uneven_batch())
    assert encoder.nfe == 48  # the latest pass, not a running total

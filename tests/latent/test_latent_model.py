"""Tests for ode_course.latent.model: the latent ODE's ELBO against a hand computation,
its predictions, its errors, its backends and its NFE."""

from __future__ import annotations

import math

import pytest
import torch
from latent_support import latent_model, uneven_batch

from ode_course.data import IrregularBatch, collate_series
from ode_course.latent import (
    ELBOTerms,
    LatentODE,
)
from ode_course.solvers import count_evaluations

F64 = torch.float64


def hand_model(obs_std: float = 0.5) -> LatentODE:
    """dz/dt = 0.5 exactly, x̂ = 2z − 1, and q(z₀ | x) = N(0.3, 0.25) whatever the data."""
    model = LatentODE(obs_dim=1, latent_dim=1, hidden=4, obs_std=obs_std).double()
    with torch.no_grad():
        model.encoder.head.weight.zero_()
        model.encoder.head.bias.copy_(torch.tensor([0.3, math.log(0.25)]))
        last = model.dynamics.net[-1]
        last.weight.zero_()
        last.bias.fill_(0.5)
        model.decoder.weight.fill_(2.0)
        model.decoder.bias.fill_(-1.0)
    return model


def _elbo_and_gradients(model: LatentODE, batch: IrregularBatch):
    eps = torch.randn(batch.n_series, model.latent_dim, generator=torch.Generator().manual_seed(3))
    model.zero_grad()
    terms = model.elbo(batch, eps=eps.to(F64))
    terms.elbo.sum().backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return terms.elbo.detach(), grads


@pytest.mark.parametrize("t0", [None, -1.0])
def test_elbo_terms_against_a_hand_computation(t0):
    times = [[0.0, 1.0], [0.5, 1.5, 2.0]]
    values = [[0.2, 1.1], [0.0, 0.4, 2.0]]
    batch = collate_series(times, values)
    model, eps, std = hand_model(), torch.tensor([[0.5], [-1.0]], dtype=F64), 0.5
    terms = model.elbo(batch, eps=eps, t0=t0)
    assert isinstance(terms, ELBOTerms)
    start = 0.0 if t0 is None else t0
    want_ll, want_kl = [], []
    for b in range(2):
        z0 = 0.3 + math.sqrt(0.25) * eps[b, 0].item()  # the reparameterised sample
        ll = 0.0
        for t, x in zip(times[b], values[b], strict=True):
            mean = 2 * (z0 + 0.5 * (t - start)) - 1  # z(t) = z₀ + 0.5 (t − t₀)
            ll += -0.5 * math.log(2 * math.pi * std**2) - (x - mean) ** 2 / (2 * std**2)
        want_ll.append(ll)
        want_kl.append(0.5 * (0.3**2 + 0.25 - 1 - math.log(0.25)))
    torch.testing.assert_close(terms.log_likelihood, torch.tensor(want_ll, dtype=F64))
    torch.testing.assert_close(terms.kl, torch.tensor(want_kl, dtype=F64))
    torch.testing.assert_close(terms.elbo, terms.log_likelihood - terms.kl)


def test_loss_is_the_negative_mean_elbo_and_its_gradient_reaches_every_part():
    batch = uneven_batch()
    model = latent_model()
    torch.manual_seed(3)
    loss = model.loss(batch, kl_weight=0.5)
    torch.manual_seed(3)
    terms = model.elbo(batch)
    torch.testing.assert_close(loss, -(terms.log_likelihood - 0.5 * terms.kl).mean())
    loss.backward()
    for part in (model.encoder, model.dynamics, model.decoder):
        grads = [p.grad for p in part.parameters()]
        assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)


def test_latent_prediction_is_the_decoded_posterior_mean():
    batch, model = uneven_batch(), latent_model()
    mu, _ = model.encode(batch)
    times = torch.tensor([0.0, 1.0, 5.0], dtype=F64)
    torch.testing.assert_close(model.predict(batch, times), model.decode(mu, 0.0, times))
    path = model.latent_trajectory(batch, times)
    assert path.shape == (3, 3, 3)
    torch.testing.assert_close(model.decoder(path), model.predict(batch, times))
    torch.testing.assert_close(path[:, 0], mu)  # z(t₀) = z₀


def test_a_hand_model_predicts_its_straight_line():
    batch = collate_series([[0.0, 1.0]], [[0.2, 1.1]])
    times = torch.tensor([2.0, 10.0], dtype=F64)
    prediction = hand_model().predict(batch, times)[0, :, 0]
    torch.testing.assert_close(prediction, 2 * (0.3 + 0.5 * times) - 1)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"encoder": "lstm"}, ValueError, "encoder must be one of 'gru', 'odernn'; got encoder="),
        ({"obs_std": 0.0}, ValueError, "obs_std must be positive; got obs_std=0"),
        ({"latent_dim": 0}, ValueError, "latent_dim must be a positive integer"),
        ({"step_size": -0.1}, ValueError, "step_size must be positive; got step_size=-0.1"),
        ({"step_size": "0.1"}, TypeError, "step_size must be a real number"),
        ({"hidden": 2.5}, TypeError, "hidden must be an integer >= 1; got float 2.5"),
        ({"backend": "scipy"}, ValueError, "backend must be one of .*got backend='scipy'"),
        ({"method": "rk45"}, ValueError, "method must be one of .*got method='rk45'"),
        (
            {"method": "rk45", "encoder": "odernn", "backend": "ode_course"},
            ValueError,
            "method must be one of",
        ),
    ],
)
def test_model_construction_errors(kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        LatentODE(**kwargs)
    assert "Fix: " in str(info.value)


def test_query_times_of_another_dtype_or_type():
    with pytest.raises(TypeError, match=r"times must be torch\.float64 like the batch.*Fix: "):
        latent_model().predict(uneven_batch(), torch.tensor([4.0]))
    with pytest.raises(TypeError, match=r"times must be a torch\.Tensor.*Fix: "):
        latent_model().predict(uneven_batch(), [4.0])


def test_bad_eps():
    with pytest.raises(ValueError, match=r"eps must be of shape \(B, L\).*Fix: "):
        latent_model().elbo(uneven_batch(), eps=torch.zeros(3, 2, dtype=F64))


@pytest.mark.parametrize("encoder", ["gru", "odernn"])
def test_the_adjoint_backend_gives_the_same_elbo_and_gradients(encoder):
    batch = uneven_batch()
    results = {}
    for backend in ("ode_course", "adjoint"):
        model = latent_model(encoder, method="rk4", step_size=0.05, backend=backend)
        assert model.backend == backend
        results[backend] = _elbo_and_gradients(model, batch)
    (elbo_ours, ours), (elbo_adjoint, adjoint) = results["ode_course"], results["adjoint"]
    torch.testing.assert_close(elbo_adjoint, elbo_ours, rtol=1e-6, atol=1e-10)
    assert ours.keys() == adjoint.keys() and "dynamics.net.0.weight" in ours
    for name in ours:
        torch.testing.assert_close(adjoint[name], ours[name], rtol=1e-6, atol=1e-9, msg=name)


def test_the_torchdiffeq_backend_gives_the_same_predictions():
    batch, times = uneven_batch(), torch.tensor([0.5, 4.0], dtype=F64)
    ours = latent_model("odernn", method="rk4", step_size=0.25)
    theirs = latent_model("odernn", method="rk4", step_size=0.25, backend="torchdiffeq")
    with torch.no_grad():
        torch.testing.assert_close(theirs.predict(batch, times), ours.predict(batch, times))
    assert theirs.nfe == ours.nfe > 0 and theirs.encoder.nfe == ours.encoder.nfe > 0


def test_model_nfe_is_the_cost_of_the_latest_latent_solve():
    model, batch = latent_model(), uneven_batch()  # midpoint, step 0.25
    assert model.nfe == 0
    # the union of times runs from 0 to 3 with 8 stops: 12 steps of 2; a forward hook on the
    # field (count_evaluations) is the independent count
    assert count_evaluations(model.dynamics, lambda: model.elbo(batch)) == model.nfe == 24
    with torch.no_grad():
        model.predict(batch, torch.tensor([1.0], dtype=F64))  # 0 → 1: 4 steps
    assert model.nfe == 8  # the latest solve only
    model.elbo(batch)
    assert model.nfe == 24


def test_the_adjoint_backward_pass_adds_to_model_nfe():
    model = latent_model(backend="adjoint")
    terms = model.elbo(uneven_batch())
    assert model.nfe == 24
    terms.elbo.sum().backward()
    assert model.nfe > 24


def test_counting_leaves_the_state_dict_unchanged():
    model = latent_model("odernn")
    keys = list(model.state_dict())
    model.elbo(uneven_batch())
    assert list(model.state_dict()) == keys

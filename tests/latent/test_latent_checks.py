"""Tests for ode_course.latent, what every model takes and treats alike (the checks of
``_checks.py``): masks, series with different numbers of observations, predictions at any
times, bad batches and bad query times."""

from __future__ import annotations

import pytest
import torch
from latent_support import MODELS, uneven_batch

from ode_course.data import IrregularBatch, collate_series
from ode_course.latent import (
    LatentODE,
)

F64 = torch.float64


@pytest.mark.parametrize("name", list(MODELS))
def test_masked_entries_do_not_influence_the_loss(name):
    batch = uneven_batch()
    gen = torch.Generator().manual_seed(2)
    noise = 1e3 * torch.randn(batch.values.shape, generator=gen, dtype=F64)
    noise[0, 0, 0] = float("nan")
    spoiled = IrregularBatch(batch.times, torch.where(batch.mask, batch.values, noise), batch.mask)
    assert not torch.equal(spoiled.values, batch.values)

    def loss_and_grads(b):
        model = MODELS[name]()
        if isinstance(model, LatentODE):
            eps = torch.linspace(-1, 1, 3 * model.latent_dim, dtype=F64).reshape(3, -1)
            loss = -model.elbo(b, eps=eps).elbo.mean()
        else:
            loss = model.loss(b)
        loss.backward()
        return loss, [p.grad.clone() for p in model.parameters() if p.grad is not None]

    loss, grads = loss_and_grads(batch)
    loss_spoiled, grads_spoiled = loss_and_grads(spoiled)
    assert torch.isfinite(loss)
    torch.testing.assert_close(loss_spoiled, loss, rtol=0, atol=0)
    for g, h in zip(grads, grads_spoiled, strict=True):
        torch.testing.assert_close(h, g, rtol=0, atol=0)


@pytest.mark.parametrize("name", list(MODELS))
def test_series_with_different_numbers_of_observations(name):
    batch = uneven_batch()
    assert batch.n_observed.tolist() == [1, 3, 6]
    model = MODELS[name]()
    if isinstance(model, LatentODE):
        terms = model.elbo(batch)
        assert terms.log_likelihood.shape == terms.kl.shape == (3,)
        assert torch.isfinite(terms.elbo).all()
    loss = model.loss(batch)
    assert loss.ndim == 0 and torch.isfinite(loss)


@pytest.mark.parametrize("name", list(MODELS))
def test_predictions_inside_and_outside_the_window(name):
    batch = uneven_batch()
    model = MODELS[name]()
    times = torch.tensor([0.1, 1.1, 3.5, 6.0, 20.0], dtype=F64)  # the window ends at 3.0
    with torch.no_grad():
        prediction = model.predict(batch, times)
    assert prediction.shape == (3, 5, 2) and torch.isfinite(prediction).all()
    later = torch.tensor([4.0, 10.0], dtype=F64)
    assert model.predict(batch, later, t0=-1.0).shape == (3, 2, 2)


@pytest.mark.parametrize("name", list(MODELS))
def test_bad_batches(name):
    model, batch = MODELS[name](), uneven_batch()
    times = torch.tensor([4.0], dtype=F64)
    with pytest.raises(TypeError, match=r"batch must be an IrregularBatch; got tuple. Fix: "):
        model.predict((batch.times, batch.values), times)
    one_feature = collate_series([[0.0]], [[1.0]])
    with pytest.raises(ValueError, match=r"batch must be of 2 features .*obs_dim=1"):
        model.predict(one_feature, times)
    single = collate_series([[0.0]], [[[1.0, 2.0]]], dtype=torch.float32)
    with pytest.raises(
        TypeError, match=r"batch must be of the model's dtype.*model.to\(torch.float32\)"
    ):
        model.predict(single, times.float())


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(
    "times,kwargs,error,match",
    [
        ([4.0, 3.0], {}, ValueError, r"times must be strictly increasing; got times\[1\]=3"),
        ([4.0, 4.0], {}, ValueError, "times must be strictly increasing"),
        ([-1.0, 4.0], {}, ValueError, "times must be no earlier than t0=0"),
        ([4.0], {"t0": 0.5}, ValueError, "t0 must be .*no later than the first observation"),
        ([4.0], {"t0": float("nan")}, ValueError, "t0 must be finite"),
        ([4.0], {"t0": "0"}, TypeError, "t0 must be a real number"),
        ([[4.0]], {}, ValueError, "times must be a non-empty 1-D tensor"),
        ([], {}, ValueError, "times must be a non-empty 1-D tensor"),
    ],
)
def test_bad_query_times(name, times, kwargs, error, match):
    model = MODELS[name]()
    with pytest.raises(error, match=match) as info:
        model.predict(uneven_batch(), torch.tensor(times, dtype=F64), **kwargs)
    assert "Fix: " in str(info.value)

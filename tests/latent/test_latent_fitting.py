"""Tests for ode_course.latent.fitting: training, prediction_mse and the errors of fit_series."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from latent_support import MODELS, latent_model, uneven_batch

from ode_course.data import irregular_spirals
from ode_course.latent import (
    fit_series,
    prediction_mse,
)

F64 = torch.float64


def test_training_lowers_the_loss_and_is_reproducible():
    batch = irregular_spirals(24, seed=0).batch()
    for name in ("latent-gru", "rnn"):
        runs = []
        for _ in range(2):
            torch.manual_seed(0)
            model = MODELS[name]()
            fit = fit_series(model, batch, steps=25, lr=0.02, batch_size=8, seed=1)
            runs.append(fit.train_loss)
        assert runs[0] == runs[1] and len(runs[0]) == 25
        assert np.mean(runs[0][-5:]) < np.mean(runs[0][:5])
    losses = fit_series(latent_model(), batch, steps=3, batch_size=None, kl_warmup=2).train_loss
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses)


def test_prediction_mse_is_the_mean_squared_error():
    data = irregular_spirals(5, seed=0)
    batch, model = data.batch(), MODELS["rnn"]()
    times = torch.as_tensor(data.future_times)
    with torch.no_grad():
        prediction = model.predict(batch, times)
    want = ((prediction - torch.as_tensor(data.future_values)) ** 2).mean().item()
    assert prediction_mse(model, batch, times, data.future_values) == pytest.approx(want)
    with pytest.raises(ValueError, match=r"targets must be of shape \(B, M, D\).*Fix: "):
        prediction_mse(model, batch, times, data.future_values[:, :3])


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"steps": 0}, ValueError, "steps must be a positive integer"),
        ({"steps": 2.0}, TypeError, "steps must be an integer >= 1; got float"),
        ({"steps": 2, "lr": 0}, ValueError, "lr must be positive; got lr=0"),
        ({"steps": 2, "batch_size": 0}, ValueError, "batch_size must be a positive integer"),
        (
            {"steps": 2, "decay_fraction": 1.5},
            ValueError,
            r"decay_fraction must be in \[0, 1\]; got decay_fraction=1.5",
        ),
        ({"steps": 2, "kl_warmup": -1}, ValueError, "kl_warmup must be an integer >= 0"),
    ],
)
def test_fit_series_errors(kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        fit_series(latent_model(), uneven_batch(), **kwargs)
    assert "Fix: " in str(info.value)


def test_kl_warmup_needs_a_kl_term():
    with pytest.raises(ValueError, match=r"kl_warmup must be 0 .*RNNBaseline, which has none"):
        fit_series(MODELS["rnn"](), uneven_batch(), steps=2, kl_warmup=5)

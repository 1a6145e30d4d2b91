"""Tests for ode_course.latent.baseline: the RNN baseline's one-step predictions and its
rollout past the last observation."""

from __future__ import annotations

import torch
from latent_support import rnn_model, uneven_batch

from ode_course.data import collate_series

F64 = torch.float64


def test_rnn_predictions_at_the_observed_times_are_its_one_step_predictions():
    batch = uneven_batch()
    model = rnn_model()
    one_step, values, _ = model.one_step_predictions(batch)
    for b in range(3):
        series = batch.subset([b])
        predicted = model.predict(series, series.times, t0=0.0)  # the batch's t₀
        k = int(batch.n_observed[b])
        torch.testing.assert_close(predicted[0], one_step[b, :k])
        torch.testing.assert_close(values[b, :k], series.values[0].nan_to_num())


def test_rnn_rolls_out_past_the_last_observation():
    batch = collate_series([[0.0, 1.0]], [[[1.0, 0.0], [0.0, 1.0]]])
    model = rnn_model()
    both = model.predict(batch, torch.tensor([2.0, 3.0], dtype=F64))
    alone = model.predict(batch, torch.tensor([3.0], dtype=F64))
    torch.testing.assert_close(
        both[:, 0], model.predict(batch, torch.tensor([2.0], dtype=F64))[:, 0]
    )
    assert not torch.allclose(both[:, 1], alone[:, 0])  # the guess at 2.0 was fed back in
    # inside the window the state at the latest observation is used, with the gap to the query
    inside = model.predict(batch, torch.tensor([0.5], dtype=F64))
    assert not torch.allclose(inside, model.predict(batch, torch.tensor([0.75], dtype=F64)))

"""One trainer vocabulary: every ``fit_*`` of the package trains the model it is given in place,
takes its length as ``epochs=`` or ``steps=`` and its randomness as ``seed=``, and returns a
:class:`~ode_course.history.TrainingHistory` whose length is that number of epochs or steps."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from torch import nn

from ode_course.cnf import PlanarFlow, TimeMLP, fit_density
from ode_course.data import collate_series
from ode_course.flow_matching import fit_flow_matching
from ode_course.history import TrainingHistory
from ode_course.latent import RNNBaseline, fit_series
from ode_course.mlp import Linear, Sequential, fit_mlp
from ode_course.models import fit_classifier
from ode_course.optim import SGD

F64 = torch.float64


def _points(seed=0):
    return torch.randn(64, 2, dtype=F64, generator=torch.Generator().manual_seed(seed))


def _labels():
    return (torch.arange(64) % 2).long()


def _series():
    return collate_series([[0.0, 0.5, 1.0]] * 4, [[0.0, 1.0, 0.0]] * 4, dtype=F64)


# each trainer on a tiny problem: (build the model, train it with n and seed) → history
TRAINERS = {
    "fit_mlp": (
        "epochs",
        lambda: Sequential(Linear(2, 2, rng=np.random.default_rng(0))),
        lambda m, n, seed: fit_mlp(
            m, _points().numpy(), _labels().numpy(), SGD(lr=0.1), epochs=n, seed=seed
        ),
    ),
    "fit_classifier": (
        "epochs",
        lambda: nn.Linear(2, 2).double(),
        lambda m, n, seed: fit_classifier(m, _points(), _labels(), epochs=n, seed=seed),
    ),
    "fit_density": (
        "steps",
        lambda: PlanarFlow(2, n_layers=1).double(),
        lambda m, n, seed: fit_density(m, _points(), steps=n, batch_size=16, seed=seed),
    ),
    "fit_series": (
        "steps",
        lambda: RNNBaseline(obs_dim=1, hidden=4).double(),
        lambda m, n, seed: fit_series(m, _series(), steps=n, batch_size=2, seed=seed),
    ),
    "fit_flow_matching": (
        "steps",
        lambda: TimeMLP(2, hidden=(4,)).double(),
        lambda m, n, seed: fit_flow_matching(m, _points(), steps=n, batch_size=16, seed=seed),
    ),
}


@pytest.mark.parametrize("name", TRAINERS)
def test_every_trainer_speaks_the_same_vocabulary(name):
    unit, build, train = TRAINERS[name]
    function = {
        "fit_mlp": fit_mlp,
        "fit_classifier": fit_classifier,
        "fit_density": fit_density,
        "fit_series": fit_series,
        "fit_flow_matching": fit_flow_matching,
    }[name]
    parameters = inspect.signature(function).parameters
    assert unit in parameters and "seed" in parameters
    assert parameters["seed"].default == 0  # reproducible unless asked otherwise
    histories, weights = [], []
    for _ in range(2):
        torch.manual_seed(0)
        model = build()
        history = train(model, 3, 1)
        histories.append(history)
        weights.append([np.array(p, copy=True) for p in _parameters(model)])
    history = histories[0]
    assert isinstance(history, TrainingHistory)
    assert history.per == unit[:-1] and len(history) == 3  # "epochs" → "epoch"
    assert all(np.isfinite(history.train_loss)) and history.seconds > 0
    # the same seed, the same run: the losses and the trained weights
    assert histories[0].train_loss == histories[1].train_loss
    assert all(np.array_equal(a, b) for a, b in zip(*weights, strict=True))


def _parameters(model):
    if isinstance(model, nn.Module):
        return [p.detach().numpy() for p in model.parameters()]
    return model.params()


def test_a_history_records_validation_after_the_steps_done():
    history = TrainingHistory(per="step")
    for loss in (3.0, 2.0):
        history.record(loss)
    history.record_validation(2.5, accuracy=0.5)
    history.record(1.0)
    history.record_validation(1.5)
    assert history.val_at == [2, 3] and history.val_loss == [2.5, 1.5]
    assert history.val_accuracy == [0.5] and len(history) == 3
    with pytest.raises(ValueError, match=r"per must be one of 'epoch', 'step'; got per='batch'"):
        TrainingHistory(per="batch")

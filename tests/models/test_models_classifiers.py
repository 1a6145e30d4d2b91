"""Tests for ode_course.models.classifiers: the classifiers' shapes and sizes, a ResNet's
activation memory, reproducible training, and every bad argument named with a fix."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ode_course.memory import activation_memory
from ode_course.models import (
    ODEBlock,
    ODEFunc,
    ResBlock,
    count_parameters,
    fit_classifier,
    mlp_classifier,
    ode_classifier,
    resnet_classifier,
)


def test_classifiers_have_the_right_shapes_and_the_ode_net_is_smallest():
    x = torch.randn(6, 64)
    mlp, resnet = mlp_classifier(64, 10, 64, 2), resnet_classifier(64, 10, 64, 100, 6)
    odenet = ode_classifier(64, 10, 64, 100, backend="torchdiffeq")
    for model in (mlp, resnet, odenet):
        assert model(x).shape == (6, 10)
    assert count_parameters(odenet) < count_parameters(resnet)


@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda: ODEFunc(0, 4), ValueError, r"dim must be a positive integer; got dim=0"),
        (lambda: ODEFunc(2, 2.5), TypeError, r"hidden must be an integer >= 1; got float"),
        (lambda: ResBlock(3, 0), ValueError, r"hidden must be a positive integer"),
        (lambda: ODEBlock(lambda t, h: h), TypeError, r"func must be a torch\.nn\.Module"),
        (lambda: ODEBlock(ODEFunc(2, 2), t1=0.0), ValueError, r"t1 must be positive; got t1=0"),
        (lambda: ODEBlock(ODEFunc(2, 2), t1="1"), TypeError, r"t1 must be a real number"),
        (
            lambda: ODEBlock(ODEFunc(2, 2), step_size=-0.1),
            ValueError,
            r"step_size must be positive; got step_size=-0\.1",
        ),
        (lambda: ODEBlock(ODEFunc(2, 2), rtol=0.0), ValueError, r"rtol must be positive"),
        (lambda: ODEBlock(ODEFunc(2, 2), atol=-1.0), ValueError, r"atol must be positive"),
        (
            lambda: ODEBlock(ODEFunc(2, 2), backend="scipy"),
            ValueError,
            r"backend must be one of 'ode_course', 'adjoint', 'torchdiffeq'; got backend='scipy'",
        ),
        (
            lambda: ODEBlock(ODEFunc(2, 2), method="rk45"),
            ValueError,
            r"method must be one of .*got method='rk45'",
        ),
        (
            lambda: resnet_classifier(4, 2, 4, 4, 0),
            ValueError,
            r"n_blocks must be a positive integer",
        ),
        (lambda: resnet_classifier(4, 2, 4.0, 4, 1), TypeError, r"width must be an integer"),
        (lambda: mlp_classifier(0, 2, 4, 1), ValueError, r"n_in must be a positive integer"),
        (lambda: mlp_classifier(4, 2, 4, -1), ValueError, r"depth must be an integer >= 0"),
        (lambda: ode_classifier(4, 0, 4, 4), ValueError, r"n_classes must be a positive integer"),
        (lambda: count_parameters("model"), TypeError, r"model must be a torch\.nn\.Module"),
    ],
)
def test_bad_arguments_are_named_with_a_fix(make, error, match):
    with pytest.raises(error, match=match) as info:
        make()
    assert "Fix: " in str(info.value)


def test_resnet_memory_grows_linearly_with_depth():
    """O(L): every block adds the same activations."""
    x = torch.randn(8, 64)
    memory = {n: activation_memory(resnet_classifier(64, 10, 32, 16, n), x) for n in (1, 2, 4, 8)}
    per_block = memory[2] - memory[1]
    assert per_block > 0
    assert all(memory[n] == memory[1] + (n - 1) * per_block for n in memory)


# ------------------------------------------------------------------ training
def test_fit_classifier_fits_separable_data_reproducibly():
    x = torch.cat([torch.randn(40, 2) - 2, torch.randn(40, 2) + 2])
    y = torch.cat([torch.zeros(40), torch.ones(40)]).long()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
        runs.append(fit_classifier(model, x, y, epochs=10, batch_size=16, seed=5).train_loss)
    assert runs[0] == runs[1] and len(runs[0]) == 10
    assert runs[0][-1] < 0.2 * runs[0][0]
    assert (model(x).argmax(1) == y).all()
    assert model.training


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"n": 3}, ValueError, r"y must be one label per example of x \(4 examples\); got 3"),
        ({"epochs": 0}, ValueError, "epochs must be a positive integer"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an integer >= 1; got float"),
        ({"lr": 0.0}, ValueError, "lr must be positive"),
        ({"weight_decay": -0.1}, ValueError, "weight_decay must be >= 0"),
        ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
        ({"model": "net"}, TypeError, r"model must be a torch\.nn\.Module"),
    ],
)
def test_fit_classifier_bad_arguments(kwargs, error, match):
    model, x, y = nn.Linear(2, 2), torch.zeros(4, 2), torch.zeros(4).long()
    model = kwargs.pop("model", model)
    y = y[: kwargs.pop("n", 4)]
    with pytest.raises(error, match=match) as info:
        fit_classifier(model, x, y, **kwargs)
    assert "Fix: " in str(info.value)


def test_the_ode_classifiers_parts_have_names():
    model = ode_classifier(4, 3, width=5, hidden=6, method="rk4", step_size=0.5)
    assert model.block is model[1] and isinstance(model.block, ODEBlock)
    assert model.stem is model[0] and model.head is model[3]
    x = torch.zeros(2, 4)
    torch.testing.assert_close(model(x), model.head(model.activation(model.block(model.stem(x)))))

"""Tests for ode_course.mlp.layers: every layer's backward pass against torch autograd in
float64 and central differences, shape errors named with a fix, and the deprecated name
``Layer`` of :class:`Module`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ode_course import mlp
from ode_course.autodiff import numerical_gradient, relative_error
from ode_course.mlp import (
    Linear,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropy,
    Tanh,
)

ACTIVATIONS = {
    "relu": (ReLU, torch.relu),
    "tanh": (Tanh, torch.tanh),
    "sigmoid": (Sigmoid, torch.sigmoid),
}


def build(activation: str, seed: int = 0, sizes=(5, 7, 6, 4)) -> Sequential:
    rng = np.random.default_rng(seed)
    layer_cls = ACTIVATIONS[activation][0]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(Linear(sizes[i], sizes[i + 1], rng=rng))
        if i < len(sizes) - 2:
            layers.append(layer_cls())
    return Sequential(*layers)


def torch_loss(model: Sequential, x: np.ndarray, y: np.ndarray, activation: str):
    """The same network and loss in torch, sharing the numpy model's parameters."""
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in model.params()]
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    h, i = xt, 0
    for layer in model.layers:
        if isinstance(layer, Linear):
            h = h @ params[i] + params[i + 1]
            i += 2
        else:
            h = ACTIVATIONS[activation][1](h)
    loss = torch.nn.functional.cross_entropy(h, torch.tensor(y))
    loss.backward()
    return loss, params, xt


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backward_matches_torch_autograd(activation):
    rng = np.random.default_rng(1)
    model = build(activation)
    x, y = rng.normal(size=(9, 5)), rng.integers(0, 4, size=9)
    loss_fn = SoftmaxCrossEntropy()
    loss = loss_fn(model(x), y)
    dx = model.backward(loss_fn.backward())
    ref, params, xt = torch_loss(model, x, y, activation)
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    for g, p in zip(model.grads(), params, strict=True):
        assert relative_error(g, p.grad) < 1e-7
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert relative_error(dx, xt.grad) < 1e-7


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backward_matches_central_differences(activation):
    rng = np.random.default_rng(2)
    model = build(activation, seed=3, sizes=(3, 4, 3))
    x, y = rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)
    loss_fn = SoftmaxCrossEntropy()
    loss_fn(model(x), y)
    model.backward(loss_fn.backward())
    for p, g in zip(model.params(), model.grads(), strict=True):
        original = p.copy()

        def f(values, p=p):
            p[...] = values
            return loss_fn(model(x), y)

        numeric = numerical_gradient(f, original)
        p[...] = original
        assert relative_error(g, numeric) < 1e-7


def test_initialisation_scales():
    rng = np.random.default_rng(0)
    he, xavier = Linear(500, 400, rng=rng), Linear(500, 400, init="xavier", rng=rng)
    assert he.W.std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)
    assert xavier.W.std() == pytest.approx(np.sqrt(2 / 900), rel=0.02)
    np.testing.assert_array_equal(he.b, 0.0)


@pytest.mark.parametrize(
    "call,error,match",
    [
        (
            lambda: Linear(3, 2)(np.zeros((4, 5))),
            ValueError,
            r"x must be a batch of 3 features \(columns\), shape \(N, 3\); got shape \(4, 5\)",
        ),
        (lambda: Linear(3, 2)(np.zeros(3)), ValueError, r"x must be a 2-D batch"),
        (lambda: Linear(3, 0), ValueError, r"n_out must be a positive integer; got n_out=0"),
        (lambda: Linear(2.0, 3), TypeError, r"n_in must be an integer >= 1; got float"),
        (lambda: Linear(True, 3), TypeError, r"n_in must be an integer"),
        (
            lambda: Linear(3, 2, init="lecun"),
            ValueError,
            r"init must be one of 'he', 'xavier'; got init='lecun'",
        ),
        (
            lambda: Sequential(Linear(2, 2), np.tanh),
            TypeError,
            r"layers\[1\] must be an ode_course\.mlp\.Module",
        ),
        (lambda: Sequential(ReLU), TypeError, r"layers\[0\] must be .*got type"),
        (
            lambda: Linear(2, 2).backward(np.zeros((1, 2))),
            RuntimeError,
            r"Linear\.backward must be called after forward",
        ),
        (
            lambda: Tanh().backward(np.zeros((1, 2))),
            RuntimeError,
            r"Tanh\.backward must be called after forward",
        ),
        (
            lambda: SoftmaxCrossEntropy().backward(),
            RuntimeError,
            r"SoftmaxCrossEntropy\.backward must be called after forward",
        ),
        (
            lambda: Module()(np.zeros((1, 2))),
            NotImplementedError,
            r"Module\.forward must be defined by the subclass",
        ),
        (
            lambda: Module().backward(np.zeros((1, 2))),
            NotImplementedError,
            r"Module\.backward must be defined by the subclass",
        ),
    ],
)
def test_shape_and_layer_errors_are_named_with_a_fix(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert "Fix: " in str(info.value)


# ---------------------------------------------------------------------- the name Module
def test_every_layer_and_sequential_is_a_module():
    for layer in (Linear(2, 2), ReLU(), Tanh(), Sigmoid(), Sequential(ReLU())):
        assert isinstance(layer, Module)
    assert "Module" in mlp.__all__ and "Layer" not in mlp.__all__

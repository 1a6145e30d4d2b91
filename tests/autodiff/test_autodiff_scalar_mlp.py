"""Tests for ode_course.autodiff.scalar_mlp (Chapter 1's network): the scalar MLP's
forward pass and gradients match torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ode_course.autodiff.engine import Value
from ode_course.autodiff.scalar_mlp import Neuron, ScalarLayer, ScalarMLP


def torch_forward(model: ScalarMLP, x: list[float], activation: str) -> tuple[torch.Tensor, list]:
    """The same network in torch float64, sharing the scalar model's weights."""
    params = []
    h = torch.tensor(x, dtype=torch.float64)
    for i, layer in enumerate(model.layers):
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64)
        W.requires_grad_(True)
        b.requires_grad_(True)
        params += [W, b]
        h = W @ h + b
        if i < len(model.layers) - 1:
            h = getattr(torch, activation)(h)
    return h, params


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_mlp_matches_torch_forward_and_backward(activation):
    model = ScalarMLP(3, [5, 4, 2], activation=activation, seed=3)
    x = [0.2, -1.3, 0.7]
    outs = model(x)
    loss = outs[0] * outs[0] + outs[1].tanh()
    model.zero_grad()
    loss.backward()

    h, params = torch_forward(model, x, activation)
    ref = h[0] ** 2 + h[1].tanh()
    ref.backward()
    assert loss.data == pytest.approx(ref.item(), rel=1e-12)
    pairs = zip(params[::2], params[1::2], strict=True)
    for layer, (W, b) in zip(model.layers, pairs, strict=True):
        got_W = np.array([[w.grad for w in n.w] for n in layer.neurons])
        got_b = np.array([n.b.grad for n in layer.neurons])
        np.testing.assert_allclose(got_W, W.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got_b, b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_single_output_returns_a_value_and_counts_parameters():
    model = ScalarMLP(2, [4, 1], seed=0)
    assert isinstance(model([1.0, 2.0]), Value)
    assert len(model.parameters()) == 4 * 3 + 5
    assert model.layers[-1].neurons[0].activation == "linear"


def test_initialisation_is_seeded_and_scaled():
    a, b = ScalarMLP(2, [3, 1], seed=7), ScalarMLP(2, [3, 1], seed=7)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    wide = ScalarLayer(400, 200, rng=np.random.default_rng(0))
    weights = np.array([w.data for n in wide.neurons for w in n.w])
    assert weights.std() == pytest.approx(1 / np.sqrt(400), rel=0.05)


def test_gradient_descent_reduces_a_loss():
    model = ScalarMLP(1, [6, 1], seed=0)
    xs, ys = np.linspace(-1, 1, 12), np.sin(2 * np.linspace(-1, 1, 12))
    losses = []
    for _ in range(30):
        loss = sum((model([x]) - y) ** 2 for x, y in zip(xs, ys, strict=True)) / len(xs)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.1 * p.grad
        losses.append(loss.data)
    assert losses[-1] < 0.5 * losses[0]


def test_zero_grad_resets_parameters():
    model = ScalarMLP(2, [2, 1], seed=0)
    model([1.0, 1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


@pytest.mark.parametrize(
    "call,error,match",
    [
        (
            lambda: Neuron(2, activation="gelu"),
            ValueError,
            "activation must be one of 'tanh', 'relu', 'sigmoid', 'linear'; got activation='gelu'",
        ),
        (lambda: Neuron(0), ValueError, "nin must be a positive integer"),
        (lambda: Neuron(2.0), TypeError, "nin must be an integer >= 1"),
        (lambda: ScalarLayer(2, 0), ValueError, "nout must be a positive integer"),
        (lambda: ScalarMLP(2, []), ValueError, "nouts must be a list of at least one layer width"),
        (lambda: ScalarMLP(2, [3, 0]), ValueError, "nout must be a positive integer"),
        (
            lambda: ScalarMLP(2, [1])([1.0, 2.0, 3.0]),
            ValueError,
            r"x must be a sequence of 2 entries \(nin = 2\); got 3 entries",
        ),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert "Fix: " in str(info.value)

"""Tests for ode_course.mlp: every layer's backward pass against torch autograd in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ode_course.autodiff import numerical_gradient, relative_error
from ode_course.data import load_digits, xor
from ode_course.mlp import (
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropy,
    Tanh,
    accuracy,
    add_bias_column,
    confusion_matrix,
    fit,
    log_softmax,
    softmax,
)

ACTIVATIONS = {
    "relu": (ReLU, torch.relu),
    "tanh": (Tanh, torch.tanh),
    "sigmoid": (Sigmoid, torch.sigmoid),
}


class PlainSGD:
    def __init__(self, lr: float):
        self.lr = lr

    def step(self, params, grads):
        for p, g in zip(params, grads, strict=True):
            p -= self.lr * g


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


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]])
    labels = np.array([0, 1, 2])
    loss_fn = SoftmaxCrossEntropy()
    loss = loss_fn(logits, labels)
    grad = loss_fn.backward()
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    ref = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels))
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    assert np.all(np.isfinite(softmax(logits))) and np.all(np.isfinite(log_softmax(logits)))
    np.testing.assert_allclose(softmax(logits).sum(axis=1), 1.0)


def test_softmax_gradient_is_probabilities_minus_onehot():
    z, y = np.array([[1.0, 2.0, 3.0]]), np.array([2])
    loss_fn = SoftmaxCrossEntropy()
    loss_fn(z, y)
    np.testing.assert_allclose(loss_fn.backward(), softmax(z) - np.array([[0, 0, 1]]))


def test_uniform_logits_give_log_k():
    assert SoftmaxCrossEntropy()(np.zeros((4, 10)), np.arange(4)) == pytest.approx(np.log(10))


def test_bias_folding_is_the_same_map():
    rng = np.random.default_rng(0)
    layer = Linear(3, 2, rng=rng)
    layer.b[:] = [0.5, -1.0]
    folded = Linear(4, 2, bias=False, rng=rng)
    folded.W[...] = np.vstack([layer.W, layer.b])
    x = rng.normal(size=(5, 3))
    np.testing.assert_allclose(folded(add_bias_column(x)), layer(x))
    assert folded.params() == [folded.W] and len(folded.grads()) == 1


def test_initialisation_scales():
    rng = np.random.default_rng(0)
    he, xavier = Linear(500, 400, rng=rng), Linear(500, 400, init="xavier", rng=rng)
    assert he.W.std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)
    assert xavier.W.std() == pytest.approx(np.sqrt(2 / 900), rel=0.02)
    np.testing.assert_array_equal(he.b, 0.0)


def test_fit_learns_xor_and_reports_history():
    x, y = xor()
    rng = np.random.default_rng(0)
    model = Sequential(Linear(2, 8, init="xavier", rng=rng), Tanh(), Linear(8, 2, rng=rng))
    history = fit(model, x, y, PlainSGD(0.5), epochs=400, batch_size=4, rng=rng, x_val=x, y_val=y)
    assert accuracy(model(x), y) == 1.0
    assert history.train_loss[-1] < 0.1 * history.train_loss[0]
    assert len(history.val_accuracy) == 400 and history.val_accuracy[-1] == 1.0


def test_confusion_matrix_and_accuracy():
    labels, preds = np.array([0, 1, 2, 2]), np.array([0, 2, 2, 2])
    np.testing.assert_array_equal(
        confusion_matrix(labels, preds, 3), [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
    )
    assert accuracy(np.eye(3)[preds], labels) == 0.75


def test_load_digits_split_is_fixed_stratified_and_scaled():
    a, b = load_digits(), load_digits()
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert len(a.y_train) + len(a.y_val) + len(a.y_test) == 1797
    assert a.x_train.min() >= 0 and a.x_train.max() <= 1
    for part in (a.y_train, a.y_val, a.y_test):
        counts = np.bincount(part, minlength=10)
        assert counts.min() >= 0.9 * counts.mean()  # stratified: classes balanced in every part
    assert not np.array_equal(a.x_test, load_digits(seed=1).x_test)


# ---------------------------------------------------------------------- bad input
def test_labels_out_of_range_name_the_fix():
    with pytest.raises(ValueError, match=r"labels must lie in 0..2 for 3 classes.*Fix"):
        SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="labels must be integer class indices"):
        SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\)"):
        SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="labels must lie in"):
        confusion_matrix(np.array([0, 5]), np.array([0, 1]), 3)


def test_shape_errors():
    layer = Linear(3, 2)
    with pytest.raises(ValueError, match=r"x must have 3 features.*\(4, 5\)"):
        layer(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="2-D batch"):
        layer(np.zeros(3))
    with pytest.raises(ValueError, match="n_out must be a positive integer"):
        Linear(3, 0)
    with pytest.raises(ValueError, match="init must be 'he' or 'xavier'"):
        Linear(3, 2, init="lecun")
    with pytest.raises(TypeError, match=r"layers\[1\] must be a Layer"):
        Sequential(Linear(2, 2), np.tanh)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        Linear(2, 2).backward(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match="before forward"):
        SoftmaxCrossEntropy().backward()


def test_fit_bad_arguments():
    x, y = xor()
    model = Sequential(Linear(2, 2))
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        fit(model, x, y, PlainSGD(0.1), epochs=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        fit(model, x, y, PlainSGD(0.1), epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="x has 4 rows but y has 3 labels"):
        fit(model, x, y[:3], PlainSGD(0.1), epochs=1)
    with pytest.raises(TypeError, match="optimizer must have a step"):
        fit(model, x, y, object(), epochs=1)
    with pytest.raises(ValueError, match="val_fraction must be in"):
        load_digits(val_fraction=0.0)
    with pytest.raises(ValueError, match="must be < 1"):
        load_digits(val_fraction=0.5, test_fraction=0.5)

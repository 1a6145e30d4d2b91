"""Tests for ode_course.mlp: every layer's backward pass against torch autograd in float64,
bad input named with a fix, and the deprecated name ``Layer`` of :class:`Module`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ode_course
from ode_course import mlp
from ode_course.autodiff import numerical_gradient, relative_error
from ode_course.data import load_digits, xor
from ode_course.mlp import (
    Linear,
    Module,
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
@pytest.mark.parametrize(
    "call,error,match",
    [
        (
            lambda: SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0, 3])),
            ValueError,
            r"labels must be in 0..2 for 3 classes; got values from 0 to 3",
        ),
        (
            lambda: SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0.0, 1.0])),
            ValueError,
            r"labels must be integer class indices; got dtype float64",
        ),
        (
            lambda: SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0, 1, 2])),
            ValueError,
            r"labels must be of shape \(2,\)",
        ),
        (
            lambda: confusion_matrix(np.array([0, 5]), np.array([0, 1]), 3),
            ValueError,
            r"labels must be in 0..2",
        ),
        (
            lambda: confusion_matrix(np.array([0, 1]), np.array([0, 4]), 3),
            ValueError,
            r"predictions must be in 0..2",
        ),
        (
            lambda: confusion_matrix(np.array([0, 1]), np.array([0, 1]), 2.0),
            TypeError,
            r"n_classes must be an integer >= 1",
        ),
        (
            lambda: accuracy(np.zeros(3), np.array([0, 1, 2])),
            ValueError,
            r"logits must be a 2-D batch",
        ),
    ],
)
def test_bad_labels_and_logits_are_named_with_a_fix(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert "Fix: " in str(info.value)


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


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"epochs": 0}, ValueError, "epochs must be a positive integer; got epochs=0"),
        ({"epochs": 1.5}, TypeError, "epochs must be an integer >= 1; got float"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
        ({"n": 3}, ValueError, r"y must be one label per row of x \(4 rows\); got 3 labels"),
        ({"optimizer": object()}, TypeError, r"optimizer must be an object with a step\(params"),
        ({"model": Linear}, TypeError, r"model must be an ode_course\.mlp\.Module"),
    ],
)
def test_fit_bad_arguments_are_named_with_a_fix(kwargs, error, match):
    x, y = xor()
    model = kwargs.pop("model", Sequential(Linear(2, 2)))
    optimizer = kwargs.pop("optimizer", PlainSGD(0.1))
    y = y[: kwargs.pop("n", len(y))]
    with pytest.raises(error, match=match) as info:
        fit(model, x, y, optimizer, **{"epochs": 1, **kwargs})
    assert "Fix: " in str(info.value)


def test_load_digits_bad_fractions():
    with pytest.raises(ValueError, match="val_fraction must be in"):
        load_digits(val_fraction=0.0)
    with pytest.raises(ValueError, match="must be < 1"):
        load_digits(val_fraction=0.5, test_fraction=0.5)


# ---------------------------------------------------------------------- the name Module
def test_every_layer_and_sequential_is_a_module():
    for layer in (Linear(2, 2), ReLU(), Tanh(), Sigmoid(), Sequential(ReLU())):
        assert isinstance(layer, Module)
    assert "Module" in mlp.__all__ and "Layer" not in mlp.__all__
    assert ode_course.Module is Module
    assert ode_course.Layer is ode_course.scalar_nn.Layer  # the scalar MLP's layer


def test_the_old_name_layer_still_works_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match=r"ode_course\.mlp\.Layer is deprecated.*Module"):
        old = mlp.Layer
    assert old is Module
    with pytest.warns(DeprecationWarning):
        from ode_course.mlp import Layer
    assert Layer is Module
    with pytest.raises(AttributeError, match=r"no attribute 'Layr'.*Fix: "):
        mlp.Layr  # noqa: B018

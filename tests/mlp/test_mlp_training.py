"""Tests for ode_course.mlp.training: fit learns XOR, the metrics, the bias column, the
digits split, and bad arguments named with a fix."""

from __future__ import annotations

import numpy as np
import pytest

from ode_course.data import load_digits, xor
from ode_course.mlp import (
    Linear,
    Sequential,
    Tanh,
    accuracy,
    add_bias_column,
    confusion_matrix,
    fit_mlp,
)


class PlainSGD:
    def __init__(self, lr: float):
        self.lr = lr

    def step(self, params, grads):
        for p, g in zip(params, grads, strict=True):
            p -= self.lr * g


def test_bias_folding_is_the_same_map():
    rng = np.random.default_rng(0)
    layer = Linear(3, 2, rng=rng)
    layer.b[:] = [0.5, -1.0]
    folded = Linear(4, 2, bias=False, rng=rng)
    folded.W[...] = np.vstack([layer.W, layer.b])
    x = rng.normal(size=(5, 3))
    np.testing.assert_allclose(folded(add_bias_column(x)), layer(x))
    assert folded.params() == [folded.W] and len(folded.grads()) == 1


def test_fit_learns_xor_and_reports_history():
    x, y = xor()
    rng = np.random.default_rng(0)
    model = Sequential(Linear(2, 8, init="xavier", rng=rng), Tanh(), Linear(8, 2, rng=rng))
    history = fit_mlp(
        model, x, y, PlainSGD(0.5), epochs=400, batch_size=4, seed=rng, x_val=x, y_val=y
    )
    assert accuracy(model(x), y) == 1.0
    assert history.train_loss[-1] < 0.1 * history.train_loss[0]
    assert len(history.val_accuracy) == 400 and history.val_accuracy[-1] == 1.0
    assert history.val_at == list(range(1, 401))  # measured after every epoch


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


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"epochs": 0}, ValueError, "epochs must be a positive integer; got epochs=0"),
        ({"epochs": 1.5}, TypeError, "epochs must be an integer >= 1; got float"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
        ({"n": 3}, ValueError, r"y must be one label per row of x \(4 rows\); got 3 labels"),
        ({"optimizer": object()}, TypeError, r"optimizer must be an object with a step\(params"),
        ({"model": Linear}, TypeError, r"model must be an ode_course\.mlp\.Module"),
        ({"seed": -1}, ValueError, r"seed must be an integer >= 0.*Fix: pass e\.g\. seed=0"),
        ({"seed": "0"}, TypeError, r"seed must be an integer >= 0; got str"),
    ],
)
def test_fit_bad_arguments_are_named_with_a_fix(kwargs, error, match):
    x, y = xor()
    model = kwargs.pop("model", Sequential(Linear(2, 2)))
    optimizer = kwargs.pop("optimizer", PlainSGD(0.1))
    y = y[: kwargs.pop("n", len(y))]
    with pytest.raises(error, match=match) as info:
        fit_mlp(model, x, y, optimizer, **{"epochs": 1, **kwargs})
    assert "Fix: " in str(info.value)


def test_load_digits_bad_fractions():
    with pytest.raises(ValueError, match="val_fraction must be in"):
        load_digits(val_fraction=0.0)
    with pytest.raises(ValueError, match="must be < 1"):
        load_digits(val_fraction=0.5, test_fraction=0.5)

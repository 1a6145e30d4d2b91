"""Tests for ode_course.mlp.loss: a stable softmax cross-entropy and its gradient, and bad
labels and logits named with a fix."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ode_course.mlp import (
    SoftmaxCrossEntropy,
    accuracy,
    confusion_matrix,
    log_softmax,
    softmax,
)


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

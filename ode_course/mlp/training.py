"""Training and evaluating a classifier: minibatch fitting, accuracy and the confusion matrix.

:func:`fit_mlp` returns a :class:`~ode_course.history.TrainingHistory` (the record every
trainer of the package returns); :func:`accuracy` and :func:`confusion_matrix`
evaluate; :func:`add_bias_column` folds the bias into the weights.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ode_course import _validate
from ode_course.history import TrainingHistory
from ode_course.mlp.layers import Module, Sequential, as_batch
from ode_course.mlp.loss import SoftmaxCrossEntropy, check_labels

__all__ = ["accuracy", "add_bias_column", "confusion_matrix", "fit_mlp"]


def add_bias_column(x: np.ndarray) -> np.ndarray:
    """[x, 1]: append a constant-1 feature, so that x W + b = [x, 1] [W; b] (the bias folded in)."""
    x = as_batch(x, None)
    return np.hstack([x, np.ones((x.shape[0], 1))])


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of rows whose largest logit is at the true label."""
    logits = as_batch(logits, None, "logits")
    labels = check_labels(labels, logits.shape[0], logits.shape[1])
    return float((logits.argmax(axis=1) == labels).mean())


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, n_classes: int) -> np.ndarray:
    """C[i, j] = the number of examples of class i predicted as class j.

    Raises:
        TypeError: ``n_classes`` is not an integer.
        ValueError: ``n_classes`` < 1, or the labels or predictions are not integers in
            0..n_classes − 1, one per example.

    Example:
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), n_classes=2)
        array([[1, 0],
               [1, 1]])
    """
    n_classes = _validate.integer(n_classes, "n_classes")
    labels = check_labels(labels, len(labels), n_classes)
    predictions = check_labels(predictions, len(labels), n_classes, "predictions")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def fit_mlp(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    optimizer,
    *,
    epochs: int,
    batch_size: int = 32,
    x_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    seed: int | np.random.Generator = 0,
    on_epoch: Callable[[int, Sequential], None] | None = None,
) -> TrainingHistory:
    """Minibatch training with softmax cross-entropy: shuffle, forward, backward, optimizer step.

    Args:
        model: the network; its last layer outputs logits.
        x: inputs (N, features); y: integer labels (N,).
        optimizer: anything with ``step(params, grads)`` (see :mod:`ode_course.optim`).
        epochs: passes over the data.
        batch_size: examples per step.
        x_val, y_val: optional validation data, evaluated after every epoch.
        seed: seeds the shuffling of the data each epoch: an int, or a numpy ``Generator``
            to draw from (as ``np.random.default_rng(seed)`` reads it; pass the generator
            that initialised the layers to continue its stream).
        on_epoch: called as ``on_epoch(epoch, model)`` after every epoch (e.g. to anneal ``lr``).

    Returns:
        A :class:`~ode_course.history.TrainingHistory` per epoch: the mean training loss of
        each epoch and, with validation data, the validation loss and accuracy after each.

    Raises:
        TypeError: ``epochs`` or ``batch_size`` is not an integer, ``model`` is not a
            :class:`Module`, or ``optimizer`` has no ``step``.
        ValueError: ``epochs`` or ``batch_size`` is less than 1, or x and y disagree.
    """
    epochs = _validate.integer(epochs, "epochs", fix="e.g. epochs=20")
    batch_size = _validate.integer(batch_size, "batch_size", fix="e.g. batch_size=32")
    if not isinstance(model, Module):
        _validate.fail(
            "model",
            "an ode_course.mlp.Module, e.g. a Sequential",
            type(model).__name__,
            "build it as Sequential(Linear(n_in, n_hidden), ReLU(), Linear(n_hidden, n_out))",
            TypeError,
        )
    if not callable(getattr(optimizer, "step", None)):
        _validate.fail(
            "optimizer",
            "an object with a step(params, grads) method",
            type(optimizer).__name__,
            "pass e.g. ode_course.optim.SGD(lr=0.1)",
            TypeError,
        )
    x = as_batch(x, None)
    y = np.asarray(y)
    if len(y) != len(x):
        _validate.fail(
            "y",
            f"one label per row of x ({len(x)} rows)",
            f"{len(y)} labels",
            "pass x and y of the same length",
        )
    rng = _generator(seed)
    loss_fn, history = SoftmaxCrossEntropy(), TrainingHistory(per="epoch")
    start = time.perf_counter()
    for epoch in range(epochs):
        order, losses = rng.permutation(len(x)), []
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            losses.append(loss_fn(model(x[batch]), y[batch]))
            model.backward(loss_fn.backward())
            optimizer.step(model.params(), model.grads())
        history.record(float(np.mean(losses)))
        if x_val is not None and y_val is not None:
            logits = model(x_val)
            history.record_validation(loss_fn(logits, y_val), accuracy(logits, y_val))
        if on_epoch is not None:
            on_epoch(epoch, model)
    history.seconds = time.perf_counter() - start
    return history


def _generator(seed: int | np.random.Generator) -> np.random.Generator:
    """``np.random.default_rng(seed)``, with the package's message for anything else."""
    if isinstance(seed, np.random.Generator):
        return seed
    seed = _validate.integer(seed, "seed", minimum=0, fix="pass e.g. seed=0, or a Generator")
    return np.random.default_rng(seed)

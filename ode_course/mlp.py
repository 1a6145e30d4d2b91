"""A multilayer perceptron in numpy, with every backward pass written out and vectorised.

Each layer maps a batch ``x`` of shape (N, n_in) to (N, n_out) in ``forward`` and caches what its
backward pass needs. ``backward(g)`` receives g = ∂L/∂(output), of shape (N, n_out), stores the
gradients of the layer's parameters and returns ∂L/∂(input), of shape (N, n_in): the chain rule,
one layer at a time, for the whole batch at once.

Example:
    >>> rng = np.random.default_rng(0)
    >>> model = Sequential(Linear(4, 8, rng=rng), ReLU(), Linear(8, 3, rng=rng))
    >>> loss_fn = SoftmaxCrossEntropy()
    >>> x, y = rng.normal(size=(5, 4)), np.array([0, 2, 1, 1, 0])
    >>> loss = loss_fn(model(x), y)
    >>> _ = model.backward(loss_fn.backward())
    >>> [g.shape for g in model.grads()]
    [(4, 8), (8,), (8, 3), (3,)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Layer",
    "Linear",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "Tanh",
    "TrainingHistory",
    "accuracy",
    "add_bias_column",
    "confusion_matrix",
    "fit",
    "log_softmax",
    "softmax",
]


def _as_batch(x: np.ndarray, n_features: int | None, name: str = "x") -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D batch of shape (N, features); got shape {x.shape}")
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"{name} must have {n_features} features (columns); got shape {x.shape}")
    return x


class Layer:
    """The interface every layer shares: forward, backward, and its parameters and gradients."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def params(self) -> list[np.ndarray]:
        return []

    def grads(self) -> list[np.ndarray]:
        return []

    def _cached(self, attr: str) -> np.ndarray:
        value = getattr(self, attr, None)
        if value is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return value


class Linear(Layer):
    """z = x W + b, with W of shape (n_in, n_out) and b of shape (n_out,).

    Backward: ∂L/∂W = xᵀ g, ∂L/∂b = Σ_batch g, ∂L/∂x = g Wᵀ, where g = ∂L/∂z.

    Args:
        n_in: input features.
        n_out: output features.
        init: ``"he"`` (W ~ N(0, 2/n_in), for ReLU) or ``"xavier"`` (W ~ N(0, 2/(n_in + n_out)),
            for tanh and sigmoid).
        bias: whether to add b.
        rng: the random generator for the weights.

    Raises:
        ValueError: a size is not a positive integer or ``init`` is unknown.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        init: str = "he",
        bias: bool = True,
        rng: np.random.Generator | None = None,
    ):
        for name, n in (("n_in", n_in), ("n_out", n_out)):
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
                raise ValueError(f"{name} must be a positive integer; got {n!r}")
        scales = {"he": np.sqrt(2.0 / n_in), "xavier": np.sqrt(2.0 / (n_in + n_out))}
        if init not in scales:
            raise ValueError(f"init must be 'he' or 'xavier'; got {init!r}")
        rng = rng if rng is not None else np.random.default_rng()
        self.W = rng.normal(0.0, scales[init], size=(n_in, n_out))
        self.b = np.zeros(n_out) if bias else None
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros(n_out) if bias else None
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = _as_batch(x, self.W.shape[0])
        z = self._x @ self.W
        return z + self.b if self.b is not None else z

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x = self._cached("_x")
        self.dW[...] = x.T @ grad_out
        if self.db is not None:
            self.db[...] = grad_out.sum(axis=0)
        return grad_out @ self.W.T

    def params(self) -> list[np.ndarray]:
        return [self.W] if self.b is None else [self.W, self.b]

    def grads(self) -> list[np.ndarray]:
        return [self.dW] if self.db is None else [self.dW, self.db]


class ReLU(Layer):
    """a = max(0, z); backward: ∂L/∂z = g · 1[z > 0]."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._mask = np.asarray(x) > 0
        return np.where(self._mask, x, 0.0)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * self._cached("_mask")


class Tanh(Layer):
    """a = tanh z; backward: ∂L/∂z = g · (1 − a²)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._a = np.tanh(x)
        return self._a

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        a = self._cached("_a")
        return grad_out * (1.0 - a * a)


class Sigmoid(Layer):
    """a = σ(z) = 1 / (1 + e^(−z)), computed without overflow; backward: ∂L/∂z = g · a(1 − a)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        e = np.exp(-np.abs(x))  # never overflows
        self._a = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return self._a

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        a = self._cached("_a")
        return grad_out * a * (1.0 - a)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax(z)_k = z_k − log Σ_j e^{z_j}, computed as z − m − log Σ_j e^{z_j − m}, m = max z.

    Args:
        z: logits of shape (N, K).

    Returns:
        An array of shape (N, K).
    """
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax(z)_k = e^{z_k} / Σ_j e^{z_j}, row by row, without overflow (via log_softmax)."""
    return np.exp(log_softmax(z))


def _check_labels(labels: np.ndarray, n: int, n_classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(
            f"labels must have shape ({n},), one per row of logits; got {labels.shape}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices; got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1} for {n_classes} classes; got values from "
            f"{labels.min()} to {labels.max()}. Fix: give the model as many outputs as classes."
        )
    return labels


class SoftmaxCrossEntropy:
    """L = −(1/N) Σ_i log softmax(z_i)_{y_i}; backward: ∂L/∂z = (softmax(z) − onehot(y)) / N.

    Example:
        >>> loss_fn = SoftmaxCrossEntropy()
        >>> bool(np.isclose(loss_fn(np.zeros((2, 10)), np.array([3, 7])), np.log(10)))
        True
    """

    def __call__(self, logits: np.ndarray, labels: np.ndarray) -> float:
        return self.forward(logits, labels)

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        """The mean cross-entropy of integer ``labels`` (N,) under ``logits`` (N, K)."""
        logits = _as_batch(logits, None, "logits")
        labels = _check_labels(labels, logits.shape[0], logits.shape[1])
        logp = log_softmax(logits)
        self._probs, self._labels = np.exp(logp), labels
        return float(-logp[np.arange(len(labels)), labels].mean())

    def backward(self) -> np.ndarray:
        """∂L/∂logits, of shape (N, K)."""
        if getattr(self, "_probs", None) is None:
            raise RuntimeError("SoftmaxCrossEntropy.backward called before forward")
        grad = self._probs.copy()
        grad[np.arange(len(self._labels)), self._labels] -= 1.0
        return grad / len(self._labels)


class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse, each passing ∂L/∂(its input) on."""

    def __init__(self, *layers: Layer):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a Layer; got {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer(x)
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def params(self) -> list[np.ndarray]:
        return [p for layer in self.layers for p in layer.params()]

    def grads(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in layer.grads()]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The most likely class of each row of ``x``."""
        return self.forward(x).argmax(axis=1)


def add_bias_column(x: np.ndarray) -> np.ndarray:
    """[x, 1]: append a constant-1 feature, so that x W + b = [x, 1] [W; b] (the bias folded in)."""
    x = _as_batch(x, None)
    return np.hstack([x, np.ones((x.shape[0], 1))])


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of rows whose largest logit is at the true label."""
    logits = _as_batch(logits, None, "logits")
    labels = _check_labels(labels, logits.shape[0], logits.shape[1])
    return float((logits.argmax(axis=1) == labels).mean())


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, n_classes: int) -> np.ndarray:
    """C[i, j] = the number of examples of class i predicted as class j."""
    labels = _check_labels(labels, len(labels), n_classes)
    predictions = _check_labels(predictions, len(labels), n_classes)
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


@dataclass
class TrainingHistory:
    """Per-epoch training loss (mean over the epoch's batches) and validation loss and accuracy."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)


def fit(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    optimizer,
    *,
    epochs: int,
    batch_size: int = 32,
    x_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
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
        rng: shuffles the data each epoch.
        on_epoch: called as ``on_epoch(epoch, model)`` after every epoch (e.g. to anneal ``lr``).

    Returns:
        The :class:`TrainingHistory`.

    Raises:
        ValueError: ``epochs`` or ``batch_size`` is not a positive integer, or x and y disagree.
    """
    for name, n in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"{name} must be a positive integer; got {n!r}")
    if not hasattr(optimizer, "step"):
        raise TypeError(
            "optimizer must have a step(params, grads) method, e.g. ode_course.optim.SGD"
        )
    x = _as_batch(x, None)
    y = np.asarray(y)
    if len(y) != len(x):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)} labels")
    rng = rng if rng is not None else np.random.default_rng()
    loss_fn, history = SoftmaxCrossEntropy(), TrainingHistory()
    for epoch in range(epochs):
        order, losses = rng.permutation(len(x)), []
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            losses.append(loss_fn(model(x[batch]), y[batch]))
            model.backward(loss_fn.backward())
            optimizer.step(model.params(), model.grads())
        history.train_loss.append(float(np.mean(losses)))
        if x_val is not None and y_val is not None:
            logits = model(x_val)
            history.val_loss.append(loss_fn(logits, y_val))
            history.val_accuracy.append(accuracy(logits, y_val))
        if on_epoch is not None:
            on_epoch(epoch, model)
    return history

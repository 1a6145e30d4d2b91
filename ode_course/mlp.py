"""A multilayer perceptron in numpy, with every backward pass written out and vectorised.

Each layer maps a batch ``x`` of shape (N, n_in) to (N, n_out) in ``forward`` and caches what its
backward pass needs. ``backward(g)`` receives g = ∂L/∂(output), of shape (N, n_out), stores the
gradients of the layer's parameters and returns ∂L/∂(input), of shape (N, n_in): the chain rule,
one layer at a time, for the whole batch at once. Every layer, and :class:`Sequential`, which
chains them, is a :class:`Module` (the name PyTorch gives the same idea, ``torch.nn.Module``).

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

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ode_course import _validate

__all__ = [
    "Linear",
    "Module",
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
    _validate.shape(
        x,
        name,
        "a 2-D batch of shape (N, features)",
        x.ndim == 2,
        fix=f"one row per example: {name}.reshape(1, -1) for a single one",
    )
    if n_features is not None:
        _validate.shape(
            x,
            name,
            f"a batch of {n_features} features (columns), shape (N, {n_features})",
            x.shape[1] == n_features,
            fix="give the layer as many inputs (n_in) as the data has columns",
        )
    return x


def _before_forward(what: str) -> None:
    _validate.fail(
        f"{what}.backward",
        "called after forward (it reads what forward cached)",
        "a call before any forward",
        "run the forward pass first, out = layer(x), then layer.backward(grad_out)",
        RuntimeError,
    )


def _not_defined(module: Any, method: str) -> None:
    name = method.split("(")[0]
    _validate.fail(
        f"{type(module).__name__}.{name}",
        "defined by the subclass (Module only declares it)",
        "the base class's",
        f"define {method} in your subclass of Module",
        NotImplementedError,
    )


class Module:
    """What every layer and every network shares: forward, backward, parameters, gradients.

    A module maps a batch ``x`` (N, n_in) to (N, n_out) in :meth:`forward` (also called as
    ``module(x)``) and caches what its backward pass needs; :meth:`backward` takes
    g = ∂L/∂(output) and returns ∂L/∂(input), storing the gradients of its parameters on the
    way. :meth:`params` and :meth:`grads` list the parameter arrays and their gradients in the
    same order, which is what an optimizer's ``step(params, grads)`` takes. Layers
    (:class:`Linear`, :class:`ReLU`, ...) and the networks built from them
    (:class:`Sequential`) are all modules, as in PyTorch, whose ``torch.nn.Module`` plays the
    same role from Chapter 5 on. (It was called ``Layer`` before, a name that
    ``ode_course.scalar_nn.Layer``, a layer of scalar neurons, also has;
    ``ode_course.mlp.Layer`` still works, with a DeprecationWarning.)

    Example:
        >>> class Double(Module):
        ...     def forward(self, x):
        ...         return 2 * x
        ...     def backward(self, grad_out):
        ...         return 2 * grad_out
        >>> Sequential(Double(), ReLU())(np.array([[-1.0, 3.0]]))
        array([[0., 6.]])
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The output for the batch ``x``, shape (N, n_out)."""
        _not_defined(self, "forward(self, x)")
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """∂L/∂(input) from ``grad_out`` = ∂L/∂(output), storing the parameters' gradients."""
        _not_defined(self, "backward(self, grad_out)")
        return grad_out

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def params(self) -> list[np.ndarray]:
        """The parameter arrays (none for an activation)."""
        return []

    def grads(self) -> list[np.ndarray]:
        """The gradients of :meth:`params`, in the same order, from the latest backward."""
        return []

    def _cached(self, attr: str) -> np.ndarray:
        value: Any = getattr(self, attr, None)
        if value is None:
            _before_forward(type(self).__name__)
        return value


def __getattr__(name: str) -> Any:
    """``Layer``, the old name of :class:`Module`, with a DeprecationWarning."""
    if name == "Layer":
        warnings.warn(
            "ode_course.mlp.Layer is deprecated and will be removed; it is ode_course.mlp.Module "
            "(ode_course.Layer is the scalar MLP's layer, ode_course.scalar_nn.Layer)",
            DeprecationWarning,
            stacklevel=2,
        )
        return Module
    raise AttributeError(
        f"module {__name__!r} has no attribute {name!r}. "
        f"Fix: its public names are listed in {__name__}.__all__"
    )


class Linear(Module):
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
        TypeError: a size is not an integer.
        ValueError: a size is less than 1 or ``init`` is unknown.

    Example:
        >>> layer = Linear(3, 2, rng=np.random.default_rng(0))
        >>> layer(np.ones((4, 3))).shape, [p.shape for p in layer.params()]
        ((4, 2), [(3, 2), (2,)])
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
        n_in, n_out = _validate.integer(n_in, "n_in"), _validate.integer(n_out, "n_out")
        scales = {"he": np.sqrt(2.0 / n_in), "xavier": np.sqrt(2.0 / (n_in + n_out))}
        _validate.one_of(
            init, "init", scales, fix="init='he' before a ReLU, init='xavier' before tanh/sigmoid"
        )
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


class ReLU(Module):
    """a = max(0, z); backward: ∂L/∂z = g · 1[z > 0]."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._mask = np.asarray(x) > 0
        return np.where(self._mask, x, 0.0)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * self._cached("_mask")


class Tanh(Module):
    """a = tanh z; backward: ∂L/∂z = g · (1 − a²)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._a = np.tanh(x)
        return self._a

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        a = self._cached("_a")
        return grad_out * (1.0 - a * a)


class Sigmoid(Module):
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


def _check_labels(labels: np.ndarray, n: int, n_classes: int, name: str = "labels") -> np.ndarray:
    labels = np.asarray(labels)
    _validate.shape(
        labels,
        name,
        f"of shape ({n},), one per row of logits",
        labels.shape == (n,),
        fix=f"pass one integer class per example, e.g. {name}.ravel()",
    )
    if not np.issubdtype(labels.dtype, np.integer):
        _validate.fail(
            name,
            "integer class indices",
            f"dtype {labels.dtype}",
            f"{name}.astype(int) (or the argmax of one-hot rows)",
        )
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        _validate.fail(
            name,
            f"in 0..{n_classes - 1} for {n_classes} classes",
            f"values from {labels.min()} to {labels.max()}",
            "give the model as many outputs as classes",
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
            _before_forward("SoftmaxCrossEntropy")
        grad = self._probs.copy()
        grad[np.arange(len(self._labels)), self._labels] -= 1.0
        return grad / len(self._labels)


class Sequential(Module):
    """Modules applied in order; backward runs them in reverse, each passing ∂L/∂(its input) on.

    Args:
        *layers: the modules, first to last (layers, or other Sequentials).

    Raises:
        TypeError: an argument is not a :class:`Module`.

    Example:
        >>> model = Sequential(Linear(2, 3, rng=np.random.default_rng(0)), Tanh())
        >>> model(np.zeros((5, 2))).shape, len(model.params())
        ((5, 3), 2)
    """

    def __init__(self, *layers: Module):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                _validate.fail(
                    f"layers[{i}]",
                    "an ode_course.mlp.Module (a layer such as Linear(4, 8) or ReLU())",
                    type(layer).__name__,
                    "pass layer instances, e.g. ReLU() rather than ReLU",
                    TypeError,
                )
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
    labels = _check_labels(labels, len(labels), n_classes)
    predictions = _check_labels(predictions, len(labels), n_classes, "predictions")
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
    x = _as_batch(x, None)
    y = np.asarray(y)
    if len(y) != len(x):
        _validate.fail(
            "y",
            f"one label per row of x ({len(x)} rows)",
            f"{len(y)} labels",
            "pass x and y of the same length",
        )
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

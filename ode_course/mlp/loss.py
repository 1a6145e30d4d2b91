"""The loss of a classifier: softmax cross-entropy, computed stably through log softmax.

:func:`log_softmax`, :func:`softmax` and :class:`SoftmaxCrossEntropy`. The label check
``check_labels`` (integer classes in 0..K − 1, one per row) is shared with ``training.py``.
"""

from __future__ import annotations

import numpy as np

from ode_course import _validate
from ode_course.mlp.layers import as_batch, before_forward

__all__ = ["SoftmaxCrossEntropy", "log_softmax", "softmax"]


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


def check_labels(labels: np.ndarray, n: int, n_classes: int, name: str = "labels") -> np.ndarray:
    """``labels`` as integer classes in 0..n_classes − 1, one per each of ``n`` examples."""
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
        logits = as_batch(logits, None, "logits")
        labels = check_labels(labels, logits.shape[0], logits.shape[1])
        logp = log_softmax(logits)
        self._probs, self._labels = np.exp(logp), labels
        return float(-logp[np.arange(len(labels)), labels].mean())

    def backward(self) -> np.ndarray:
        """∂L/∂logits, of shape (N, K)."""
        if getattr(self, "_probs", None) is None:
            before_forward("SoftmaxCrossEntropy")
        grad = self._probs.copy()
        grad[np.arange(len(self._labels)), self._labels] -= 1.0
        return grad / len(self._labels)

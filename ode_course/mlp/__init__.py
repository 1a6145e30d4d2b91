"""A multilayer perceptron in numpy, with every backward pass written out and vectorised.

Each layer maps a batch ``x`` of shape (N, n_in) to (N, n_out) in ``forward`` and caches what its
backward pass needs. ``backward(g)`` receives g = ∂L/∂(output), of shape (N, n_out), stores the
gradients of the layer's parameters and returns ∂L/∂(input), of shape (N, n_in): the chain rule,
one layer at a time, for the whole batch at once. Every layer, and :class:`Sequential`, which
chains them, is a :class:`Module` (the name PyTorch gives the same idea, ``torch.nn.Module``).
The package reads in three files, each on its own:

- ``layers.py``: :class:`Module`, the layers :class:`Linear`, :class:`ReLU`, :class:`Tanh`,
  :class:`Sigmoid`, and :class:`Sequential`, which chains them;
- ``loss.py``: :func:`log_softmax`, :func:`softmax` and :class:`SoftmaxCrossEntropy`;
- ``training.py``: :func:`fit_mlp` (returning a :class:`~ode_course.history.TrainingHistory`),
  :func:`accuracy`, :func:`confusion_matrix` and :func:`add_bias_column`.

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

import numpy as np  # the doctests above use it

from ode_course.mlp import layers, loss, training
from ode_course.mlp.layers import Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from ode_course.mlp.loss import SoftmaxCrossEntropy, log_softmax, softmax
from ode_course.mlp.training import accuracy, add_bias_column, confusion_matrix, fit_mlp

__all__ = sorted({*layers.__all__, *loss.__all__, *training.__all__})

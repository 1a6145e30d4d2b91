"""The layers of a numpy MLP, each a module with a hand-written backward pass, and their chain.

:class:`Module` declares forward, backward, params and grads; :class:`Linear`, :class:`ReLU`,
:class:`Tanh` and :class:`Sigmoid` implement them for one layer, and :class:`Sequential` chains
layers into a network. The checks ``as_batch`` (a 2-D batch of floats) and ``before_forward``
(the error for a backward before any forward) are shared with the other files of the package.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ode_course import _validate

__all__ = ["Linear", "Module", "ReLU", "Sequential", "Sigmoid", "Tanh"]


def as_batch(x: np.ndarray, n_features: int | None, name: str = "x") -> np.ndarray:
    """``x`` as a float64 batch of shape (N, features), with ``n_features`` columns if given."""
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


def before_forward(what: str) -> None:
    """Raise the error for ``what.backward`` called before any forward."""
    _validate.fail(
        f"{what}.backward",
        "called after forward (it reads what forward cached)",
        "a call before any forward",
        "run the forward pass first, out = layer(x), then layer.backward(grad_out)",
        RuntimeError,
    )


def not_defined(module: Any, method: str) -> None:
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
    same role from Chapter 5 on.

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
        not_defined(self, "forward(self, x)")
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """∂L/∂(input) from ``grad_out`` = ∂L/∂(output), storing the parameters' gradients."""
        not_defined(self, "backward(self, grad_out)")
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
            before_forward(type(self).__name__)
        return value


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
        self._x = as_batch(x, self.W.shape[0])
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

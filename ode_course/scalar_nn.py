"""Neurons, layers and a multilayer perceptron built from scalar autodiff ``Value`` objects.

A neuron computes act(w · x + b). Every weight is a Value, so a loss built from the network's
outputs can be differentiated with one call to ``loss.backward()``. This is slow (one Python
object per multiply) and meant for reading, not for speed; Chapter 2 vectorises the same maths
with numpy.

Example:
    >>> model = MLP(2, [4, 1], seed=0)
    >>> out = model([0.5, -1.0])
    >>> out.backward()
    >>> len(model.parameters())
    17
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ode_course.autodiff import Value

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Neuron"]

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}"
        )
    return activation


def _check_positive_int(n: int, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{name} must be a positive integer; got {n!r}")
    return int(n)


class Neuron:
    """y = act(Σ_i w_i x_i + b), weights drawn from N(0, 1/nin) and the bias set to 0.

    Args:
        nin: number of inputs.
        activation: one of ``ACTIVATIONS``.
        rng: the random generator used for the weights.

    Raises:
        ValueError: ``nin`` is not a positive integer or ``activation`` is unknown.
    """

    def __init__(self, nin: int, activation: str = "tanh", rng: np.random.Generator | None = None):
        nin = _check_positive_int(nin, "nin")
        self.activation = _check_activation(activation)
        rng = rng if rng is not None else np.random.default_rng()
        self.w = [Value(float(v)) for v in rng.normal(0.0, 1.0 / np.sqrt(nin), size=nin)]
        self.b = Value(0.0)

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"x must have {len(self.w)} entries (nin); got {len(x)}")
        z = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        if self.activation == "linear":
            return z
        return getattr(z, self.activation)()

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


class Layer:
    """``nout`` neurons reading the same inputs; returns a list of ``nout`` Values."""

    def __init__(
        self, nin: int, nout: int, activation: str = "tanh", rng: np.random.Generator | None = None
    ):
        nout = _check_positive_int(nout, "nout")
        rng = rng if rng is not None else np.random.default_rng()
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    """A multilayer perceptron: hidden layers with ``activation``, a linear output layer.

    Args:
        nin: number of inputs.
        nouts: the width of each layer, the last one being the number of outputs.
        activation: the hidden layers' activation (one of ``ACTIVATIONS``).
        seed: seeds the weight initialisation.

    Returns (when called):
        A single Value if the last layer has one output, else a list of Values.

    Raises:
        ValueError: ``nouts`` is empty, a width is not a positive integer, or the activation is
            unknown.
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "tanh", seed: int = 0):
        if len(nouts) == 0:
            raise ValueError("nouts must list at least one layer width, e.g. [16, 1]")
        rng = np.random.default_rng(seed)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "linear", rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        h: list[Value] | Sequence[Value | float] = x
        for layer in self.layers:
            h = layer(h)
        return h[0] if len(h) == 1 else list(h)

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        """Reset every parameter's gradient to 0 (leaves accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

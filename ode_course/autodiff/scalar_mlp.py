"""Neurons, layers and a multilayer perceptron built from scalar autodiff ``Value`` objects.

A neuron computes act(w · x + b). Every weight is a Value, so a loss built from the network's
outputs can be differentiated with one call to ``loss.backward()``. This is slow (one Python
object per multiply) and meant for reading, not for speed; Chapter 2 vectorises the same maths
with numpy (:mod:`ode_course.mlp`), and Chapter 5 uses torch
(:func:`~ode_course.models.mlp_classifier`).

Example:
    >>> model = ScalarMLP(2, [4, 1], seed=0)
    >>> out = model([0.5, -1.0])
    >>> out.backward()
    >>> len(model.parameters())
    17
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ode_course import _validate
from ode_course.autodiff.engine import Value

__all__ = ["SCALAR_ACTIVATIONS", "Neuron", "ScalarLayer", "ScalarMLP"]

SCALAR_ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
"""The names ``activation=`` takes: the Value methods a neuron applies (``"linear"``: none)."""


class Neuron:
    """y = act(Σ_i w_i x_i + b), weights drawn from N(0, 1/nin) and the bias set to 0.

    Args:
        nin: number of inputs.
        activation: one of ``SCALAR_ACTIVATIONS``.
        rng: the random generator used for the weights.

    Raises:
        TypeError: ``nin`` is not an integer.
        ValueError: ``nin`` is not positive or ``activation`` is unknown.

    Example:
        >>> neuron = Neuron(2, activation="linear", rng=np.random.default_rng(0))
        >>> neuron.b.data, len(neuron.parameters())
        (0.0, 3)
    """

    def __init__(
        self, nin: int, activation: str = "tanh", rng: np.random.Generator | None = None
    ) -> None:
        nin = _validate.integer(nin, "nin", fix="pass the number of inputs, e.g. nin=2")
        self.activation = _validate.one_of(activation, "activation", SCALAR_ACTIVATIONS)
        rng = rng if rng is not None else np.random.default_rng()
        self.w = [Value(float(v)) for v in rng.normal(0.0, 1.0 / np.sqrt(nin), size=nin)]
        self.b = Value(0.0)

    def __call__(self, x: Sequence[Value | float]) -> Value:
        """act(w · x + b) for the ``nin`` inputs ``x``.

        Raises:
            ValueError: ``x`` does not hold ``nin`` entries.
        """
        if len(x) != len(self.w):
            _validate.fail(
                "x",
                f"a sequence of {len(self.w)} entries (nin = {len(self.w)})",
                f"{len(x)} entries",
                "pass one input per weight",
            )
        z = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        if self.activation == "linear":
            return z
        return getattr(z, self.activation)()

    def parameters(self) -> list[Value]:
        """The weights, then the bias: ``nin + 1`` Values."""
        return [*self.w, self.b]


class ScalarLayer:
    """``nout`` neurons reading the same inputs; returns a list of ``nout`` Values.

    Args:
        nin: number of inputs of every neuron.
        nout: number of neurons, i.e. of outputs.
        activation: one of ``SCALAR_ACTIVATIONS``.
        rng: the random generator used for the weights.

    Raises:
        TypeError: ``nin`` or ``nout`` is not an integer.
        ValueError: ``nin`` or ``nout`` is not positive, or ``activation`` is unknown.

    Example:
        >>> layer = ScalarLayer(3, 2, rng=np.random.default_rng(0))
        >>> len(layer([1.0, 0.0, -1.0])), len(layer.parameters())
        (2, 8)
    """

    def __init__(
        self, nin: int, nout: int, activation: str = "tanh", rng: np.random.Generator | None = None
    ) -> None:
        nout = _validate.integer(nout, "nout", fix="pass the number of outputs, e.g. nout=4")
        rng = rng if rng is not None else np.random.default_rng()
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        """Each neuron's output on ``x``."""
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        """Every neuron's parameters, neuron by neuron."""
        return [p for n in self.neurons for p in n.parameters()]


class ScalarMLP:
    """A multilayer perceptron: hidden layers with ``activation``, a linear output layer.

    Args:
        nin: number of inputs.
        nouts: the width of each layer, the last one being the number of outputs.
        activation: the hidden layers' activation (one of ``SCALAR_ACTIVATIONS``).
        seed: seeds the weight initialisation.

    Returns (when called):
        A single Value if the last layer has one output, else a list of Values.

    Raises:
        TypeError: a width is not an integer.
        ValueError: ``nouts`` is empty, a width is not positive, or the activation is unknown.

    Example:
        >>> model = ScalarMLP(3, [4, 2], seed=0)
        >>> [len(layer.neurons) for layer in model.layers], len(model([1.0, 2.0, 3.0]))
        ([4, 2], 2)
    """

    def __init__(
        self, nin: int, nouts: Sequence[int], activation: str = "tanh", seed: int = 0
    ) -> None:
        if len(nouts) == 0:
            _validate.fail(
                "nouts", "a list of at least one layer width", repr(nouts), "pass e.g. [16, 1]"
            )
        rng = np.random.default_rng(seed)
        sizes = [nin, *nouts]
        self.layers = [
            ScalarLayer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "linear", rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """The network's output on the ``nin`` inputs ``x``."""
        h = self.layers[0](x)  # there is at least one layer
        for layer in self.layers[1:]:
            h = layer(h)
        return h[0] if len(h) == 1 else h

    def parameters(self) -> list[Value]:
        """Every layer's parameters, layer by layer."""
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        """Reset every parameter's gradient to 0 (leaves accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

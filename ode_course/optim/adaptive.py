"""Adaptive step sizes per coordinate: Adagrad, RMSprop and Adam, and all six optimizers by name.

The updates, elementwise::

    Adagrad    s ← s + g²,                     θ ← θ − lr g / (√s + ε)
    RMSprop    v ← α v + (1 − α) g²,           θ ← θ − lr g / (√v + ε)
    Adam       m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
               θ ← θ − lr m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)

each as ``torch.optim`` computes it. The file closes with ``OPTIMIZERS``, all six optimizers of
the package by name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ode_course import _validate
from ode_course.optim.momentum import SGD, Momentum, Nesterov
from ode_course.optim.optimizer import Optimizer, unit_interval

__all__ = ["OPTIMIZERS", "Adagrad", "Adam", "RMSprop"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011): s ← s + g², θ ← θ − lr g / (√s + ε).

    Each coordinate's step shrinks with the sum of its squared gradients so far. This is
    ``torch.optim.Adagrad`` with ``lr_decay=0`` and ``initial_accumulator_value=0``.

    Args:
        lr: the learning rate.
        eps: ε > 0, added to √s so the first division is finite.
        weight_decay: the L2 coefficient wd (g ← g + wd·θ).

    Raises:
        ValueError: a hyperparameter is out of range.
        TypeError: a hyperparameter is not a real number.

    Example:
        >>> theta = np.array([1.0, 1.0])
        >>> Adagrad(lr=0.1).step([theta], [np.array([1e-3, 1e3])])
        >>> theta.round(6)  # the first step is lr·sign(g) whatever the gradient's scale
        array([0.9, 0.9])
    """

    _hyperparameters = ("lr", "eps", "weight_decay")

    def __init__(self, lr: float = 1e-2, eps: float = 1e-10, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
        self.eps = _validate.positive(eps, "eps", fix="use a small positive number, e.g. eps=1e-10")

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return {"sum": np.zeros_like(p)}

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        s["sum"] += g * g
        p -= self.lr * (g / (np.sqrt(s["sum"]) + self.eps))


class RMSprop(Optimizer):
    """RMSprop (Hinton 2012): v ← α v + (1 − α) g², θ ← θ − lr g / (√v + ε).

    Adagrad with a leaky average, so old gradients are forgotten. This is ``torch.optim.RMSprop``
    with ``momentum=0`` and ``centered=False``; note that ε is added after the square root.

    Args:
        lr: the learning rate.
        alpha: α in [0, 1), the decay rate of the squared-gradient average.
        eps: ε > 0, added to √v.
        weight_decay: the L2 coefficient wd (g ← g + wd·θ).

    Raises:
        ValueError: a hyperparameter is out of range.
        TypeError: a hyperparameter is not a real number.

    Example:
        >>> theta = np.array([1.0])
        >>> RMSprop(lr=0.01).step([theta], [np.array([2.0])])
        >>> theta.round(6)  # v = 0.01·4, so the step is 0.01·2/0.2 = 0.1
        array([0.9])
    """

    _hyperparameters = ("lr", "alpha", "eps", "weight_decay")

    def __init__(
        self, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0
    ) -> None:
        super().__init__(lr, weight_decay)
        self.alpha = unit_interval(alpha, "alpha", "a typical decay rate is alpha=0.99")
        self.eps = _validate.positive(eps, "eps", fix="use a small positive number, e.g. eps=1e-8")

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return {"v": np.zeros_like(p)}

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        s["v"] *= self.alpha
        s["v"] += (1 - self.alpha) * g * g
        p -= self.lr * (g / (np.sqrt(s["v"]) + self.eps))


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): θ ← θ − lr m̂ / (√v̂ + ε), m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ).

    The moving averages are m ← β₁ m + (1 − β₁) g and v ← β₂ v + (1 − β₂) g² (m = v = 0 at
    t = 0); dividing by 1 − βᵗ removes their bias towards 0 in the first steps. This is
    ``torch.optim.Adam`` (amsgrad=False), which computes the same step as
    lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε): ε is added to √v̂, not to √v.

    Args:
        lr: the learning rate.
        betas: (β₁, β₂), each in [0, 1).
        eps: ε > 0.
        weight_decay: the L2 coefficient wd (g ← g + wd·θ, as torch.optim.Adam, not AdamW).

    Raises:
        ValueError: a hyperparameter is out of range.
        TypeError: a hyperparameter is not a real number.

    Example:
        >>> theta = np.array([1.0, 1.0])
        >>> Adam(lr=0.1).step([theta], [np.array([1e-2, 1e2])])
        >>> theta.round(6)  # m̂/√v̂ = sign(g) on the first step
        array([0.9, 0.9])
    """

    _hyperparameters = ("lr", "betas", "eps", "weight_decay")

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay)
        fix = "typical values are betas=(0.9, 0.999)"
        if not isinstance(betas, Sequence) or len(betas) != 2:
            _validate.fail("betas", "a pair (β₁, β₂)", f"betas={betas!r}", fix)
        self.betas = (
            unit_interval(betas[0], "betas[0]", fix),
            unit_interval(betas[1], "betas[1]", fix),
        )
        self.eps = _validate.positive(eps, "eps", fix="use a small positive number, e.g. eps=1e-8")

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return {"m": np.zeros_like(p), "v": np.zeros_like(p)}

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        beta1, beta2 = self.betas
        s["m"] *= beta1
        s["m"] += (1 - beta1) * g
        s["v"] *= beta2
        s["v"] += (1 - beta2) * g * g
        step_size = self.lr / (1 - beta1**self.t)
        denom = np.sqrt(s["v"]) / math.sqrt(1 - beta2**self.t) + self.eps
        p -= step_size * (s["m"] / denom)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}
"""The optimizers by name, as the chapters sweep them: ``OPTIMIZERS["adam"](lr=0.01)``."""

"""Gradient descent with and without momentum: plain SGD, the heavy ball and Nesterov.

The updates, elementwise::

    SGD        θ ← θ − lr g
    Momentum   b ← μ b + g,                    θ ← θ − lr b
    Nesterov   b ← μ b + g,                    θ ← θ − lr (g + μ b)

each as ``torch.optim.SGD`` computes it, with the textbook velocity forms in the docstrings.
"""

from __future__ import annotations

import numpy as np

from ode_course.optim.optimizer import Optimizer, unit_interval

__all__ = ["SGD", "Momentum", "Nesterov"]


class SGD(Optimizer):
    """Plain gradient descent: θ ← θ − lr g (``torch.optim.SGD`` with momentum=0).

    Args:
        lr: the learning rate.
        weight_decay: the L2 coefficient wd (g ← g + wd·θ).

    Raises:
        ValueError: ``lr`` or ``weight_decay`` is out of range.
        TypeError: a hyperparameter is not a real number.

    Example:
        >>> theta = np.array([1.0, -2.0])
        >>> SGD(lr=0.1).step([theta], [2 * theta])  # ∇|θ|² = 2θ
        >>> theta
        array([ 0.8, -1.6])
    """

    def __init__(self, lr: float = 1e-3, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        p -= self.lr * g


class Momentum(Optimizer):
    """Polyak's heavy ball: b ← μ b + g, θ ← θ − lr b (first step b = g).

    This is ``torch.optim.SGD(momentum=μ, dampening=0)``. The textbook velocity form
    v ← μ v − lr g, θ ← θ + v (v₀ = 0) is the same trajectory for a constant lr, with
    v = −lr·b; the two differ only when lr changes, since torch's buffer b stores gradients and
    the current lr scales all of it.

    Args:
        lr: the learning rate.
        momentum: μ in [0, 1), the fraction of the previous step that is kept.
        weight_decay: the L2 coefficient wd (g ← g + wd·θ).

    Raises:
        ValueError: a hyperparameter is out of range.
        TypeError: a hyperparameter is not a real number.

    Example:
        >>> theta = np.array([1.0])
        >>> opt = Momentum(lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.step([theta], [np.array([1.0])])  # b = 1, then 1.9
        >>> theta.round(12)
        array([0.71])
    """

    _hyperparameters = ("lr", "momentum", "weight_decay")

    def __init__(self, lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
        self.momentum = unit_interval(
            momentum, "momentum", "μ ≥ 1 lets the velocity grow without bound; try momentum=0.9"
        )

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        if "b" not in s:
            s["b"] = np.array(g, dtype=p.dtype)  # a copy: the caller may reuse its grad buffer
        else:
            s["b"] *= self.momentum
            s["b"] += g
        p -= self.lr * s["b"]


class Nesterov(Momentum):
    """Nesterov momentum: b ← μ b + g, θ ← θ − lr (g + μ b) (first step b = g).

    This is ``torch.optim.SGD(momentum=μ, nesterov=True)``. The textbook velocity form,
    v ← μ v − lr g, then θ ← θ + μ v − lr g with the new v, is the same trajectory for a
    constant lr, with v = −lr·b. Sutskever et al.'s look-ahead form, v ← μ v − lr ∇L(φ + μ v),
    φ ← φ + v, evaluates the gradient at the look-ahead point φ + μ v; the θ above *is* that
    look-ahead point (θ = φ + μ v), so both give the same sequence of gradient evaluations.

    Args:
        lr: the learning rate.
        momentum: μ in [0, 1).
        weight_decay: the L2 coefficient wd (g ← g + wd·θ).

    Raises:
        ValueError: a hyperparameter is out of range.
        TypeError: a hyperparameter is not a real number.

    Example:
        >>> theta = np.array([1.0])
        >>> Nesterov(lr=0.1, momentum=0.9).step([theta], [np.array([1.0])])  # b = 1
        >>> theta.round(12)  # 1 − 0.1 (1 + 0.9)
        array([0.81])
    """

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        if "b" not in s:
            s["b"] = np.array(g, dtype=p.dtype)
        else:
            s["b"] *= self.momentum
            s["b"] += g
        p -= self.lr * (g + self.momentum * s["b"])

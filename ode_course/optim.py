"""First-order optimizers and learning-rate schedules, from scratch in numpy.

Every optimizer turns a gradient g = ∇L(θ) into a step for each parameter array θ:

    SGD        θ ← θ − lr g
    Momentum   b ← μ b + g,                    θ ← θ − lr b
    Nesterov   b ← μ b + g,                    θ ← θ − lr (g + μ b)
    Adagrad    s ← s + g²,                     θ ← θ − lr g / (√s + ε)
    RMSprop    v ← α v + (1 − α) g²,           θ ← θ − lr g / (√v + ε)
    Adam       m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
               θ ← θ − lr m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)

(all operations elementwise). Each follows ``torch.optim`` exactly, so a trajectory here equals
the one PyTorch computes (the tests check 100 steps to a relative 1e-10). All share one interface:
``opt.step(params, grads)`` updates the list of float arrays ``params`` in place, and ``opt.lr`` may
be changed between steps by a schedule (:class:`StepDecay`, :class:`ExponentialDecay`,
:class:`CosineAnnealing`)::

    opt, schedule = Momentum(lr=0.1, momentum=0.9), CosineAnnealing(lr0=0.1, t_max=epochs)
    for epoch in range(epochs):
        opt.lr = schedule(epoch)
        for batch in batches:
            opt.step(model.params(), model.grads())

Example:
    >>> theta = np.array([1.0, -2.0])
    >>> opt = OPTIMIZERS["adam"](lr=0.1)
    >>> for _ in range(200):
    ...     opt.step([theta], [2 * theta])  # L(θ) = |θ|², ∇L = 2θ
    >>> bool(np.abs(theta).max() < 1e-2)
    True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "Adagrad",
    "Adam",
    "CosineAnnealing",
    "ExponentialDecay",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "RMSprop",
    "Schedule",
    "StepDecay",
]


def _real(x: Any, name: str) -> float:
    """Return ``x`` as a finite float, or raise saying what to pass."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(x).__name__} {x!r:.60}")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite; got {name}={x}")
    return x


def _positive(x: Any, name: str, fix: str) -> float:
    x = _real(x, name)
    if x <= 0:
        raise ValueError(f"{name} must be positive; got {name}={x:g}. Fix: {fix}.")
    return x


def _unit_interval(x: Any, name: str, fix: str) -> float:
    """A decay rate in [0, 1)."""
    x = _real(x, name)
    if not 0.0 <= x < 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {name}={x:g}. Fix: {fix}.")
    return x


def _integer(n: Any, name: str, minimum: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < minimum:
        kind = "a non-negative" if minimum == 0 else "a positive"
        raise ValueError(f"{name} must be {kind} integer; got {name}={n!r}")
    return int(n)


# ---------------------------------------------------------------------------------- optimizers
class Optimizer:
    """The shared interface: ``step(params, grads)`` sets θᵢ ← θᵢ − (a step from gᵢ) in place.

    A subclass says how one array is updated (:meth:`_update`) and which state arrays it keeps
    (:meth:`_init_state`). The base class validates the inputs, adds weight decay
    (g ← g + wd·θ, the L2 penalty wd/2·|θ|² folded into the gradient, as ``torch.optim`` does),
    counts steps and creates the state on the first step, one dict per parameter position.

    Args:
        lr: the learning rate (step size), > 0. Schedules may change ``opt.lr`` later.
        weight_decay: the L2 coefficient wd ≥ 0.

    Attributes:
        lr: the current learning rate.
        weight_decay: the L2 coefficient.
        t: the number of steps taken so far.
        state: one dict of state arrays per parameter (e.g. ``{"m": ..., "v": ...}`` for Adam),
            empty until the first step.

    Raises:
        ValueError: ``lr`` is not positive and finite, or ``weight_decay`` is negative.
        TypeError: a hyperparameter is not a real number.
    """

    _hyperparameters: tuple[str, ...] = ("lr", "weight_decay")

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        self.lr = _positive(lr, "lr", "pass a small positive step size, e.g. lr=1e-3")
        self.weight_decay = _real(weight_decay, "weight_decay")
        if self.weight_decay < 0:
            raise ValueError(
                f"weight_decay must be >= 0 (it is the L2 coefficient); got "
                f"weight_decay={self.weight_decay:g}. Fix: use 0 for none or a small value, "
                "e.g. weight_decay=1e-4."
            )
        self.t = 0
        self.state: list[dict[str, np.ndarray]] = []
        self._shapes: list[tuple[int, ...]] | None = None

    @property
    def lr(self) -> float:
        """The learning rate used by the next step (a schedule may lower it to 0)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        value = _real(value, "lr")
        if value < 0:
            raise ValueError(f"lr must be >= 0; got lr={value:g}. Fix: check the schedule.")
        self._lr = value

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._hyperparameters)
        return f"{type(self).__name__}({args})"

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update every array of ``params`` in place from the matching gradient in ``grads``.

        Args:
            params: the parameter arrays θᵢ (float dtype), updated in place.
            grads: the gradients ∂L/∂θᵢ, one per parameter, of the same shapes. Not modified.

        Raises:
            TypeError: ``params`` or ``grads`` is not a list, a parameter is not a numpy array,
                or a parameter's dtype is not floating point.
            ValueError: the lists differ in length, ``grads[i]`` and ``params[i]`` differ in
                shape, or the parameters differ in number or shape from the first step.
        """
        grads = self._check(params, grads)
        if self._shapes is None:
            self._shapes = [p.shape for p in params]
            self.state = [self._init_state(p) for p in params]
        self.t += 1
        for p, g, s in zip(params, grads, self.state, strict=True):
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            self._update(p, g, s)

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        """The state arrays for parameter ``p``, created before its first update."""
        return {}

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        """Update ``p`` in place from the (weight-decayed) gradient ``g`` and its state ``s``."""
        raise NotImplementedError

    def _check(self, params: Any, grads: Any) -> list[np.ndarray]:
        for name, xs in (("params", params), ("grads", grads)):
            if not isinstance(xs, list):
                raise TypeError(
                    f"{name} must be a list of numpy arrays; got {type(xs).__name__}. "
                    "Fix: wrap a single array in a list, e.g. opt.step([theta], [g])."
                )
        if len(params) != len(grads):
            raise ValueError(
                f"params has {len(params)} arrays but grads has {len(grads)}. "
                "Fix: pass one gradient per parameter, in the same order."
            )
        out = []
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if not isinstance(p, np.ndarray):
                raise TypeError(
                    f"params[{i}] must be a numpy array; got {type(p).__name__}. Fix: the "
                    "optimizer updates parameters in place, so keep them in float arrays, "
                    "e.g. np.array([1.0, 2.0])."
                )
            if not np.issubdtype(p.dtype, np.floating):
                raise TypeError(
                    f"params[{i}] has dtype {p.dtype}, but an in-place update θ -= lr·g needs a "
                    "floating-point array (an integer array cannot hold θ − lr·g). Fix: store "
                    "the parameter as floats where it is created, e.g. w = w.astype(float)."
                )
            g = np.asarray(g)
            if g.shape != p.shape:
                raise ValueError(
                    f"grads[{i}] has shape {g.shape} but params[{i}] has shape {p.shape}. "
                    "Fix: pass the gradient of each parameter, in the same order."
                )
            out.append(g)
        if self._shapes is not None:
            shapes = [p.shape for p in params]
            if shapes != self._shapes:
                raise ValueError(
                    f"this optimizer's state was created for {len(self._shapes)} parameters "
                    f"with shapes {self._shapes}; got {len(shapes)} with shapes {shapes}. "
                    "Fix: create a new optimizer for a new set of parameters."
                )
        return out


class SGD(Optimizer):
    """Plain gradient descent: θ ← θ − lr g (``torch.optim.SGD`` with momentum=0).

    Args:
        lr: the learning rate.
        weight_decay: the L2 coefficient wd (g ← g + wd·θ).

    Raises:
        ValueError: ``lr`` or ``weight_decay`` is out of range.

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
        self.momentum = _unit_interval(
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

    Example:
        >>> theta = np.array([1.0, 1.0])
        >>> Adagrad(lr=0.1).step([theta], [np.array([1e-3, 1e3])])
        >>> theta.round(6)  # the first step is lr·sign(g) whatever the gradient's scale
        array([0.9, 0.9])
    """

    _hyperparameters = ("lr", "eps", "weight_decay")

    def __init__(self, lr: float = 1e-2, eps: float = 1e-10, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
        self.eps = _positive(eps, "eps", "use a small positive number, e.g. eps=1e-10")

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
        self.alpha = _unit_interval(alpha, "alpha", "a typical decay rate is alpha=0.99")
        self.eps = _positive(eps, "eps", "use a small positive number, e.g. eps=1e-8")

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
        if not isinstance(betas, Sequence) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (β₁, β₂); got betas={betas!r}")
        fix = "typical values are betas=(0.9, 0.999)"
        self.betas = (
            _unit_interval(betas[0], "betas[0]", fix),
            _unit_interval(betas[1], "betas[1]", fix),
        )
        self.eps = _positive(eps, "eps", "use a small positive number, e.g. eps=1e-8")

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


# ----------------------------------------------------------------------------------- schedules
class Schedule:
    """A learning-rate schedule: ``schedule(step)`` is the learning rate lr(step), step = 0, 1, ….

    ``schedule(0)`` is the initial rate lr0. Use it with any optimizer by setting
    ``opt.lr = schedule(epoch)`` at the start of each epoch (``torch.optim.lr_scheduler`` gives
    ``scheduler.get_last_lr()`` = ``schedule(epoch)`` for the classes named below).

    Args:
        lr0: the initial learning rate, > 0.

    Raises:
        ValueError: ``lr0`` is not positive and finite.
    """

    _hyperparameters: tuple[str, ...] = ("lr0",)

    def __init__(self, lr0: float) -> None:
        self.lr0 = _positive(lr0, "lr0", "pass the initial learning rate, e.g. lr0=0.1")

    def __call__(self, step: int) -> float:
        """The learning rate at ``step`` (a non-negative integer, usually the epoch)."""
        return self._lr(_integer(step, "step", minimum=0))

    def _lr(self, step: int) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._hyperparameters)
        return f"{type(self).__name__}({args})"


class StepDecay(Schedule):
    """Step decay: lr(t) = lr0 · γ^⌊t / step_size⌋ (``torch.optim.lr_scheduler.StepLR``).

    Args:
        lr0: the initial learning rate.
        step_size: the number of steps between decays, a positive integer.
        gamma: the factor γ in (0, 1] applied every ``step_size`` steps.

    Raises:
        ValueError: an argument is out of range.

    Example:
        >>> schedule = StepDecay(lr0=0.1, step_size=10, gamma=0.5)
        >>> [schedule(t) for t in (0, 9, 10, 25)]
        [0.1, 0.1, 0.05, 0.025]
    """

    _hyperparameters = ("lr0", "step_size", "gamma")

    def __init__(self, lr0: float, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(lr0)
        self.step_size = _integer(step_size, "step_size", minimum=1)
        self.gamma = _decay_factor(gamma)

    def _lr(self, step: int) -> float:
        return self.lr0 * self.gamma ** (step // self.step_size)


class ExponentialDecay(Schedule):
    """Exponential decay: lr(t) = lr0 · γᵗ (``torch.optim.lr_scheduler.ExponentialLR``).

    Args:
        lr0: the initial learning rate.
        gamma: the factor γ in (0, 1] applied every step.

    Raises:
        ValueError: an argument is out of range.

    Example:
        >>> schedule = ExponentialDecay(lr0=1.0, gamma=0.5)
        >>> [schedule(t) for t in range(4)]
        [1.0, 0.5, 0.25, 0.125]
    """

    _hyperparameters = ("lr0", "gamma")

    def __init__(self, lr0: float, gamma: float) -> None:
        super().__init__(lr0)
        self.gamma = _decay_factor(gamma)

    def _lr(self, step: int) -> float:
        return self.lr0 * self.gamma**step


class CosineAnnealing(Schedule):
    """Cosine annealing: lr(t) = η_min + (lr0 − η_min)(1 + cos(π t / T_max)) / 2.

    The closed form of ``torch.optim.lr_scheduler.CosineAnnealingLR`` (Loshchilov & Hutter's
    SGDR without restarts): lr falls from lr0 at t = 0 to η_min at t = T_max, and past T_max the
    cosine continues, rising back to lr0 at t = 2 T_max, as torch's does.

    Args:
        lr0: the initial learning rate.
        t_max: T_max, the step at which lr reaches ``eta_min``, a positive integer.
        eta_min: η_min, the final learning rate, in [0, lr0].

    Raises:
        ValueError: an argument is out of range.

    Example:
        >>> schedule = CosineAnnealing(lr0=0.1, t_max=10)
        >>> [round(schedule(t), 6) for t in (0, 5, 10)]
        [0.1, 0.05, 0.0]
    """

    _hyperparameters = ("lr0", "t_max", "eta_min")

    def __init__(self, lr0: float, t_max: int, eta_min: float = 0.0) -> None:
        super().__init__(lr0)
        self.t_max = _integer(t_max, "t_max", minimum=1)
        self.eta_min = _real(eta_min, "eta_min")
        if not 0 <= self.eta_min <= self.lr0:
            raise ValueError(
                f"eta_min must be in [0, lr0] = [0, {self.lr0:g}]; got eta_min={self.eta_min:g}. "
                "Fix: eta_min is the final learning rate, e.g. eta_min=0."
            )

    def _lr(self, step: int) -> float:
        cosine = 1 + math.cos(math.pi * step / self.t_max)
        return self.eta_min + (self.lr0 - self.eta_min) * cosine / 2


def _decay_factor(gamma: Any) -> float:
    gamma = _real(gamma, "gamma")
    if not 0 < gamma <= 1:
        raise ValueError(
            f"gamma must be in (0, 1] (the learning rate is multiplied by it); got "
            f"gamma={gamma:g}. Fix: e.g. gamma=0.1 for step decay or gamma=0.95 per epoch."
        )
    return gamma


SCHEDULES: dict[str, type[Schedule]] = {
    "step": StepDecay,
    "exponential": ExponentialDecay,
    "cosine": CosineAnnealing,
}

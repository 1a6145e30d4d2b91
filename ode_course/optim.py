"""First-order optimizers and learning-rate schedules, from scratch in numpy.

Every optimizer turns a gradient g = ∇L(θ) into a step for each parameter array θ::

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
from collections.abc import Sequence
from typing import Any

import numpy as np

from ode_course import _validate

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


def _unit_interval(x: Any, name: str, fix: str) -> float:
    """A decay rate in [0, 1)."""
    return _validate.in_interval(x, name, 0.0, 1.0, closed="[)", fix=fix)


def _not_defined(owner: Any, method: str) -> None:
    _validate.fail(
        f"{type(owner).__name__}.{method}",
        "defined by the subclass (the base class only declares it)",
        "the base class's",
        f"define {method} in your subclass",
        NotImplementedError,
    )


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
        self.lr = _validate.positive(lr, "lr", fix="pass a small positive step size, e.g. lr=1e-3")
        self.weight_decay = _validate.non_negative(
            weight_decay,
            "weight_decay",
            fix="it is the L2 coefficient: use 0 for none or a small value, e.g. weight_decay=1e-4",
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
        self._lr = _validate.non_negative(
            value, "lr", fix="check the schedule: a learning rate is never negative"
        )

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
        _not_defined(self, "_update(self, p, g, s)")

    def _check(self, params: Any, grads: Any) -> list[np.ndarray]:
        for name, xs in (("params", params), ("grads", grads)):
            if not isinstance(xs, list):
                _validate.fail(
                    name,
                    "a list of numpy arrays",
                    type(xs).__name__,
                    "wrap a single array in a list, e.g. opt.step([theta], [g])",
                    TypeError,
                )
        if len(params) != len(grads):
            _validate.fail(
                "grads",
                f"one gradient per parameter (params has {len(params)} arrays)",
                f"{len(grads)} arrays",
                "pass one gradient per parameter, in the same order",
            )
        out = []
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if not isinstance(p, np.ndarray):
                _validate.fail(
                    f"params[{i}]",
                    "a numpy array",
                    type(p).__name__,
                    "the optimizer updates parameters in place, so keep them in float arrays, "
                    "e.g. np.array([1.0, 2.0])",
                    TypeError,
                )
            if not np.issubdtype(p.dtype, np.floating):
                _validate.fail(
                    f"params[{i}]",
                    "a floating-point array (an in-place update θ -= lr·g cannot store "
                    "θ − lr·g in an integer array)",
                    f"dtype {p.dtype}",
                    "store the parameter as floats where it is created, e.g. w = w.astype(float)",
                    TypeError,
                )
            g = np.asarray(g)
            _validate.shape(
                g,
                f"grads[{i}]",
                f"of the shape of params[{i}], {p.shape}",
                g.shape == p.shape,
                fix="pass the gradient of each parameter, in the same order",
            )
            out.append(g)
        if self._shapes is not None:
            shapes = [p.shape for p in params]
            if shapes != self._shapes:
                _validate.fail(
                    "params",
                    f"the {len(self._shapes)} parameters with shapes {self._shapes} that this "
                    "optimizer's state was created for",
                    f"{len(shapes)} with shapes {shapes}",
                    "create a new optimizer for a new set of parameters",
                )
        return out


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
        self.alpha = _unit_interval(alpha, "alpha", "a typical decay rate is alpha=0.99")
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
            _unit_interval(betas[0], "betas[0]", fix),
            _unit_interval(betas[1], "betas[1]", fix),
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


# ----------------------------------------------------------------------------------- schedules
class Schedule:
    """A learning-rate schedule: ``schedule(step)`` is the learning rate lr(step), step = 0, 1, ….

    ``schedule(0)`` is the initial rate lr0. Use it with any optimizer by setting
    ``opt.lr = schedule(epoch)`` at the start of each epoch (``torch.optim.lr_scheduler`` gives
    ``scheduler.get_last_lr()`` = ``schedule(epoch)`` for the classes named below).

    Args:
        lr0: the initial learning rate, > 0.

    Raises:
        ValueError: ``lr0`` is not positive and finite (or, when called, ``step`` < 0).
        TypeError: ``lr0`` is not a real number (or, when called, ``step`` not an integer).
    """

    _hyperparameters: tuple[str, ...] = ("lr0",)

    def __init__(self, lr0: float) -> None:
        self.lr0 = _validate.positive(
            lr0, "lr0", fix="pass the initial learning rate, e.g. lr0=0.1"
        )

    def __call__(self, step: int) -> float:
        """The learning rate at ``step`` (a non-negative integer, usually the epoch)."""
        return self._lr(
            _validate.integer(step, "step", minimum=0, fix="pass the epoch, 0, 1, 2, ...")
        )

    def _lr(self, step: int) -> float:
        _not_defined(self, "_lr(self, step)")
        return self.lr0

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
        TypeError: an argument is of the wrong type (a count that is not an integer).

    Example:
        >>> schedule = StepDecay(lr0=0.1, step_size=10, gamma=0.5)
        >>> [schedule(t) for t in (0, 9, 10, 25)]
        [0.1, 0.1, 0.05, 0.025]
    """

    _hyperparameters = ("lr0", "step_size", "gamma")

    def __init__(self, lr0: float, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(lr0)
        self.step_size = _validate.integer(
            step_size, "step_size", fix="the number of steps between decays, e.g. step_size=10"
        )
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
        TypeError: an argument is of the wrong type (a count that is not an integer).

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
        TypeError: an argument is of the wrong type (a count that is not an integer).

    Example:
        >>> schedule = CosineAnnealing(lr0=0.1, t_max=10)
        >>> [round(schedule(t), 6) for t in (0, 5, 10)]
        [0.1, 0.05, 0.0]
    """

    _hyperparameters = ("lr0", "t_max", "eta_min")

    def __init__(self, lr0: float, t_max: int, eta_min: float = 0.0) -> None:
        super().__init__(lr0)
        self.t_max = _validate.integer(
            t_max, "t_max", fix="the step at which lr reaches eta_min, e.g. the number of epochs"
        )
        self.eta_min = _validate.in_interval(
            eta_min,
            "eta_min",
            0.0,
            self.lr0,
            closed="[]",
            fix="eta_min is the final learning rate, between 0 and lr0, e.g. eta_min=0",
        )

    def _lr(self, step: int) -> float:
        cosine = 1 + math.cos(math.pi * step / self.t_max)
        return self.eta_min + (self.lr0 - self.eta_min) * cosine / 2


def _decay_factor(gamma: Any) -> float:
    return _validate.in_interval(
        gamma,
        "gamma",
        0.0,
        1.0,
        closed="(]",
        fix="the learning rate is multiplied by it: e.g. gamma=0.1 for step decay or "
        "gamma=0.95 per epoch",
    )


SCHEDULES: dict[str, type[Schedule]] = {
    "step": StepDecay,
    "exponential": ExponentialDecay,
    "cosine": CosineAnnealing,
}
"""The learning-rate schedules by name: step decay, exponential decay, cosine annealing."""

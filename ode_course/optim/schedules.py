"""Learning-rate schedules lr(step): step decay, exponential decay and cosine annealing.

:class:`Schedule` is the interface of :class:`StepDecay`, :class:`ExponentialDecay` and
:class:`CosineAnnealing`, which ``SCHEDULES`` lists by name.

A schedule is a function of the step (usually the epoch), set on any optimizer with
``opt.lr = schedule(epoch)``; each equals the ``torch.optim.lr_scheduler`` of its name.
"""

from __future__ import annotations

import math
from typing import Any

from ode_course import _validate
from ode_course.optim.optimizer import not_defined

__all__ = ["SCHEDULES", "CosineAnnealing", "ExponentialDecay", "Schedule", "StepDecay"]


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
        not_defined(self, "_lr(self, step)")
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

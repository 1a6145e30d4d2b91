"""The interface every optimizer shares: step(params, grads), its input checks and its state.

A subclass says how one array is updated from its gradient; the base class validates the lists
of arrays, adds weight decay, counts steps and keeps one dict of state arrays per parameter.
The helpers ``unit_interval`` (a decay rate in [0, 1)) and ``not_defined`` (the error for a
method a subclass must define) are shared with the other files of the package.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ode_course import _validate

__all__ = ["Optimizer"]


def unit_interval(x: Any, name: str, fix: str) -> float:
    """A decay rate in [0, 1)."""
    return _validate.in_interval(x, name, 0.0, 1.0, closed="[)", fix=fix)


def not_defined(owner: Any, method: str) -> None:
    """Raise the error for ``owner.method``, which a subclass must define."""
    _validate.fail(
        f"{type(owner).__name__}.{method}",
        "defined by the subclass (the base class only declares it)",
        "the base class's",
        f"define {method} in your subclass",
        NotImplementedError,
    )


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
        not_defined(self, "_update(self, p, g, s)")

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

"""Who solves the ODE inside a model: one keyword, ``backend=``, and one way to count the cost.

Every model of the course that solves an ODE (:class:`~ode_course.models.ODEBlock`,
:class:`~ode_course.cnf.CNF`, :class:`~ode_course.latent.LatentODE` and its ODE-RNN encoder)
takes ``backend=`` with one of ``BACKENDS``:

- ``"ode_course"``: the solvers written in Chapter 5, :func:`ode_course.solvers.odeint`;
  gradients by backpropagating through the solver's operations;
- ``"adjoint"``: the same solvers, with gradients by the adjoint method of Chapter 6,
  :func:`ode_course.adjoint.odeint_adjoint` (memory constant in the number of steps);
- ``"torchdiffeq"``: the reference library, ``torchdiffeq.odeint``.

and each model counts its cost the same way: :func:`integrate` wraps the vector field in a
:class:`~ode_course.solvers.CountNFE`, and the model's ``nfe`` is that count for its latest
solve (with the adjoint, the backward pass adds its evaluations to the same count).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from ode_course import _validate
from ode_course.solvers import SOLVERS, CountNFE

__all__ = ["BACKENDS", "SOLVER_SETTINGS", "integrate", "solver_settings"]

BACKENDS = ("ode_course", "adjoint", "torchdiffeq")
"""The names ``backend=`` takes."""


def check_backend(backend: Any, method: Any) -> str:
    """``backend`` if it is one of ``BACKENDS`` and can run ``method`` (ours know ``SOLVERS``)."""
    _validate.one_of(backend, "backend", BACKENDS, fix="pass backend='ode_course' (our solvers)")
    if backend != "torchdiffeq":
        _validate.one_of(
            method,
            "method",
            SOLVERS,
            fix="pick one of our solvers, or backend='torchdiffeq' for its other methods",
        )
    return backend


def integrate(
    func: Any,
    y0: torch.Tensor,
    t: torch.Tensor,
    *,
    backend: str = "ode_course",
    method: str = "dopri5",
    rtol: float = 1e-7,
    atol: float = 1e-9,
    step_size: float | None = None,
) -> tuple[torch.Tensor, CountNFE]:
    """Solve dy/dt = func(t, y) from y(t[0]) = y0 with ``backend``; return the states and counter.

    Args:
        func: the vector field f(t, y), a function or ``torch.nn.Module`` (a Module for the
            ``"adjoint"`` backend, whose parameters receive gradients).
        y0: the initial state.
        t: 1-D tensor of output times, strictly monotone, t[0] the initial time.
        backend: one of ``BACKENDS``.
        method: the solver's name: one of ``SOLVERS`` for our backends, any of torchdiffeq's
            for ``"torchdiffeq"``.
        rtol, atol: the tolerances of an adaptive method.
        step_size: the step of a fixed-grid method.

    Returns:
        ``(ys, counter)``: ys of shape ``(len(t), *y0.shape)``, and the
        :class:`~ode_course.solvers.CountNFE` whose ``nfe`` counted the evaluations of func.

    Raises:
        ValueError: ``backend`` or ``method`` is unknown (and whatever the solver raises).
        TypeError: ``backend="adjoint"`` with a ``func`` that is not an ``nn.Module``.

    Example:
        >>> ys, counter = integrate(lambda t, y: -y, torch.ones(2), torch.tensor([0.0, 1.0]),
        ...                         method="rk4", step_size=0.25)
        >>> tuple(ys.shape), counter.nfe  # 4 steps of 4 evaluations
        ((2, 2), 16)
    """
    check_backend(backend, method)
    if backend == "adjoint" and not isinstance(func, torch.nn.Module):
        # the adjoint finds the parameters θ of f through the Module; a closure would hide them
        # and their gradients would silently be missing
        _validate.fail(
            "func",
            "a torch.nn.Module for backend='adjoint' (its parameters get the gradients)",
            type(func).__name__,
            "wrap the field in an nn.Module, or use backend='ode_course'",
            TypeError,
        )
    counter = CountNFE(func)
    if backend == "torchdiffeq":
        import torchdiffeq

        options = None if step_size is None else {"step_size": step_size}
        ys = torchdiffeq.odeint(
            counter, y0, t, method=method, rtol=rtol, atol=atol, options=options
        )
        return ys, counter
    kwargs: dict[str, Any] = {"method": method, "rtol": rtol, "atol": atol, "step_size": step_size}
    if backend == "adjoint":
        from ode_course.adjoint import odeint_adjoint

        return odeint_adjoint(counter, y0, t, **kwargs), counter
    from ode_course.solvers import odeint

    return odeint(counter, y0, t, **kwargs), counter


SOLVER_SETTINGS = ("backend", "method", "step_size", "rtol", "atol", "trace", "noise")
"""The attributes of a model's solve that :func:`solver_settings` may change for a while."""


@contextmanager
def solver_settings(model: Any, **settings: Any) -> Iterator[Any]:
    """Solve with other settings inside a ``with`` block, and restore the model's own after it.

    A trained model keeps the cheap solver it was trained with; to evaluate it accurately once
    (Dopri5 at a tight tolerance, the exact trace, the adjoint for one batch), change its
    settings for the block only. The old values come back even if the block raises.

    Args:
        model: a model with solver attributes, e.g. a :class:`~ode_course.cnf.CNF` or an
            :class:`~ode_course.models.ODEBlock`.
        **settings: new values of some of ``SOLVER_SETTINGS`` that the model has.

    Yields:
        The model.

    Raises:
        ValueError: a setting is not one of ``SOLVER_SETTINGS`` the model has, or names an
            unknown ``backend`` or ``method``.

    Example:
        >>> from ode_course.models import ODEBlock, ODEFunc
        >>> block = ODEBlock(ODEFunc(2, 4), method="rk4", step_size=0.5)
        >>> with solver_settings(block, method="dopri5", step_size=None, rtol=1e-6):
        ...     _ = block(torch.zeros(1, 2))
        ...     print(block.method)
        dopri5
        >>> block.method, block.step_size
        ('rk4', 0.5)
    """
    unknown = sorted(k for k in settings if k not in SOLVER_SETTINGS or not hasattr(model, k))
    if unknown:
        has = [k for k in SOLVER_SETTINGS if hasattr(model, k)]
        _validate.fail(
            unknown[0],
            f"one of the solver settings of {type(model).__name__}, {has}",
            f"{unknown[0]}=...",
            f"pass only {', '.join(has)}",
        )
    old = {k: getattr(model, k) for k in settings}
    chosen = {**{k: getattr(model, k) for k in ("backend", "method") if hasattr(model, k)}}
    chosen.update({k: v for k, v in settings.items() if k in ("backend", "method")})
    if "backend" in chosen and "method" in chosen:
        check_backend(chosen["backend"], chosen["method"])
    try:
        for key, value in settings.items():
            setattr(model, key, value)
        yield model
    finally:
        for key, value in old.items():
            setattr(model, key, value)

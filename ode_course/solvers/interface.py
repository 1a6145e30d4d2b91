"""The entry points: ``solve`` and ``odeint`` by method name, and ``CountNFE`` for any solver.

:func:`odeint` returns the solution tensor, as ``torchdiffeq.odeint`` does; :func:`solve`
returns a :class:`~ode_course.solvers.Solution` that also holds the cost: ``nfe`` (the number of
evaluations of f), ``n_steps`` and ``n_rejected``. ``SOLVERS`` maps the names that ``method=``
takes to the solver classes. :class:`CountNFE` counts the evaluations of any vector field, with
these solvers or with torchdiffeq's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ode_course import _validate
from ode_course.solvers.adaptive import AdaptiveSolver, Dopri5
from ode_course.solvers.fixed_grid import RK4, Euler, FixedGridSolver, Midpoint
from ode_course.solvers.problem import Solution, VectorField

__all__ = ["SOLVERS", "CountNFE", "count_evaluations", "odeint", "solve"]

SOLVERS: dict[str, type[FixedGridSolver] | type[AdaptiveSolver]] = {
    "euler": Euler,
    "midpoint": Midpoint,
    "rk4": RK4,
    "dopri5": Dopri5,
}
"""The solvers by name, as ``method=`` takes them."""


def solve(
    func: VectorField,
    y0: torch.Tensor,
    t: torch.Tensor,
    *,
    method: str = "dopri5",
    rtol: float = 1e-7,
    atol: float = 1e-9,
    step_size: float | None = None,
    max_num_steps: int = 10_000,
    error_norm: Callable[[torch.Tensor], float] | None = None,
) -> Solution:
    """Solve dy/dt = func(t, y), y(t[0]) = y0 at the times t, and report the cost.

    Args:
        func: the vector field f(t, y) → dy/dt (a function or ``torch.nn.Module``); t is a
            0-d tensor like y0, y has the shape of ``y0``, and so must the result.
        y0: the initial state, a floating-point tensor of any shape (a batch of states is just
            extra dimensions: shape ``(B, D)`` solves B systems at once).
        t: 1-D tensor of output times, strictly increasing or strictly decreasing (to integrate
            backwards), with the dtype and device of ``y0``; t[0] is the initial time.
        method: one of ``SOLVERS``: ``"euler"``, ``"midpoint"``, ``"rk4"`` (fixed grid) or
            ``"dopri5"`` (adaptive).
        rtol: relative tolerance of ``"dopri5"`` (ignored by fixed-grid methods).
        atol: absolute tolerance of ``"dopri5"`` (ignored by fixed-grid methods).
        step_size: the step length of the fixed-grid methods (required by them, and an error
            with ``"dopri5"``, which chooses its own steps).
        max_num_steps: the most steps allowed (for ``"dopri5"``: accepted plus rejected).
        error_norm: for ``"dopri5"``, the norm of the scaled error vector
            e / (atol + rtol·|y|) (flattened) that the step control keeps ≤ 1; default (None)
            the RMS over all entries. The adjoint's seminorm passes one that skips entries.

    Returns:
        A :class:`Solution`: ``ys`` of shape ``(len(t), *y0.shape)`` with ``ys[0]`` equal to
        ``y0``, ``nfe`` (evaluations of func), ``n_steps`` and ``n_rejected``. ``ys`` is
        differentiable by autograd with respect to ``y0`` and the parameters of ``func``.

    Raises:
        TypeError: ``func`` is not callable, ``y0`` or ``t`` is not a tensor, ``y0`` is not
            floating point, ``t`` and ``y0`` differ in dtype, or func returns the wrong shape.
        ValueError: ``t`` is not 1-D, has fewer than 2 times, is not strictly monotone, or
            requires grad; ``t`` and ``y0`` are on different devices; an unknown ``method``;
            a missing or non-positive ``step_size``; a non-positive ``rtol``/``atol``.
        SolverError: (a RuntimeError) the state became non-finite, the step size underflowed,
            or more than ``max_num_steps`` steps were needed.

    Example:
        >>> import math
        >>> f = lambda t, y: torch.stack([y[1], -y[0]])  # a rotation: y = (sin t, cos t)
        >>> t = torch.tensor([0.0, math.pi / 2], dtype=torch.float64)
        >>> solution = solve(f, torch.tensor([0.0, 1.0], dtype=torch.float64), t, rtol=1e-9)
        >>> [f"{v:.6f}" for v in solution.ys[-1].abs().tolist()], solution.nfe
        (['1.000000', '0.000000'], 134)
    """
    _validate.one_of(
        method,
        "method",
        SOLVERS,
        fix="e.g. method='dopri5' (adaptive) or method='rk4' with a step_size",
    )
    cls = SOLVERS[method]
    solver: FixedGridSolver | AdaptiveSolver
    if issubclass(cls, FixedGridSolver):
        if step_size is None:
            raise ValueError(
                f"method={method!r} is a fixed-grid method and needs step_size; got "
                "step_size=None. Fix: pass e.g. step_size=0.01 (smaller is more accurate), or "
                "use method='dopri5', which chooses its steps from rtol and atol."
            )
        solver = cls(step_size=step_size, max_num_steps=max_num_steps)
    else:
        if step_size is not None:
            raise ValueError(
                f"step_size is only used by the fixed-grid methods; method={method!r} chooses "
                f"its own steps from rtol and atol; got step_size={step_size!r}. Fix: drop "
                "step_size, or use method='euler', 'midpoint' or 'rk4'."
            )
        solver = cls(rtol=rtol, atol=atol, max_num_steps=max_num_steps, error_norm=error_norm)
    return solver.integrate(func, y0, t)


def odeint(
    func: VectorField,
    y0: torch.Tensor,
    t: torch.Tensor,
    *,
    method: str = "dopri5",
    rtol: float = 1e-7,
    atol: float = 1e-9,
    step_size: float | None = None,
    max_num_steps: int = 10_000,
) -> torch.Tensor:
    """The solution y(t[i]) of dy/dt = func(t, y), y(t[0]) = y0, shape ``(len(t), *y0.shape)``.

    The same as :func:`solve` (see it for the arguments and errors) but returns only the
    tensor, like ``torchdiffeq.odeint``. To get the number of function evaluations, call
    :func:`solve` and read ``.nfe``, or wrap the vector field in :class:`CountNFE`.

    Example:
        >>> y0 = torch.tensor([1.0, 2.0])
        >>> ys = odeint(lambda t, y: -y, y0, torch.linspace(0, 1, 5), method="rk4", step_size=0.1)
        >>> tuple(ys.shape), torch.equal(ys[0], y0), ys.dtype
        ((5, 2), True, torch.float32)
    """
    return solve(
        func,
        y0,
        t,
        method=method,
        rtol=rtol,
        atol=atol,
        step_size=step_size,
        max_num_steps=max_num_steps,
    ).ys


class CountNFE(torch.nn.Module):
    """A vector field f(t, y) that counts its calls in ``.nfe``: works with any solver.

    Wrap a ``torch.nn.Module`` (its parameters stay visible through this module) or a plain
    callable, solve with :func:`odeint` or ``torchdiffeq.odeint``, then read ``.nfe``;
    :meth:`reset` sets it back to 0.

    Args:
        func: the vector field f(t, y) → dy/dt.

    Raises:
        TypeError: ``func`` is not callable.

    Example:
        >>> f = CountNFE(lambda t, y: -y)
        >>> t = torch.tensor([0.0, 1.0])
        >>> _ = odeint(f, torch.ones(3), t, method="midpoint", step_size=0.25)
        >>> f.nfe  # 4 steps of 2 evaluations
        8
        >>> f.reset(); f.nfe
        0
    """

    def __init__(self, func: VectorField) -> None:
        super().__init__()
        self.func = _validate.callable_(func, "func", fix="pass a function or torch.nn.Module")
        self.nfe = 0

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Count one evaluation and return func(t, y)."""
        self.nfe += 1
        return self.func(t, y)

    def reset(self) -> None:
        """Set the count back to 0."""
        self.nfe = 0


def count_evaluations(module: nn.Module, computation: Callable[[], Any]) -> int:
    """The number of forward passes of ``module`` while ``computation()`` runs.

    The counter for a module that is already inside a model: where :class:`CountNFE` wraps a
    field before it is handed to a solver, this counts every call of ``module`` (by a forward
    hook, removed afterwards), wherever it happens: in a training step of flow matching (one),
    in a maximum-likelihood step of a CNF (one per solver stage), in a solve.

    Args:
        module: the ``nn.Module`` to watch, e.g. a CNF's ``net``.
        computation: a function of no arguments, e.g. ``lambda: cnf.log_prob(x).mean()``.

    Returns:
        The count, an int.

    Raises:
        TypeError: ``module`` is not an ``nn.Module``, or ``computation`` is not callable.

    Example:
        >>> from ode_course.cnf import CNF
        >>> cnf = CNF(2, hidden=(8,), method="rk4", step_size=0.5)
        >>> count_evaluations(cnf.net, lambda: cnf.log_prob(torch.zeros(3, 2)))  # 2 steps × 4
        8
    """
    if not isinstance(module, nn.Module):
        _validate.fail(
            "module", "a torch.nn.Module", type(module).__name__, "pass e.g. cnf.net", TypeError
        )
    _validate.callable_(computation, "computation", fix="pass e.g. lambda: model.log_prob(x)")
    calls: list[int] = []
    hook = module.register_forward_hook(lambda *_: calls.append(1))
    try:
        computation()
    finally:
        hook.remove()
    return len(calls)

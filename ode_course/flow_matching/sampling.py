"""Sampling a flow: solve dx/dt = v(t, x) from base points at t = 0 to samples at t = 1.

Training by flow matching solved no ODE; sampling must. The samples are x(1) for
x(0) = x₀ ~ N(0, I), computed with Chapter 5's solvers (:func:`ode_course.solvers.solve`):
Euler, midpoint and RK4 with a fixed number of steps (1, 2 and 4 evaluations of v per step),
or Dopri5 with tolerances. The cost of a sample is its number of field evaluations (NFE);
how few suffice depends on the solver's order and on how straight the flow is.

- :func:`sample_flow` returns the end points and the NFE (:class:`FlowSamples`);
- :func:`trajectories` returns the whole path on a grid of times, for plots and for
  :mod:`~ode_course.flow_matching.straightness`.

Both run under ``torch.no_grad()``: the samples are detached.

Example:
    >>> x0 = torch.ones(3, 2, dtype=torch.float64)
    >>> out = sample_flow(lambda t, x: torch.ones_like(x), x0, method="euler", steps=4)
    >>> out.x[0].tolist(), out.nfe  # x₀ + 1, in 4 evaluations
    ([2.0, 2.0], 4)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ode_course import _validate
from ode_course.solvers import SOLVERS, solve

__all__ = ["SAMPLING_METHODS", "FlowSamples", "sample_flow", "trajectories"]

SAMPLING_METHODS = tuple(SOLVERS)
"""The solvers :func:`sample_flow` takes: ``"euler"``, ``"midpoint"``, ``"rk4"`` (fixed steps)
and ``"dopri5"`` (adaptive)."""

_FIXED = ("euler", "midpoint", "rk4")

Field = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class FlowSamples:
    """The end points of the flow and what they cost.

    Attributes:
        x: the samples x(1), shape (N, D).
        nfe: the number of evaluations of the field (each on the whole batch).
        n_steps: the number of solver steps (accepted steps, for ``"dopri5"``).
    """

    x: torch.Tensor
    nfe: int
    n_steps: int


def _solver_options(
    method: str, steps: int | None, rtol: float | None, atol: float | None
) -> tuple[float | None, float, float]:
    """(step_size, rtol, atol) for :func:`ode_course.solvers.solve` (the tolerances are unused
    by the fixed-step methods, and step_size is None for ``"dopri5"``)."""
    _validate.one_of(
        method, "method", SAMPLING_METHODS, fix="e.g. method='rk4' with steps=8, or 'dopri5'"
    )
    if method in _FIXED:
        if steps is None:
            _validate.fail(
                "steps",
                f"a positive integer for the fixed-step method {method!r}",
                "steps=None",
                "pass e.g. steps=8 (the NFE is steps times the stages per step)",
            )
        if rtol is not None or atol is not None:
            _validate.fail(
                "rtol, atol",
                f"None for the fixed-step method {method!r} (only 'dopri5' uses tolerances)",
                f"rtol={rtol!r}, atol={atol!r}",
                "drop rtol and atol, or use method='dopri5'",
            )
        n = _validate.integer(steps, "steps", fix="pass e.g. steps=8")
        return 1.0 / n, 1e-7, 1e-9
    if steps is not None:
        _validate.fail(
            "steps",
            "None for method='dopri5', which chooses its own steps from rtol and atol",
            f"steps={steps!r}",
            "drop steps, or use a fixed-step method such as method='rk4'",
        )
    if rtol is None or atol is None:
        _validate.fail(
            "rtol, atol",
            "numbers for method='dopri5'",
            f"rtol={rtol!r}, atol={atol!r}",
            "pass e.g. rtol=1e-5, atol=1e-5",
        )
    return (
        None,
        _validate.positive(rtol, "rtol", fix="e.g. rtol=1e-5"),
        _validate.positive(atol, "atol", fix="e.g. atol=1e-5"),
    )


def sample_flow(
    field: Field,
    x0: torch.Tensor,
    *,
    method: str = "euler",
    steps: int | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> FlowSamples:
    """x(1) for dx/dt = v(t, x), x(0) = x₀, by one of Chapter 5's solvers, and its NFE.

    Args:
        field: v, called as ``field(t, x)`` with t a 0-d tensor and x of shape (N, D).
        x0: the base points, shape (N, D), e.g. ``torch.randn(N, D)``.
        method: one of ``SAMPLING_METHODS``.
        steps: the number of equal steps on [0, 1] (fixed-step methods only).
        rtol, atol: the tolerances of ``"dopri5"`` (only).

    Returns:
        :class:`FlowSamples`: the samples ``x`` (N, D), ``nfe`` and ``n_steps``. A fixed-step
        method costs ``steps`` × (1, 2, 4) evaluations.

    Raises:
        TypeError: ``field`` is not callable, or ``x0`` is not a floating-point tensor.
        ValueError: an unknown ``method``; ``steps`` missing for a fixed-step method or given
            to ``"dopri5"``; tolerances missing for ``"dopri5"`` or given to a fixed-step one.
        SolverError: the solver could not continue (see :func:`ode_course.solvers.solve`).

    Example:
        >>> x0 = torch.ones(2, 1, dtype=torch.float64)
        >>> out = sample_flow(lambda t, x: -x, x0, method="dopri5", rtol=1e-8, atol=1e-8)
        >>> f"{out.x[0, 0].item():.6f}"  # e^{−1}
        '0.367879'
    """
    _validate.callable_(field, "field", fix="pass the trained vector field v(t, x)")
    x0 = _validate.points(x0, "x0")
    step_size, rtol, atol = _solver_options(method, steps, rtol, atol)
    t = torch.tensor([0.0, 1.0], dtype=x0.dtype, device=x0.device)
    with torch.no_grad():
        solution = solve(field, x0, t, method=method, step_size=step_size, rtol=rtol, atol=atol)
    return FlowSamples(x=solution.ys[-1], nfe=solution.nfe, n_steps=solution.n_steps)


def trajectories(
    field: Field, x0: torch.Tensor, *, steps: int, method: str = "rk4"
) -> torch.Tensor:
    """x(t_k) at t_k = k / steps, k = 0, …, steps, along dx/dt = v(t, x) from x(0) = x₀.

    Args:
        field: v, called as ``field(t, x)`` with t a 0-d tensor and x of shape (N, D).
        x0: the base points, shape (N, D).
        steps: the number of equal steps (one per interval of the grid).
        method: a fixed-step method, ``"euler"``, ``"midpoint"`` or ``"rk4"``.

    Returns:
        The paths, shape (steps + 1, N, D); ``[0]`` is ``x0``, ``[-1]`` the samples.

    Raises:
        TypeError, ValueError: as :func:`sample_flow`; ``method="dopri5"`` is refused.

    Example:
        >>> traj = trajectories(lambda t, x: torch.ones_like(x), torch.zeros(2, 1), steps=4)
        >>> traj.shape, traj[:, 0, 0].tolist()
        (torch.Size([5, 2, 1]), [0.0, 0.25, 0.5, 0.75, 1.0])
    """
    _validate.callable_(field, "field", fix="pass the trained vector field v(t, x)")
    x0 = _validate.points(x0, "x0")
    _validate.one_of(method, "method", _FIXED, fix="use method='rk4' (fixed steps on the grid)")
    steps = _validate.integer(steps, "steps", fix="pass e.g. steps=20")
    t = torch.linspace(0.0, 1.0, steps + 1, dtype=x0.dtype, device=x0.device)
    with torch.no_grad():
        return solve(field, x0, t, method=method, step_size=1.0 / steps).ys

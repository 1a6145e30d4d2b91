"""ODE solvers from scratch in torch: y(t) with dy/dt = f(t, y), y(t₀) = y₀.

An explicit Runge–Kutta method with s stages advances y by one step of length h as

    kᵢ = f(t + cᵢ h, y + h Σ_{j<i} aᵢⱼ kⱼ),  i = 1, …, s,        y_new = y + h Σᵢ bᵢ kᵢ,

so a method *is* its Butcher tableau (c, a, b). The package reads in four files, each on its
own:

- ``tableaux.py``: :class:`ButcherTableau` (which checks its own consistency), the tableaux
  ``EULER``, ``MIDPOINT``, ``HEUN``, ``RK4_TABLEAU`` and ``DOPRI5``, and the Runge–Kutta
  stages they share;
- ``fixed_grid.py``: :class:`Euler`, :class:`Midpoint` and :class:`RK4` (orders 1, 2, 4), which
  take steps of a given ``step_size``;
- ``adaptive.py``: :class:`Dopri5` (Dormand–Prince 5(4)), which estimates each step's error
  from an embedded 4th-order solution, rejects steps whose error is too large, chooses the next
  step size from the error, and interpolates the solution at the requested times;
- ``interface.py``: :func:`odeint` (the solution tensor, as ``torchdiffeq.odeint``),
  :func:`solve` (a :class:`Solution` that also holds the cost: ``nfe``, ``n_steps``,
  ``n_rejected``), ``SOLVERS``, and the one way to count evaluations: :class:`CountNFE`
  wraps a field, and :func:`count_evaluations` counts the calls of a module already inside a
  model.

``problem.py`` checks the inputs once per solve and defines :class:`Solution` and
:class:`SolverError`. Everything is ordinary torch code, so gradients with respect to y₀ and to
the parameters of f come from autograd (discretise-then-differentiate).

Example:
    >>> f = lambda t, y: -y  # y(t) = y₀ e^{−t}
    >>> t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> y = odeint(f, torch.tensor([1.0], dtype=torch.float64), t)
    >>> f"{y[-1].item():.6f}"
    '0.367879'
    >>> solution = solve(f, torch.ones(1, dtype=torch.float64), t, method="rk4", step_size=0.1)
    >>> solution.nfe, solution.n_steps  # 4 evaluations of f per step, 10 steps
    (40, 10)
"""

from __future__ import annotations

import torch  # the doctests above use it

from ode_course.solvers import adaptive, fixed_grid, interface, problem, tableaux
from ode_course.solvers.adaptive import AdaptiveSolver, Dopri5
from ode_course.solvers.fixed_grid import RK4, Euler, FixedGridSolver, Midpoint
from ode_course.solvers.interface import SOLVERS, CountNFE, count_evaluations, odeint, solve
from ode_course.solvers.problem import Solution, SolverError
from ode_course.solvers.tableaux import DOPRI5, EULER, HEUN, MIDPOINT, RK4_TABLEAU, ButcherTableau

__all__ = sorted(
    {
        *tableaux.__all__,
        *fixed_grid.__all__,
        *adaptive.__all__,
        *interface.__all__,
        *problem.__all__,
    }
)

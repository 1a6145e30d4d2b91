"""Where an adaptive solver's cost comes from: the NFE, and the field's properties along its paths.

An adaptive Runge–Kutta method of order p picks each step h so that its local error estimate,
about C h^{p+1} |z^{(p+1)}| (a high total derivative of the trajectory), stays near the
tolerance; and where the Jacobian ∂f/∂z has eigenvalues λ of large modulus, an explicit method
is also held to h|λ| below a constant of order one (its stability region, Chapter 4). So a field
is expensive when its trajectories curve hard (large accelerations and higher derivatives) or
when it is stiff (large Jacobian eigenvalues). This module measures both:

- :func:`solve_cost`: the evaluations Dopri5 takes to solve dz/dt = f from 0 to t₁ at a given
  tolerance;
- :func:`field_statistics`: along the trajectories from given points, the mean over points of
  ∫|f|² dt (kinetic energy), ∫‖∂f/∂z‖²_F dt, ∫|z″|² dt (squared acceleration), and the largest
  modulus of a Jacobian eigenvalue met (:class:`FieldStatistics`).

Example:
    >>> from ode_course.cnf import LinearField
    >>> slow, fast = LinearField(-torch.eye(1)), LinearField(-50 * torch.eye(1))
    >>> z0 = torch.ones(1, 1)
    >>> solve_cost(slow, z0, tol=1e-5) < solve_cost(fast, z0, tol=1e-5)  # stiffer: more steps
    True
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from ode_course import _validate
from ode_course.regularisation.penalties import jacobian_rows
from ode_course.regularisation.taylor import total_derivatives
from ode_course.solvers import CountNFE, odeint

__all__ = ["FieldStatistics", "field_statistics", "solve_cost"]


def solve_cost(
    field: Any, z0: torch.Tensor, *, t1: float = 1.0, tol: float = 1e-5, method: str = "dopri5"
) -> int:
    """The evaluations of ``field`` our adaptive solver takes from z0 at 0 to t₁, rtol = atol = tol.

    Args:
        field: f(t, z), a function or module.
        z0: the starting points, shape (N, D) (solved together: one step size for all).
        t1: the end time (> 0).
        tol: the relative and absolute tolerance.
        method: an adaptive method of :mod:`ode_course.solvers` (``"dopri5"``).

    Returns:
        The NFE, an int.

    Raises:
        TypeError, ValueError: ``field`` not callable, bad ``z0``, ``t1`` or ``tol``.

    Example:
        >>> decay, z0 = (lambda t, z: -z), torch.ones(1, 1)
        >>> solve_cost(decay, z0, tol=1e-3) < solve_cost(decay, z0, tol=1e-8)
        True
    """
    _validate.callable_(field, "field", fix="pass the vector field f(t, z)")
    z0 = _validate.points(z0, "z0")
    t1 = _validate.positive(t1, "t1", fix="pass an end time t1 > 0, e.g. t1=1.0")
    tol = _validate.positive(tol, "tol", fix="pass a tolerance such as tol=1e-5")
    counter = CountNFE(field)
    times = torch.tensor([0.0, t1], dtype=z0.dtype, device=z0.device)
    with torch.no_grad():
        odeint(counter, z0, times, method=method, rtol=tol, atol=tol)
    return counter.nfe


@dataclasses.dataclass(frozen=True)
class FieldStatistics:
    """Properties of a field along its trajectories, each a mean over the starting points.

    Attributes:
        kinetic: ∫₀^{t₁} |f(t, z(t))|² dt.
        frobenius: ∫₀^{t₁} ‖∂f/∂z‖²_F dt (exact).
        acceleration: ∫₀^{t₁} |z″(t)|² dt, z″ = ∂f/∂t + (∂f/∂z) f (TayNODE's R₂).
        spectral_radius: the largest |λ| of ∂f/∂z over the points and times visited (not a mean).
    """

    kinetic: float
    frobenius: float
    acceleration: float
    spectral_radius: float


def field_statistics(
    field: Any, z0: torch.Tensor, *, t1: float = 1.0, steps: int = 20
) -> FieldStatistics:
    """The kinetic energy, Jacobian norm, acceleration and stiffness along the paths from z0.

    The paths are solved by RK4 on ``steps`` equal steps; the integrals by the trapezoidal rule
    on that grid, with the exact Jacobian (D vector–Jacobian products per time) and z″ by one
    Jacobian–vector product (:func:`~ode_course.regularisation.total_derivatives`).

    Args:
        field: f(t, z), a module or function of (0-d tensor, (N, D) tensor).
        z0: the starting points, shape (N, D).
        t1: the end time.
        steps: the number of grid steps.

    Returns:
        A :class:`FieldStatistics`.

    Raises:
        TypeError, ValueError: bad ``field``, ``z0``, ``t1`` or ``steps``.

    Example:
        >>> from ode_course.cnf import LinearField
        >>> stats = field_statistics(LinearField(torch.eye(2) * 0.0), torch.ones(1, 2))
        >>> stats.kinetic, stats.spectral_radius  # f = 0: a free ride
        (0.0, 0.0)
    """
    _validate.callable_(field, "field", fix="pass the vector field f(t, z)")
    z0 = _validate.points(z0, "z0")
    t1 = _validate.positive(t1, "t1", fix="pass an end time t1 > 0, e.g. t1=1.0")
    steps = _validate.integer(steps, "steps", fix="e.g. steps=20")
    times = torch.linspace(0.0, t1, steps + 1, dtype=z0.dtype, device=z0.device)
    with torch.no_grad():
        path = odeint(field, z0, times, method="rk4", step_size=t1 / steps)
    kinetic, frobenius, acceleration, radius = [], [], [], 0.0
    for t, z in zip(times, path, strict=True):
        with torch.enable_grad():
            point = z.detach().requires_grad_(True)
            fz = field(t, point)
            rows = jacobian_rows(fz, point)
        jacobian = torch.stack(rows, dim=1).detach()  # (N, D, D), row i = ∂fᵢ/∂z
        kinetic.append((fz.detach() ** 2).sum(dim=1))
        frobenius.append((jacobian**2).sum(dim=(1, 2)))
        second = total_derivatives(field, t, z.detach(), 2)[1].detach()
        acceleration.append((second**2).sum(dim=1))
        radius = max(radius, float(torch.linalg.eigvals(jacobian).abs().max()))

    def integral(values: list[torch.Tensor]) -> float:
        return float(torch.trapezoid(torch.stack(values), times, dim=0).mean())

    return FieldStatistics(integral(kinetic), integral(frobenius), integral(acceleration), radius)

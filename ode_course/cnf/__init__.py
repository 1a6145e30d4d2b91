"""Continuous normalizing flows: d log p(z(t))/dt = −tr(∂f/∂z(t)) along dz/dt = f(t, z).

A normalizing flow models a density p(x) by an invertible map between the data x and a base
variable z with a simple density (here the standard normal): by the change of variables,

    log p(x) = log N(z; 0, I) + log |det ∂z/∂x|.

A *discrete* flow composes K layers whose determinants are cheap by construction. A
*continuous* flow (Chen et al. 2018) lets z follow an ODE dz/dt = f(t, z) from the base at
t = 0 to the data at t = t₁; any Lipschitz f gives an invertible map, and the log-density
changes by the *instantaneous change of variables*

    d log p(z(t))/dt = −tr(∂f/∂z(t)),

so the determinant becomes the integral of a trace: exact, by D vector–Jacobian products, or
Hutchinson's unbiased estimate εᵀ(∂f/∂z)ε by one (FFJORD, Grathwohl et al. 2019). The package
reads in six files, each on its own:

- ``traces.py``: :func:`exact_trace`, :func:`hutchinson_trace` (both from
  :func:`vector_jacobian_product`), the probes ε
  (:func:`sample_probe`, ``NOISE_TYPES``), the estimator's variance in closed form
  (:func:`hutchinson_variance`) and ``TRACE_ESTIMATORS``;
- ``base.py``: the base density :func:`standard_normal_log_prob`, and the check of the points
  (N, D) that every model takes;
- ``dynamics.py``: the vector fields, :class:`TimeMLP` (f with the time in every layer, with
  ``ACTIVATIONS``), :class:`LinearField` (f = Az, with a closed-form flow) and
  :class:`AugmentedDynamics`, the augmented field d[z, ℓ]/dt = [f(t, z), −tr ∂f/∂z];
- ``flow.py``: :class:`CNF`, which solves the augmented ODE backwards for ``log_prob`` and
  forwards for ``sample``, with any solver backend (``backend=``);
- ``planar.py``: :class:`PlanarFlow`, the discrete baseline (Rezende & Mohamed 2015);
- ``fitting.py``: maximum likelihood for any of these models, :func:`fit_density` (returning a
  :class:`~ode_course.history.TrainingHistory`), :func:`mean_nll` and :func:`density_on_grid`.

Example:
    >>> _ = torch.manual_seed(0)
    >>> cnf = CNF(2, hidden=(16,), method="rk4", step_size=0.25).double()
    >>> x = torch.randn(5, 2, dtype=torch.float64)
    >>> cnf.log_prob(x).shape, cnf.nfe  # 4 steps of rk4, 4 evaluations each
    (torch.Size([5]), 16)
    >>> cnf.sample(3).shape
    torch.Size([3, 2])
"""

from __future__ import annotations

import torch  # the doctests above use it

from ode_course.cnf import base, dynamics, fitting, flow, planar, traces
from ode_course.cnf.base import standard_normal_log_prob
from ode_course.cnf.dynamics import ACTIVATIONS, AugmentedDynamics, LinearField, TimeMLP
from ode_course.cnf.fitting import density_on_grid, fit_density, mean_nll
from ode_course.cnf.flow import CNF
from ode_course.cnf.planar import PlanarFlow
from ode_course.cnf.traces import (
    NOISE_TYPES,
    TRACE_ESTIMATORS,
    exact_trace,
    hutchinson_trace,
    hutchinson_variance,
    sample_probe,
    vector_jacobian_product,
)

__all__ = sorted(
    {
        *traces.__all__,
        *base.__all__,
        *dynamics.__all__,
        *flow.__all__,
        *planar.__all__,
        *fitting.__all__,
    }
)

"""Neural ODEs that stay cheap to solve: what an adaptive solver pays for, and how to pay less.

A neural ODE solved by an adaptive method costs as many evaluations (NFE) as its field demands,
and training, left alone, tends to make the field more expensive (Chapter 5 measured the NFE
grow). Regularisers add to the loss an integral along the trajectories that an expensive field
makes large, computed by the same solve as one more column of the state:

- ``cost.py``: :func:`solve_cost` (the NFE of one solve) and :func:`field_statistics` (kinetic
  energy, Jacobian norm, acceleration and stiffness along the paths, :class:`FieldStatistics`);
- ``penalties.py``: RNODE's integrands (Finlay et al. 2020): :func:`kinetic_energy`,
  :func:`jacobian_rows`, :func:`exact_frobenius`, :func:`hutchinson_frobenius`, and the
  augmented field :class:`RegularisedDynamics`;
- ``taylor.py``: TayNODE's (Kelly et al. 2020): :func:`total_derivatives` by nested
  Jacobian–vector products, :class:`TaylorDynamics`, and :func:`fit_map` (a 1-D warm-up);
- ``models.py``: :func:`regularised_log_prob` (log p and both penalties in one backward solve,
  :class:`Penalties`), and the models that keep their penalty for the trainer,
  :class:`RegularisedCNF` and :class:`RegularisedODEBlock`.

Example:
    >>> from ode_course.cnf import LinearField
    >>> flow = RegularisedCNF(2, net=LinearField(torch.eye(2) * 0.5), kinetic=1.0)
    >>> _ = flow.log_prob(torch.zeros(3, 2))
    >>> flow.penalty.item()  # z = 0 stays at 0: no kinetic energy
    0.0
"""

from __future__ import annotations

import torch  # the doctests above use it

from ode_course.regularisation import cost, models, penalties, taylor
from ode_course.regularisation.cost import FieldStatistics, field_statistics, solve_cost
from ode_course.regularisation.models import (
    Penalties,
    RegularisedCNF,
    RegularisedODEBlock,
    regularised_log_prob,
)
from ode_course.regularisation.penalties import (
    RegularisedDynamics,
    exact_frobenius,
    hutchinson_frobenius,
    jacobian_rows,
    kinetic_energy,
)
from ode_course.regularisation.taylor import TaylorDynamics, fit_map, total_derivatives

__all__ = sorted({*cost.__all__, *penalties.__all__, *taylor.__all__, *models.__all__})

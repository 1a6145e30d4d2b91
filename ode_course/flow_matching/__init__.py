"""Flow matching: train dx/dt = v_θ(t, x) by regression on x₁ − x₀, with no ODE solve.

A continuous flow (Chapter 7) carries the base N(0, I) at t = 0 to the data at t = 1 along
dx/dt = v(t, x); maximum likelihood trains it through an ODE solve and a trace at every step.
Flow matching (Lipman et al. 2023; Liu, Gong & Liu 2023; Albergo & Vanden-Eijnden 2023)
chooses the path first: each base point x₀ moves to a data point x₁ on the straight line
x_t = (1 − t) x₀ + t x₁, and the network regresses the velocity x₁ − x₀,

    L(θ) = E_{t ~ U[0,1], x₀, x₁} |v_θ(t, x_t) − (x₁ − x₀)|²,

whose gradient is that of the regression on the marginal velocity u_t(x) = E[x₁ − x₀ | x_t = x],
the field that carries N(0, I) to the data. Sampling then solves the ODE with Chapter 5's
solvers, where the straightness of the flow sets the cost. The package reads in one file per
part:

- ``paths.py``: the straight path :func:`straight_path`, its target
  :func:`conditional_velocity`, the times :func:`sample_time`, and the losses
  :func:`flow_matching_loss` and :func:`marginal_flow_matching_loss`;
- ``mixture.py``: :class:`GaussianMixture1D`, 1-D data whose path density and marginal
  velocity u_t(x) are known in closed form (the oracle of the chapter's first section);
- ``sampling.py``: :func:`sample_flow` (a :class:`FlowSamples`: the samples at t = 1 and their
  NFE) with Euler, midpoint, RK4 or Dopri5 (``SAMPLING_METHODS``), and :func:`trajectories`;
- ``coupling.py``: straighter pairs, :func:`ot_coupling` (minibatch optimal transport by
  ``scipy.optimize.linear_sum_assignment``) and :func:`reflow_pairs` (rectified flow);
- ``straightness.py``: :func:`path_straightness` (path length minus chord) and
  :func:`velocity_variance` (the change of the velocity along the paths);
- ``distances.py``: sample quality, :func:`energy_distance` and :func:`sliced_wasserstein`;
- ``training.py``: the training loop (see its docstring).

Example:
    >>> from ode_course.cnf import TimeMLP
    >>> _ = torch.manual_seed(0)
    >>> x1 = GaussianMixture1D((0.5, 0.5), (-2.0, 2.0), (0.3, 0.3)).sample(256)
    >>> field = TimeMLP(1, hidden=(16,))
    >>> loss = flow_matching_loss(field, torch.randn_like(x1), x1)  # no ODE solve
    >>> loss.backward()
    >>> samples = sample_flow(field, torch.randn(100, 1), method="rk4", steps=4)
    >>> samples.x.shape, samples.nfe  # 4 steps of 4 evaluations
    (torch.Size([100, 1]), 16)
"""

from __future__ import annotations

import torch  # the doctests above use it

from ode_course.flow_matching import coupling, distances, mixture, paths, sampling, straightness
from ode_course.flow_matching.coupling import ot_coupling, reflow_pairs
from ode_course.flow_matching.distances import energy_distance, sliced_wasserstein
from ode_course.flow_matching.mixture import GaussianMixture1D
from ode_course.flow_matching.paths import (
    conditional_velocity,
    flow_matching_loss,
    marginal_flow_matching_loss,
    sample_time,
    straight_path,
)
from ode_course.flow_matching.sampling import (
    SAMPLING_METHODS,
    FlowSamples,
    sample_flow,
    trajectories,
)
from ode_course.flow_matching.straightness import path_straightness, velocity_variance

# isort: split
# training.py (added by the notebook helper)
from ode_course.flow_matching import training
from ode_course.flow_matching.training import (
    COUPLINGS,
    NLLResult,
    exact_nll,
    fit_flow_matching,
)

__all__ = sorted(
    {
        *paths.__all__,
        *mixture.__all__,
        *sampling.__all__,
        *coupling.__all__,
        *straightness.__all__,
        *distances.__all__,
        *training.__all__,
    }
)

"""Diffusion models as SDEs and ODEs: noising, score matching, and samplers measured as solvers.

A diffusion model turns data into noise along a stochastic differential equation and learns to
run it backwards (Ho et al. 2020; Song et al. 2021). The package follows the chapter, one file
per part:

- ``schedule.py``: :class:`VPSchedule`, the variance-preserving SDE's β(t), its closed-form
  marginals x_t = α_t x₀ + σ_t ε, the half log-SNR λ_t = log(α_t/σ_t) and its inverse;
- ``sde.py``: :func:`euler_maruyama` and :func:`forward_sde`, the forward process simulated;
- ``score.py``: denoising score matching, :func:`denoising_loss` and :func:`fit_diffusion`; the
  closed-form score of a 1-D Gaussian mixture (:func:`mixture_score`) and the score-matching
  loss it makes computable (:func:`score_matching_loss`);
- ``sampling.py``: the reverse SDE (:func:`reverse_sde`), the probability-flow ODE
  (:func:`probability_flow`) and :func:`sample_diffusion` with Chapter 5's Runge–Kutta
  tableaux and the exponential integrators DDIM, DPM-Solver-2 and DPM-Solver++(2M)
  (``SAMPLERS``), on grids uniform in t or in λ (:func:`time_grid`); :class:`GaussianEpsilon`,
  the exact model of Gaussian data, whose flow is known in closed form;
- ``likelihood.py``: the exact likelihood of the probability-flow ODE
  (:func:`probability_flow_nll`) through Chapter 7's CNF, and :class:`FlowVelocity`, the same
  ODE in Chapter 9's time.

Time runs from data (t = 0) to noise (t = 1), as in the papers; samplers stop at t_end = 10⁻³.

Example:
    >>> from ode_course.cnf import TimeMLP
    >>> _ = torch.manual_seed(0)
    >>> eps_model = TimeMLP(2, hidden=(16,))
    >>> _ = fit_diffusion(eps_model, torch.randn(128, 2), steps=20, batch_size=64)
    >>> out = sample_diffusion(eps_model, torch.randn(10, 2), method="ddim", steps=5)
    >>> out.x.shape, out.nfe
    (torch.Size([10, 2]), 5)
"""

from __future__ import annotations

import torch  # the doctest above uses it

from ode_course.diffusion import likelihood, sampling, schedule, score, sde
from ode_course.diffusion.likelihood import FlowVelocity, probability_flow_nll
from ode_course.diffusion.sampling import (
    EVALUATIONS_PER_STEP,
    SAMPLERS,
    SPACINGS,
    DiffusionSamples,
    GaussianEpsilon,
    ddim_step,
    probability_flow,
    reverse_sde,
    sample_diffusion,
    time_grid,
)
from ode_course.diffusion.schedule import VPSchedule
from ode_course.diffusion.score import (
    denoising_loss,
    fit_diffusion,
    mixture_score,
    score_matching_loss,
)
from ode_course.diffusion.sde import euler_maruyama, forward_sde

__all__ = [
    *likelihood.__all__,
    *sampling.__all__,
    *schedule.__all__,
    *score.__all__,
    *sde.__all__,
]

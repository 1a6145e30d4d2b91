"""Latent ODEs for irregularly sampled time series, and a GRU baseline to compare them with.

The latent ODE (Chen et al. 2018, §5; Rubanova, Chen & Duvenaud 2019) is a variational
autoencoder whose decoder is an ODE. Its generative story for one series observed at times
t₁ < … < t_k (all ≥ t₀) is

    z₀ ~ N(0, I),                           the latent state at t₀ (dimension L);
    z(t) = z₀ + ∫_{t₀}^{t} f_θ(z(s)) ds,     deterministic latent dynamics;
    xᵢ ~ N(g_θ(z(tᵢ)), σ² I),               independent noisy observations (dimension D).

An encoder reads the observations backwards in time and outputs the approximate posterior
q_φ(z₀ | x) = N(μ, diag s²). Training maximises the evidence lower bound

    ELBO = E_{z₀ ~ q}[Σᵢ log N(xᵢ; g(z(tᵢ)), σ² I)] − KL(q_φ(z₀ | x) ‖ N(0, I)),

estimated with one sample z₀ = μ + s ⊙ ε, ε ~ N(0, I) (the reparameterisation trick), and the
KL in closed form (:func:`gaussian_kl`). Since z(t) exists at every t, the model predicts at
any time: inside the observed window (interpolation) or after it (extrapolation).

Batches are :class:`~ode_course.data.IrregularBatch`: B series on the union of their times
(T,), values and a mask (B, T, D). The decoder solves the latent ODE once, for the whole batch,
at the union of times (with :func:`ode_course.backends.integrate`); the likelihood counts only the
observed entries (:func:`masked_gaussian_log_likelihood`), so a series contributes exactly its
own observations.

Who solves the ODEs is chosen by ``backend=`` (:mod:`ode_course.backends`: our solvers, the
same with adjoint gradients, or torchdiffeq); ``model.nfe`` is the cost of the model's latest
latent solve, counted by :class:`~ode_course.solvers.CountNFE` around the field.

The baseline, :class:`RNNBaseline`, is a GRU that reads the observations forwards with the time
gap since the previous one as an extra input, and predicts a value at any later time from its
state and the gap; past its last observation it feeds its own predictions back in.

The package reads in six files, each on its own:

- ``elbo.py``: the ELBO's terms, :func:`gaussian_kl`, :func:`masked_gaussian_log_likelihood`,
  :func:`masked_mse` (the baseline's loss) and :class:`ELBOTerms`;
- ``dynamics.py``: the latent vector field :class:`LatentDynamics`, which counts its
  evaluations;
- ``encoders.py``: :func:`own_sequences` (each series' own observations, left-aligned) and the
  encoders of q(z₀ | x), :class:`GRUEncoder` and :class:`ODERNNEncoder`;
- ``model.py``: :class:`LatentODE`, its ELBO, loss and predictions;
- ``baseline.py``: :class:`RNNBaseline`;
- ``fitting.py``: training, :func:`fit_series`, and :func:`prediction_mse`.

``_checks.py`` checks the inputs (batches, t₀ and query times) that every model takes.

Example:
    >>> from ode_course.data import collate_series
    >>> batch = collate_series([[0.0, 0.3], [0.1, 0.2, 0.4]], [[[1, 0], [0, 1]], [[1, 1]] * 3])
    >>> model = LatentODE(obs_dim=2, latent_dim=3, hidden=8).double()
    >>> terms = model.elbo(batch)
    >>> terms.log_likelihood.shape, terms.kl.shape
    (torch.Size([2]), torch.Size([2]))
    >>> model.predict(batch, torch.linspace(0.0, 2.0, 5, dtype=torch.float64)).shape
    torch.Size([2, 5, 2])
"""

from __future__ import annotations

import torch  # the doctests above use it

from ode_course.latent import baseline, dynamics, elbo, encoders, fitting, model
from ode_course.latent.baseline import RNNBaseline
from ode_course.latent.dynamics import LatentDynamics
from ode_course.latent.elbo import (
    ELBOTerms,
    gaussian_kl,
    masked_gaussian_log_likelihood,
    masked_mse,
)
from ode_course.latent.encoders import GRUEncoder, ODERNNEncoder, own_sequences
from ode_course.latent.fitting import fit_series, prediction_mse
from ode_course.latent.model import LatentODE

__all__ = sorted(
    {
        *elbo.__all__,
        *dynamics.__all__,
        *encoders.__all__,
        *model.__all__,
        *baseline.__all__,
        *fitting.__all__,
    }
)

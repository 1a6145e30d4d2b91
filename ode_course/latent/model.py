"""The latent ODE: an encoder, latent dynamics dz/dt = f(z) and a linear decoder x̂ = g(z).

:class:`LatentODE` computes the ELBO's terms for a batch (:meth:`~LatentODE.elbo`), its loss,
and predictions at any times from the posterior mean of z₀.
"""

from __future__ import annotations

import torch
from torch import nn

from ode_course import _validate, backends
from ode_course.data import IrregularBatch
from ode_course.latent._checks import check_batch, check_times, resolve_t0
from ode_course.latent.dynamics import LatentDynamics, SolveCount
from ode_course.latent.elbo import ELBOTerms, gaussian_kl, masked_gaussian_log_likelihood
from ode_course.latent.encoders import GRUEncoder, ODERNNEncoder

__all__ = ["LatentODE"]


class LatentODE(nn.Module):
    """A latent ODE: encoder q(z₀ | x), latent dynamics dz/dt = f(z), decoder x̂ = g(z).

    See :mod:`ode_course.latent` for the generative story and the ELBO. The encoder is a
    :class:`GRUEncoder` (``encoder="gru"``) or an :class:`ODERNNEncoder` (``"odernn"``), the
    dynamics a :class:`LatentDynamics` and the decoder linear, g(z) = W z + b, as in Rubanova
    et al. (2019): a linear decoder leaves the motion to the dynamics, which is what lets the
    model extrapolate (a flexible decoder can instead read the time off a "clock" coordinate
    of z and fit the window without learning dynamics that continue past it). The latent
    ODE is solved by ``backend`` (:func:`ode_course.backends.integrate`), by default with our
    fixed midpoint steps of at most ``step_size`` (the solver also lands exactly on every
    requested time).

    ``model.nfe`` is the cost of the latest latent solve (one per :meth:`elbo`,
    :meth:`predict` or :meth:`latent_trajectory`; with ``backend="adjoint"`` its backward pass
    adds its evaluations); an ODE-RNN encoder counts its own solves in ``model.encoder.nfe``.
    Both count with :class:`~ode_course.solvers.CountNFE` around the field.

    Args:
        obs_dim: D, the features per observation.
        latent_dim: L, the dimension of z.
        hidden: the width of the dynamics' hidden layer and of the encoder's state.
        encoder: ``"gru"`` or ``"odernn"``.
        obs_std: σ, the standard deviation of the Gaussian likelihood (fixed, not learned).
        method, step_size: the solver of the latent ODE (and of the ODE-RNN encoder).
        backend: who solves the latent ODE (and the encoder's): one of
            :data:`ode_course.backends.BACKENDS` (None: ``"ode_course"``).

    Raises:
        TypeError: a size is not an integer, or ``obs_std`` or ``step_size`` not a number.
        ValueError: a size is less than 1, ``obs_std`` or ``step_size`` is not positive, or
            ``encoder``, ``backend`` or ``method`` is unknown.

    Example:
        >>> from ode_course.data import irregular_spirals
        >>> batch = irregular_spirals(8, seed=0).batch()
        >>> model = LatentODE(obs_dim=2, latent_dim=4, hidden=16).double()
        >>> loss = model.loss(batch)  # −ELBO per series, one sample of z₀
        >>> loss.backward()
        >>> model.nfe  # 19 midpoint steps of 2 evaluations, 20 grid times
        38
        >>> model.predict(batch, torch.tensor([5.0, 10.0], dtype=torch.float64)).shape
        torch.Size([8, 2, 2])
    """

    ENCODERS = ("gru", "odernn")

    def __init__(
        self,
        obs_dim: int = 2,
        latent_dim: int = 6,
        hidden: int = 32,
        *,
        encoder: str = "gru",
        obs_std: float = 0.1,
        method: str = "midpoint",
        step_size: float = 0.25,
        backend: str | None = None,
    ):
        super().__init__()
        _validate.one_of(
            encoder, "encoder", self.ENCODERS, fix="encoder='gru' (fast) or encoder='odernn'"
        )
        self.backend = backends.check_backend("ode_course" if backend is None else backend, method)
        self.obs_dim = _validate.integer(obs_dim, "obs_dim")
        self.latent_dim = _validate.integer(latent_dim, "latent_dim")
        self.obs_std = _validate.positive(obs_std, "obs_std", fix="e.g. obs_std=0.1")
        self.method = method
        self.step_size = _validate.positive(step_size, "step_size", fix="e.g. step_size=0.25")
        if encoder == "gru":
            self.encoder: GRUEncoder | ODERNNEncoder = GRUEncoder(obs_dim, latent_dim, hidden)
        else:
            self.encoder = ODERNNEncoder(
                obs_dim,
                latent_dim,
                hidden,
                ode_hidden=hidden,
                method=method,
                step_size=step_size,
                backend=self.backend,
            )
        self.dynamics = LatentDynamics(latent_dim, hidden)
        self.decoder = nn.Linear(latent_dim, obs_dim)
        self._count = SolveCount()

    @property
    def nfe(self) -> int:
        """Evaluations of the dynamics in the latest latent solve (0 before the first)."""
        return self._count.nfe

    def encode(
        self, batch: IrregularBatch, t0: float | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, ln s²) of q(z₀ | x), each (B, L); z₀ is the state at t0 (default batch.times[0])."""
        return self.encoder(batch, t0)

    def latent_path(self, z0: torch.Tensor, t0: float, times: torch.Tensor) -> torch.Tensor:
        """z(times) from z(t0) = z0 by dz/dt = f(z): shape (B, len(times), L); times[0] >= t0."""
        times = check_times(times, t0, z0.dtype)
        start = torch.tensor([t0], dtype=z0.dtype)
        prepend = bool(times[0] > t0)
        grid = torch.cat([start, times]) if prepend else times
        z, counter = backends.integrate(
            self.dynamics,
            z0,
            grid,
            backend=self.backend,
            method=self.method,
            step_size=self.step_size,
        )
        self._count = SolveCount()
        self._count.counters.append(counter)
        return z[1:].transpose(0, 1) if prepend else z.transpose(0, 1)

    def decode(self, z0: torch.Tensor, t0: float, times: torch.Tensor) -> torch.Tensor:
        """The means g(z(t)) of the observations at ``times``: shape (B, len(times), D)."""
        return self.decoder(self.latent_path(z0, t0, times))

    def elbo(
        self, batch: IrregularBatch, *, eps: torch.Tensor | None = None, t0: float | None = None
    ) -> ELBOTerms:
        """The ELBO's terms per series, with z₀ = μ + s ⊙ ε (one sample, reparameterised).

        Args:
            batch: the series on the union of their times.
            eps: the noise ε, shape (B, L); default a fresh draw from N(0, I).
            t0: the time of z₀ (default: the batch's first time).

        Returns:
            An :class:`ELBOTerms` with the masked Gaussian log-likelihood and the KL, each (B,).

        Raises:
            TypeError, ValueError: a bad batch, ``eps`` of the wrong shape, or a late ``t0``.
        """
        check_batch(batch, self, self.obs_dim)
        t0 = resolve_t0(batch, t0)
        mu, logvar = self.encode(batch, t0)
        if eps is None:
            eps = torch.randn_like(mu)
        else:
            _validate.shape(
                eps,
                "eps",
                f"of shape (B, L) = {tuple(mu.shape)}",
                eps.shape == mu.shape,
                fix="one row of noise per series, e.g. eps=torch.randn_like(mu), or leave eps=None",
            )
        z0 = mu + torch.exp(0.5 * logvar) * eps
        mean = self.decode(z0, t0, batch.times)
        log_likelihood = masked_gaussian_log_likelihood(
            batch.values, mean, batch.mask, self.obs_std
        )
        return ELBOTerms(log_likelihood, gaussian_kl(mu, logvar))

    def loss(self, batch: IrregularBatch, *, kl_weight: float = 1.0) -> torch.Tensor:
        """−mean over series of (log-likelihood − kl_weight · KL): the negative ELBO at weight 1."""
        terms = self.elbo(batch)
        return -(terms.log_likelihood - kl_weight * terms.kl).mean()

    def predict(
        self, batch: IrregularBatch, times: torch.Tensor, *, t0: float | None = None
    ) -> torch.Tensor:
        """x̂(t) = g(z(t)) at any ``times`` ≥ t0, from the posterior mean z₀ = μ: (B, len(times), D).

        Times inside the observed window interpolate; times after it extrapolate.
        """
        check_batch(batch, self, self.obs_dim)
        t0 = resolve_t0(batch, t0)
        mu, _ = self.encode(batch, t0)
        return self.decode(mu, t0, times)

    def latent_trajectory(
        self, batch: IrregularBatch, times: torch.Tensor, *, t0: float | None = None
    ) -> torch.Tensor:
        """z(t) at ``times`` from the posterior mean z₀ = μ: shape (B, len(times), L)."""
        check_batch(batch, self, self.obs_dim)
        t0 = resolve_t0(batch, t0)
        mu, _ = self.encode(batch, t0)
        return self.latent_path(mu, t0, times)

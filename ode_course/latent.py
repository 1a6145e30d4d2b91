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
latent solve, while the field's own counter, ``model.dynamics.nfe``, adds up over all calls
until it is reset.

The baseline, :class:`RNNBaseline`, is a GRU that reads the observations forwards with the time
gap since the previous one as an extra input, and predicts a value at any later time from its
state and the gap; past its last observation it feeds its own predictions back in.

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

import math
from dataclasses import dataclass

import torch
from torch import nn

from ode_course import _validate, backends
from ode_course.data import IrregularBatch
from ode_course.solvers import CountNFE

__all__ = [
    "ELBOTerms",
    "GRUEncoder",
    "LatentDynamics",
    "LatentODE",
    "ODERNNEncoder",
    "RNNBaseline",
    "fit_series",
    "gaussian_kl",
    "masked_gaussian_log_likelihood",
    "masked_mse",
    "own_sequences",
    "prediction_mse",
]


# ------------------------------------------------------------------------------------ checks
def _check_batch(batch: IrregularBatch, module: nn.Module, obs_dim: int) -> None:
    if not isinstance(batch, IrregularBatch):
        _validate.fail(
            "batch",
            "an IrregularBatch",
            type(batch).__name__,
            "batch = collate_series(times, values) (or series.batch() for an IrregularSeries)",
            TypeError,
        )
    n_features = batch.values.shape[2]
    if n_features != obs_dim:
        _validate.fail(
            "batch",
            f"of {obs_dim} features per observation, the model's obs_dim",
            f"{n_features} features",
            f"build the model with obs_dim={n_features}",
        )
    dtype = next(module.parameters()).dtype
    if batch.values.dtype != dtype:
        _validate.fail(
            "batch",
            f"of the model's dtype {dtype}",
            str(batch.values.dtype),
            f"model.to({batch.values.dtype}), or collate_series(..., dtype={dtype})",
            TypeError,
        )


def _resolve_t0(batch: IrregularBatch, t0: float | None) -> float:
    first = batch.times[0].item()
    if t0 is None:
        return first
    fix = "pass t0 <= batch.times[0], or None to use batch.times[0]"
    value = _validate.real(t0, "t0", fix=fix)
    if value > first:
        _validate.fail(
            "t0",
            f"the time of the latent initial state z₀, no later than the first observation "
            f"({first:g})",
            f"t0={value:g}",
            fix,
        )
    return value


def _check_times(times: torch.Tensor, t0: float, dtype: torch.dtype) -> torch.Tensor:
    fix = "e.g. torch.linspace(0.0, 7.5, 76, dtype=torch.float64)"
    _validate.tensor(times, "times", fix=fix)
    _validate.shape(
        times,
        "times",
        "a non-empty 1-D tensor of query times",
        times.ndim == 1 and len(times) > 0,
        fix=fix,
    )
    if times.dtype != dtype:
        _validate.fail(
            "times", f"{dtype} like the batch", str(times.dtype), f"times.to({dtype})", TypeError
        )
    values = times.tolist()
    _validate.strictly_monotone(
        values, "times", increasing_only=True, fix="times = torch.unique(times)"
    )
    if values[0] < t0:
        _validate.fail(
            "times",
            f"no earlier than t0={t0:g}, where the model's state starts",
            f"times[0]={values[0]:g}",
            "query times >= t0 (or pass an earlier t0)",
        )
    return times


class _SolveCount:
    """The evaluations of a field over the solves of one pass: the sum of their counters.

    It is a plain object, not an ``nn.Module``, so that a model that keeps one stays with the
    same parameters and ``state_dict`` (the counters wrap a field that is already a child).
    """

    def __init__(self) -> None:
        self.counters: list[CountNFE] = []

    @property
    def nfe(self) -> int:
        return sum(counter.nfe for counter in self.counters)


# ------------------------------------------------------------------------------------ the ELBO
def gaussian_kl(
    mu_q: torch.Tensor,
    logvar_q: torch.Tensor,
    mu_p: torch.Tensor | None = None,
    logvar_p: torch.Tensor | None = None,
) -> torch.Tensor:
    """KL(N(μ_q, σ_q²) ‖ N(μ_p, σ_p²)) = ½ Σₗ [ln(σ_p²/σ_q²) + (σ_q² + (μ_q − μ_p)²)/σ_p² − 1].

    For Gaussians with diagonal covariances the divergence is a sum over the dimensions l of
    the closed form for one dimension.

    Args:
        mu_q: the means of q, shape (..., L).
        logvar_q: ln σ_q², shape (..., L).
        mu_p: the means of p, broadcastable to (..., L); default 0.
        logvar_p: ln σ_p², broadcastable to (..., L); default 0 (so p = N(0, I) by default).

    Returns:
        The divergence, summed over the last dimension: shape (...).

    Raises:
        ValueError: ``mu_q`` and ``logvar_q`` have different shapes.

    Example:
        >>> mu, logvar = torch.tensor([1.0, 0.0]), torch.tensor([0.0, math.log(4.0)])
        >>> round(gaussian_kl(mu, logvar).item(), 6)  # ½(1) + ½(4 − 1 − ln 4)
        1.306853
    """
    _validate.shape(
        logvar_q,
        "logvar_q",
        f"of the shape of mu_q, {tuple(mu_q.shape)}",
        logvar_q.shape == mu_q.shape,
        fix="the encoder outputs one mean and one log-variance per latent dimension",
    )
    mu_p = torch.zeros_like(mu_q) if mu_p is None else mu_p
    logvar_p = torch.zeros_like(logvar_q) if logvar_p is None else logvar_p
    ratio = torch.exp(logvar_q - logvar_p)
    terms = logvar_p - logvar_q + ratio + (mu_q - mu_p) ** 2 * torch.exp(-logvar_p) - 1.0
    return 0.5 * terms.sum(dim=-1)


def masked_gaussian_log_likelihood(
    x: torch.Tensor, mean: torch.Tensor, mask: torch.Tensor, std: float
) -> torch.Tensor:
    """Σ_{t,d: m=1} log N(x_td; mean_td, σ²) = Σ m [−½ ln(2πσ²) − (x − mean)²/(2σ²)], per series.

    Masked-out entries contribute nothing, whatever ``x`` holds there (nan included).

    Args:
        x: observations, shape (B, T, D).
        mean: the model's means, shape (B, T, D).
        mask: bool, shape (B, T, D): True where x was observed.
        std: the observation noise σ > 0.

    Returns:
        The log-likelihood of each series, shape (B,).

    Raises:
        ValueError: the shapes differ, or ``std`` is not positive.
        TypeError: ``std`` is not a number.

    Example:
        >>> x, mean = torch.tensor([[[1.0], [9.0]]]), torch.zeros(1, 2, 1)
        >>> mask = torch.tensor([[[True], [False]]])
        >>> ll = masked_gaussian_log_likelihood(x, mean, mask, std=1.0)
        >>> round(ll.item(), 6) == round(-0.5 * math.log(2 * math.pi) - 0.5, 6)
        True
    """
    for name, other in (("mean", mean), ("mask", mask)):
        _validate.shape(
            other,
            name,
            f"of the shape (B, T, D) of x, {tuple(x.shape)}",
            other.shape == x.shape,
            fix="decode at the batch's times",
        )
    std = _validate.positive(std, "std", fix="pass the observation noise, e.g. std=0.1")
    residual = torch.where(mask, x - mean, torch.zeros_like(mean))
    log_density = -0.5 * math.log(2 * math.pi * std**2) - residual**2 / (2 * std**2)
    return (log_density * mask).flatten(1).sum(dim=1)


def masked_mse(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of (prediction − target)² over the observed entries (mask True) only.

    Args:
        prediction, target: shape (B, T, D).
        mask: bool, shape (B, T, D).

    Returns:
        A scalar tensor.

    Raises:
        ValueError: the shapes differ or nothing is observed.

    Example:
        >>> p, x = torch.zeros(1, 2, 1), torch.tensor([[[2.0], [float("nan")]]])
        >>> masked_mse(p, x, torch.tensor([[[True], [False]]])).item()
        4.0
    """
    for name, other in (("target", target), ("mask", mask)):
        _validate.shape(
            other,
            name,
            f"of the shape of prediction, {tuple(prediction.shape)}",
            other.shape == prediction.shape,
            fix="predict at the times of the target, one row per series",
        )
    n = mask.sum()
    if n == 0:
        _validate.fail(
            "mask",
            "True for at least one entry (there is nothing to average otherwise)",
            "no entry selected",
            "average over series and times with observations",
        )
    residual = torch.where(mask, prediction - target, torch.zeros_like(prediction))
    return (residual**2).sum() / n


@dataclass(frozen=True)
class ELBOTerms:
    """The two terms of the ELBO for each series of a batch, all of shape (B,).

    Attributes:
        log_likelihood: Σ over observed entries of log N(x; g(z(t)), σ²), at one sample z₀ ~ q.
        kl: KL(q(z₀ | x) ‖ N(0, I)), in closed form.
    """

    log_likelihood: torch.Tensor
    kl: torch.Tensor

    @property
    def elbo(self) -> torch.Tensor:
        """log_likelihood − kl, shape (B,)."""
        return self.log_likelihood - self.kl


# ------------------------------------------------------------------------------------ networks
class LatentDynamics(nn.Module):
    """The autonomous vector field f(t, z) = W₂ tanh(W₁ z + b₁) + b₂ (t is not an input).

    It ignores t, so the dynamics are the same at every time, which is what lets a latent ODE
    extrapolate beyond the times it was trained on. Counts its evaluations in ``nfe``: the
    field's own counter, which adds up over every call (every solve) until you reset it with
    ``f.nfe = 0``. The cost of one solve is the model's :attr:`LatentODE.nfe` (or, for the
    ODE-RNN encoder's field, :attr:`ODERNNEncoder.nfe` for one encoding).

    Args:
        dim: the dimension of the state z.
        hidden: the width of the hidden layer.

    Raises:
        TypeError: ``dim`` or ``hidden`` is not an integer.
        ValueError: ``dim`` or ``hidden`` is less than 1.

    Example:
        >>> f = LatentDynamics(3, 8)
        >>> f(torch.tensor(0.0), torch.zeros(5, 3)).shape, f.nfe
        (torch.Size([5, 3]), 1)
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        dim, hidden = _validate.integer(dim, "dim"), _validate.integer(hidden, "hidden")
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, dim))
        self.nfe = 0

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        return self.net(z)


def own_sequences(
    batch: IrregularBatch, *, reverse: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each series' own observations, in time order (or reversed), left-aligned and padded.

    Where a batch puts every series on the union of times, this puts series b's k_b
    observations in the first k_b positions of its row, so that a recurrent network can read
    them one after another (with ``torch.nn.utils.rnn.pack_padded_sequence``).

    Args:
        batch: B series on the union of their times.
        reverse: read from the last observation to the first.

    Returns:
        ``(times, values, mask, lengths)``: times (B, K), values and mask (B, K, D), lengths
        (B,) int64 = k_b, where K = max k_b. Padding (positions ≥ k_b) is masked out and
        holds values 0 and the series' last time read.

    Example:
        >>> from ode_course.data import collate_series
        >>> batch = collate_series([[0.0, 2.0], [1.0]], [[1.0, 2.0], [3.0]])
        >>> times, values, mask, lengths = own_sequences(batch, reverse=True)
        >>> times.tolist(), values[..., 0].tolist(), lengths.tolist()
        ([[2.0, 0.0], [1.0, 1.0]], [[2.0, 1.0], [3.0, 0.0]], [2, 1])
    """
    observed = batch.mask.any(dim=2)  # (B, T)
    n, n_times = observed.shape
    position = torch.arange(n_times).expand(n, n_times)
    rank = n_times - 1 - position if reverse else position
    lengths = observed.sum(dim=1)
    k = int(lengths.max())
    order = torch.where(observed, rank, n_times + rank).argsort(dim=1)[:, :k]  # observed first
    valid = torch.arange(k) < lengths[:, None]  # (B, K)
    last = order.gather(1, (lengths - 1)[:, None]).expand(n, k)
    order = torch.where(valid, order, last)
    times = batch.times[order]
    index = order[..., None].expand(n, k, batch.values.shape[2])
    mask = batch.mask.gather(1, index) & valid[..., None]
    values = torch.where(mask, batch.values.gather(1, index), torch.zeros((), dtype=times.dtype))
    return times, values, mask, lengths


class _Encoder(nn.Module):
    """What both encoders share: the sizes, and the head (μ, ln s²) = Linear(h)."""

    def __init__(self, obs_dim: int, latent_dim: int, hidden: int):
        super().__init__()
        self.obs_dim = _validate.integer(obs_dim, "obs_dim")
        self.latent_dim = _validate.integer(latent_dim, "latent_dim")
        self.hidden = _validate.integer(hidden, "hidden")
        self.head = nn.Linear(hidden, 2 * latent_dim)
        with torch.no_grad():  # start with a confident posterior, s ≈ 0.05, so that early
            self.head.bias[latent_dim:] = -6.0  # samples of z₀ are not mostly noise

    def posterior(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.head(h).chunk(2, dim=1)
        return mu, logvar


class GRUEncoder(_Encoder):
    """q(z₀ | x) = N(μ, diag s²) from a GRU that reads the observations backwards in time.

    Series b is read from its last observation to its first. At each of its observation times
    tⱼ the hidden state h (zero at the start) is updated with

        h ← GRU([xⱼ ⊙ mⱼ, mⱼ, Δⱼ], h),    Δⱼ = t_{j+1} − tⱼ (0 for the last observation),

    where mⱼ is the feature mask, so the gaps between observations are an input. A final
    update with an empty observation and Δ = t₁ − t₀ tells the GRU how far the first
    observation lies from t₀. Then (μ, ln s²) = Linear(h). Each series is read on its own
    (:func:`own_sequences`, one packed ``torch.nn.GRU`` call for the batch), so its code does
    not depend on the other series in the batch.

    Args:
        obs_dim: D, the features per observation.
        latent_dim: L, the dimension of z₀.
        hidden: H, the width of the GRU state.

    Example:
        >>> from ode_course.data import collate_series
        >>> batch = collate_series([[0.0, 1.0], [0.5]], [[1.0, 2.0], [3.0]], dtype=torch.float32)
        >>> mu, logvar = GRUEncoder(obs_dim=1, latent_dim=2, hidden=4)(batch)
        >>> mu.shape, logvar.shape
        (torch.Size([2, 2]), torch.Size([2, 2]))
    """

    def __init__(self, obs_dim: int, latent_dim: int, hidden: int = 32):
        super().__init__(obs_dim, latent_dim, hidden)
        self.gru = nn.GRU(2 * self.obs_dim + 1, self.hidden, batch_first=True)

    def forward(
        self, batch: IrregularBatch, t0: float | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, ln s²) of q(z₀ | x), each of shape (B, L), for z₀ at time t0.

        Args:
            batch: the series, on the union of their times.
            t0: the time of z₀, no later than the first time of the batch (default: that time).

        Raises:
            TypeError, ValueError: ``batch`` is not an IrregularBatch of D features in the
                model's dtype; ``t0`` is after the first observation.
        """
        _check_batch(batch, self, self.obs_dim)
        t0 = _resolve_t0(batch, t0)
        times, x, mask, lengths = own_sequences(batch, reverse=True)
        gaps = torch.cat([torch.zeros_like(times[:, :1]), times[:, :-1] - times[:, 1:]], dim=1)
        steps = torch.cat([x, mask.to(x.dtype), gaps[..., None]], dim=2)
        first = times.gather(1, (lengths - 1)[:, None])  # (B, 1) each series' first time
        final = torch.cat([torch.zeros_like(x[:, 0]), torch.zeros_like(x[:, 0]), first - t0], 1)
        steps = torch.cat([steps, torch.zeros_like(steps[:, :1])], dim=1)
        at_end = (torch.arange(steps.shape[1]) == lengths[:, None])[..., None]  # (B, K + 1, 1)
        steps = torch.where(at_end, final[:, None], steps)
        packed = nn.utils.rnn.pack_padded_sequence(
            steps, lengths + 1, batch_first=True, enforce_sorted=False
        )
        _, h = self.gru(packed)
        return self.posterior(h[0])


class ODERNNEncoder(_Encoder):
    """The ODE-RNN encoder (Rubanova et al. 2019): between observations h evolves by an ODE.

    Reading backwards over the batch's times, the hidden state of a series that has started
    (seen its last observation) follows dh/dt = f_h(h), an autonomous MLP, from one time to the
    previous one (solved backwards in time by :func:`ode_course.backends.integrate`); at each
    of its observations it jumps, h ← GRUCell([xⱼ ⊙ mⱼ, mⱼ], h). The gaps need not be an
    input: the ODE turns the time between observations into a change of state. Finally h
    evolves back to t₀ and (μ, ln s²) = Linear(h). It loops over the union of times in Python,
    so it is slower than :class:`GRUEncoder`.

    ``encoder.nfe`` is the cost of its latest encoding (forward pass): the evaluations of f_h
    in all of that pass's solves, one per gap between consecutive times (with
    ``backend="adjoint"``, their backward passes add theirs). ``encoder.dynamics.nfe`` is the
    field's own counter, which adds up over all calls until it is reset.

    Args:
        obs_dim: D, the features per observation.
        latent_dim: L, the dimension of z₀.
        hidden: H, the width of the hidden state.
        ode_hidden: the width of f_h's hidden layer.
        method, step_size: the solver for h (a fixed-grid method, e.g. ``"rk4"``).
        backend: who solves: one of :data:`ode_course.backends.BACKENDS` (None:
            ``"ode_course"``).

    Raises:
        TypeError: a size or ``step_size`` is of the wrong type.
        ValueError: a size is less than 1, ``step_size`` is not positive, or ``backend`` or
            ``method`` is unknown.

    Example:
        >>> from ode_course.data import collate_series
        >>> batch = collate_series([[0.0, 1.0], [0.5]], [[1.0, 2.0], [3.0]], dtype=torch.float32)
        >>> encoder = ODERNNEncoder(obs_dim=1, latent_dim=2, hidden=4, step_size=0.25)
        >>> encoder(batch)[0].shape, encoder.nfe  # 1 → 0.5 → 0: 4 rk4 steps of 4 evaluations
        (torch.Size([2, 2]), 16)
    """

    def __init__(
        self,
        obs_dim: int,
        latent_dim: int,
        hidden: int = 32,
        *,
        ode_hidden: int = 32,
        method: str = "rk4",
        step_size: float = 0.1,
        backend: str | None = None,
    ):
        super().__init__(obs_dim, latent_dim, hidden)
        self.backend = backends.check_backend("ode_course" if backend is None else backend, method)
        self.cell = nn.GRUCell(2 * self.obs_dim, self.hidden)
        self.dynamics = LatentDynamics(self.hidden, ode_hidden)
        self.method = method
        self.step_size = _validate.positive(step_size, "step_size", fix="e.g. step_size=0.1")
        self._count = _SolveCount()

    @property
    def nfe(self) -> int:
        """Evaluations of f_h in the latest forward pass, all its solves (0 before the first)."""
        return self._count.nfe

    def evolve(
        self, h: torch.Tensor, t_from: torch.Tensor, t_to: torch.Tensor, started: torch.Tensor
    ) -> torch.Tensor:
        """h(t_to) from h(t_from) by dh/dt = f_h(h), for the series that have started.

        The solve's evaluations are added to :attr:`nfe` (the count of the current pass).
        """
        if not bool(started.any()):
            return h
        span = torch.stack([t_from, t_to])
        ys, counter = backends.integrate(
            self.dynamics,
            h,
            span,
            backend=self.backend,
            method=self.method,
            step_size=self.step_size,
        )
        self._count.counters.append(counter)
        return torch.where(started[:, None], ys[-1], h)

    def forward(
        self, batch: IrregularBatch, t0: float | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, ln s²) of q(z₀ | x), each (B, L), for z₀ at t0 (see :meth:`GRUEncoder.forward`)."""
        _check_batch(batch, self, self.obs_dim)
        t0 = _resolve_t0(batch, t0)
        self._count = _SolveCount()
        times, mask = batch.times, batch.mask
        x = torch.where(mask, batch.values, torch.zeros_like(batch.values))
        m = mask.to(x.dtype)
        observed = mask.any(dim=2)  # (B, T)
        h = x.new_zeros(batch.n_series, self.hidden)
        started = torch.zeros(batch.n_series, dtype=torch.bool)
        for i in reversed(range(len(times))):
            if i < len(times) - 1:
                h = self.evolve(h, times[i + 1], times[i], started)
            obs = observed[:, i]
            h = torch.where(obs[:, None], self.cell(torch.cat([x[:, i], m[:, i]], dim=1), h), h)
            started = started | obs
        if t0 < times[0].item():
            h = self.evolve(h, times[0], torch.tensor(t0, dtype=x.dtype), started)
        return self.posterior(h)


# ------------------------------------------------------------------------------------ models
class LatentODE(nn.Module):
    """A latent ODE: encoder q(z₀ | x), latent dynamics dz/dt = f(z), decoder x̂ = g(z).

    See the module docstring for the generative story and the ELBO. The encoder is a
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
    adds its evaluations). ``model.dynamics.nfe`` is the field's own counter, which adds up
    over all calls until it is reset (``model.dynamics.nfe = 0``); an ODE-RNN encoder counts
    its own solves in ``model.encoder.nfe``.

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
        >>> model.nfe, model.dynamics.nfe  # 19 midpoint steps of 2 evaluations, 20 grid times
        (38, 38)
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
        self._count = _SolveCount()

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
        times = _check_times(times, t0, z0.dtype)
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
        self._count = _SolveCount()
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
        _check_batch(batch, self, self.obs_dim)
        t0 = _resolve_t0(batch, t0)
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
        _check_batch(batch, self, self.obs_dim)
        t0 = _resolve_t0(batch, t0)
        mu, _ = self.encode(batch, t0)
        return self.decode(mu, t0, times)

    def latent_trajectory(
        self, batch: IrregularBatch, times: torch.Tensor, *, t0: float | None = None
    ) -> torch.Tensor:
        """z(t) at ``times`` from the posterior mean z₀ = μ: shape (B, len(times), L)."""
        _check_batch(batch, self, self.obs_dim)
        t0 = _resolve_t0(batch, t0)
        mu, _ = self.encode(batch, t0)
        return self.latent_path(mu, t0, times)


class RNNBaseline(nn.Module):
    """A GRU over the observations with the time gaps as input, predicting at any later time.

    Reading series b forwards from t₀, at each of its observation times tⱼ

        x̂(tⱼ) = head([h, Δⱼ]),     h ← GRU([xⱼ ⊙ mⱼ, mⱼ, Δⱼ], h),     Δⱼ = tⱼ − t_{j−1},

    with t₀ before the first observation, h = 0 at the start and head an MLP with one tanh
    layer: the prediction of each observation uses only the ones before it and the gap to it.
    Training minimises the masked MSE of these one-step-ahead predictions (teacher forcing,
    :meth:`loss`; one packed ``torch.nn.GRU`` call per batch). To predict at a query time t,
    the head reads the state at the latest observation before t and the gap to t; after the
    series' last observation the model feeds each prediction back in as if it were an
    observation (an autoregressive rollout), so it can extrapolate over a whole window.

    Args:
        obs_dim: D, the features per observation.
        hidden: the width of the GRU state and of the head.

    Raises:
        TypeError: a size is not an integer.
        ValueError: a size is less than 1.

    Example:
        >>> from ode_course.data import collate_series
        >>> batch = collate_series([[0.0, 1.0], [0.5]], [[1.0, 2.0], [3.0]], dtype=torch.float32)
        >>> model = RNNBaseline(obs_dim=1, hidden=4)
        >>> model.predict(batch, torch.tensor([1.5, 2.0, 3.0])).shape
        torch.Size([2, 3, 1])
    """

    def __init__(self, obs_dim: int = 2, hidden: int = 32):
        super().__init__()
        self.obs_dim = _validate.integer(obs_dim, "obs_dim")
        self.hidden = _validate.integer(hidden, "hidden")
        self.gru = nn.GRU(2 * self.obs_dim + 1, self.hidden, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(self.hidden + 1, self.hidden), nn.Tanh(), nn.Linear(self.hidden, obs_dim)
        )

    def guess(self, h: torch.Tensor, gap: torch.Tensor) -> torch.Tensor:
        """x̂ = head([h, Δ]) for states h (..., H) and gaps Δ (...): shape (..., D)."""
        return self.head(torch.cat([h, gap[..., None]], dim=-1))

    def one_step_predictions(
        self, batch: IrregularBatch, t0: float | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The prediction of each observation from the ones before it (teacher forcing).

        Returns:
            ``(predictions, values, mask)``, each (B, K, D): series b's j-th observation, its
            prediction and its mask in position j (see :func:`own_sequences`).
        """
        _check_batch(batch, self, self.obs_dim)
        t0 = _resolve_t0(batch, t0)
        times, x, mask, lengths = own_sequences(batch)
        gaps = torch.cat([times[:, :1] - t0, times[:, 1:] - times[:, :-1]], dim=1)
        steps = torch.cat([x, mask.to(x.dtype), gaps[..., None]], dim=2)
        packed = nn.utils.rnn.pack_padded_sequence(
            steps, lengths, batch_first=True, enforce_sorted=False
        )
        out, _ = self.gru(packed)
        after, _ = nn.utils.rnn.pad_packed_sequence(
            out, batch_first=True, total_length=steps.shape[1]
        )
        before = torch.cat([torch.zeros_like(after[:, :1]), after[:, :-1]], dim=1)
        return self.guess(before, gaps), x, mask

    def loss(self, batch: IrregularBatch) -> torch.Tensor:
        """The masked MSE of the one-step-ahead predictions x̂(tⱼ) against xⱼ."""
        return masked_mse(*self.one_step_predictions(batch))

    def predict(
        self, batch: IrregularBatch, times: torch.Tensor, *, t0: float | None = None
    ) -> torch.Tensor:
        """x̂ at any ``times`` ≥ t0 (see the class docstring): shape (B, len(times), D).

        Raises:
            TypeError, ValueError: a bad batch, ``times`` not 1-D and strictly increasing, or
                times before t0.
        """
        _check_batch(batch, self, self.obs_dim)
        t0 = _resolve_t0(batch, t0)
        times = _check_times(times, t0, batch.values.dtype)
        observed = batch.mask.any(dim=2)  # (B, T)
        x = torch.where(batch.mask, batch.values, torch.zeros_like(batch.values))
        m = batch.mask.to(x.dtype)
        n, n_times = observed.shape
        last = n_times - 1 - observed.flip(1).to(torch.int64).argmax(dim=1)
        last_obs = batch.times[last]  # (B,) each series' last observation time
        index = {t: i for i, t in enumerate(batch.times.tolist())}
        wanted = set(times.tolist())
        h = x.new_zeros(n, self.hidden)
        t_prev = torch.full((n,), t0, dtype=x.dtype)
        never = torch.zeros(n, dtype=torch.bool)
        answers = []
        for t in torch.unique(torch.cat([batch.times, times])).tolist():
            gap = t - t_prev
            guess = self.guess(h, gap)
            i = index.get(t)
            inputs = (
                x.new_zeros(n, 2 * self.obs_dim) if i is None else torch.cat([x[:, i], m[:, i]], 1)
            )
            update = never if i is None else observed[:, i]
            if t in wanted:
                answers.append(guess)
                feed = t > last_obs  # past its last observation, a series reads its own guess
                fed = torch.cat([guess, torch.ones_like(guess)], dim=1)
                inputs = torch.where(feed[:, None], fed, inputs)
                update = update | feed
            if bool(update.any()):
                step = torch.cat([inputs, gap[:, None]], dim=1)
                h = torch.where(update[:, None], self.gru(step[:, None], h[None])[1][0], h)
                t_prev = torch.where(update, torch.tensor(t, dtype=x.dtype), t_prev)
        return torch.stack(answers, dim=1)


# ------------------------------------------------------------------------------------ training
def fit_series(
    model: LatentODE | RNNBaseline,
    batch: IrregularBatch,
    *,
    iterations: int,
    lr: float = 0.01,
    batch_size: int | None = 64,
    decay_fraction: float = 0.3,
    kl_warmup: int = 0,
    seed: int = 0,
) -> list[float]:
    """Train a :class:`LatentODE` or :class:`RNNBaseline` with Adam on ``model.loss``.

    Each iteration takes ``batch_size`` series drawn at random (on the union of their own
    times), or the whole batch. The learning rate stays at ``lr``, then over the last
    ``decay_fraction`` of the iterations follows a half cosine down to lr/20, which settles
    the noisy end of training. For a latent ODE, ``kl_warmup`` > 0 raises the KL weight
    linearly from 1/kl_warmup to 1 over the first ``kl_warmup`` iterations.

    Args:
        model: the model to train (in place).
        batch: the training series.
        iterations: the number of Adam steps.
        lr: Adam's learning rate.
        batch_size: series per step; None for all of them.
        decay_fraction: the share of the iterations, at the end, over which lr decays.
        kl_warmup: iterations of KL warm-up (latent ODEs only); 0 for none.
        seed: seeds the minibatch draws and the ELBO's noise.

    Returns:
        The training loss at every iteration.

    Raises:
        TypeError: ``iterations``, ``batch_size`` or ``kl_warmup`` is not an integer, or
            ``lr`` or ``decay_fraction`` not a number.
        ValueError: ``iterations`` or ``batch_size`` is less than 1, ``lr`` is not positive,
            ``decay_fraction`` is not in [0, 1], or ``kl_warmup`` is negative or given for a
            model without a KL term.

    Example:
        >>> from ode_course.data import collate_series
        >>> batch = collate_series([[0.0, 0.5, 1.0]], [[0.0, 1.0, 0.0]], dtype=torch.float32)
        >>> losses = fit_series(RNNBaseline(obs_dim=1, hidden=4), batch, iterations=3)
        >>> len(losses)
        3
    """
    iterations = _validate.integer(iterations, "iterations", fix="e.g. iterations=500")
    lr = _validate.positive(lr, "lr", fix="e.g. lr=0.01")
    if batch_size is not None:
        batch_size = _validate.integer(
            batch_size, "batch_size", fix="e.g. batch_size=64, or None for all series"
        )
    decay_fraction = _validate.in_interval(
        decay_fraction, "decay_fraction", 0.0, 1.0, closed="[]", fix="e.g. decay_fraction=0.3"
    )
    kl_warmup = _validate.integer(
        kl_warmup, "kl_warmup", minimum=0, fix="e.g. kl_warmup=100, or 0 for none"
    )
    if kl_warmup and not isinstance(model, LatentODE):
        _validate.fail(
            "kl_warmup",
            "0 for a model without a KL term (it weighs a LatentODE's KL)",
            f"kl_warmup={kl_warmup} for a {type(model).__name__}, which has none",
            "kl_warmup=0",
        )
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    start = iterations - round(decay_fraction * iterations)
    losses = []
    for it in range(iterations):
        if it >= start:
            progress = (it - start) / max(1, iterations - start)
            for group in optimizer.param_groups:
                group["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
        part = batch
        if batch_size is not None and batch_size < batch.n_series:
            part = batch.subset(torch.randperm(batch.n_series, generator=generator)[:batch_size])
        optimizer.zero_grad()
        if isinstance(model, LatentODE):
            weight = min(1.0, (it + 1) / kl_warmup) if kl_warmup else 1.0
            loss = model.loss(part, kl_weight=weight)
        else:
            loss = model.loss(part)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def prediction_mse(
    model: LatentODE | RNNBaseline,
    batch: IrregularBatch,
    times: torch.Tensor,
    targets: torch.Tensor,
) -> float:
    """mean over series, times and features of (x̂(t) − x(t))², x̂ = model.predict(batch, times).

    Args:
        model: a :class:`LatentODE` or :class:`RNNBaseline` (anything with ``predict``).
        batch: the observed series (B of them).
        times: (M,) the times to predict at, e.g. the extrapolation window.
        targets: (B, M, D) the values there.

    Returns:
        The mean squared error, a Python float.

    Raises:
        ValueError: ``targets`` does not have shape (B, M, D).

    Example:
        >>> from ode_course.data import irregular_spirals
        >>> data = irregular_spirals(5, seed=0)
        >>> times = torch.as_tensor(data.future_times)
        >>> mse = prediction_mse(RNNBaseline().double(), data.batch(), times, data.future_values)
        >>> mse > 0
        True
    """
    with torch.no_grad():
        prediction = model.predict(batch, times)
    targets = torch.as_tensor(targets, dtype=prediction.dtype)
    _validate.shape(
        targets,
        "targets",
        f"of shape (B, M, D) = {tuple(prediction.shape)}",
        targets.shape == prediction.shape,
        fix="one row per series, one column per time",
    )
    return ((prediction - targets) ** 2).mean().item()

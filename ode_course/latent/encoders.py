"""The encoders q(z₀ | x) = N(μ, diag s²), which read each series backwards in time.

- :func:`own_sequences`: each series' own observations, left-aligned, for a recurrent network;
- :class:`GRUEncoder`: a GRU with the time gaps as an input;
- :class:`ODERNNEncoder`: the ODE-RNN, whose hidden state follows an ODE between observations.
"""

from __future__ import annotations

import torch
from torch import nn

from ode_course import _validate, backends
from ode_course.data import IrregularBatch
from ode_course.latent._checks import check_batch, resolve_t0
from ode_course.latent.dynamics import LatentDynamics, SolveCount

__all__ = ["GRUEncoder", "ODERNNEncoder", "own_sequences"]


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
        check_batch(batch, self, self.obs_dim)
        t0 = resolve_t0(batch, t0)
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
    ``backend="adjoint"``, their backward passes add theirs).

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
        self._count = SolveCount()

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
        check_batch(batch, self, self.obs_dim)
        t0 = resolve_t0(batch, t0)
        self._count = SolveCount()
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

"""The baseline: a GRU that reads the time gaps and predicts at any later time.

:class:`RNNBaseline` is trained on its one-step-ahead predictions (teacher forcing) and
extrapolates by feeding its own predictions back in.
"""

from __future__ import annotations

import torch
from torch import nn

from ode_course import _validate
from ode_course.data import IrregularBatch
from ode_course.latent._checks import check_batch, check_times, resolve_t0
from ode_course.latent.elbo import masked_mse
from ode_course.latent.encoders import own_sequences

__all__ = ["RNNBaseline"]


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
        check_batch(batch, self, self.obs_dim)
        t0 = resolve_t0(batch, t0)
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
        check_batch(batch, self, self.obs_dim)
        t0 = resolve_t0(batch, t0)
        times = check_times(times, t0, batch.values.dtype)
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

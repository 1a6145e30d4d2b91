"""Training a latent ODE or the baseline, and measuring its predictions.

- :func:`fit_series`: Adam on ``model.loss`` over random minibatches of series, with a cosine
  decay at the end and an optional KL warm-up;
- :func:`prediction_mse`: the mean squared error of ``model.predict`` against known values.
"""

from __future__ import annotations

import math
import time

import torch

from ode_course import _validate
from ode_course.data import IrregularBatch
from ode_course.history import TrainingHistory
from ode_course.latent.baseline import RNNBaseline
from ode_course.latent.model import LatentODE

__all__ = ["fit_series", "prediction_mse"]


def fit_series(
    model: LatentODE | RNNBaseline,
    batch: IrregularBatch,
    *,
    steps: int,
    lr: float = 0.01,
    batch_size: int | None = 64,
    decay_fraction: float = 0.3,
    kl_warmup: int = 0,
    seed: int = 0,
) -> TrainingHistory:
    """Train a :class:`LatentODE` or :class:`RNNBaseline` with Adam on ``model.loss``.

    Each iteration takes ``batch_size`` series drawn at random (on the union of their own
    times), or the whole batch. The learning rate stays at ``lr``, then over the last
    ``decay_fraction`` of the steps follows a half cosine down to lr/20, which settles
    the noisy end of training. For a latent ODE, ``kl_warmup`` > 0 raises the KL weight
    linearly from 1/kl_warmup to 1 over the first ``kl_warmup`` steps.

    Args:
        model: the model to train (in place).
        batch: the training series.
        steps: the number of Adam steps.
        lr: Adam's learning rate.
        batch_size: series per step; None for all of them.
        decay_fraction: the share of the steps, at the end, over which lr decays.
        kl_warmup: steps of KL warm-up (latent ODEs only); 0 for none.
        seed: seeds the minibatch draws and the ELBO's noise.

    Returns:
        A :class:`~ode_course.history.TrainingHistory` per step: the training loss of every
        step and the wall time.

    Raises:
        TypeError: ``steps``, ``batch_size`` or ``kl_warmup`` is not an integer, or
            ``lr`` or ``decay_fraction`` not a number.
        ValueError: ``steps`` or ``batch_size`` is less than 1, ``lr`` is not positive,
            ``decay_fraction`` is not in [0, 1], or ``kl_warmup`` is negative or given for a
            model without a KL term.

    Example:
        >>> from ode_course.data import collate_series
        >>> batch = collate_series([[0.0, 0.5, 1.0]], [[0.0, 1.0, 0.0]], dtype=torch.float32)
        >>> history = fit_series(RNNBaseline(obs_dim=1, hidden=4), batch, steps=3)
        >>> len(history), history.per
        (3, 'step')
    """
    steps = _validate.integer(steps, "steps", fix="e.g. steps=500")
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
    seed = _validate.integer(seed, "seed", minimum=0, fix="e.g. seed=0")
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    start = steps - round(decay_fraction * steps)
    history, started = TrainingHistory(per="step"), time.perf_counter()
    for it in range(steps):
        if it >= start:
            progress = (it - start) / max(1, steps - start)
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
        history.record(loss.item())
    history.seconds = time.perf_counter() - started
    return history


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

"""The checks of the inputs that every model of the package takes: batches, t₀ and query times.

These are shared by the encoders, :class:`~ode_course.latent.LatentODE` and
:class:`~ode_course.latent.RNNBaseline`, and are not part of the public interface.
"""

from __future__ import annotations

import torch
from torch import nn

from ode_course import _validate
from ode_course.data import IrregularBatch

__all__: list[str] = []


def check_batch(batch: IrregularBatch, module: nn.Module, obs_dim: int) -> None:
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


def resolve_t0(batch: IrregularBatch, t0: float | None) -> float:
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


def check_times(times: torch.Tensor, t0: float, dtype: torch.dtype) -> torch.Tensor:
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

"""Series observed at different times, batched: the union of their times and a mask.

A model reads B series at once, but series b is observed at its own times t_b,1 < … < t_b,k_b.
:func:`collate_series` puts them on the sorted union of all their times: ``values[b, i]`` is
series b's observation at ``times[i]`` where ``mask[b, i]`` is True, and nothing (0) where it is
not, so that a likelihood sums over observed entries only (Rubanova, Chen & Duvenaud, 2019).
The result is an :class:`IrregularBatch`.

Example:
    >>> batch = collate_series([[0.0, 1.0], [0.5]], [[[1.0], [2.0]], [[3.0]]])
    >>> batch.times.tolist(), batch.mask[:, :, 0].tolist()
    ([0.0, 0.5, 1.0], [[True, False, True], [False, True, False]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike

from ode_course import _validate

__all__ = ["IrregularBatch", "collate_series"]


@dataclass(frozen=True)
class IrregularBatch:
    """B series on the union of their observation times, with a mask of what was observed.

    ``values[b, i]`` is series b's observation at ``times[i]`` where ``mask[b, i]`` is True;
    masked-out entries hold no information (:func:`collate_series` sets them to 0, but any
    value, nan included, is allowed) and models must ignore them. A per-feature mask allows
    series that observe only some features at a time.

    Attributes:
        times: (T,) the union of the series' times, strictly increasing.
        values: (B, T, D) the observations, floating point, dtype of ``times``.
        mask: (B, T, D) bool, True where observed.

    Raises:
        TypeError: a field is not a tensor, dtypes disagree, or the mask is not bool.
        ValueError: ``times`` is not 1-D and strictly increasing; ``values`` is not (B, T, D);
            mask and values have different shapes; a series has no observation; an observed
            value is not finite.

    Example:
        >>> batch = IrregularBatch(
        ...     torch.tensor([0.0, 0.5]), torch.ones(1, 2, 1), torch.tensor([[[True], [False]]])
        ... )
        >>> batch.n_observed.tolist()
        [1]
    """

    times: torch.Tensor
    values: torch.Tensor
    mask: torch.Tensor

    def __post_init__(self) -> None:
        fix = "build batches with collate_series(times, values)"
        times = _validate.tensor(self.times, "times", floating=True, fix=fix)
        values = _validate.tensor(self.values, "values", fix=fix)
        mask = _validate.tensor(self.mask, "mask", fix=fix)
        if values.dtype != times.dtype:
            _validate.fail(
                "values",
                f"of the floating-point dtype of times, {times.dtype}",
                str(values.dtype),
                "values = values.to(times.dtype)",
                TypeError,
            )
        if mask.dtype != torch.bool:
            _validate.fail(
                "mask", "a bool tensor", str(mask.dtype), "mask = mask.bool()", TypeError
            )
        _validate.shape(
            times,
            "times",
            "a non-empty 1-D tensor",
            times.ndim == 1 and len(times) > 0,
            fix="pass the union of the series' times, e.g. torch.unique(all_times)",
        )
        _validate.strictly_monotone(
            times.tolist(),
            "times",
            increasing_only=True,
            fix="pass the sorted union, torch.unique(t)",
        )
        _validate.shape(
            values,
            "values",
            f"of shape (B, T, D) with T = len(times) = {len(times)}",
            values.ndim == 3 and values.shape[1] == len(times),
            fix="one row per series, one column per time",
        )
        _validate.shape(
            mask,
            "mask",
            f"of the shape of values, (B, T, D) = {tuple(values.shape)}",
            mask.shape == values.shape,
            fix="one flag per value, e.g. mask = torch.isfinite(values)",
        )
        empty = (~mask.flatten(1).any(dim=1)).nonzero().flatten().tolist()
        if empty:
            _validate.fail(
                "mask",
                "True somewhere in every series (each needs at least one observation)",
                f"series {empty[:5]} {'is' if len(empty) == 1 else 'are'} empty (mask all False)",
                "drop empty series before batching",
            )
        _validate.finite(
            values[mask],
            "values[mask] (the observed values)",
            fix="mark missing values in the mask, or remove them",
        )

    @property
    def n_series(self) -> int:
        """B, the number of series."""
        return self.values.shape[0]

    @property
    def n_observed(self) -> torch.Tensor:
        """(B,) int64: the number of times at which each series has an observation."""
        return self.mask.any(dim=2).sum(dim=1)

    def subset(self, index: int | Sequence[int] | slice | torch.Tensor) -> IrregularBatch:
        """The series at ``index`` (ints, a slice or a bool mask), on the union of *their* times."""
        values, mask = self.values[index], self.mask[index]
        if values.ndim == 2:  # a single int selects one series: keep the batch dimension
            values, mask = values[None], mask[None]
        keep = mask.any(dim=2).any(dim=0)
        return IrregularBatch(self.times[keep], values[:, keep], mask[:, keep])


def collate_series(
    times: Sequence[ArrayLike], values: Sequence[ArrayLike], *, dtype: torch.dtype = torch.float64
) -> IrregularBatch:
    """Put series observed at different times on the union of their times, with a mask.

    The union is every time at which at least one series was observed, sorted. Series b's
    observation at its time tⱼ goes to ``values[b, i]`` where ``times[i] = tⱼ``, and
    ``mask[b, i]`` is True there; all other entries are 0 and masked out. A nan in a series'
    values marks a missing feature (masked out too).

    Args:
        times: a sequence of B arrays, the b-th of shape (k_b,): strictly increasing times.
        values: a sequence of B arrays of shape (k_b, D) (or (k_b,) for D = 1).
        dtype: the floating-point dtype of the batch.

    Returns:
        An :class:`IrregularBatch` with times (T,), values and mask (B, T, D).

    Raises:
        ValueError: the two sequences differ in length or are empty; a series is empty, its
            times are not strictly increasing or not finite, or its values do not have one
            row per time; series differ in D; a value is infinite.

    Example:
        >>> batch = collate_series([[0.0, 2.0], [1.0, 2.0, 3.5]], [[1.0, 2.0], [3.0, 4.0, 5.0]])
        >>> batch.times.tolist(), batch.values.shape
        ([0.0, 1.0, 2.0, 3.5], torch.Size([2, 4, 1]))
        >>> batch.mask[..., 0].int().tolist()
        [[1, 0, 1, 0], [0, 1, 1, 1]]
    """
    fix = "pass one times array and one values array per series"
    if len(times) == 0:
        _validate.fail("times", "a sequence of at least 1 series", "an empty sequence", fix)
    if len(values) != len(times):
        _validate.fail(
            "values",
            f"the same number of series as times ({len(times)})",
            f"{len(values)} series",
            fix,
        )
    ts, xs = [], []
    for b, (t_b, x_b) in enumerate(zip(times, values, strict=True)):
        t = np.asarray(t_b, dtype=np.float64)
        x = np.asarray(x_b, dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        if t.ndim != 1 or len(t) == 0:
            _validate.fail(
                f"times[{b}]",
                "a non-empty 1-D array of times",
                f"shape {t.shape}" + (f": series {b} is empty" if t.size == 0 else ""),
                "drop series without observations; give each series a 1-D array of times",
            )
        _validate.finite(t, f"times[{b}]", fix="drop the observations at non-finite times")
        _validate.strictly_monotone(
            t.tolist(),
            f"times[{b}]",
            increasing_only=True,
            fix="sort each series by time (order = np.argsort(t); t, x = t[order], x[order]) and "
            "merge repeated times",
        )
        _validate.shape(
            x,
            f"values[{b}]",
            f"of shape (k, D) with one row per time, k = {len(t)}",
            x.ndim == 2 and len(x) == len(t),
            fix=f"give series {b} one row of values per time",
        )
        if np.isinf(x).any():
            _validate.fail(
                f"values[{b}]",
                "finite or nan (nan marks a missing value)",
                "an infinite value",
                "use nan for a missing value",
            )
        ts.append(t)
        xs.append(x)
    dims = {x.shape[1] for x in xs}
    if len(dims) != 1:
        _validate.fail(
            "values",
            "series with the same number of features D",
            f"D in {sorted(dims)}",
            "pad missing features with nan",
        )
    union = np.unique(np.concatenate(ts))
    out = np.zeros((len(ts), len(union), dims.pop()))
    mask = np.zeros(out.shape, dtype=bool)
    for b, (t, x) in enumerate(zip(ts, xs, strict=True)):
        idx = np.searchsorted(union, t)
        out[b, idx] = np.nan_to_num(x)
        mask[b, idx] = ~np.isnan(x)
    return IrregularBatch(
        torch.as_tensor(union, dtype=dtype),
        torch.as_tensor(out, dtype=dtype),
        torch.as_tensor(mask),
    )

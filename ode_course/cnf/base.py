"""The base density log N(z; 0, I) of every flow, and the points (N, D) that flows score.

A normalizing flow maps the data x to a base variable z whose density is the standard normal,

    log N(z; 0, I) = −½‖z‖² − (D/2) log 2π,

and adds the log-determinant of the map (:class:`~ode_course.cnf.PlanarFlow`) or the integral
of a trace (:class:`~ode_course.cnf.CNF`). Every model of this package takes its data the same
way, as N points of dimension D in the rows of a tensor or array, checked by ``as_points``
(shared within the package, with ``reference_tensor``; neither is public).

Example:
    >>> f"{standard_normal_log_prob(torch.zeros(1, 2)).item():.6f}"  # −log 2π
    '-1.837877'
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from ode_course import _validate

__all__ = ["standard_normal_log_prob"]

_LOG_2PI = math.log(2 * math.pi)


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) = −½‖z‖² − (D/2) log 2π for every row of z, shape (N, D) → (N,).

    Args:
        z: the points, shape (N, D) (any leading shape: the last axis is D).

    Returns:
        The log-densities, shape (N,).

    Example:
        >>> f"{standard_normal_log_prob(torch.zeros(1, 2)).item():.6f}"  # −log 2π
        '-1.837877'
    """
    return -0.5 * (z**2).sum(dim=-1) - 0.5 * z.shape[-1] * _LOG_2PI


def as_points(x: Any, dim: int, like: torch.Tensor, name: str = "x") -> torch.Tensor:
    """``x`` as an (N, dim) tensor, N ≥ 1, finite, with the dtype and device of ``like``.

    Args:
        x: a tensor, array or nested list of shape (N, dim).
        dim: D, the dimension of the flow.
        like: a tensor whose dtype and device the result takes (see ``reference_tensor``).
        name: the argument's name, for the messages.

    Returns:
        The points, shape (N, dim).

    Raises:
        TypeError: ``x`` does not hold real numbers.
        ValueError: ``x`` is not of shape (N, dim) with N ≥ 1, or holds nan or inf.

    Example:
        >>> as_points([[1, 2]], 2, torch.zeros((), dtype=torch.float64))
        tensor([[1., 2.]], dtype=torch.float64)
    """
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(np.asarray(x, dtype=np.float64))
        except (TypeError, ValueError):
            _validate.fail(
                name,
                f"a tensor or array of shape (N, {dim}) holding real numbers",
                f"{type(x).__name__} that numpy cannot read as float64",
                f"pass numbers, e.g. {name} = torch.tensor(data, dtype=torch.float64)",
                TypeError,
            )
    if not (x.is_floating_point() or x.dtype in (torch.int32, torch.int64)):
        _validate.fail(
            name,
            "of a real dtype (it must hold real numbers)",
            f"dtype {x.dtype}",
            f"convert it, e.g. {name} = {name}.real.to(torch.float64)",
            TypeError,
        )
    if x.ndim != 2 or x.shape[1] != dim or x.shape[0] == 0:
        hint = f" (a single point: {name}[None])" if x.ndim == 1 and x.shape[0] == dim else ""
        _validate.fail(
            name,
            f"of shape (N, {dim}) with N >= 1, one row per point, for a flow of dimension {dim}",
            f"shape {tuple(x.shape)}",
            f"reshape the data{hint}, or build the flow with dim={x.shape[-1] if x.ndim else 1}",
        )
    bad = ~torch.isfinite(x).all(dim=1)
    if bool(bad.any()):
        rows = torch.nonzero(bad).flatten()[:5].tolist()
        _validate.fail(
            name,
            "finite",
            f"rows {rows} holding nan or inf ({int(bad.sum())} rows in all)",
            f"drop them, e.g. {name} = {name}[torch.isfinite({name}).all(dim=1)]",
        )
    return x.to(dtype=like.dtype, device=like.device)


def reference_tensor(module: nn.Module) -> torch.Tensor:
    """A parameter (or else a floating-point buffer) of ``module``: its dtype and device rule.

    The data a model receives are converted to this tensor's dtype and device; a module
    without either gives a 0-d tensor of torch's default dtype.

    Example:
        >>> reference_tensor(nn.Linear(2, 2).double()).dtype
        torch.float64
    """
    for p in module.parameters():
        return p
    for b in module.buffers():
        if b.is_floating_point():
            return b
    return torch.zeros((), dtype=torch.get_default_dtype())

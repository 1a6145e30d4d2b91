"""The base density log N(z; 0, I) of every flow, and the points (N, D) that flows score.

A normalizing flow maps the data x to a base variable z whose density is the standard normal,

    log N(z; 0, I) = −½‖z‖² − (D/2) log 2π,

and adds the log-determinant of the map (:class:`~ode_course.cnf.PlanarFlow`) or the integral
of a trace (:class:`~ode_course.cnf.CNF`). Every model of this package takes its data the same
way, as N points of dimension D in the rows of a tensor or array, checked by the package's one
point-set contract (``_validate.points``) and converted to the dtype and device of the model's
``reference_tensor`` (shared within the package, not public).

Example:
    >>> f"{standard_normal_log_prob(torch.zeros(1, 2)).item():.6f}"  # −log 2π
    '-1.837877'
"""

from __future__ import annotations

import math

import torch
from torch import nn

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

"""The latent vector field f(z), and the count of its evaluations over the solves of one pass.

:class:`LatentDynamics` is the field of both the latent ODE and the ODE-RNN encoder's hidden
state; ``SolveCount`` (not exported) adds up the counters of one pass's solves, which is what a
model's ``nfe`` reports.
"""

from __future__ import annotations

import torch
from torch import nn

from ode_course import _validate
from ode_course.solvers import CountNFE

__all__ = ["LatentDynamics"]


class LatentDynamics(nn.Module):
    """The autonomous vector field f(t, z) = W₂ tanh(W₁ z + b₁) + b₂ (t is not an input).

    It ignores t, so the dynamics are the same at every time, which is what lets a latent ODE
    extrapolate beyond the times it was trained on. It does not count its calls: the models
    that solve it do (:attr:`LatentODE.nfe` for the latest latent solve,
    :attr:`ODERNNEncoder.nfe` for one encoding), with :class:`~ode_course.solvers.CountNFE`,
    the package's one counter of evaluations.

    Args:
        dim: the dimension of the state z.
        hidden: the width of the hidden layer.

    Raises:
        TypeError: ``dim`` or ``hidden`` is not an integer.
        ValueError: ``dim`` or ``hidden`` is less than 1.

    Example:
        >>> f = LatentDynamics(3, 8)
        >>> f(torch.tensor(0.0), torch.zeros(5, 3)).shape
        torch.Size([5, 3])
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        dim, hidden = _validate.integer(dim, "dim"), _validate.integer(hidden, "hidden")
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, dim))

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class SolveCount:
    """The evaluations of a field over the solves of one pass: the sum of their counters.

    It is a plain object, not an ``nn.Module``, so that a model that keeps one stays with the
    same parameters and ``state_dict`` (the counters wrap a field that is already a child).
    """

    def __init__(self) -> None:
        self.counters: list[CountNFE] = []

    @property
    def nfe(self) -> int:
        return sum(counter.nfe for counter in self.counters)

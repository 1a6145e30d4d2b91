"""The vector fields of a CNF: the network f(t, z), and the augmented field [f, −tr ∂f/∂z].

A continuous normalizing flow moves points by dz/dt = f(t, z), and the log-density along each
path changes by the instantaneous change of variables, d log p(z(t))/dt = −tr(∂f/∂z(t)). This
module holds the fields that :class:`~ode_course.cnf.CNF` integrates:

- :class:`TimeMLP`: the default f, an MLP that sees the time t in every layer, with a smooth
  activation from ``ACTIVATIONS``;
- :class:`LinearField`: f(t, z) = Az, whose flow e^{tA} has the closed-form log-determinant
  t·tr A (the test of everything else);
- :class:`AugmentedDynamics`: d[z, ℓ]/dt = [f(t, z), −tr ∂f/∂z] on states of shape (N, D + 1),
  with the exact trace or Hutchinson's estimate (:mod:`~ode_course.cnf.traces`).

Example:
    >>> field = AugmentedDynamics(LinearField(torch.diag(torch.tensor([1.0, 2.0]))))
    >>> field(0.0, torch.tensor([[1.0, 1.0, 0.0]])).tolist()  # [Az, −tr A]
    [[1.0, 2.0, -3.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import cast

import torch
from torch import nn

from ode_course import _validate
from ode_course.cnf.traces import TRACE_ESTIMATORS, exact_trace, hutchinson_trace

__all__ = ["ACTIVATIONS", "AugmentedDynamics", "LinearField", "TimeMLP"]

ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "softplus": nn.Softplus}
"""Smooth activations for :class:`TimeMLP` (training a CNF differentiates f twice, so ReLU,
whose second derivative is zero, would leave the trace without a gradient)."""


class TimeMLP(nn.Module):
    """f(t, z) = W_L [h_{L−1}, t] + b_L, h_k = σ(W_k [h_{k−1}, t] + b_k), h₀ = z: t in every layer.

    Args:
        dim: D, the width of z (input and output).
        hidden: the widths of the hidden layers.
        activation: σ, one of ``ACTIVATIONS`` (smooth, since training differentiates f twice).

    Raises:
        TypeError, ValueError: a width is not a positive integer.
        ValueError: an unknown ``activation``.

    Example:
        >>> f = TimeMLP(2, hidden=(8, 8))
        >>> f(torch.tensor(0.5), torch.zeros(4, 2)).shape
        torch.Size([4, 2])
    """

    def __init__(
        self, dim: int, hidden: Sequence[int] = (64, 64), activation: str = "tanh"
    ) -> None:
        super().__init__()
        dim = _validate.integer(dim, "dim")
        widths = [_validate.integer(h, f"hidden[{i}]") for i, h in enumerate(hidden)]
        activation = _validate.one_of(activation, "activation", ACTIVATIONS)
        sizes = [dim, *widths, dim]
        self.layers = nn.ModuleList(nn.Linear(a + 1, b) for a, b in pairwise(sizes))
        self.activation = ACTIVATIONS[activation]()

    def forward(self, t: torch.Tensor | float, z: torch.Tensor) -> torch.Tensor:
        """dz/dt at time t (a 0-d tensor or a number) for the points z, shape (N, D)."""
        time = torch.as_tensor(t, dtype=z.dtype, device=z.device).expand(*z.shape[:-1], 1)
        h = z
        for k, layer in enumerate(self.layers):
            h = layer(torch.cat([h, time], dim=-1))
            if k < len(self.layers) - 1:
                h = self.activation(h)
        return h


class LinearField(nn.Module):
    """The linear vector field f(t, z) = Az, z of shape (N, D) (so dz/dt = Az row by row).

    Its flow is z(t) = e^{tA} z(0), whose log-determinant is t·tr A: the closed form that
    :class:`~ode_course.cnf.CNF` is tested against.

    Args:
        matrix: A, shape (D, D); a buffer, not a parameter.

    Raises:
        ValueError: ``matrix`` is not square.

    Example:
        >>> LinearField(torch.eye(2))(0.0, torch.ones(1, 2))
        tensor([[1., 1.]])
    """

    matrix: torch.Tensor

    def __init__(self, matrix: torch.Tensor) -> None:
        super().__init__()
        matrix = torch.as_tensor(matrix)
        _validate.shape(
            matrix,
            "matrix",
            "square, of shape (D, D)",
            matrix.ndim == 2 and matrix.shape[0] == matrix.shape[1],
            fix="pass A as a D × D tensor, e.g. torch.eye(2)",
        )
        self.register_buffer("matrix", matrix)

    def forward(self, t: torch.Tensor | float, z: torch.Tensor) -> torch.Tensor:
        """Az for every row of z."""
        return z @ self.matrix.T


class AugmentedDynamics(nn.Module):
    """The augmented vector field d[z, ℓ]/dt = [f(t, z), −tr ∂f/∂z] on states of shape (N, D + 1).

    The last column of the state is ℓ, the change of log-density along each trajectory:
    log p_t(z(t)) = log p_s(z(s)) + ℓ(t) − ℓ(s). The trace is exact or Hutchinson's estimate
    with the fixed probe ``probe``, so every evaluation within one solve uses the same ε.

    The trace needs ∂f/∂z, so f is always evaluated with autograd on; when the caller has
    autograd on too (training, or the adjoint's backward pass), the trace is kept
    differentiable (``create_graph``); otherwise the result is detached.

    Args:
        net: the vector field f(t, z), z of shape (N, D).
        trace: ``"exact"`` or ``"hutchinson"`` (see ``TRACE_ESTIMATORS``).
        probe: ε of shape (N, D), required for ``"hutchinson"``.

    Raises:
        ValueError: an unknown ``trace``, or ``"hutchinson"`` without a probe.

    Example:
        >>> field = AugmentedDynamics(LinearField(torch.eye(2)), "hutchinson",
        ...                           probe=torch.tensor([[1.0, -1.0]]))
        >>> field(0.0, torch.zeros(1, 3)).tolist()  # [Az, −εᵀAε] = [0, 0, −2]
        [[0.0, 0.0, -2.0]]
    """

    def __init__(
        self, net: nn.Module, trace: str = "exact", probe: torch.Tensor | None = None
    ) -> None:
        super().__init__()
        self.net = net
        self.trace = _validate.one_of(trace, "trace", TRACE_ESTIMATORS)
        if self.trace == "hutchinson" and probe is None:
            _validate.fail(
                "probe",
                "a tensor of shape (N, D) when trace='hutchinson'",
                "probe=None",
                "pass probe=sample_probe(z.shape), or trace='exact'",
            )
        self.probe = probe

    def forward(self, t: torch.Tensor | float, state: torch.Tensor) -> torch.Tensor:
        """[f(t, z), −tr ∂f/∂z] for state = [z, ℓ] of shape (N, D + 1)."""
        create_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            z = state[:, :-1]
            if not z.requires_grad:
                z = z.detach().requires_grad_(True)
            fz = self.net(t, z)
            if self.trace == "exact":
                trace = exact_trace(fz, z, create_graph=create_graph)
            else:
                probe = cast(torch.Tensor, self.probe)  # hutchinson_trace checks it
                trace = hutchinson_trace(fz, z, probe, create_graph=create_graph)
        out = torch.cat([fz, -trace[:, None]], dim=1)
        return out if create_graph else out.detach()

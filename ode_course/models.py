"""Residual networks and ODE-Nets: a ResNet block is one Euler step of an ODE-Net.

A residual block maps h ↦ h + f(h, θ). An :class:`ODEBlock` maps h(0) ↦ h(T), the solution of
dh/dt = f(h(t), t, θ) at time T, computed by an ODE solver: with one Euler step of size 1 it is
exactly a residual block whose f also sees t. Shapes: states are batches (N, dim).

Example:
    >>> func = ODEFunc(dim=3, hidden=8)
    >>> block = ODEBlock(func, method="rk4", step_size=0.25)
    >>> block(torch.zeros(5, 3)).shape
    torch.Size([5, 3])
    >>> func.nfe  # 4 steps of rk4, 4 evaluations each
    16
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "ODEBlock",
    "ODEFunc",
    "ResBlock",
    "count_parameters",
    "mlp_classifier",
    "ode_classifier",
    "resnet_classifier",
]

SOLVER_LIBRARIES = ("ode_course", "torchdiffeq")


def _check_size(n: int, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name} must be a positive integer; got {name}={n!r}")
    return n


class ResBlock(nn.Module):
    """h ↦ h + f(h), with f = Linear(dim, hidden) → tanh → Linear(hidden, dim).

    Args:
        dim: the width of the state.
        hidden: the width of the block's hidden layer.
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        dim, hidden = _check_size(dim, "dim"), _check_size(hidden, "hidden")
        self.f = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, dim))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.f(h)


class ODEFunc(nn.Module):
    """The vector field f(t, h) = W₂ tanh(W₁ [h, t] + b₁) + b₂, with t as an extra input.

    Counts its evaluations in ``nfe`` (reset it with ``func.nfe = 0``).

    Args:
        dim: the width of the state h.
        hidden: the width of the hidden layer.
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        dim, hidden = _check_size(dim, "dim"), _check_size(hidden, "hidden")
        self.net = nn.Sequential(nn.Linear(dim + 1, hidden), nn.Tanh(), nn.Linear(hidden, dim))
        self.nfe = 0

    def forward(self, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        time = torch.as_tensor(t, dtype=h.dtype, device=h.device).expand(*h.shape[:-1], 1)
        return self.net(torch.cat([h, time], dim=-1))


class ODEBlock(nn.Module):
    """h(0) ↦ h(T), the solution of dh/dt = func(t, h) at time T, by an ODE solver.

    Args:
        func: the vector field, a module called as ``func(t, h)``.
        t1: the end time T > 0.
        method: the solver's method name (``"rk4"``, ``"dopri5"``, ...).
        step_size: the step of a fixed-grid method.
        rtol, atol: the tolerances of an adaptive method.
        library: ``"ode_course"`` (our solvers, :mod:`ode_course.solvers`) or ``"torchdiffeq"``.

    Raises:
        ValueError: ``t1`` is not positive or ``library`` is unknown.
        TypeError: ``func`` is not an ``nn.Module``.
    """

    def __init__(
        self,
        func: nn.Module,
        *,
        t1: float = 1.0,
        method: str = "rk4",
        step_size: float | None = 0.25,
        rtol: float = 1e-3,
        atol: float = 1e-4,
        library: str = "ode_course",
    ):
        super().__init__()
        if not isinstance(func, nn.Module):
            raise TypeError(f"func must be a torch.nn.Module; got {type(func).__name__}")
        if not t1 > 0:
            raise ValueError(f"t1 must be positive; got t1={t1!r}")
        if library not in SOLVER_LIBRARIES:
            raise ValueError(f"library must be one of {SOLVER_LIBRARIES}; got {library!r}")
        self.func, self.t1, self.method = func, float(t1), method
        self.step_size, self.rtol, self.atol, self.library = step_size, rtol, atol, library

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        t = torch.tensor([0.0, self.t1], dtype=h.dtype, device=h.device)
        if self.library == "torchdiffeq":
            from torchdiffeq import odeint

            options = {"step_size": self.step_size} if self.step_size is not None else None
            return odeint(
                self.func, h, t, method=self.method, rtol=self.rtol, atol=self.atol, options=options
            )[-1]
        from ode_course.solvers import odeint

        return odeint(
            self.func,
            h,
            t,
            method=self.method,
            rtol=self.rtol,
            atol=self.atol,
            step_size=self.step_size,
        )[-1]


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def mlp_classifier(n_in: int, n_classes: int, width: int, depth: int) -> nn.Sequential:
    """An MLP: Linear(n_in, width), then depth × [tanh, Linear(width, width)], tanh, a head."""
    layers: list[nn.Module] = [nn.Linear(n_in, width)]
    for _ in range(depth):
        layers += [nn.Tanh(), nn.Linear(width, width)]
    return nn.Sequential(*layers, nn.Tanh(), nn.Linear(width, n_classes))


def resnet_classifier(
    n_in: int, n_classes: int, width: int, hidden: int, n_blocks: int
) -> nn.Sequential:
    """A ResNet: a stem Linear(n_in, width), ``n_blocks`` residual blocks, tanh, a head."""
    _check_size(n_blocks, "n_blocks")
    blocks = [ResBlock(width, hidden) for _ in range(n_blocks)]
    return nn.Sequential(nn.Linear(n_in, width), *blocks, nn.Tanh(), nn.Linear(width, n_classes))


def ode_classifier(
    n_in: int, n_classes: int, width: int, hidden: int, **block_options
) -> nn.Sequential:
    """A stem Linear(n_in, width), one :class:`ODEBlock`, and a head Linear(width, n_classes).

    The ODE block replaces a stack of residual blocks with one vector field, whose parameters
    are shared across depth (time).
    """
    block = ODEBlock(ODEFunc(width, hidden), **block_options)
    return nn.Sequential(nn.Linear(n_in, width), block, nn.Tanh(), nn.Linear(width, n_classes))

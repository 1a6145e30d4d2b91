"""Residual networks and ODE-Nets: a ResNet block is one Euler step of an ODE-Net.

A residual block maps h ↦ h + f(h, θ). An :class:`ODEBlock` maps h(0) ↦ h(T), the solution of
dh/dt = f(h(t), t, θ) at time T, computed by an ODE solver: with one Euler step of size 1 it is
exactly a residual block whose f also sees t. An :class:`AugmentedODEBlock` (Dupont et al.,
2019) first appends zeros to the state, so that its flow has room to move points past each
other. :func:`train_classifier` is the training loop the chapter uses (the memory the backward
pass needs is measured by :func:`ode_course.memory.activation_memory`).
Shapes: states are batches (N, dim).

Example:
    >>> func = ODEFunc(dim=3, hidden=8)
    >>> block = ODEBlock(func, method="rk4", step_size=0.25)
    >>> block(torch.zeros(5, 3)).shape
    torch.Size([5, 3])
    >>> func.nfe  # 4 steps of rk4, 4 evaluations each
    16
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = [
    "AugmentedODEBlock",
    "ODEBlock",
    "ODEFunc",
    "ResBlock",
    "count_parameters",
    "mlp_classifier",
    "ode_classifier",
    "resnet_classifier",
    "train_classifier",
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

    Raises:
        ValueError: ``dim`` or ``hidden`` is not a positive integer.

    Example:
        >>> block = ResBlock(dim=3, hidden=8)
        >>> h = torch.randn(5, 3)
        >>> torch.equal(block(h), h + block.f(h))
        True
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

    Raises:
        ValueError: ``dim`` or ``hidden`` is not a positive integer.

    Example:
        >>> func = ODEFunc(dim=3, hidden=8)
        >>> func(torch.tensor(0.5), torch.zeros(5, 3)).shape, func.nfe
        (torch.Size([5, 3]), 1)
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

    def trajectory(self, h: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The states h(t[i]) of the flow from h(t[0]) = h, shape ``(len(t), *h.shape)``.

        Uses the block's solver and tolerances; ``t`` is a 1-D tensor of times (for example
        ``torch.linspace(0, block.t1, 20)`` to draw the flow), in the dtype of ``h``.
        """
        if self.library == "torchdiffeq":
            from torchdiffeq import odeint

            options = {"step_size": self.step_size} if self.step_size is not None else None
            return odeint(
                self.func, h, t, method=self.method, rtol=self.rtol, atol=self.atol, options=options
            )
        from ode_course.solvers import odeint

        return odeint(
            self.func,
            h,
            t,
            method=self.method,
            rtol=self.rtol,
            atol=self.atol,
            step_size=self.step_size,
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """h(T), shape like ``h``."""
        t = torch.tensor([0.0, self.t1], dtype=h.dtype, device=h.device)
        return self.trajectory(h, t)[-1]


class AugmentedODEBlock(ODEBlock):
    """[h, 0] ↦ the solution at time T of dz/dt = func(t, z), z(0) = [h, 0 ∈ ℝᵖ] (Dupont et al.).

    The flow of an ODE in ℝᵈ is a homeomorphism: trajectories cannot cross, so it cannot pull
    apart classes that are nested in ℝᵈ (a disc inside a ring). Appending p zeros lets the
    flow use the extra dimensions to move points past each other. The output has d + p
    features, and ``func`` must be a vector field on ℝᵈ⁺ᵖ (e.g. ``ODEFunc(d + p, hidden)``).

    Args:
        func: the vector field on the augmented state, a module called as ``func(t, z)``.
        augment_dim: p ≥ 0, the number of zeros appended (0 gives a plain :class:`ODEBlock`).
        **block_options: ``t1``, ``method``, ``step_size``, ``rtol``, ``atol``, ``library``
            as for :class:`ODEBlock`.

    Raises:
        ValueError: ``augment_dim`` is not a non-negative integer (or a bad block option).
        TypeError: ``func`` is not an ``nn.Module``.

    Example:
        >>> block = AugmentedODEBlock(ODEFunc(2 + 1, 8), augment_dim=1, step_size=0.5)
        >>> block(torch.zeros(4, 2)).shape  # two features in, three out
        torch.Size([4, 3])
    """

    def __init__(self, func: nn.Module, *, augment_dim: int, **block_options):
        if isinstance(augment_dim, bool) or not isinstance(augment_dim, int) or augment_dim < 0:
            raise ValueError(
                f"augment_dim must be a non-negative integer (the number of zeros appended to "
                f"the state); got augment_dim={augment_dim!r}"
            )
        super().__init__(func, **block_options)
        self.augment_dim = augment_dim

    def augment(self, h: torch.Tensor) -> torch.Tensor:
        """[h, 0]: ``augment_dim`` zero features appended to the last dimension of h."""
        zeros = h.new_zeros(*h.shape[:-1], self.augment_dim)
        return torch.cat([h, zeros], dim=-1)

    def trajectory(self, h: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The augmented states z(t[i]) from z(t[0]) = [h, 0], shape ``(len(t), N, d + p)``."""
        return super().trajectory(self.augment(h), t)


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


def train_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 0.01,
    weight_decay: float = 0.1,
    seed: int = 0,
) -> list[float]:
    """Minimise the cross-entropy of ``model(x)`` against ``y`` with AdamW and a one-cycle schedule.

    Each epoch visits the examples in a new random order (drawn from a generator seeded with
    ``seed``, so a run is reproducible) in mini-batches of ``batch_size``. The learning rate
    follows ``torch.optim.lr_scheduler.OneCycleLR`` (warm up to ``lr``, then anneal to almost
    0), and AdamW decays the weights by ``weight_decay``. The model is left in training mode.

    Args:
        model: maps a batch (B, ...) to logits (B, n_classes).
        x: the inputs, shape (N, ...), in the dtype of the model.
        y: the labels, shape (N,), integers in [0, n_classes).
        epochs: passes over the data.
        batch_size: examples per step.
        lr: the peak learning rate.
        weight_decay: AdamW's decoupled weight decay.
        seed: seeds the order of the examples.

    Returns:
        The mean training loss of each epoch.

    Raises:
        ValueError: ``x`` and ``y`` differ in length, or ``epochs`` or ``batch_size`` is not a
            positive integer.

    Example:
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> x, y = torch.randn(32, 2), torch.arange(32) % 2
        >>> losses = train_classifier(nn.Linear(2, 2), x, y, epochs=3, batch_size=8)
        >>> len(losses)
        3
    """
    if len(x) != len(y):
        raise ValueError(
            f"x and y must hold the same number of examples; got {len(x)} and {len(y)}"
        )
    epochs, batch_size = _check_size(epochs, "epochs"), _check_size(batch_size, "batch_size")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = math.ceil(len(y) / batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch
    )
    model.train()
    losses = []
    for _ in range(epochs):
        order, total = torch.randperm(len(y), generator=generator), 0.0
        for start in range(0, len(y), batch_size):
            batch = order[start : start + batch_size]
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
        losses.append(total / len(y))
    return losses

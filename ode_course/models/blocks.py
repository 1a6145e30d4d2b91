"""The blocks of a network: a residual block h ↦ h + f(h), and ODE blocks h(0) ↦ h(T).

:class:`ResBlock` is the residual block; :class:`ODEFunc` is a field f(t, h), which
:class:`ODEBlock` and :class:`AugmentedODEBlock` solve with an ODE solver.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ode_course import _validate, backends
from ode_course.solvers import CountNFE

__all__ = ["AugmentedODEBlock", "ODEBlock", "ODEFunc", "ResBlock"]


class ResBlock(nn.Module):
    """h ↦ h + f(h), with f = Linear(dim, hidden) → tanh → Linear(hidden, dim).

    Args:
        dim: the width of the state.
        hidden: the width of the block's hidden layer.

    Raises:
        TypeError: ``dim`` or ``hidden`` is not an integer.
        ValueError: ``dim`` or ``hidden`` is less than 1.

    Example:
        >>> block = ResBlock(dim=3, hidden=8)
        >>> h = torch.randn(5, 3)
        >>> torch.equal(block(h), h + block.f(h))
        True
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        dim, hidden = _validate.integer(dim, "dim"), _validate.integer(hidden, "hidden")
        self.f = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, dim))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.f(h)


class ODEFunc(nn.Module):
    """The vector field f(t, h) = W₂ tanh(W₁ [h, t] + b₁) + b₂, with t as an extra input.

    It does not count its calls: the cost of one solve is the block's :attr:`ODEBlock.nfe`
    (counted by :class:`~ode_course.solvers.CountNFE`, the package's one counter).

    Args:
        dim: the width of the state h.
        hidden: the width of the hidden layer.

    Raises:
        TypeError: ``dim`` or ``hidden`` is not an integer.
        ValueError: ``dim`` or ``hidden`` is less than 1.

    Example:
        >>> func = ODEFunc(dim=3, hidden=8)
        >>> func(torch.tensor(0.5), torch.zeros(5, 3)).shape
        torch.Size([5, 3])
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        dim, hidden = _validate.integer(dim, "dim"), _validate.integer(hidden, "hidden")
        self.net = nn.Sequential(nn.Linear(dim + 1, hidden), nn.Tanh(), nn.Linear(hidden, dim))

    def forward(self, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        time = torch.as_tensor(t, dtype=h.dtype, device=h.device).expand(*h.shape[:-1], 1)
        return self.net(torch.cat([h, time], dim=-1))


class ODEBlock(nn.Module):
    """h(0) ↦ h(T), the solution of dh/dt = func(t, h) at time T, by an ODE solver.

    The solve goes through :func:`ode_course.backends.integrate`; ``block.nfe`` is the number
    of evaluations of ``func`` in the block's latest solve (its forward pass or
    :meth:`trajectory`; with ``backend="adjoint"`` the backward pass adds its evaluations to
    it).

    Args:
        func: the vector field, a module called as ``func(t, h)``.
        t1: the end time T > 0.
        method: the solver's method name (``"rk4"``, ``"dopri5"``, ...): one of
            :data:`ode_course.solvers.SOLVERS` unless ``backend="torchdiffeq"``.
        step_size: the step of a fixed-grid method (None for an adaptive one).
        rtol, atol: the tolerances of an adaptive method.
        backend: who solves: one of :data:`ode_course.backends.BACKENDS`, ``"ode_course"``
            (our solvers, :mod:`ode_course.solvers`; the default, also for None),
            ``"adjoint"`` (the same with adjoint gradients, :mod:`ode_course.adjoint`) or
            ``"torchdiffeq"``.

    Raises:
        TypeError: ``func`` is not an ``nn.Module``, or ``t1``, ``step_size``, ``rtol`` or
            ``atol`` is not a number.
        ValueError: ``t1``, ``step_size``, ``rtol`` or ``atol`` is not positive; ``backend`` or
            ``method`` is unknown.

    Example:
        >>> block = ODEBlock(ODEFunc(2, 8), method="rk4", step_size=0.25, backend="adjoint")
        >>> block(torch.zeros(3, 2)).sum().backward()
        >>> block.nfe  # 16 evaluations forward, then the backward pass's (4 steps of rk4 too)
        32
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
        backend: str | None = None,
    ):
        super().__init__()
        if not isinstance(func, nn.Module):
            _validate.fail(
                "func",
                "a torch.nn.Module called as func(t, h)",
                type(func).__name__,
                "use ODEFunc(dim, hidden), or wrap your function in an nn.Module",
                TypeError,
            )
        self.backend = backends.check_backend("ode_course" if backend is None else backend, method)
        self.func, self.t1, self.method = func, _validate.positive(t1, "t1"), method
        if step_size is not None:
            step_size = _validate.positive(
                step_size, "step_size", fix="pass e.g. step_size=0.25, or None for dopri5"
            )
        self.step_size = step_size
        self.rtol, self.atol = _validate.positive(rtol, "rtol"), _validate.positive(atol, "atol")
        self._counter: CountNFE | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_counter":  # the counter wraps func, already a child: keep it out of the
            object.__setattr__(self, name, value)  # module tree (parameters, state_dict)
        else:
            super().__setattr__(name, value)

    @property
    def nfe(self) -> int:
        """Evaluations of ``func`` in the block's latest solve (0 before the first).

        With ``backend="adjoint"``, the backward pass of that solve adds its evaluations.
        """
        return 0 if self._counter is None else self._counter.nfe

    def trajectory(self, h: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The states h(t[i]) of the flow from h(t[0]) = h, shape ``(len(t), *h.shape)``.

        Uses the block's backend, solver and tolerances; ``t`` is a 1-D tensor of times (for
        example ``torch.linspace(0, block.t1, 20)`` to draw the flow), in the dtype of ``h``.
        Sets :attr:`nfe` to the cost of this solve.
        """
        return self._integrate(self.func, h, t)

    def _integrate(self, field: nn.Module, state: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Solve d(state)/dt = field(t, state) with the block's backend, solver and tolerances.

        Every solve of the block (and of Chapter 11's regularised block, whose state carries
        its penalties) goes through here, so that :attr:`nfe` always counts the latest solve.
        """
        ys, self._counter = backends.integrate(
            field,
            state,
            t,
            backend=self.backend,
            method=self.method,
            rtol=self.rtol,
            atol=self.atol,
            step_size=self.step_size,
        )
        return ys

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
        backend: who solves, as for :class:`ODEBlock`.
        **block_options: ``t1``, ``method``, ``step_size``, ``rtol``, ``atol`` as for
            :class:`ODEBlock`.

    Raises:
        TypeError: ``augment_dim`` is not an integer, or ``func`` is not an ``nn.Module``.
        ValueError: ``augment_dim`` is negative (or a bad block option).

    Example:
        >>> block = AugmentedODEBlock(ODEFunc(2 + 1, 8), augment_dim=1, step_size=0.5)
        >>> block(torch.zeros(4, 2)).shape  # two features in, three out
        torch.Size([4, 3])
    """

    def __init__(
        self,
        func: nn.Module,
        *,
        augment_dim: int,
        backend: str | None = None,
        **block_options: Any,
    ):
        augment_dim = _validate.integer(
            augment_dim,
            "augment_dim",
            minimum=0,
            fix="pass the number of zero features to append, e.g. augment_dim=1 (0 for none)",
        )
        super().__init__(func, backend=backend, **block_options)
        self.augment_dim = augment_dim

    def augment(self, h: torch.Tensor) -> torch.Tensor:
        """[h, 0]: ``augment_dim`` zero features appended to the last dimension of h."""
        zeros = h.new_zeros(*h.shape[:-1], self.augment_dim)
        return torch.cat([h, zeros], dim=-1)

    def trajectory(self, h: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The augmented states z(t[i]) from z(t[0]) = [h, 0], shape ``(len(t), N, d + p)``."""
        return super().trajectory(self.augment(h), t)

"""The continuous normalizing flow: log p(x) = log N(z(0)) − ∫₀^{t₁} tr(∂f/∂z) dt along dz/dt = f.

:class:`CNF` (Chen et al. 2018) lets z follow dz/dt = f(t, z) from the base N(0, I) at t = 0 to
the data at t = t₁. It integrates the augmented state [z, ℓ] of shape (N, D + 1) under
:class:`~ode_course.cnf.AugmentedDynamics`, d[z, ℓ]/dt = [f(t, z), −tr ∂f/∂z], through
:func:`ode_course.backends.integrate` with any of ``BACKENDS`` (``backend=``):

- ``log_prob(x)`` goes from the data at t₁ back to the base at 0 (ℓ(t₁) = 0), and
  log p(x) = log N(z(0)) − ℓ(0);
- ``sample(n)`` goes from base points z(0) ~ N(0, I) forward to t₁, with
  log p(x) = log N(z(0)) + ℓ(t₁).

Both directions integrate the same vector field.

Example:
    >>> _ = torch.manual_seed(0)
    >>> cnf = CNF(2, hidden=(16,), method="rk4", step_size=0.25).double()
    >>> x = torch.randn(5, 2, dtype=torch.float64)
    >>> cnf.log_prob(x).shape, cnf.nfe  # 4 steps of rk4, 4 evaluations each
    (torch.Size([5]), 16)
    >>> cnf.sample(3).shape
    torch.Size([3, 2])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import torch
from torch import nn

from ode_course import _validate
from ode_course.backends import check_backend, integrate
from ode_course.cnf.base import reference_tensor, standard_normal_log_prob
from ode_course.cnf.dynamics import AugmentedDynamics, TimeMLP
from ode_course.cnf.traces import NOISE_TYPES, TRACE_ESTIMATORS, sample_probe
from ode_course.solvers import CountNFE

__all__ = ["CNF"]


class CNF(nn.Module):
    """A continuous normalizing flow: dz/dt = f(t, z) carries N(0, I) at t = 0 to the data at t₁.

    log p(x) = log N(z(0); 0, I) − ∫₀^{t₁} tr(∂f/∂z(t)) dt along the trajectory through
    z(t₁) = x. The augmented state [z, ℓ] of shape (N, D + 1) follows
    :class:`~ode_course.cnf.AugmentedDynamics` in both directions (``log_prob`` backwards,
    ``sample`` forwards).

    Args:
        dim: D, the dimension of the data.
        hidden: the hidden widths of the default vector field, a :class:`~ode_course.cnf.TimeMLP`
            whose last layer starts at zero, so that the untrained flow is the identity and the
            untrained model is the base density N(0, I) (a sensible start for standardised data).
        activation: its activation, one of ``ACTIVATIONS``.
        net: a vector field f(t, z) (an ``nn.Module``) to use instead of the ``TimeMLP``.
        t1: the end time t₁ > 0.
        trace: ``"exact"`` or ``"hutchinson"`` (see ``TRACE_ESTIMATORS``).
        noise: the probe of Hutchinson's estimator, ``"gaussian"`` or ``"rademacher"``.
        backend: who solves the ODE, one of :data:`~ode_course.backends.BACKENDS`:
            ``"ode_course"`` (our solvers, the default), ``"adjoint"`` (ours, gradients by the
            adjoint method) or ``"torchdiffeq"``.
        method: the solver, e.g. ``"rk4"`` (fixed grid, needs ``step_size``) or ``"dopri5"``.
        step_size: the step of a fixed-grid method.
        rtol, atol: the tolerances of an adaptive method.

    Attributes:
        backend: the backend's name; ``method``, ``step_size``, ``rtol`` and ``atol`` likewise
            (read at every solve, so they may be changed after training).
        nfe: the number of evaluations of the augmented field in the latest solve (the adjoint's
            backward pass adds its own to the same count).

    Raises:
        TypeError, ValueError: ``dim`` or a width is not a positive integer, or ``t1`` is not a
            positive finite number.
        ValueError: an unknown ``trace``, ``noise``, ``backend``, ``method`` or ``activation``
            (the message lists the valid names).
        TypeError: ``net`` is not an ``nn.Module``.

    Example:
        >>> from ode_course.cnf import LinearField
        >>> A = torch.tensor([[0.5, 0.0], [0.0, -0.2]], dtype=torch.float64)
        >>> linear = CNF(2, net=LinearField(A), method="dopri5", rtol=1e-9, atol=1e-9)
        >>> x = torch.zeros(1, 2, dtype=torch.float64)
        >>> f"{linear.log_prob(x).item():.6f}"  # log N(0) − t₁ tr A = −1.837877 − 0.3
        '-2.137877'
    """

    def __init__(
        self,
        dim: int = 2,
        hidden: Sequence[int] = (64, 64),
        *,
        activation: str = "tanh",
        net: nn.Module | None = None,
        t1: float = 1.0,
        trace: str = "exact",
        noise: str = "gaussian",
        backend: str | None = None,
        method: str = "dopri5",
        step_size: float | None = None,
        rtol: float = 1e-5,
        atol: float = 1e-5,
    ) -> None:
        super().__init__()
        self.dim = _validate.integer(dim, "dim")
        if net is None:
            net = TimeMLP(self.dim, hidden, activation)
            last = cast(nn.Linear, net.layers[-1])
            with torch.no_grad():  # f = 0 at first: the flow starts as the identity
                last.weight.zero_()
                last.bias.zero_()
        elif not isinstance(net, nn.Module):
            _validate.fail(
                "net",
                "a torch.nn.Module called as net(t, z)",
                type(net).__name__,
                "wrap a function in a Module, or leave net=None for a TimeMLP",
                TypeError,
            )
        self.net = net
        self.t1 = _validate.positive(t1, "t1", fix="pass an end time t1 > 0, e.g. t1=1.0")
        self.trace = _validate.one_of(trace, "trace", TRACE_ESTIMATORS)
        self.noise = _validate.one_of(noise, "noise", NOISE_TYPES)
        self.backend = check_backend("ode_course" if backend is None else backend, method)
        self.method, self.step_size, self.rtol, self.atol = method, step_size, rtol, atol
        self._counter: CountNFE | None = None

    def extra_repr(self) -> str:
        solver = f"step_size={self.step_size}" if self.step_size else f"rtol={self.rtol}"
        return (
            f"dim={self.dim}, t1={self.t1}, trace={self.trace!r}, noise={self.noise!r}, "
            f"backend={self.backend!r}, method={self.method!r}, {solver}"
        )

    @property
    def nfe(self) -> int:
        """Evaluations of the augmented vector field in the latest solve."""
        return 0 if self._counter is None else self._counter.nfe

    def flow(
        self,
        z: torch.Tensor | np.ndarray,
        t: Sequence[float] | torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Carry the points z from time t[0] through the times t: z(t_k) and ℓ(t_k) − ℓ(t[0]).

        Args:
            z: the points at time t[0], shape (N, D).
            t: the times, strictly monotone (increasing: towards the data; decreasing: towards
                the base), usually within [0, t₁].
            generator: draws Hutchinson's probe (one per solve), torch's global one if omitted.

        Returns:
            ``(zs, ells)``: zs of shape (len(t), N, D) and ells of shape (len(t), N), with
            log p_{t_k}(zs[k]) = log p_{t[0]}(z) + ells[k].

        Raises:
            ValueError, TypeError: ``z`` is not of shape (N, D), not finite, or bad times.
        """
        like = reference_tensor(self)
        z = _validate.points(z, "z", dim=self.dim, like=like)
        times = torch.as_tensor(t, dtype=like.dtype, device=like.device)
        probe = None
        if self.trace == "hutchinson":
            probe = sample_probe(
                z.shape, self.noise, dtype=z.dtype, device=z.device, generator=generator
            )
        state = torch.cat([z, torch.zeros_like(z[:, :1])], dim=1)
        ys = self._integrate(AugmentedDynamics(self.net, self.trace, probe), state, times)
        return ys[..., :-1], ys[..., -1]

    def _integrate(
        self, field: nn.Module, state: torch.Tensor, times: torch.Tensor
    ) -> torch.Tensor:
        """Solve d(state)/dt = field(t, state) with the flow's backend, solver and tolerances.

        Every solve of the flow (and of Chapter 11's regularised one, whose state carries more
        columns) goes through here, so that ``nfe`` always counts the latest solve.
        """
        ys, self._counter = integrate(
            field,
            state,
            times,
            backend=self.backend,
            method=self.method,
            rtol=self.rtol,
            atol=self.atol,
            step_size=self.step_size,
        )
        return ys

    def log_prob(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """log p(x) = log N(z(0)) − ℓ(0), integrating [z, ℓ] from [x, 0] at t₁ back to 0.

        Args:
            x: the data, shape (N, D); numpy arrays are converted to the parameters' dtype.

        Returns:
            The log-densities, shape (N,) (differentiable with respect to the parameters).

        Raises:
            ValueError: ``x`` is not of shape (N, D) or holds nan or inf.
            TypeError: ``x`` is not numeric.
        """
        x = _validate.points(x, "x", dim=self.dim, like=reference_tensor(self))
        zs, ells = self.flow(x, [self.t1, 0.0])
        return standard_normal_log_prob(zs[-1]) - ells[-1]

    def forward(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """The same as :meth:`log_prob`."""
        return self.log_prob(x)

    def sample(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        return_log_prob: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """x = z(t₁) for base points z(0) ~ N(0, I), integrating forward; optionally log p(x).

        Call it under ``torch.no_grad()`` unless you need gradients of the samples.

        Args:
            n: the number of samples.
            generator: draws the base points (and Hutchinson's probe).
            return_log_prob: also return log p(x) = log N(z(0)) + ℓ(t₁).

        Returns:
            The samples, shape (n, D), or ``(samples, log_probs)``.

        Raises:
            TypeError, ValueError: ``n`` is not a positive integer.
        """
        n = _validate.integer(n, "n", fix="ask for at least one sample, e.g. n=1000")
        like = reference_tensor(self)
        z0 = torch.randn(n, self.dim, dtype=like.dtype, device=like.device, generator=generator)
        zs, ells = self.flow(z0, [0.0, self.t1], generator=generator)
        if return_log_prob:
            return zs[-1], standard_normal_log_prob(z0) + ells[-1]
        return zs[-1]

"""Models that carry their penalties: a CNF and an ODE block that integrate RNODE's two integrals.

:class:`RegularisedCNF` and :class:`RegularisedODEBlock` solve, while autograd is on (training),
the state of :class:`~ode_course.regularisation.RegularisedDynamics` and keep the weighted
penalty of their latest solve in ``penalty``:

    penalty = λ_K · mean ∫₀ᵀ |f|² dt + λ_J · mean ∫₀ᵀ ‖∂f/∂z‖²_F dt  (mean over the batch),

which a trainer adds to the loss (``fit_density(..., regulariser=lambda: cnf.penalty)``). Under
``torch.no_grad()`` (evaluation) they solve their plain ODE, so the NFE to evaluate and the
likelihood are those of the same model without the extra columns.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
from torch import nn

from ode_course import _validate
from ode_course.cnf.base import reference_tensor, standard_normal_log_prob
from ode_course.cnf.flow import CNF
from ode_course.cnf.traces import sample_probe
from ode_course.models.blocks import ODEBlock
from ode_course.regularisation.penalties import RegularisedDynamics

__all__ = ["Penalties", "RegularisedCNF", "RegularisedODEBlock", "regularised_log_prob"]


@dataclasses.dataclass(frozen=True)
class Penalties:
    """What one regularised solve returns, per point (shape (N,) each).

    Attributes:
        log_prob: log p(x).
        kinetic: ∫₀ᵀ |f(t, z(t))|² dt along each trajectory, ≥ 0.
        frobenius: ∫₀ᵀ ‖∂f/∂z‖²_F dt (exact, or Hutchinson's estimate), ≥ 0 when exact.
    """

    log_prob: torch.Tensor
    kinetic: torch.Tensor
    frobenius: torch.Tensor


def _weight(value: Any, name: str) -> float:
    return _validate.non_negative(
        value, name, fix=f"pass a weight ≥ 0, e.g. {name}=0.05 (0 switches the penalty off)"
    )


class _CarriesPenalty:
    """The weights λ_K and λ_J, and what the latest training solve measured (both models)."""

    penalty: torch.Tensor

    def _set_weights(self, kinetic: Any, jacobian: Any) -> None:
        self.kinetic_weight = _weight(kinetic, "kinetic")
        self.jacobian_weight = _weight(jacobian, "jacobian")
        self.penalty = torch.zeros(())
        self.kinetic = self.frobenius = 0.0

    def _record(self, kinetic: torch.Tensor, frobenius: torch.Tensor) -> None:
        """Keep the batch means, and the weighted penalty (differentiable) for the trainer."""
        self.kinetic = float(kinetic.detach().mean())
        self.frobenius = float(frobenius.detach().mean())
        self.penalty = (
            self.kinetic_weight * kinetic.mean() + self.jacobian_weight * frobenius.mean()
        )


def regularised_log_prob(
    cnf: CNF, x: torch.Tensor | np.ndarray, *, generator: torch.Generator | None = None
) -> Penalties:
    """log p(x) and the two penalties of the trajectories through x, in one backward solve.

    The state [z, ℓ, E, F] starts at [x, 0, 0, 0] at t₁ and is integrated *back* to 0, like
    :meth:`~ode_course.cnf.CNF.log_prob`. Running backwards, E(0) = E(t₁) − ∫₀^{t₁} |f|² dt =
    −∫₀^{t₁} |f|² dt: the penalties are −E(0) and −F(0). (With the sign dropped, a trainer
    would *reward* kinetic energy.)

    Args:
        cnf: the flow (its field ``cnf.net``, trace, noise, solver and tolerances are used).
        x: the data, shape (N, D).
        generator: draws Hutchinson's probe when ``cnf.trace == "hutchinson"``.

    Returns:
        :class:`Penalties` (log p(x), kinetic, frobenius), each of shape (N,). ``cnf.nfe`` is
        the cost of this solve.

    Raises:
        TypeError: ``cnf`` is not a CNF.
        ValueError, TypeError: bad ``x``.

    Example:
        >>> from ode_course.cnf import LinearField
        >>> A = torch.diag(torch.tensor([0.5, -0.5], dtype=torch.float64))
        >>> flow = CNF(2, net=LinearField(A), rtol=1e-9, atol=1e-9)
        >>> out = regularised_log_prob(flow, torch.tensor([[1.0, 0.0]], dtype=torch.float64))
        >>> f"{out.kinetic.item():.6f}"  # ∫₀¹ |0.5 e^{−0.5(1−t)}|² dt = (1 − e^{−1})/4
        '0.158030'
        >>> f"{out.frobenius.item():.6f}"  # ‖A‖²_F = 0.5, for one unit of time
        '0.500000'
    """
    if not isinstance(cnf, CNF):
        _validate.fail(
            "cnf", "a CNF", type(cnf).__name__, "pass the flow, e.g. RegularisedCNF(2)", TypeError
        )
    like = reference_tensor(cnf)
    x = _validate.points(x, "x", dim=cnf.dim, like=like)
    probe = None
    if cnf.trace == "hutchinson":
        probe = sample_probe(
            x.shape, cnf.noise, dtype=x.dtype, device=x.device, generator=generator
        )
    state = torch.cat([x, x.new_zeros(len(x), 3)], dim=1)
    times = torch.tensor([cnf.t1, 0.0], dtype=like.dtype, device=like.device)
    end = cnf._integrate(RegularisedDynamics(cnf.net, cnf.trace, probe), state, times)[-1]
    z0, ell, energy, frobenius = end[:, : cnf.dim], end[:, -3], end[:, -2], end[:, -1]
    return Penalties(standard_normal_log_prob(z0) - ell, -energy, -frobenius)


class RegularisedCNF(_CarriesPenalty, CNF):
    """A :class:`~ode_course.cnf.CNF` whose training solves also integrate RNODE's penalties.

    While autograd is on, :meth:`log_prob` goes through :func:`regularised_log_prob` and
    stores ``penalty`` = λ_K · mean kinetic + λ_J · mean Frobenius (a differentiable 0-d
    tensor), and ``kinetic`` and ``frobenius``, their batch means as floats. Under
    ``torch.no_grad()`` it is the plain CNF.

    Args:
        dim: D, as for :class:`~ode_course.cnf.CNF`.
        kinetic: λ_K ≥ 0, the weight of the kinetic energy.
        jacobian: λ_J ≥ 0, the weight of the Jacobian's Frobenius norm.
        **options: every other argument of :class:`~ode_course.cnf.CNF`.

    Raises:
        TypeError, ValueError: a weight that is not a number ≥ 0 (and what CNF raises).

    Example:
        >>> _ = torch.manual_seed(0)
        >>> flow = RegularisedCNF(2, kinetic=0.1, jacobian=0.1, hidden=(8,)).double()
        >>> loss = -flow.log_prob(torch.randn(4, 2, dtype=torch.float64)).mean() + flow.penalty
        >>> flow.penalty.item()  # the field starts at zero: nothing to penalise yet
        0.0
    """

    def __init__(
        self, dim: int = 2, *, kinetic: float = 0.0, jacobian: float = 0.0, **options: Any
    ) -> None:
        super().__init__(dim, **options)
        self._set_weights(kinetic, jacobian)

    def extra_repr(self) -> str:
        weights = f"kinetic={self.kinetic_weight}, jacobian={self.jacobian_weight}"
        return f"{super().extra_repr()}, {weights}"

    def log_prob(
        self, x: torch.Tensor | np.ndarray, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """log p(x); with autograd on, also the penalties of the same solve (see the class)."""
        if not torch.is_grad_enabled():
            return super().log_prob(x)
        out = regularised_log_prob(self, x, generator=generator)
        self._record(out.kinetic, out.frobenius)
        return out.log_prob


class RegularisedODEBlock(_CarriesPenalty, ODEBlock):
    """An :class:`~ode_course.models.ODEBlock` whose training solves integrate RNODE's penalties.

    While autograd is on, the forward pass solves [h, E, F] from [h, 0, 0] at 0 to T (forwards,
    so E(T) and F(T) are the integrals themselves), with Hutchinson's Frobenius estimate (one
    Gaussian probe per solve: the exact norm would need D products), and stores ``penalty``,
    ``kinetic`` and ``frobenius`` as :class:`RegularisedCNF` does. Under ``torch.no_grad()`` it
    is the plain block.

    Args:
        func: the vector field f(t, h), as for :class:`~ode_course.models.ODEBlock`.
        kinetic: λ_K ≥ 0.
        jacobian: λ_J ≥ 0.
        **options: ``t1``, ``method``, ``step_size``, ``rtol``, ``atol``, ``backend``.

    Raises:
        TypeError, ValueError: a weight that is not a number ≥ 0 (and what ODEBlock raises).

    Example:
        >>> from ode_course.models import ODEFunc
        >>> block = RegularisedODEBlock(ODEFunc(2, 8), kinetic=1.0, method="rk4", step_size=0.5)
        >>> block(torch.zeros(3, 2)).shape, block.penalty.item() > 0
        (torch.Size([3, 2]), True)
    """

    def __init__(
        self, func: nn.Module, *, kinetic: float = 0.0, jacobian: float = 0.0, **options: Any
    ) -> None:
        super().__init__(func, **options)
        self._set_weights(kinetic, jacobian)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """h(T); with autograd on, also the penalties of the same solve."""
        if not torch.is_grad_enabled():
            return super().forward(h)
        probe = torch.randn_like(h)
        state = torch.cat([h, h.new_zeros(len(h), 2)], dim=1)
        times = torch.tensor([0.0, self.t1], dtype=h.dtype, device=h.device)
        field = RegularisedDynamics(self.func, "hutchinson", probe, log_density=False)
        end = self._integrate(field, state, times)[-1]
        self._record(end[:, -2], end[:, -1])
        return end[:, :-2]

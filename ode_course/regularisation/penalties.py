"""What a regulariser integrates: the kinetic energy |f|² and the Jacobian norm ‖∂f/∂z‖²_F.

RNODE (Finlay et al. 2020, "How to train your neural ODE") adds to the loss

    λ_K ∫₀ᵀ |f(t, z(t))|² dt  +  λ_J ∫₀ᵀ ‖∂f/∂z(t, z(t))‖²_F dt,

integrals along each trajectory, computed by the same ODE solve as z itself: the state grows by
one column per integral, whose derivative is the integrand. This module holds the integrands and
the augmented field:

- :func:`kinetic_energy`: |f|² row by row;
- :func:`exact_frobenius`: ‖∂f/∂z‖²_F from the D rows eᵢᵀ(∂f/∂z) (D vector–Jacobian products);
- :func:`hutchinson_frobenius`: |εᵀ(∂f/∂z)|², one product, unbiased when E[εεᵀ] = I, since
  E|εᵀJ|² = E[εᵀJJᵀε] = tr(JJᵀ) = ‖J‖²_F (the product that gives Hutchinson's trace estimate
  εᵀJε gives this one too, for free);
- :class:`RegularisedDynamics`: d[z, (ℓ,) E, F]/dt = [f, (−tr ∂f/∂z,) |f|², ‖∂f/∂z‖²_F].

Example:
    >>> A = torch.tensor([[0.0, 2.0], [0.0, 0.0]])
    >>> z = torch.tensor([[1.0, 1.0]], requires_grad=True)
    >>> fz = z @ A.T  # f = Az = [2, 0]
    >>> kinetic_energy(fz), exact_frobenius(fz, z)  # |Az|² = 4, ‖A‖²_F = 4
    (tensor([4.], grad_fn=<SumBackward1>), tensor([4.]))
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from ode_course import _validate
from ode_course.cnf.dynamics import AugmentedDynamics
from ode_course.cnf.traces import vector_jacobian_product

__all__ = [
    "RegularisedDynamics",
    "exact_frobenius",
    "hutchinson_frobenius",
    "jacobian_rows",
    "kinetic_energy",
]


def kinetic_energy(fz: torch.Tensor) -> torch.Tensor:
    """|f|² = Σᵢ fᵢ² for every row of fz, shape (N, D) → (N,): the integrand of the kinetic energy.

    Raises:
        TypeError: ``fz`` is not a tensor.
        ValueError: ``fz`` is not of shape (N, D).

    Example:
        >>> kinetic_energy(torch.tensor([[3.0, 4.0], [1.0, 0.0]]))
        tensor([25.,  1.])
    """
    _validate.tensor(fz, "fz", fix="pass fz = f(t, z), the velocities, shape (N, D)")
    _validate.shape(
        fz, "fz", "of shape (N, D), one velocity per row", fz.ndim == 2, fix="pass f(z)[None]"
    )
    return (fz**2).sum(dim=1)


def jacobian_rows(
    fz: torch.Tensor, z: torch.Tensor, *, create_graph: bool = False
) -> list[torch.Tensor]:
    """[e₁ᵀ(∂f/∂z), …, e_Dᵀ(∂f/∂z)]: the D rows of every point's Jacobian, each of shape (N, D).

    Entry n of row i is ∂fᵢ/∂z at point n: D vector–Jacobian products, one backward pass each.

    Args:
        fz: f(z), shape (N, D), computed from ``z`` after ``z.requires_grad_()``.
        z: the points, shape (N, D), requiring grad.
        create_graph: keep the graph of the rows (training).

    Returns:
        A list of D tensors of shape (N, D).

    Raises:
        TypeError: ``fz`` or ``z`` is not a tensor.
        ValueError: the shapes differ or are not (N, D), or ``z`` does not require grad.

    Example:
        >>> z = torch.ones(1, 2, requires_grad=True)
        >>> torch.stack(jacobian_rows(z @ torch.tensor([[1.0, 2.0], [3.0, 4.0]]).T, z), dim=1)
        tensor([[[1., 2.],
                 [3., 4.]]])
    """
    _validate.tensor(z, "z", fix="z = torch.as_tensor(z).requires_grad_() before fz = f(z)")
    _validate.shape(
        z, "z", "of shape (N, D), one row per point", z.ndim == 2, fix="pass z[None], f(z)[None]"
    )
    rows = []
    for i in range(z.shape[1]):
        e_i = torch.zeros_like(z)
        e_i[:, i] = 1.0
        rows.append(vector_jacobian_product(fz, z, e_i, create_graph=create_graph))
    return rows


def exact_frobenius(
    fz: torch.Tensor, z: torch.Tensor, *, create_graph: bool = False
) -> torch.Tensor:
    """‖∂f/∂z‖²_F = Σᵢⱼ (∂fᵢ/∂zⱼ)² for every row, from D vector–Jacobian products.

    Args:
        fz: f(z), shape (N, D), computed from ``z`` after ``z.requires_grad_()``.
        z: the points, shape (N, D), requiring grad.
        create_graph: keep the graph of the result, to differentiate it (training).

    Returns:
        The squared norms, shape (N,).

    Raises:
        TypeError: ``fz`` or ``z`` is not a tensor.
        ValueError: the shapes differ or are not (N, D), or ``z`` does not require grad.

    Example:
        >>> z = torch.randn(3, 2).requires_grad_()
        >>> exact_frobenius(z @ torch.tensor([[1.0, 2.0], [3.0, 4.0]]).T, z)  # 1 + 4 + 9 + 16
        tensor([30., 30., 30.])
    """
    rows = jacobian_rows(fz, z, create_graph=create_graph)
    return cast(torch.Tensor, sum((row**2).sum(dim=1) for row in rows))


def hutchinson_frobenius(
    fz: torch.Tensor, z: torch.Tensor, probe: torch.Tensor, *, create_graph: bool = False
) -> torch.Tensor:
    """|εᵀ(∂f/∂z)|² for every row: an unbiased estimate of ‖∂f/∂z‖²_F by one product εᵀ(∂f/∂z).

    With J = ∂f/∂z and E[εεᵀ] = I: E|εᵀJ|² = E[εᵀJJᵀε] = tr(JJᵀ) = ‖J‖²_F (Hutchinson's trace
    estimator applied to JJᵀ). The product εᵀJ is the one that gives the trace estimate εᵀJε,
    so a CNF trained with Hutchinson's trace gets this penalty for one extra reduction.

    Args:
        fz: f(z), shape (N, D), computed from ``z`` after ``z.requires_grad_()``.
        z: the points, shape (N, D), requiring grad.
        probe: ε, shape (N, D) (see :func:`~ode_course.cnf.sample_probe`).
        create_graph: keep the graph of the result (training).

    Returns:
        The estimates, shape (N,).

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: the shapes differ, or ``z`` does not require grad.

    Example:
        >>> z = torch.randn(1, 2).requires_grad_()
        >>> A = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> hutchinson_frobenius(z @ A.T, z, torch.tensor([[1.0, 0.0]]))  # |row 1 of A|² = 1 + 4
        tensor([5.])
    """
    fix = "probe = sample_probe(z.shape, 'gaussian', dtype=z.dtype)"
    _validate.tensor(probe, "probe", fix=fix)
    _validate.tensor(z, "z", fix="z = torch.as_tensor(z).requires_grad_() before fz = f(z)")
    _validate.shape(
        probe, "probe", f"shaped like z {tuple(z.shape)}", probe.shape == z.shape, fix=fix
    )
    return (vector_jacobian_product(fz, z, probe, create_graph=create_graph) ** 2).sum(dim=1)


class RegularisedDynamics(AugmentedDynamics):
    """d[z, (ℓ,) E, F]/dt = [f(t, z), (−tr ∂f/∂z,) |f|², ‖∂f/∂z‖²_F]: the field and its penalties.

    Chapter 7's :class:`~ode_course.cnf.AugmentedDynamics` with two more columns.

    The state is z with extra columns: with ``log_density=True`` (a CNF) first ℓ, the change of
    log-density as in :class:`~ode_course.cnf.AugmentedDynamics`, then E and F, whose
    derivatives are the two integrands of RNODE. Integrated from s to t, E(t) − E(s) =
    ∫ₛᵗ |f|² dt' and F(t) − F(s) = ∫ₛᵗ ‖∂f/∂z‖²_F dt': *negative* when the solve runs backwards
    (t < s), as a CNF's ``log_prob`` does from the data at t₁ to the base at 0.

    ``trace="exact"`` computes the D rows of the Jacobian (exact trace and Frobenius norm);
    ``"hutchinson"`` one product εᵀ(∂f/∂z) with the fixed probe ε for both (εᵀJε and |εᵀJ|²).
    As in :class:`~ode_course.cnf.AugmentedDynamics`, the result keeps its graph only when the
    caller has autograd on.

    Args:
        net: the vector field f(t, z), z of shape (N, D).
        trace: ``"exact"`` or ``"hutchinson"`` (see ``TRACE_ESTIMATORS``).
        probe: ε of shape (N, D), required for ``"hutchinson"``.
        log_density: include the column ℓ (a CNF); False for a plain ODE block, whose state is
            [h, E, F].

    Raises:
        ValueError: an unknown ``trace``, or ``"hutchinson"`` without a probe.
        TypeError: ``net`` is not an ``nn.Module``.

    Example:
        >>> from ode_course.cnf import LinearField
        >>> field = RegularisedDynamics(LinearField(torch.diag(torch.tensor([1.0, 2.0]))))
        >>> field(0.0, torch.tensor([[1.0, 1.0, 0.0, 0.0, 0.0]])).tolist()  # [Az, −3, 5, 5]
        [[1.0, 2.0, -3.0, 5.0, 5.0]]
    """

    def __init__(
        self,
        net: nn.Module,
        trace: str = "exact",
        probe: torch.Tensor | None = None,
        *,
        log_density: bool = True,
    ) -> None:
        if not isinstance(net, nn.Module):
            _validate.fail(
                "net",
                "a torch.nn.Module called as net(t, z)",
                type(net).__name__,
                "wrap the field in an nn.Module (e.g. TimeMLP or ODEFunc)",
                TypeError,
            )
        super().__init__(net, trace, probe)  # checks the trace and the probe
        self.log_density = bool(log_density)

    @property
    def extra(self) -> int:
        """The number of columns after z: 3 with ℓ, 2 without."""
        return 3 if self.log_density else 2

    def forward(self, t: torch.Tensor | float, state: torch.Tensor) -> torch.Tensor:
        """[f, (−tr ∂f/∂z,) |f|², ‖∂f/∂z‖²_F] for a state [z, (ℓ,) E, F] of shape (N, D + extra)."""
        create_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            z = state[:, : -self.extra]
            if not z.requires_grad:
                z = z.detach().requires_grad_(True)
            fz = self.net(t, z)
            if self.trace == "exact":
                rows = jacobian_rows(fz, z, create_graph=create_graph)
                trace = sum(row[:, i] for i, row in enumerate(rows))
                frobenius = sum((row**2).sum(dim=1) for row in rows)
            else:
                probe = cast(torch.Tensor, self.probe)
                product = vector_jacobian_product(fz, z, probe, create_graph=create_graph)
                trace = (product * probe).sum(dim=1)
                frobenius = (product**2).sum(dim=1)
        columns = [fz, (fz**2).sum(dim=1, keepdim=True)]
        columns.append(cast(torch.Tensor, frobenius)[:, None])
        if self.log_density:
            columns.insert(1, -cast(torch.Tensor, trace)[:, None])
        out = torch.cat(columns, dim=1)
        return out if create_graph else out.detach()

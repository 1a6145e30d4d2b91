"""Chapter 11 (cheap neural ODEs): the kinetic-energy augmented field, the sign of a penalty
accumulated by a backward solve, and Hutchinson's estimate of the Jacobian's Frobenius norm."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ode_course.checks.harness import (
    CheckFailed,
    call,
    exercise_check,
    name_the_mistake,
    passed,
    returned,
)
from ode_course.cnf.base import standard_normal_log_prob
from ode_course.cnf.dynamics import LinearField, TimeMLP
from ode_course.cnf.traces import sample_probe
from ode_course.regularisation.penalties import hutchinson_frobenius

__all__ = ["check_frobenius_estimate", "check_kinetic_field", "check_rnode_loss"]

F64 = torch.float64


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-9, atol=1e-11)


def _tensor(out: Any, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    """``out`` as a detached float64 tensor of ``shape``, or a message naming what is wrong."""
    out = returned(out, name)
    if not isinstance(out, torch.Tensor) or type(out) not in (torch.Tensor, torch.nn.Parameter):
        raise CheckFailed(f"{name} must return a plain torch.Tensor; got {type(out).__name__}.")
    if tuple(out.shape) != shape:
        raise CheckFailed(f"{name} must return shape {shape}; got {tuple(out.shape)}.")
    return out.detach().to(F64)


def _network(dim: int, seed: int) -> TimeMLP:
    with torch.random.fork_rng():  # the network's weights, without touching the learner's seed
        torch.manual_seed(seed)
        net = TimeMLP(dim, hidden=(8,)).double()
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(2.0)  # a field that moves points
    return net


@exercise_check
def check_kinetic_field(kinetic_field: Callable[..., Any]) -> None:
    """``kinetic_field(f, t, state)`` returns [f(t, z), |f(t, z)|²] for a state [z, E], (N, D + 1).

    The last column of the state is E, the kinetic energy accumulated so far; its derivative is
    |f|² = Σᵢ fᵢ², one number per row, and the field f does not depend on E. The check tries a
    linear field and a small network in 2 and 3 dimensions.

    Raises:
        CheckFailed: a wrong shape or value; the message names the typical slip (|f| in place
            of |f|², E or |z|² in the last column, the sign, a sum over the whole batch).

    Example:
        >>> def kinetic_field(f, t, state):
        ...     fz = f(t, state[:, :-1])
        ...     return torch.cat([fz, (fz**2).sum(dim=1, keepdim=True)], dim=1)
        >>> check_kinetic_field(kinetic_field)
        Correct: [f, |f|²] for a linear field and a network, in 2 and 3 dimensions.
    """
    gen = torch.Generator().manual_seed(11)
    cases = [
        ("f(z) = Az", LinearField(torch.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=F64))),
        ("a small network", _network(3, 11)),
    ]
    for name, field in cases:
        dim = 2 if name == "f(z) = Az" else 3
        z = torch.randn(5, dim, dtype=F64, generator=gen)
        energy = torch.rand(5, 1, dtype=F64, generator=gen)
        state = torch.cat([z, energy], dim=1)
        t = torch.tensor(0.3, dtype=F64)
        with torch.no_grad():
            got = _tensor(
                call(kinetic_field, "kinetic_field", field, t, state.clone()),
                "kinetic_field",
                (5, dim + 1),
            )
            fz = field(t, z)
        want = torch.cat([fz, (fz**2).sum(dim=1, keepdim=True)], dim=1)
        if _same(got, want):
            continue
        if not _same(got[:, :dim], fz):
            raise CheckFailed(
                f"for {name} the first {dim} columns are not f(t, z): evaluate the field on z = "
                "state[:, :-1] (without the energy column)."
            )
        column = got[:, dim:]
        name_the_mistake(
            column,
            {
                "is |f|, the norm: the integrand is its square, Σᵢ fᵢ²": fz.norm(
                    dim=1, keepdim=True
                ),
                "is −|f|²: the energy grows along the path, dE/dt = +|f|²": -want[:, dim:],
                "is the energy E itself: its derivative, |f|², goes there": energy,
                "is |z|²: the kinetic energy is the squared *velocity*, |f(t, z)|²": (z**2).sum(
                    dim=1, keepdim=True
                ),
                "sums over the whole batch: one |f|² per row (sum over dim=1, keepdim=True)": (
                    (fz**2).sum().expand(5, 1)
                ),
            },
            _same,
            f"for {name} the last column",
        )
        raise CheckFailed(f"for {name} the last column is not |f(t, z)|² = Σᵢ fᵢ², row by row.")
    passed("[f, |f|²] for a linear field and a network, in 2 and 3 dimensions.")


@exercise_check
def check_rnode_loss(rnode_loss: Callable[..., Any]) -> None:
    """``rnode_loss(end, weight)``: the regularised loss from the end state of a *backward* solve.

    ``end`` has shape (N, D + 3): the state [z, ℓ, E, F] at t = 0 of a solve that started at
    [x, 0, 0, 0] at t = t₁ and ran back to 0 under d[z, ℓ, E, F]/dt = [f, −tr ∂f/∂z, |f|²,
    ‖∂f/∂z‖²_F]. The loss is the mean negative log-likelihood plus ``weight`` times the mean of
    the two penalties: log p(x) = log N(z(0)) − ℓ(0), and, the solve running backwards, the
    penalties are −E(0) and −F(0) (both ≥ 0).

    Raises:
        CheckFailed: a wrong loss; the message names the slip (the sign of the penalties, the
            sign of ℓ, a sum in place of a mean).

    Example:
        >>> from ode_course.cnf import standard_normal_log_prob
        >>> def rnode_loss(end, weight):
        ...     z0, ell, energy, frob = end[:, :-3], end[:, -3], end[:, -2], end[:, -1]
        ...     nll = -(standard_normal_log_prob(z0) - ell).mean()
        ...     return nll + weight * (-energy.mean() - frob.mean())
        >>> check_rnode_loss(rnode_loss)
        Correct: the likelihood and both penalties have their signs, for three weights.
    """
    gen = torch.Generator().manual_seed(5)
    for weight in (0.0, 0.1, 0.5):
        n, d = 6, 2
        z0 = torch.randn(n, d, dtype=F64, generator=gen)
        ell = torch.randn(n, dtype=F64, generator=gen)
        energy = -torch.rand(n, dtype=F64, generator=gen) * 2  # a backward solve: negative
        frob = -torch.rand(n, dtype=F64, generator=gen) * 3
        end = torch.cat([z0, ell[:, None], energy[:, None], frob[:, None]], dim=1)
        got = _tensor(call(rnode_loss, "rnode_loss", end.clone(), weight), "rnode_loss", ())
        log_n = standard_normal_log_prob(z0)
        nll = -(log_n - ell).mean()
        penalty = -energy.mean() - frob.mean()
        want = nll + weight * penalty
        if _same(got, want):
            continue
        name_the_mistake(
            got,
            {
                "adds E(0) + F(0) as they come out of the backward solve: they are −∫|f|² and "
                "−∫‖J‖², so this *rewards* kinetic energy (the model then grows expensive); "
                "the penalties are −E(0) and −F(0)": nll + weight * (energy.mean() + frob.mean()),
                "adds ℓ(0): going back from the data, log p(x) = log N(z(0)) − ℓ(0)": -(
                    log_n + ell
                ).mean()
                + weight * penalty,
                "takes sums over the batch, not means": -(log_n - ell).sum()
                + weight * (-energy.sum() - frob.sum()),
                "leaves out the Frobenius term F": nll - weight * energy.mean(),
                "leaves out the kinetic term E": nll - weight * frob.mean(),
            },
            _same,
            f"with weight {weight}, rnode_loss",
        )
        raise CheckFailed(
            f"with weight {weight}, rnode_loss is not −mean(log N(z(0)) − ℓ(0)) + weight · "
            "mean(−E(0) − F(0))."
        )
    passed("the likelihood and both penalties have their signs, for three weights.")


@exercise_check
def check_frobenius_estimate(frobenius_estimate: Callable[..., Any]) -> None:
    """``frobenius_estimate(fz, z, eps)`` returns |εᵀ(∂f/∂z)|² for every row, shape (N,).

    One vector–Jacobian product, ``torch.autograd.grad(fz, z, grad_outputs=eps)``, gives εᵀJ
    for all rows; the estimate is its squared length. The check tries a linear field with unit
    probes (where the estimate is the squared norm of a row of A) and a small network with
    Gaussian probes, against :func:`ode_course.regularisation.hutchinson_frobenius`.

    Raises:
        CheckFailed: a wrong estimate; the message names the slip (the trace estimate εᵀJε,
            the norm not squared, Jε in place of εᵀJ, a sum over the batch).

    Example:
        >>> def frobenius_estimate(fz, z, eps):
        ...     (eps_jac,) = torch.autograd.grad(fz, z, grad_outputs=eps, create_graph=True)
        ...     return (eps_jac**2).sum(dim=1)
        >>> check_frobenius_estimate(frobenius_estimate)
        Correct: |εᵀJ|² row by row, for a linear field and a network.
    """
    gen = torch.Generator().manual_seed(23)
    A = torch.tensor([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0], [0.5, 0.0, 1.0]], dtype=F64)
    net = _network(3, 23)
    cases: list[tuple[str, Callable[[torch.Tensor], torch.Tensor], torch.Tensor]] = [
        (
            "f(z) = Az with ε = e₁, e₂, e₃, e₁",
            lambda z: z @ A.T,
            torch.eye(3, dtype=F64)[[0, 1, 2, 0]],
        ),
        ("a small network", lambda z: net(0.5, z), sample_probe((4, 3), generator=gen)),
    ]
    for name, f, eps in cases:
        z = torch.randn(4, 3, dtype=F64, generator=gen).requires_grad_()
        fz = f(z)
        got = _tensor(
            call(frobenius_estimate, "frobenius_estimate", fz, z, eps.clone()),
            "frobenius_estimate",
            (4,),
        )
        fresh = f(z)
        want = hutchinson_frobenius(fresh, z, eps).detach()
        if _same(got, want):
            continue
        (vjp,) = torch.autograd.grad(fresh, z, grad_outputs=eps, retain_graph=True)
        # Jε by the double-backward trick: u ↦ uᵀJ is linear in u, and its product with ε is Jε
        u = torch.zeros_like(fresh, requires_grad=True)
        (u_jac,) = torch.autograd.grad(fresh, z, grad_outputs=u, create_graph=True)
        (jvp,) = torch.autograd.grad(u_jac, u, grad_outputs=eps)
        name_the_mistake(
            got,
            {
                "is εᵀJε, Hutchinson's *trace* estimate: the Frobenius estimate is the squared "
                "length of εᵀJ itself, Σᵢ (εᵀJ)ᵢ²": (vjp * eps).sum(dim=1),
                "is |εᵀJ|, the length: square it": vjp.norm(dim=1),
                "is |Jε|²: also unbiased, but it needs a Jacobian–vector product; the exercise "
                "asks for εᵀJ, the product the trace estimate already computes": (jvp**2).sum(
                    dim=1
                ),
                "sums over the whole batch: one estimate per row (sum over dim=1)": (
                    want.sum().expand(4)
                ),
            },
            _same,
            f"for {name} the estimate",
        )
        raise CheckFailed(f"for {name} the estimate is not |εᵀ(∂f/∂z)|², row by row.")
    passed("|εᵀJ|² row by row, for a linear field and a network.")

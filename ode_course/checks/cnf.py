"""Chapter 7 (continuous normalizing flows): Hutchinson's estimator of the trace of ∂f/∂z."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ode_course.checks.harness import (
    CheckFailed,
    call,
    max_error,
    name_the_mistake,
    passed,
    returned,
)
from ode_course.cnf import TimeMLP, exact_trace, hutchinson_trace, sample_probe

__all__ = ["check_hutchinson"]


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def check_hutchinson(
    hutchinson: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
) -> None:
    """``hutchinson(fz, z, eps)`` returns εᵀ(∂f/∂z)ε for every row, shape (N,).

    ``z`` has shape (N, D) and requires grad, ``fz = f(z)`` row by row, and ``eps`` holds one
    probe per row. The estimate must use one vector–Jacobian product, εᵀ(∂f/∂z) =
    ``torch.autograd.grad(fz, z, grad_outputs=eps)``, then a dot product with ε. The check tries
    a linear f(z) = Az and a small network, and compares with
    :func:`ode_course.cnf.hutchinson_trace`.

    Args:
        hutchinson: the learner's estimator.

    Raises:
        CheckFailed: the estimate is wrong, has the wrong shape, draws its own noise or takes
            more than one backward pass; the message names the likely slip.

    Example:
        >>> def hutchinson(fz, z, eps):
        ...     (eps_jac,) = torch.autograd.grad(fz, z, grad_outputs=eps, create_graph=True)
        ...     return (eps_jac * eps).sum(dim=1)
        >>> check_hutchinson(hutchinson)
        Correct: εᵀ(∂f/∂z)ε with one backward pass, for a linear map and a network.
    """
    gen = torch.Generator().manual_seed(7)
    n, d = 5, 3
    A = torch.randn(d, d, dtype=torch.float64, generator=gen)
    with torch.random.fork_rng():  # the network's initial weights, without touching the seed
        torch.manual_seed(7)
        net = TimeMLP(d, hidden=(8,)).double()
    fields: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "f(z) = Az": lambda z: z @ A.T,
        "a small network": lambda z: net(0.5, z),
    }
    for name, f in fields.items():
        z = torch.randn(n, d, dtype=torch.float64, generator=gen).requires_grad_()
        eps = sample_probe(
            (n, d), "rademacher" if name == "a small network" else "gaussian", generator=gen
        )
        fz = f(z)
        passes: list[int] = []  # one entry per backward pass through fz
        fz.register_hook(lambda g, passes=passes: passes.append(1))
        out = returned(call(hutchinson, "hutchinson", fz, z, eps.clone()), "hutchinson")
        n_passes = len(passes)
        if not isinstance(out, torch.Tensor):
            raise CheckFailed(f"hutchinson must return a tensor; got {type(out).__name__}.")
        out = out.detach()
        fresh = f(z)
        if out.shape != (n,):
            if out.numel() == 1:
                hint = "you summed (or averaged) over the rows too; sum over dim=1 only"
            elif out.shape == (n, d):
                hint = "sum the product εᵢ (εᵀJ)ᵢ over the last dimension"
            else:
                hint = "return one number per row"
            raise CheckFailed(
                f"for {n} points hutchinson must return shape ({n},), one estimate per point; "
                f"got {tuple(out.shape)}: {hint}."
            )
        want = hutchinson_trace(fresh, z, eps)
        if _same(out, want):
            if n_passes > 1:
                raise CheckFailed(
                    f"the values are right, but they took {n_passes} backward passes through f. "
                    "One vector–Jacobian product is the point of the estimator: "
                    "torch.autograd.grad(fz, z, grad_outputs=eps) gives εᵀJ for all rows at once."
                )
            continue
        (vjp,) = torch.autograd.grad(fresh, z, grad_outputs=eps, retain_graph=True)
        (ones_vjp,) = torch.autograd.grad(fresh, z, torch.ones_like(eps), retain_graph=True)
        mistakes = {
            "the exact trace tr(∂f/∂z). The estimator does not look at the diagonal: it uses "
            "the probe, εᵀ(∂f/∂z)ε": exact_trace(fresh, z),
            "the sum of εᵀJ: multiply it elementwise by ε before summing": vjp.sum(dim=1),
            "εᵀf(z): differentiate f first, torch.autograd.grad(fz, z, grad_outputs=eps)": (
                eps * fresh
            ).sum(dim=1),
            "1ᵀJ1 with a vector of ones: use the probe eps that is passed in": ones_vjp.sum(dim=1),
        }
        detached = {description: value.detach() for description, value in mistakes.items()}
        name_the_mistake(out, detached, _same, f"for {name}, hutchinson returns")
        again = call(hutchinson, "hutchinson", f(z), z, eps.clone())
        if isinstance(again, torch.Tensor) and not torch.allclose(out, again.detach()):
            raise CheckFailed(
                "two calls with the same eps give different estimates: hutchinson draws its own "
                "noise. Use the probe eps that is passed in (a CNF must hold it fixed during a "
                "solve)."
            )
        raise CheckFailed(
            f"for {name}, hutchinson returns {out.tolist()}, expected εᵀ(∂f/∂z)ε = "
            f"{want.tolist()} (max error {max_error(out, want):.3g})."
        )
    passed("εᵀ(∂f/∂z)ε with one backward pass, for a linear map and a network.")

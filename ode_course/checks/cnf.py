"""Chapter 7 (continuous normalizing flows): exercises on traces, probes and log-determinants."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ode_course.checks.harness import (
    CheckFailed,
    call,
    close,
    exercise_check,
    max_error,
    name_the_mistake,
    number_result,
    passed,
    returned,
    tensor_result,
)
from ode_course.cnf import TimeMLP, exact_trace, hutchinson_trace, sample_probe

__all__ = [
    "check_hutchinson",
    "check_linear_log_det",
    "check_rademacher_exact",
    "check_redrawn_probe",
]


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.allclose(a, b, rtol=1e-9, atol=1e-12)


@exercise_check
def check_hutchinson(
    hutchinson: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
) -> None:
    """``hutchinson(fz, z, eps)`` returns εᵀ(∂f/∂z)ε for every row, shape (N,).

    ``z`` has shape (N, D) and requires grad, ``fz = f(z)`` row by row, and ``eps`` holds one
    probe per row. The estimate must use one vector–Jacobian product, εᵀ(∂f/∂z) =
    ``torch.autograd.grad(fz, z, grad_outputs=eps)``, then a dot product with ε. The check tries
    a linear f(z) = Az and a small network, compares with
    :func:`ode_course.cnf.hutchinson_trace`, and checks that the estimate can be trained
    through: its gradient with respect to the field's parameters must be that of the
    package's estimate with the same probe (``create_graph=True``).

    Args:
        hutchinson: the learner's estimator.

    Raises:
        CheckFailed: the estimate is wrong, has the wrong shape, draws its own noise or takes
            more than one backward pass, or carries no gradient to the field's parameters; the
            message names the likely slip.

    Example:
        >>> def hutchinson(fz, z, eps):
        ...     (eps_jac,) = torch.autograd.grad(fz, z, grad_outputs=eps, create_graph=True)
        ...     return (eps_jac * eps).sum(dim=1)
        >>> check_hutchinson(hutchinson)
        Correct: one backward pass, right for a linear map and a network, and trainable.
    """
    gen = torch.Generator().manual_seed(7)
    n, d = 5, 3
    A = torch.randn(d, d, dtype=torch.float64, generator=gen).requires_grad_()
    with torch.random.fork_rng():  # the network's initial weights, without touching the seed
        torch.manual_seed(7)
        net = TimeMLP(d, hidden=(8,)).double()
    fields: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "f(z) = Az": lambda z: z @ A.T,
        "a small network": lambda z: net(0.5, z),
    }
    parameters: dict[str, list[torch.Tensor]] = {
        "f(z) = Az": [A],
        "a small network": list(net.parameters()),
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
        raw, out = out, out.detach()
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
            _check_trainable(
                raw, hutchinson_trace(f(z), z, eps, create_graph=True), parameters[name]
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
    passed("one backward pass, right for a linear map and a network, and trainable.")


def _check_trainable(got: torch.Tensor, want: torch.Tensor, parameters: list[torch.Tensor]) -> None:
    """The gradient of Σ got w.r.t. ``parameters`` exists and equals that of Σ want."""
    no_gradient = CheckFailed(
        "the values are right, but the estimate carries no gradient to the field's parameters, "
        "so a CNF trained with it would not learn the trace term: pass create_graph=True to "
        "torch.autograd.grad, so that εᵀJ is itself differentiable."
    )
    if not got.requires_grad:
        raise no_gradient
    grads = torch.autograd.grad(got.sum(), parameters, allow_unused=True, retain_graph=True)
    wants = torch.autograd.grad(want.sum(), parameters, allow_unused=True)
    for g, w in zip(grads, wants, strict=True):
        if g is None and w is not None:
            raise no_gradient
        if g is not None and w is not None and not torch.allclose(g, w, rtol=1e-8, atol=1e-10):
            raise CheckFailed(
                "the values are right, but their gradient with respect to the field's parameters "
                "is not that of εᵀ(∂f/∂z)ε: detach nothing, and pass create_graph=True."
            )


@exercise_check
def check_linear_log_det(log_det: Callable[[torch.Tensor, float], torch.Tensor | float]) -> None:
    """``log_det(A, t)`` returns log|det| of the flow map z(0) ↦ z(t) of dz/dt = Az.

    The map is e^{tA}; the exercise asks for its log-determinant without a matrix exponential.
    The check compares with ``torch.linalg.slogdet(torch.linalg.matrix_exp(t * A))`` for random
    4 × 4 matrices and several times.

    Args:
        log_det: the learner's function of a (D, D) float64 tensor and a time.

    Raises:
        CheckFailed: a wrong value (a missing t, the wrong sign, log|det A|, ...), named when
            it is a typical slip.

    Example:
        >>> check_linear_log_det(lambda A, t: t * torch.trace(A))
        Correct: right for every matrix and time tried.
    """
    gen = torch.Generator().manual_seed(11)
    for t in (0.5, 1.0, 2.0):
        A = torch.randn(4, 4, dtype=torch.float64, generator=gen)
        got = number_result(call(log_det, "log_det", A.clone(), t), "log_det")
        want = torch.linalg.slogdet(torch.linalg.matrix_exp(t * A)).logabsdet.item()
        if close(got, want, 1e-8):
            continue
        mistakes = {
            "tr A: the map after time t stretches by e^{t tr A}, multiply by t": torch.trace(A),
            "−t tr A: that is the change of log p; log|det e^{tA}| itself is positive where "
            "the flow expands volume": -t * torch.trace(A),
            "t log|det A|: the map is e^{tA}, not A": t * torch.linalg.slogdet(A).logabsdet,
            "log|det A|: the map is e^{tA}, not A": torch.linalg.slogdet(A).logabsdet,
            "the sum of the diagonal of e^{tA}: take the determinant of the exponential, "
            "not the trace": torch.trace(torch.linalg.matrix_exp(t * A)),
        }
        name_the_mistake(
            got,
            {k: float(v) for k, v in mistakes.items()},
            lambda a, b: close(a, b, 1e-8),
            f"for t = {t}, log_det returns",
        )
        raise CheckFailed(
            f"for t = {t} and a random 4 × 4 A, log_det returns {got:.6g}, expected {want:.6g}."
        )
    passed("right for every matrix and time tried.")


@exercise_check
def check_rademacher_exact(field: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """``field(z)`` (z of shape (N, 4)) is a vector field for which one Rademacher probe is exact.

    At random points, one Rademacher probe per point must return ``exact_trace`` for several
    probes, and Gaussian probes must not (the Jacobian's diagonal is not zero).

    Args:
        field: the learner's f, mapping (N, 4) to (N, 4) row by row, differentiable in z.

    Raises:
        CheckFailed: the wrong shape, Rademacher probes that miss the trace (the symmetric part
            of J has off-diagonal entries), or a field with a zero diagonal.

    Example:
        >>> check_rademacher_exact(torch.tanh)
        Correct: one Rademacher probe gives the exact trace at every point tried.
    """
    gen = torch.Generator().manual_seed(13)
    z = torch.randn(200, 4, dtype=torch.float64, generator=gen).requires_grad_()
    fz = tensor_result(call(field, "field", z), (200, 4), "field")
    if not fz.requires_grad:
        raise CheckFailed(
            "field(z) does not depend on z (or is detached): f must be a function of z."
        )
    exact = exact_trace(fz, z)
    for _ in range(3):
        probe = sample_probe(z.shape, "rademacher", generator=gen)
        estimate = hutchinson_trace(fz, z, probe)
        if not torch.allclose(estimate, exact, rtol=1e-9, atol=1e-9):
            raise CheckFailed(
                "one Rademacher probe misses the exact trace (largest error "
                f"{max_error(estimate, exact):.3g}): the symmetric part of ∂f/∂z has off-diagonal "
                "entries. Use the variance formula to see which Jacobians make it vanish."
            )
    gaussian = hutchinson_trace(fz, z, sample_probe(z.shape, "gaussian", generator=gen))
    if torch.allclose(gaussian, exact, rtol=1e-9, atol=1e-9):
        raise CheckFailed(
            "Gaussian probes are exact too: the symmetric part of ∂f/∂z is zero, so this is not "
            "the case the exercise asks for. Give the Jacobian a non-zero diagonal."
        )
    passed("one Rademacher probe gives the exact trace at every point tried.")


@exercise_check
def check_redrawn_probe(field_class: Callable[[torch.nn.Module], torch.nn.Module]) -> None:
    """``field_class(net)`` is the augmented field [f, −εᵀJε] with a new probe at every call.

    Called on states [z, ℓ] of shape (N, D + 1) under ``torch.no_grad()`` (as a solver calls it
    at inference), the field must return f(t, z) in its first D columns, and in the last a
    Hutchinson estimate of −tr ∂f/∂z whose probe changes from call to call and from row to row:
    unbiased (its mean over many rows at one point is −tr J) and different in two calls.

    Args:
        field_class: the learner's module class (or factory) taking the network f(t, z).

    Raises:
        CheckFailed: it crashes without autograd, gets f or the sign wrong, uses the exact
            trace, or keeps its probe fixed.

    Example:
        >>> class Redrawn(torch.nn.Module):
        ...     def __init__(self, net):
        ...         super().__init__()
        ...         self.net = net
        ...     def forward(self, t, state):
        ...         with torch.enable_grad():
        ...             z = state[:, :-1].detach().requires_grad_()
        ...             fz = self.net(t, z)
        ...             tr = hutchinson_trace(fz, z, sample_probe(z.shape))
        ...         return torch.cat([fz, -tr[:, None]], dim=1).detach()
        >>> check_redrawn_probe(Redrawn)
        Correct: f in the first columns, and a fresh unbiased probe at every call.
    """
    n, d = 4000, 2
    with torch.random.fork_rng():  # the network and the learner's probes, seed untouched
        torch.manual_seed(17)
        net = TimeMLP(d, hidden=(16,)).double()
        point = torch.randn(1, d, dtype=torch.float64)
        state = torch.cat([point.expand(n, d), torch.zeros(n, 1, dtype=torch.float64)], dim=1)
        field = call(field_class, "the field class", net)
        with torch.no_grad():
            first = tensor_result(
                call(field, "the field", 0.5, state.clone()), (n, d + 1), "the field"
            )
            second = tensor_result(
                call(field, "the field", 0.5, state.clone()), (n, d + 1), "the field"
            )
    z = point.clone().requires_grad_()
    fz = net(0.5, z)
    trace = exact_trace(fz, z).item()
    if not torch.allclose(first[:, :d], fz.detach().expand(n, d), rtol=1e-9, atol=1e-12):
        raise CheckFailed("the first D columns must be f(t, z), the network's output.")
    ell = first[:, d]
    if not ell.any():
        raise CheckFailed(
            "the last column is zero: under torch.no_grad() (as at inference) there is no "
            "Jacobian to take. Evaluate f inside `with torch.enable_grad():` on a z that "
            "requires grad."
        )
    if torch.allclose(ell, torch.full_like(ell, -trace), rtol=1e-9, atol=1e-9):
        raise CheckFailed(
            "the last column is the exact trace: use Hutchinson's estimate with a new probe."
        )
    if torch.equal(first[:, d], second[:, d]) or torch.equal(ell, ell[:1].expand(n)):
        raise CheckFailed(
            "the probe does not change from call to call (or from row to row): draw a new one, "
            "sample_probe(z.shape), inside forward."
        )
    se = ell.std().item() / n**0.5
    if abs(ell.mean().item() + trace) > 5 * se + 1e-9:
        hint = (
            "the sign: the last column is −εᵀJε"
            if abs(ell.mean().item() - trace) <= 5 * se + 1e-9
            else "its mean over many probes is not −tr ∂f/∂z: use εᵀ(∂f/∂z)ε with E[εεᵀ] = I"
        )
        raise CheckFailed(f"the last column has the wrong value: check {hint}.")
    passed("f in the first columns, and a fresh unbiased probe at every call.")

"""Chapter 6 (the adjoint): the augmented dynamics, the memory backprop saves, the backward NFE."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.autograd.functional import jacobian
from torch.func import functional_call

from ode_course.adjoint import AdjointStats, odeint_adjoint
from ode_course.checks.harness import (
    CheckFailed,
    answered,
    call,
    close,
    exercise_check,
    max_error,
    name_the_mistake,
    number_result,
    passed,
    returned,
)
from ode_course.memory import activation_memory

__all__ = ["check_augmented_dynamics", "check_backward_nfe", "check_saved_bytes"]

Dynamics = tuple[torch.Tensor, torch.Tensor, Sequence[torch.Tensor]]


class _Field(torch.nn.Module):
    """f(t, z) = (1 + t) · W₂ tanh(W₁ z + b₁): small, with a non-symmetric Jacobian."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.w1 = torch.nn.Parameter(torch.randn(4, 2, generator=generator, dtype=torch.float64))
        self.b1 = torch.nn.Parameter(torch.randn(4, generator=generator, dtype=torch.float64))
        self.w2 = torch.nn.Parameter(torch.randn(2, 4, generator=generator, dtype=torch.float64))

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return (1 + t) * torch.tanh(z @ self.w1.T + self.b1) @ self.w2.T


def _adjoint_test_problem() -> tuple[_Field, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The field, a time t, a batch of states z (3, 2) and adjoints a (3, 2), always the same."""
    generator = torch.Generator().manual_seed(6)
    z = torch.randn(3, 2, generator=generator, dtype=torch.float64)
    a = torch.randn(3, 2, generator=generator, dtype=torch.float64)
    field = _Field(generator)  # drawn after z and a: the numbers the messages were written for
    return field, torch.tensor(0.3, dtype=torch.float64), z, a


def _close(x: torch.Tensor, y: torch.Tensor) -> bool:
    return torch.allclose(x, y, rtol=1e-8, atol=1e-10)


def _as_tensor(x: Any, shape: torch.Size, what: str) -> torch.Tensor:
    """``x`` detached, if it is a tensor of shape ``shape``; a Jacobian gets its own hint."""
    if not isinstance(x, torch.Tensor):
        raise CheckFailed(f"{what} must be a tensor of shape {tuple(shape)}; got {x!r:.60}.")
    if x.shape != shape:
        raise CheckFailed(
            f"{what} has shape {tuple(x.shape)}; expected {tuple(shape)}. "
            + (
                "A product aᵀ J is a vector shaped like z (or θ), not a Jacobian matrix: "
                "use torch.autograd.grad(f, z, grad_outputs=a) instead of building J."
                if x.numel() > math.prod(shape)
                else ""
            )
        )
    return x.detach()


@exercise_check
def check_augmented_dynamics(
    augmented_dynamics: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor, torch.Tensor], Any],
) -> None:
    """``augmented_dynamics(func, t, z, a)`` returns (f, −aᵀ ∂f/∂z, −aᵀ ∂f/∂θ).

    ``func`` is a ``torch.nn.Module`` called as ``func(t, z)``; ``z`` and the adjoint ``a`` have
    the shape (B, D) of a batch of states. The result is a tuple ``(dz, da, dtheta)``: ``dz`` and
    ``da`` shaped like ``z``, and ``dtheta`` a list with one tensor per parameter of ``func``
    (in the order of ``func.parameters()``), shaped like it. The check compares them with
    products of explicit Jacobians computed by ``torch.autograd.functional.jacobian``.

    Args:
        augmented_dynamics: the learner's right-hand side of the adjoint system.

    Raises:
        CheckFailed: a result is missing, has the wrong shape or the wrong values; the message
            names the likely slip (a sign, a transposed Jacobian, a missing parameter).

    Example:
        >>> def augmented_dynamics(func, t, z, a):
        ...     with torch.enable_grad():
        ...         z = z.detach().requires_grad_()
        ...         dz = func(t, z)
        ...         grads = torch.autograd.grad(dz, (z, *func.parameters()), grad_outputs=-a)
        ...     return dz.detach(), grads[0], list(grads[1:])
        >>> check_augmented_dynamics(augmented_dynamics)
        Correct: all three parts match explicit Jacobians, also under torch.no_grad().
    """
    func, t, z, a = _adjoint_test_problem()
    names = [name for name, _ in func.named_parameters()]
    params = [p.detach() for p in func.parameters()]
    with torch.no_grad():  # as a solver calls it in the backward pass: grad mode is off there
        try:
            out = augmented_dynamics(func, t, z.clone(), a.clone())
        except NotImplementedError:
            out = call(augmented_dynamics, "augmented_dynamics", func, t, z.clone(), a.clone())
        except RuntimeError as error:
            if "grad" not in str(error):
                out = call(augmented_dynamics, "augmented_dynamics", func, t, z.clone(), a.clone())
            else:
                raise CheckFailed(
                    "augmented_dynamics fails under torch.no_grad(), and the backward solve "
                    "calls it with grad mode off: wrap its body in `with torch.enable_grad():` "
                    f"(it raised RuntimeError: {str(error)[:80]})"
                ) from None
        except Exception:
            out = call(augmented_dynamics, "augmented_dynamics", func, t, z.clone(), a.clone())
    out = returned(out, "augmented_dynamics")
    if not isinstance(out, tuple | list) or len(out) != 3:
        raise CheckFailed(
            "augmented_dynamics must return three things, (dz, da, dtheta): dz/dt = f(t, z), "
            "da/dt = −aᵀ ∂f/∂z and d(dL/dθ)/dt = −aᵀ ∂f/∂θ."
        )
    dz, da, dtheta = out
    with torch.no_grad():
        want_dz = func(t, z)
    jac_z = jacobian(lambda z_: func(t, z_), z).reshape(z.numel(), z.numel())
    want_da = -(a.reshape(-1) @ jac_z).reshape(z.shape)
    want_dtheta = []
    for name, p in zip(names, params, strict=True):

        def f_of_p(p_: torch.Tensor, name: str = name) -> torch.Tensor:
            return functional_call(func, {name: p_}, (t, z))

        jac_p = jacobian(f_of_p, p).reshape(z.numel(), p.numel())
        want_dtheta.append(-(a.reshape(-1) @ jac_p).reshape(p.shape))

    dz = _as_tensor(dz, z.shape, "dz")
    if not _close(dz, want_dz):
        hint = " You returned a, not f(t, z)." if _close(dz, a) else ""
        raise CheckFailed(f"dz is not f(t, z), the original dynamics.{hint}")
    da = _as_tensor(da, z.shape, "da")
    if not _close(da, want_da):
        mistakes = {
            "the sign: da/dt = −aᵀ ∂f/∂z, with a minus (the adjoint runs backwards)": -want_da,
            "a transposed Jacobian: you computed −(∂f/∂z) a; the adjoint needs aᵀ ∂f/∂z, "
            "the vector–Jacobian product (grad_outputs=a), not a Jacobian–vector product": -(
                jac_z @ a.reshape(-1)
            ).reshape(z.shape),
            "a itself: da/dt multiplies a by the Jacobian ∂f/∂z": a,
        }
        name_the_mistake(da, mistakes, _close, "da gets")
        raise CheckFailed(
            f"da is wrong (max error {max_error(da, want_da):.3g}); expected "
            "−aᵀ ∂f/∂z, e.g. torch.autograd.grad(f, z, grad_outputs=-a)."
        )
    if not isinstance(dtheta, tuple | list) or len(dtheta) != len(params):
        raise CheckFailed(
            f"dtheta must be a list with one tensor per parameter of func ({len(params)}: "
            f"{', '.join(names)}); got {type(dtheta).__name__}"
            + (f" of length {len(dtheta)}" if isinstance(dtheta, tuple | list) else "")
            + ". Pass tuple(func.parameters()) to torch.autograd.grad with z."
        )
    for name, p, given, want in zip(names, params, dtheta, want_dtheta, strict=True):
        got = _as_tensor(given, p.shape, f"dtheta for {name}")
        if _close(got, want):
            continue
        if _close(got, -want):
            raise CheckFailed(
                f"dtheta for {name} has the wrong sign: dL/dθ accumulates −aᵀ ∂f/∂θ as the "
                "solve runs from t_N back to t_0."
            )
        raise CheckFailed(
            f"dtheta for {name} is wrong (max error {max_error(got, want):.3g}); "
            "expected −aᵀ ∂f/∂θ, from the same torch.autograd.grad call as da."
        )
    passed("all three parts match explicit Jacobians, also under torch.no_grad().")


class _Stages(torch.nn.Module):
    """``n_stages`` evaluations of Linear → tanh → Linear, as in one explicit Runge–Kutta step."""

    def __init__(self, dim: int, hidden: int, n_stages: int) -> None:
        super().__init__()
        self.f = torch.nn.Sequential(
            torch.nn.Linear(dim, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, dim)
        )
        self.n_stages = n_stages

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        k = self.f(y)
        total = k
        for _ in range(self.n_stages - 1):
            k = self.f(y + 0.5 * k)
            total = total + k
        return y + 0.1 * total


def measured_saved_bytes(batch: int, dim: int, hidden: int, n_stages: int, itemsize: int) -> int:
    """What autograd keeps for one step, measured (:func:`ode_course.memory.activation_memory`).

    The one measurement that :func:`check_saved_bytes` and the grader compare a prediction with:
    ``n_stages`` evaluations of Linear(dim, hidden) → tanh → Linear(hidden, dim) on a batch of
    ``batch`` states whose entries take ``itemsize`` bytes (2: bfloat16, 4: float32, 8: float64).
    """
    dtype = {2: torch.bfloat16, 4: torch.float32, 8: torch.float64}[itemsize]
    model = _Stages(dim, hidden, n_stages).to(dtype)
    return activation_memory(model, torch.zeros(batch, dim, dtype=dtype, requires_grad=True))


@exercise_check
def check_saved_bytes(saved_bytes_per_step: Callable[[int, int, int, int, int], float]) -> None:
    """The bytes that backprop through a fixed-step solver saves per step.

    ``saved_bytes_per_step(batch, dim, hidden, n_stages, itemsize)`` predicts, for the field
    f(t, y) = Linear(hidden, dim)(tanh(Linear(dim, hidden)(y))) on a batch of states of shape
    (batch, dim), and a Runge–Kutta method with ``n_stages`` evaluations of f per step, the
    memory that autograd keeps for the backward pass per solver step: each evaluation saves
    the input of the first layer and the output of tanh (which the second layer also reads);
    ``itemsize`` is the bytes per number (4 for float32).

    Args:
        saved_bytes_per_step: the learner's prediction.

    Raises:
        CheckFailed: the prediction is wrong for one of several configurations; the message
            names the likely slip.

    Example:
        >>> try:
        ...     check_saved_bytes(lambda batch, dim, hidden, n_stages, itemsize: (
        ...         n_stages * batch * (dim + hidden)))
        ... except CheckFailed as verdict:
        ...     print(verdict)
        saved_bytes_per_step counts numbers, not bytes: multiply by itemsize.
    """
    configs = [(256, 64, 32, 4, 8), (32, 8, 100, 2, 4), (10, 3, 7, 1, 4)]
    for batch, dim, hidden, stages, itemsize in configs:
        out = call(
            saved_bytes_per_step, "saved_bytes_per_step", batch, dim, hidden, stages, itemsize
        )
        got = number_result(out, "saved_bytes_per_step")
        want = measured_saved_bytes(batch, dim, hidden, stages, itemsize)
        if close(got, want, 1e-9):
            continue
        mistakes = {
            "one evaluation of f only: every stage of the method saves its own activations": (
                batch * (dim + hidden) * itemsize
            ),
            "only the hidden activations: the first Linear saves its input, a state (dim)": (
                stages * batch * hidden * itemsize
            ),
            "only the inputs: tanh's output (hidden) is saved too": stages * batch * dim * itemsize,
            "numbers, not bytes: multiply by itemsize": stages * batch * (dim + hidden),
            "tanh's input and output: only the output is kept (tanh' = 1 − tanh²)": (
                stages * batch * (dim + 2 * hidden) * itemsize
            ),
        }
        name_the_mistake(
            got, mistakes, lambda g, m: close(g, m, 1e-9), "saved_bytes_per_step counts"
        )
        raise CheckFailed(
            f"for batch={batch}, dim={dim}, hidden={hidden}, n_stages={stages}, itemsize="
            f"{itemsize} you predict {got:g} bytes; count, per stage, what the first Linear "
            "and tanh keep for the backward pass."
        )
    passed("your count matches what autograd keeps, for three configurations.")


def _is_count_pair(pair: Any) -> bool:
    return (
        isinstance(pair, tuple | list)
        and len(pair) == 2
        and all(isinstance(k, int) and not isinstance(k, bool) for k in pair)
    )


def _adjoint_nfe(field: torch.nn.Module, z0: torch.Tensor, n_times: int) -> tuple[int, int]:
    """(forward, backward) NFE of odeint_adjoint on [0, 2] with n_times outputs, tolerance 1e-6."""
    stats = AdjointStats()
    z0 = z0.detach().clone().requires_grad_(True)
    times = torch.linspace(0, 2, n_times, dtype=z0.dtype)
    zs = odeint_adjoint(field, z0, times, rtol=1e-6, atol=1e-6, stats=stats)
    torch.autograd.grad((zs**2).sum(), z0)
    return stats.nfe_forward, stats.nfe_backward


@exercise_check
def check_backward_nfe(nfe: Any, field: torch.nn.Module, z0: torch.Tensor) -> None:
    """``nfe = {n: (forward NFE, backward NFE)}`` for n = 2 and 11 output times, as measured.

    The check repeats the exercise's measurement with the package's
    :func:`~ode_course.adjoint.odeint_adjoint` and :class:`~ode_course.adjoint.AdjointStats`:
    ``field`` from ``z0`` over ``torch.linspace(0, 2, n)``, rtol = atol = 10⁻⁶, the loss
    ``(zs**2).sum()``. Counts of a deterministic solver on the same inputs must agree exactly.

    Args:
        nfe: the learner's dict (``None`` until answered).
        field: the chapter's vector field, an ``nn.Module`` called as ``field(t, z)``.
        z0: the initial states it was measured from.

    Raises:
        CheckFailed: not a dict of two pairs of counts, or counts that differ from the
            measurement; the message names the likely slip (the pair reversed).

    Example:
        >>> from ode_course.models import ODEFunc
        >>> _ = torch.manual_seed(0)
        >>> f, z = ODEFunc(dim=2, hidden=8).double(), torch.randn(4, 2, dtype=torch.float64)
        >>> check_backward_nfe({n: _adjoint_nfe(f, z, n) for n in (2, 11)}, f, z)
        Correct: your counts are the measured ones: the backward NFE grows with the output times.
        >>> try:
        ...     check_backward_nfe({2: (1, 2)}, f, z)
        ... except CheckFailed as verdict:
        ...     print(verdict)
        nfe must have the keys 2 and 11 (the numbers of output times); got [2].
    """
    answered(nfe, "nfe")
    if not isinstance(nfe, dict) or sorted(nfe) != [2, 11]:
        keys = sorted(nfe) if isinstance(nfe, dict) else type(nfe).__name__
        raise CheckFailed(
            f"nfe must have the keys 2 and 11 (the numbers of output times); got {keys}."
        )
    bad = next((n for n, pair in nfe.items() if not _is_count_pair(pair)), None)
    if bad is not None:
        raise CheckFailed(
            f"nfe[{bad}] must be a pair of whole numbers (stats.nfe_forward, "
            f"stats.nfe_backward); got {nfe[bad]!r:.60}."
        )
    want = {n: _adjoint_nfe(field, z0, n) for n in (2, 11)}
    got = {n: tuple(pair) for n, pair in nfe.items()}
    if got == want:
        passed("your counts are the measured ones: the backward NFE grows with the output times.")
        return
    mistakes = {
        "each pair is reversed: store (forward NFE, backward NFE)": {
            n: (b, f) for n, (f, b) in want.items()
        },
    }
    name_the_mistake(got, mistakes, lambda a, b: a == b)
    raise CheckFailed(
        f"nfe = {got}, but the measurement gives {want}: use odeint_adjoint(field, z0, "
        "torch.linspace(0, 2, n), rtol=1e-6, atol=1e-6, stats=AdjointStats()) and the loss "
        "(zs**2).sum(), with a new AdjointStats for each n."
    )

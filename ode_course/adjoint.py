"""The adjoint sensitivity method: gradients of an ODE solution by a second ODE, backward in time.

For z(t) with dz/dt = f(t, z, θ), z(t₀) = z₀, and a loss L that depends on z(t₁), …, z(t_N),
the *adjoint* a(t) = ∂L/∂z(t) obeys, between the output times (Chen et al. 2018, §2; an old
result of optimal control, Pontryagin et al. 1962),

    da/dt = −a(t)ᵀ ∂f/∂z(t, z(t), θ),        a(t_N) = ∂L/∂z(t_N),

jumps by ∂L/∂z(t_i) at each output time t_i (the loss reads z there too), and gives

    dL/dz₀ = a(t₀),        dL/dθ = −∫_{t_N}^{t₀} a(t)ᵀ ∂f/∂θ(t, z(t), θ) dt.

Both need z(t) backwards, so :func:`odeint_adjoint` integrates the *augmented state*
[z, a, g] from t_N back to t₀ with :func:`~ode_course.solvers.solve`, under the dynamics

    d/dt [z, a, g] = [f(t, z, θ),  −aᵀ ∂f/∂z,  −aᵀ ∂f/∂θ],      g(t_N) = 0,  so g(t₀) = dL/dθ,

where both products aᵀ ∂f/∂z and aᵀ ∂f/∂θ come from *one* vector–Jacobian product
(``torch.autograd.grad`` of f with ``grad_outputs=−a``), never from a Jacobian. This is
Algorithm 1 of Chen et al. (2018). The forward pass runs under ``torch.no_grad()`` and keeps
only z at the output times, so memory does not grow with the number of solver steps; the
price is a second solve, and gradients that are only as accurate as that solve (z(t) is
*reconstructed* backwards, which goes wrong when the forward flow contracts strongly: see the
``checkpoints`` argument).

Example:
    >>> from ode_course.solvers import odeint
    >>> class Linear(torch.nn.Module):  # dz/dt = W z
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.W = torch.nn.Parameter(torch.tensor([[-0.5, 1.0], [-1.0, 0.0]]).double())
    ...     def forward(self, t, z):
    ...         return z @ self.W.T
    >>> func, t = Linear(), torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> z0 = torch.tensor([1.0, 0.0], dtype=torch.float64, requires_grad=True)
    >>> stats = AdjointStats()
    >>> odeint_adjoint(func, z0, t, rtol=1e-10, atol=1e-10, stats=stats)[-1].sum().backward()
    >>> direct = odeint(func, z0, t, rtol=1e-10, atol=1e-10)[-1].sum()  # backprop through steps
    >>> torch.allclose(z0.grad, torch.autograd.grad(direct, z0)[0], rtol=1e-8)
    True
    >>> stats.nfe_forward, stats.nfe_backward
    (134, 164)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from ode_course import _validate
from ode_course.solvers import SolverError, solve
from ode_course.solvers.problem import check_problem

__all__ = ["AdjointStats", "adjoint_dynamics", "odeint_adjoint"]


@dataclass
class AdjointStats:
    """What :func:`odeint_adjoint` cost: filled by the forward solve, then by ``backward()``.

    Counts add up over calls (pass one object to every call of a training run, or a new one per
    call); :meth:`reset` sets them back to 0.

    Attributes:
        nfe_forward: evaluations of f in the forward solve.
        nfe_backward: evaluations of f in the backward solves: one per evaluation of the
            augmented dynamics (each also takes one vector–Jacobian product), plus one per
            output time when ``t`` requires grad.
        n_steps_forward: accepted steps of the forward solve.
        n_steps_backward: accepted steps of the backward solves (one solve per interval between
            consecutive output times or checkpoints).
        n_backward: the number of backward passes run.
    """

    nfe_forward: int = 0
    nfe_backward: int = 0
    n_steps_forward: int = 0
    n_steps_backward: int = 0
    n_backward: int = 0

    def reset(self) -> None:
        """Set every count back to 0."""
        self.nfe_forward = self.nfe_backward = 0
        self.n_steps_forward = self.n_steps_backward = self.n_backward = 0


@dataclass(frozen=True)
class _Options:
    """Everything the autograd Function needs besides the tensors."""

    func: nn.Module
    solver: dict[str, Any]  # method, rtol, atol, step_size, max_num_steps of the forward solve
    adjoint_tolerances: dict[str, Any]  # rtol, atol and (with seminorms) error_norm
    output_index: tuple[int, ...]  # where the output times sit in the solved grid
    stats: AdjointStats | None


def adjoint_dynamics(
    func: nn.Module, params: tuple[torch.Tensor, ...], shape: torch.Size
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The augmented field d/dt [z, a, g] = [f, −aᵀ ∂f/∂z, −aᵀ ∂f/∂θ] on one flat vector.

    This is what :func:`odeint_adjoint` integrates backwards from t_N to t_0: the state z (to
    retrace the forward solution), the adjoint a = ∂L/∂z(t) and the running parameter gradient
    g, packed end to end in one vector of length 2·prod(shape) + Σ|θ| so that any solver can
    integrate it. One vector–Jacobian product per evaluation gives both aᵀ ∂f/∂z and
    aᵀ ∂f/∂θ; no Jacobian is formed.

    Args:
        func: the vector field f(t, z), an ``nn.Module``.
        params: the parameters θ of ``func`` whose gradients are accumulated, in order.
        shape: the shape of the state z.

    Returns:
        The field ``dynamics(t, state) -> d state / dt`` on flat vectors.

    Example:
        >>> lin = nn.Linear(2, 2, bias=False).double()
        >>> field = adjoint_dynamics(lambda t, z: lin(z), tuple(lin.parameters()), torch.Size([2]))
        >>> field(torch.tensor(0.0), torch.zeros(2 + 2 + 4, dtype=torch.float64)).shape
        torch.Size([8])
    """
    n = math.prod(shape)

    def dynamics(t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        z, a = state[:n].view(shape), state[n : 2 * n].view(shape)
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            dz = func(t, z)
            inputs = (z, *params)
            vjps: tuple[torch.Tensor | None, ...] = (None,) * len(inputs)
            if dz.requires_grad:  # one vector–Jacobian product gives both aᵀ∂f/∂z and aᵀ∂f/∂θ
                vjps = torch.autograd.grad(dz, inputs, grad_outputs=-a, allow_unused=True)
            # else: f depends neither on z nor on θ
        pieces = [dz.detach().reshape(-1)]
        for x, vjp in zip(inputs, vjps, strict=True):
            pieces.append(z.new_zeros(x.numel()) if vjp is None else vjp.reshape(-1))
        return torch.cat(pieces)

    return dynamics


def _seminorm(n_kept: int) -> Callable[[torch.Tensor], float]:
    """The RMS of the first ``n_kept`` entries of a flat error vector, ignoring the rest.

    For the adjoint's augmented state [z, a, dL/dθ] of length 2D + P, ``_seminorm(2 * D)``
    controls the error of z and a only (Kidger et al. 2021): the entries dL/dθ are integrated
    but feed nothing else in the backward solve, so their error does not grow through it.

    Args:
        n_kept: how many leading entries the norm measures, at least 1.

    Returns:
        ``norm(e) = √(mean of e[:n_kept]²)``, a Python float.

    Example:
        >>> norm = _seminorm(2)
        >>> f"{norm(torch.tensor([3.0, 4.0, 100.0])):.4f}"  # √((9 + 16) / 2)
        '3.5355'
    """
    n_kept = _validate.integer(n_kept, "n_kept", minimum=1, fix="e.g. n_kept=2 * y0.numel()")

    def norm(error: torch.Tensor) -> float:
        kept = error.reshape(-1)[:n_kept]
        return (torch.linalg.vector_norm(kept) / math.sqrt(kept.numel())).item()

    return norm


class _OdeintAdjoint(torch.autograd.Function):
    """ys = odeint(func, y0, grid) forward; the adjoint ODE backward (see the module docstring)."""

    @staticmethod
    def forward(ctx, y0, t, grid, options: _Options, *params):
        with torch.no_grad():
            solution = solve(options.func, y0, grid, **options.solver)
        if options.stats is not None:
            options.stats.nfe_forward += solution.nfe
            options.stats.n_steps_forward += solution.n_steps
        ys = solution.ys[list(options.output_index)]  # a copy, even when it is every time
        ctx.options = options
        ctx.save_for_backward(t, grid, solution.ys, *params)
        return ys

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_ys):
        t, grid, zs, *params = ctx.saved_tensors
        options, params = ctx.options, tuple(params)
        func, shape, stats = options.func, zs.shape[1:], options.stats
        n = math.prod(shape)
        # ∂L/∂z at every time of the grid: zero at the checkpoints, which the loss does not read
        grads = torch.zeros_like(zs)
        grads[list(options.output_index)] = grad_ys
        dynamics = adjoint_dynamics(func, params, shape)
        solver = {**options.solver, **options.adjoint_tolerances}
        times = grid.tolist()
        a = grads[-1]
        g = torch.zeros(sum(p.numel() for p in params), dtype=zs.dtype, device=zs.device)
        nfe = n_steps = 0
        for i in range(len(times) - 1, 0, -1):
            # restart z from the value stored by the forward pass (a checkpoint), carry a and g
            state = torch.cat([zs[i].reshape(-1), a.reshape(-1), g])
            try:
                solution = solve(dynamics, state, grid[[i, i - 1]], **solver)
            except SolverError as exc:
                raise SolverError(
                    f"the adjoint's backward solve from t={times[i]:g} to t={times[i - 1]:g} "
                    "failed; the usual cause is that z(t) cannot be reconstructed backwards in "
                    "time (a strongly contracting flow). Fix: add checkpoints (checkpoints=...) "
                    "or backpropagate through ode_course.solvers.odeint directly. The solver "
                    f"said: {exc}"
                ) from exc
            nfe, n_steps = nfe + solution.nfe, n_steps + solution.n_steps
            end = solution.ys[-1]
            a, g = end[n : 2 * n].view(shape), end[2 * n :]
            if i == 1:
                a_before_y0 = a  # the adjoint at t₀ without the loss's own ∂L/∂y0 term
            a = a + grads[i - 1]
        grad_t = None
        if ctx.needs_input_grad[1]:  # dL/dtᵢ = ∂L/∂z(tᵢ)·f(tᵢ, z(tᵢ)); dL/dt₀ = −a(t₀⁺)·f(t₀, z₀)
            grad_t = torch.zeros_like(t)
            with torch.no_grad():
                for k, i in enumerate(options.output_index):
                    adjoint = grads[i] if k > 0 else -a_before_y0
                    grad_t[k] = torch.sum(adjoint * func(grid[i], zs[i]))
                    nfe += 1
        if stats is not None:
            stats.nfe_backward += nfe
            stats.n_steps_backward += n_steps
            stats.n_backward += 1
        grad_params, start = [], 0
        for p in params:
            grad_params.append(g[start : start + p.numel()].view_as(p))
            start += p.numel()
        grad_y0 = a if ctx.needs_input_grad[0] else None
        return (grad_y0, grad_t, None, None, *grad_params)


def _checkpoint_grid(t: torch.Tensor, checkpoints: int) -> tuple[torch.Tensor, tuple[int, ...]]:
    """The output times merged with ``checkpoints`` evenly spaced times in (t₀, t_N)."""
    times = t.tolist()
    if checkpoints == 0:
        return t, tuple(range(len(times)))
    extra = torch.linspace(times[0], times[-1], checkpoints + 2, dtype=t.dtype)[1:-1].tolist()
    merged = sorted(set(times) | set(extra), reverse=times[-1] < times[0])
    position = {time: i for i, time in enumerate(merged)}
    grid = torch.tensor(merged, dtype=t.dtype, device=t.device)
    return grid, tuple(position[time] for time in times)


def odeint_adjoint(
    func: nn.Module,
    y0: torch.Tensor,
    t: torch.Tensor,
    *,
    method: str = "dopri5",
    rtol: float = 1e-7,
    atol: float = 1e-9,
    step_size: float | None = None,
    adjoint_rtol: float | None = None,
    adjoint_atol: float | None = None,
    max_num_steps: int = 10_000,
    checkpoints: int = 0,
    stats: AdjointStats | None = None,
    adjoint_seminorm: bool = False,
) -> torch.Tensor:
    """y(t[i]) of dy/dt = func(t, y), y(t[0]) = y0, differentiated by the adjoint method.

    The same call and result as :func:`ode_course.solvers.odeint`, shape
    ``(len(t), *y0.shape)``, but the forward solve keeps no graph (it runs under
    ``torch.no_grad()``): ``backward()`` integrates the augmented state [z, a, dL/dθ] from
    t[-1] back to t[0] (see the module docstring), restarting z from the forward solution at
    each output time and adding ∂L/∂y(t[i]) to a there. Memory therefore does not grow with the
    number of solver steps, only with ``len(t)`` and ``checkpoints``.

    Gradients reach ``y0``, every parameter of ``func`` that requires grad (zeros for those
    that do not affect the output), and ``t`` if it requires grad:
    dL/dt[i] = ∂L/∂y(t[i]) · f(t[i], y(t[i])) for i ≥ 1, and dL/dt[0] = −a(t[0])·f(t[0], y0),
    with a(t[0]) the adjoint that arrives at t[0]. Tensors that ``func`` reads from outside
    its parameters get no gradient.

    ``func`` is called under ``torch.no_grad()`` in the forward solve; a field that needs
    autograd inside (for example a Jacobian trace) must turn it on itself with
    ``torch.enable_grad()``. In the backward solve it is called with a ``y`` that requires grad.

    Args:
        func: the vector field, a ``torch.nn.Module`` called as ``func(t, y)``.
        y0: the initial state, a floating-point tensor of any shape (batches are extra
            dimensions).
        t: 1-D tensor of output times, strictly increasing or decreasing, dtype and device of
            ``y0``; it may require grad.
        method, rtol, atol, step_size, max_num_steps: the solver, as in
            :func:`~ode_course.solvers.solve`; the backward solve uses the same method,
            ``step_size`` and ``max_num_steps``.
        adjoint_rtol, adjoint_atol: the tolerances of the backward solve (default: ``rtol``,
            ``atol``); its error is measured over the whole augmented state [z, a, dL/dθ].
        checkpoints: the number of extra times, evenly spaced in (t[0], t[-1]), at which the
            forward solve stores y (memory: one state each) and the backward solve restarts z
            from it instead of carrying its own reconstruction. The remedy when z(t) cannot be
            reconstructed backwards (strongly contracting flows). With a fixed-grid method the
            steps restart at each checkpoint, as they do at each output time.
        stats: an :class:`AdjointStats` to which the forward solve, and later each backward
            pass, add their NFE and steps.
        adjoint_seminorm: measure the backward solve's error on [z, a] only, not on the
            parameter-gradient entries dL/dθ (the seminorm of Kidger et al. 2021, torchdiffeq's
            ``adjoint_options=dict(norm="seminorm")``): nothing downstream of the solve depends
            on them, so their error need not limit the steps. Usually fewer backward steps.

    Returns:
        The solution, shape ``(len(t), *y0.shape)``, differentiable by the adjoint method.

    Raises:
        TypeError: ``func`` is not an ``nn.Module``; ``stats`` is not an ``AdjointStats``; and
            the errors of :func:`~ode_course.solvers.solve` for bad ``y0``, ``t``, ``method``.
        ValueError: there is nothing to differentiate (grad mode is on but neither ``y0``, ``t``
            nor any parameter of ``func`` requires grad); a bad ``adjoint_rtol``,
            ``adjoint_atol`` or ``checkpoints``; and the errors of
            :func:`~ode_course.solvers.solve`.
        SolverError: the forward solve failed, or (during ``backward()``) the backward solve.

    Example:
        >>> class Decay(torch.nn.Module):  # dy/dt = −k y, so y(1) = y0 e^{−k}
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.k = torch.nn.Parameter(torch.tensor(2.0, dtype=torch.float64))
        ...     def forward(self, t, y):
        ...         return -self.k * y
        >>> decay, t = Decay(), torch.tensor([0.0, 1.0], dtype=torch.float64)
        >>> y1 = odeint_adjoint(decay, torch.ones(1, dtype=torch.float64), t, rtol=1e-10)[-1]
        >>> y1.sum().backward()
        >>> f"{decay.k.grad.item():.8f}", f"{-math.exp(-2.0):.8f}"  # dy(1)/dk = −e^{−k}
        ('-0.13533528', '-0.13533528')
    """
    if not isinstance(func, nn.Module):
        raise TypeError(
            f"func must be a torch.nn.Module, whose parameters receive the gradients; got "
            f"{type(func).__name__}. Fix: write the vector field as an nn.Module with "
            "forward(self, t, y), or wrap a function with ode_course.solvers.CountNFE(f) (then "
            "only y0 and t get gradients), or use ode_course.solvers.odeint for direct backprop."
        )
    check_problem(func, y0, t.detach() if isinstance(t, torch.Tensor) else t)
    tolerances: dict[str, Any] = {"rtol": rtol, "atol": atol}  # default: the forward ones
    for name, value in (("rtol", adjoint_rtol), ("atol", adjoint_atol)):
        if value is not None:
            fix = f"use a small positive number, or None to use {name}={tolerances[name]!r}"
            tolerances[name] = _validate.positive(value, f"adjoint_{name}", fix=fix)
    checkpoints = _validate.integer(
        checkpoints,
        "checkpoints",
        minimum=0,
        fix="e.g. checkpoints=10; 0 stores y only at the times t, k > 0 adds k evenly spaced times",
    )
    if stats is not None and not isinstance(stats, AdjointStats):
        raise TypeError(
            f"stats must be an AdjointStats or None; got {type(stats).__name__}. "
            "Fix: stats = AdjointStats(), pass it, and read it after backward()."
        )
    params = tuple(p for p in func.parameters() if p.requires_grad)
    if torch.is_grad_enabled() and not (y0.requires_grad or t.requires_grad or params):
        raise ValueError(
            "nothing to differentiate: neither y0, t nor any parameter of func requires grad. "
            "Fix: y0.requires_grad_() for dL/dy0, keep func's parameters trainable for dL/dθ, "
            "or call ode_course.solvers.odeint (or this function under torch.no_grad()) if "
            "you only need the solution."
        )
    if not isinstance(adjoint_seminorm, bool):
        raise TypeError(
            f"adjoint_seminorm must be True or False; got {adjoint_seminorm!r}. "
            "Fix: adjoint_seminorm=True to skip dL/dθ in the backward error control."
        )
    if adjoint_seminorm:
        tolerances["error_norm"] = _seminorm(2 * y0.numel())
    grid, output_index = _checkpoint_grid(t.detach(), int(checkpoints))
    solver = {
        "method": method,
        "rtol": rtol,
        "atol": atol,
        "step_size": step_size,
        "max_num_steps": max_num_steps,
    }
    options = _Options(func, solver, tolerances, output_index, stats)
    return _OdeintAdjoint.apply(y0, t, grid, options, *params)

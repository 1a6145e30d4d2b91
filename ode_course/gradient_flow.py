"""Training as an ODE: minimise L by integrating the gradient flow dθ/dt = −∇L(θ).

Gradient descent with learning rate h is the explicit Euler method for this ODE, and is stable
only for h < 2/λ_max (λ_max the largest eigenvalue of the Hessian). The flow of a badly
conditioned problem is *stiff*: an implicit solver such as BDF takes steps far beyond that
limit, so it needs no learning rate at all (Owens & Filkin 1989). :func:`minimize` integrates the
flow with one of scipy's solvers, step by step, and stops once ‖∇L‖ < gtol.

:class:`TorchObjective` exposes a torch model's full-batch loss and gradient as functions of
one flat float64 vector, so :func:`minimize` can train it.

Example:
    >>> A = np.diag([1.0, 100.0])
    >>> result = minimize(lambda x: 0.5 * x @ A @ x, lambda x: A @ x, [1.0, 1.0], gtol=1e-8)
    >>> result.success, bool(np.allclose(result.x, 0.0, atol=1e-7))
    (True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import integrate

from ode_course import _validate

__all__ = ["METHODS", "FlowResult", "TorchObjective", "minimize"]

METHODS = ("BDF", "Radau", "LSODA", "RK45")
"""scipy's solvers that :func:`minimize` drives: ``BDF`` and ``Radau`` (implicit), ``LSODA``
(switches between Adams and BDF as stiffness appears) and ``RK45`` (explicit, for contrast)."""
_IMPLICIT = ("BDF", "Radau", "LSODA")


@dataclass
class FlowResult:
    """The outcome of :func:`minimize`, shaped like ``scipy.optimize.OptimizeResult``.

    Attributes:
        x: the final point θ(t_end).
        fun: L(x).
        grad_norm: ‖∇L(x)‖.
        t: the flow time reached.
        nit: accepted solver steps (the ODE optimizer's iterations).
        nfev: gradient evaluations, all of them (the solver's stages, finite-difference
            Jacobians and the stopping test).
        njev: Jacobian (Hessian) evaluations or approximations by the implicit solver.
        success: whether ‖∇L‖ < gtol was reached (or the callback asked to stop).
        status: ``"gtol"``, ``"callback"``, ``"t_max"`` or ``"max_steps"``.
        message: a sentence that says why it stopped.
        ts: the time of every accepted step, shape (nit + 1,).
        path: θ at every accepted step, shape (nit + 1, n).
    """

    x: np.ndarray
    fun: float
    grad_norm: float
    t: float
    nit: int
    nfev: int
    njev: int
    success: bool
    status: str
    message: str
    ts: np.ndarray = field(repr=False)
    path: np.ndarray = field(repr=False)


class _CountedGradient:
    """grad(θ) with a count of evaluations and a one-entry cache for repeated points."""

    def __init__(self, grad: Callable[[np.ndarray], np.ndarray], n: int):
        self.grad, self.n, self.calls = grad, n, 0
        self._x: np.ndarray | None = None
        self._g: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self._x is not None and self._g is not None and np.array_equal(x, self._x):
            return self._g
        g = np.asarray(self.grad(x.copy()), dtype=np.float64)
        self.calls += 1
        _validate.shape(
            g,
            "grad",
            f"a function returning an array of shape ({self.n},), like x0",
            g.shape == (self.n,),
            fix="return the gradient flattened the same way as x0",
        )
        if not np.all(np.isfinite(g)):
            _validate.fail(
                "grad",
                "finite along the flow (it left the region where L is defined)",
                "a non-finite value",
                "check the loss, or start closer to a minimum",
                FloatingPointError,
            )
        self._x, self._g = x.copy(), g
        return g


def minimize(
    fun: Callable[[np.ndarray], float],
    grad: Callable[[np.ndarray], np.ndarray],
    x0: Sequence[float] | np.ndarray,
    *,
    method: str = "BDF",
    t_max: float = 1e8,
    gtol: float = 1e-5,
    rtol: float = 1e-3,
    atol: float = 1e-9,
    hessian: Callable[[np.ndarray], np.ndarray] | None = None,
    max_steps: int = 100_000,
    callback: Callable[[float, np.ndarray], bool] | None = None,
) -> FlowResult:
    """Integrate dθ/dt = −∇L(θ) from θ(0) = x0 until ‖∇L‖ < gtol, t = t_max or ``max_steps``.

    The solver is one of scipy's (``BDF`` and ``Radau`` are implicit, for stiff flows;
    ``LSODA`` switches between explicit Adams and implicit BDF formulas as stiffness appears;
    ``RK45`` is explicit, for contrast), driven one accepted step at a time. The
    tolerances control the accuracy of the *path*; the end point is set by ``gtol``. No learning
    rate is needed: the solver picks its own step sizes.

    Args:
        fun: L(θ) for a flat float64 array θ; used only to report the result.
        grad: ∇L(θ), an array shaped like ``x0``.
        x0: the start, a flat sequence of finite numbers.
        method: one of ``METHODS``.
        t_max: the largest flow time.
        gtol: stop once ‖∇L(θ)‖ < gtol.
        rtol, atol: the solver's relative and absolute tolerances.
        hessian: ∇²L(θ), shape (n, n), for the implicit solvers (they estimate it by finite
            differences otherwise).
        max_steps: the largest number of accepted steps.
        callback: called as ``callback(t, θ)`` after every accepted step; return True to stop
            (for example for early stopping on a validation set).

    Returns:
        A :class:`FlowResult`.

    Raises:
        ValueError: ``x0`` is empty, not flat or not finite; ``method`` is unknown; a tolerance,
            ``t_max`` or ``max_steps`` is not positive; ``grad`` returns the wrong shape.
        TypeError: ``fun`` or ``grad`` is not callable, or a number is of the wrong type.
        FloatingPointError: ``grad`` returns a non-finite value.
        RuntimeError: the scipy solver fails.
    """
    _validate.callable_(fun, "fun", fix="pass L as a function of a flat numpy array")
    _validate.callable_(grad, "grad", fix="pass ∇L as a function of a flat numpy array")
    x0 = np.array(x0, dtype=np.float64)
    _validate.shape(
        x0, "x0", "a non-empty flat array", x0.ndim == 1 and x0.size > 0, fix="x0.ravel()"
    )
    _validate.finite(x0, "x0", fix="start from finite numbers")
    _validate.one_of(method, "method", METHODS, fix="method='BDF' for a stiff flow")
    t_max = _validate.positive(t_max, "t_max", fix="e.g. t_max=1e8")
    gtol = _validate.positive(gtol, "gtol", fix="e.g. gtol=1e-5")
    rtol = _validate.positive(rtol, "rtol", fix="e.g. rtol=1e-3")
    atol = _validate.positive(atol, "atol", fix="e.g. atol=1e-9")
    max_steps = _validate.integer(max_steps, "max_steps", fix="e.g. max_steps=100_000")

    g = _CountedGradient(grad, x0.size)
    options: dict[str, Any] = {"rtol": rtol, "atol": atol}
    if method in _IMPLICIT and hessian is not None:
        options["jac"] = lambda t, x: -np.asarray(hessian(x), dtype=np.float64)
    solver = getattr(integrate, method)(lambda t, x: -g(x), 0.0, x0, t_max, **options)

    ts, path = [0.0], [x0.copy()]
    status = "gtol" if np.linalg.norm(g(x0)) < gtol else ""
    while not status:
        message = solver.step()
        if solver.status == "failed":
            _validate.fail(
                "method",
                "a solver that can follow this flow",
                f"method={method!r}, which failed at t = {solver.t:.3g}: {message}",
                "try another of METHODS (e.g. 'Radau'), a looser rtol, or a start closer to a "
                "minimum",
                RuntimeError,
            )
        ts.append(solver.t)
        path.append(solver.y.copy())
        if np.linalg.norm(g(solver.y)) < gtol:
            status = "gtol"
        elif callback is not None and callback(solver.t, solver.y.copy()):
            status = "callback"
        elif solver.status == "finished":
            status = "t_max"
        elif len(ts) - 1 >= max_steps:
            status = "max_steps"
    x = path[-1]
    messages = {
        "gtol": f"‖∇L‖ < {gtol:g}: a stationary point",
        "callback": "the callback asked to stop",
        "t_max": f"reached t_max = {t_max:g} before ‖∇L‖ < {gtol:g}",
        "max_steps": f"took max_steps = {max_steps} steps before ‖∇L‖ < {gtol:g}",
    }
    return FlowResult(
        x=x,
        fun=float(fun(x.copy())),
        grad_norm=float(np.linalg.norm(g(x))),
        t=float(ts[-1]),
        nit=len(ts) - 1,
        nfev=g.calls,
        njev=int(getattr(solver, "njev", 0)),
        success=status in ("gtol", "callback"),
        status=status,
        message=messages[status],
        ts=np.array(ts),
        path=np.array(path),
    )


class TorchObjective:
    """A torch model's full-batch loss L(θ) and gradient ∇L(θ) as functions of one flat vector.

    θ is the concatenation of the model's parameters (``torch.nn.utils.parameters_to_vector``);
    ``value`` and ``gradient`` take and return float64 numpy arrays, so they plug into
    :func:`minimize` or ``scipy.optimize``. The model is evaluated in float64.

    Args:
        model: the network; converted to float64 in place.
        loss_fn: ``loss_fn(model(inputs), targets)`` → a scalar tensor.
        inputs, targets: the full training batch.

    Raises:
        TypeError: ``model`` is not a ``torch.nn.Module`` or ``loss_fn`` is not callable.
        ValueError: no parameter of ``model`` requires grad.

    Example:
        >>> import torch
        >>> model = torch.nn.Linear(2, 1)
        >>> x, y = torch.ones(4, 2), torch.zeros(4, 1)
        >>> obj = TorchObjective(model, torch.nn.functional.mse_loss, x, y)
        >>> theta = obj.x0()
        >>> obj.gradient(theta).shape
        (3,)
    """

    def __init__(self, model: Any, loss_fn: Callable[..., Any], inputs: Any, targets: Any):
        import torch

        if not isinstance(model, torch.nn.Module):
            _validate.fail(
                "model",
                "a torch.nn.Module",
                type(model).__name__,
                "pass the network itself, e.g. torch.nn.Sequential(...)",
                TypeError,
            )
        _validate.callable_(loss_fn, "loss_fn", fix="e.g. torch.nn.functional.cross_entropy")
        self.torch = torch
        self.model = model.double()
        self.loss_fn = loss_fn
        self.inputs = torch.as_tensor(inputs, dtype=torch.float64)
        self.targets = torch.as_tensor(targets)
        if self.targets.is_floating_point():
            self.targets = self.targets.double()
        self.params = [p for p in model.parameters() if p.requires_grad]
        if not self.params:
            _validate.fail(
                "model",
                "a model with parameters that require grad (there is nothing to train)",
                "none",
                "leave some parameters trainable, p.requires_grad_(True)",
            )

    def x0(self) -> np.ndarray:
        """The model's current parameters as one flat float64 array."""
        vector = self.torch.nn.utils.parameters_to_vector(self.params)
        return vector.detach().numpy().copy()

    def load(self, theta: np.ndarray) -> None:
        """Write the flat vector θ into the model's parameters."""
        theta = np.asarray(theta, dtype=np.float64)
        n = sum(p.numel() for p in self.params)
        _validate.shape(
            theta,
            "theta",
            f"of shape ({n},), one entry per parameter",
            theta.shape == (n,),
            fix="pass a vector like objective.x0()",
        )
        with self.torch.no_grad():
            self.torch.nn.utils.vector_to_parameters(
                self.torch.from_numpy(theta.copy()), self.params
            )

    def value(self, theta: np.ndarray) -> float:
        """L(θ) on the full batch."""
        self.load(theta)
        with self.torch.no_grad():
            return float(self.loss_fn(self.model(self.inputs), self.targets))

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """∇L(θ) on the full batch, by autograd, as a flat float64 array."""
        self.load(theta)
        loss = self.loss_fn(self.model(self.inputs), self.targets)
        grads = self.torch.autograd.grad(loss, self.params)
        return self.torch.cat([g.reshape(-1) for g in grads]).numpy().copy()

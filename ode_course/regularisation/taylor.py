"""Total derivatives along a trajectory, d^k z/dt^k, by nested Jacobian–vector products (TayNODE).

Along dz/dt = f(t, z), the derivatives of the trajectory are functions of (t, z):

    z′ = g₁(t, z) = f(t, z),    z^(k+1) = g_{k+1}(t, z) = ∂g_k/∂t + (∂g_k/∂z) f(t, z),

each the directional derivative of the previous one in the direction (1, f): a Jacobian–vector
product, which forward-mode autodiff (``torch.func.jvp``) computes without forming a Jacobian.
An adaptive solver of order p takes small steps where the high derivatives of z are large
(its local error is about h^{p+1} |z^{(p+1)}| / (p+1)!), so TayNODE (Kelly et al. 2020, "Learning
differential equations that are easy to solve") penalises R_K = ∫₀ᵀ |z^(K)(t)|² dt:

- :func:`total_derivatives`: [z′, z″, …, z^(K)] at given (t, z), by K − 1 nested products (their
  cost grows with K, so K stays small: 2 or 3 here; Taylor-mode autodiff, as in the paper's JAX
  code, gets them all in one pass);
- :class:`TaylorDynamics`: the augmented field d[z, R]/dt = [f, |z^(K)|²];
- :func:`fit_map`: fit the flow's end map z(0) ↦ z(T) to a target map, with or without R_K.

Example:
    >>> A = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])  # rotation: z″ = A²z = −z
    >>> field = lambda t, z: z @ A.T
    >>> [d.tolist() for d in total_derivatives(field, 0.0, torch.tensor([[1.0, 0.0]]), 3)]
    [[[0.0, -1.0]], [[-1.0, 0.0]], [[0.0, 1.0]]]
"""

from __future__ import annotations

import time as clock
import warnings
from collections.abc import Callable

import torch
from torch import nn

from ode_course import _validate
from ode_course.history import TrainingHistory
from ode_course.solvers import odeint

__all__ = ["TaylorDynamics", "fit_map", "total_derivatives"]

Field = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

_JIT_DEPRECATED = r"`torch.jit.script` is deprecated"


def _directional(
    g: Field, t: torch.Tensor, z: torch.Tensor, velocity: torch.Tensor
) -> torch.Tensor:
    """∂g/∂t + (∂g/∂z) v at (t, z): one Jacobian–vector product in the direction (1, v)."""
    with warnings.catch_warnings():  # torch loads its forward-mode rules with a deprecated
        warnings.filterwarnings("ignore", _JIT_DEPRECATED, DeprecationWarning)  # scripter
        primal_and_tangent = torch.func.jvp(g, (t, z), (torch.ones_like(t), velocity))
    return primal_and_tangent[1]


def _along(g: Field, field: Field) -> Field:
    """(t, z) ↦ ∂g/∂t + (∂g/∂z) f(t, z): the derivative of g(t, z(t)) along the flow of f.

    The direction f(t, z) is computed inside, so that an outer product differentiates it too.
    """

    def derivative(t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return _directional(g, t, z, field(t, z))

    return derivative


def _order(order: object) -> int:
    return _validate.integer(
        order, "order", fix="pass how many derivatives you want, e.g. order=2 for z′ and z″"
    )


def total_derivatives(
    field: Field, t: torch.Tensor | float, z: torch.Tensor, order: int
) -> list[torch.Tensor]:
    """[z′, z″, …, z^(order)] at (t, z) along dz/dt = field(t, z), each shaped like z.

    Differentiable: with parameters that require grad, the results keep their graph (training).

    Args:
        field: f(t, z), with t a 0-d tensor and z of shape (N, D); rows independent.
        t: the time, a number or 0-d tensor.
        z: the points, shape (N, D), floating point.
        order: K ≥ 1, how many derivatives.

    Returns:
        A list of K tensors of the shape of z.

    Raises:
        TypeError: ``field`` is not callable, or ``z`` is not a floating-point tensor.
        TypeError, ValueError: ``order`` is not a positive integer.

    Example:
        >>> # dz/dt = z²: z″ = 2z·z′ = 2z³ and z‴ = 6z²·z′ = 6z⁴
        >>> total_derivatives(lambda t, z: z**2, 0.0, torch.tensor([[2.0]]), 3)
        [tensor([[4.]]), tensor([[16.]]), tensor([[96.]])]
    """
    _validate.callable_(field, "field", fix="pass the vector field f(t, z)")
    _validate.tensor(z, "z", floating=True, fix="pass the points as a float tensor of shape (N, D)")
    order = _order(order)
    time = torch.as_tensor(t, dtype=z.dtype, device=z.device)
    velocity = field(time, z)
    out, g = [velocity], field
    for _ in range(order - 1):
        # the outermost product's direction is the velocity already computed: z^(k+1) is g_k's
        # derivative along (1, f) at (t, z); only the inner levels need f as a function of z
        out.append(_directional(g, time, z, velocity))
        g = _along(g, field)
    return out


class TaylorDynamics(nn.Module):
    """d[z, R]/dt = [f(t, z), |z^(K)|²]: the field with TayNODE's penalty integrated alongside.

    Integrated from 0 to T (forwards), R(T) = ∫₀ᵀ |d^K z/dt^K|² dt along each trajectory.

    Args:
        net: f(t, z), an ``nn.Module`` with z of shape (N, D).
        order: K ≥ 1 (K = 1 is the kinetic energy |f|²; K = 2 the squared acceleration).

    Raises:
        TypeError: ``net`` is not an ``nn.Module``.
        TypeError, ValueError: ``order`` is not a positive integer.

    Example:
        >>> from ode_course.cnf import LinearField
        >>> field = TaylorDynamics(LinearField(torch.tensor([[2.0]])), order=2)
        >>> field(0.0, torch.tensor([[1.0, 0.0]]))  # [2z, |A²z|²] = [2, 16]
        tensor([[ 2., 16.]])
    """

    def __init__(self, net: nn.Module, order: int = 2) -> None:
        super().__init__()
        if not isinstance(net, nn.Module):
            _validate.fail(
                "net",
                "a torch.nn.Module called as net(t, z)",
                type(net).__name__,
                "wrap the field in an nn.Module (e.g. TimeMLP)",
                TypeError,
            )
        self.net = net
        self.order = _order(order)

    def forward(self, t: torch.Tensor | float, state: torch.Tensor) -> torch.Tensor:
        """[f(t, z), |z^(K)|²] for a state [z, R] of shape (N, D + 1)."""
        z = state[:, :-1]
        time = torch.as_tensor(t, dtype=z.dtype, device=z.device)
        derivatives = total_derivatives(self.net, time, z, self.order)
        return torch.cat([derivatives[0], (derivatives[-1] ** 2).sum(dim=1, keepdim=True)], dim=1)


def fit_map(
    net: nn.Module,
    target: Callable[[torch.Tensor], torch.Tensor],
    *,
    order: int = 2,
    weight: float = 0.0,
    interval: tuple[float, float] = (-1.5, 1.5),
    steps: int = 250,
    batch_size: int = 64,
    lr: float = 0.03,
    step_size: float = 0.25,
    seed: int = 0,
) -> TrainingHistory:
    """Fit the end map z(0) ↦ z(1) of dz/dt = net(t, z) to ``target`` on 1-D points, by Adam.

    Each step draws z(0) uniformly on ``interval`` and minimises the mean of
    (z(1) − target(z(0)))² + weight · R_K, R_K = ∫₀¹ |z^(K)|² dt integrated alongside z by RK4
    with ``step_size`` (through :class:`TaylorDynamics`; with ``weight=0`` the plain field is
    solved, without the cost of the derivatives). The learning rate decays from ``lr`` to
    ``lr``/10 along a cosine.

    Args:
        net: the field f(t, z) on z of shape (N, 1), trained in place in its own dtype.
        target: the map to learn, applied to a tensor of shape (N, 1).
        order: K, the derivative penalised.
        weight: λ ≥ 0.
        interval: (lo, hi), where z(0) is drawn.
        steps, batch_size, lr, step_size, seed: the loop (``seed`` seeds the draws).

    Returns:
        A :class:`~ode_course.history.TrainingHistory` per step: the squared error of each
        minibatch (the penalty not included), and the evaluations per step.

    Raises:
        TypeError: ``net`` is not an ``nn.Module`` or ``target`` is not callable.
        TypeError, ValueError: a weight below 0, a bad count, interval or step.

    Example:
        >>> from ode_course.cnf import TimeMLP
        >>> _ = torch.manual_seed(0)
        >>> net = TimeMLP(1, hidden=(8,)).double()
        >>> fit = fit_map(net, lambda z: 2 * z, steps=100)
        >>> fit.train_loss[-1] < 0.01 < fit.train_loss[0]
        True
    """
    if not isinstance(net, nn.Module):
        _validate.fail(
            "net", "a torch.nn.Module f(t, z)", type(net).__name__, "e.g. TimeMLP(1)", TypeError
        )
    _validate.callable_(target, "target", fix="pass the map to learn, e.g. lambda z: z + z**3")
    order = _order(order)
    weight = _validate.non_negative(weight, "weight", fix="pass λ ≥ 0, e.g. weight=0.03")
    try:
        low, high = (float(v) for v in interval)
    except (TypeError, ValueError):
        _validate.fail("interval", "a pair (lo, hi)", repr(interval), "e.g. interval=(-1.5, 1.5)")
    if not low < high:
        _validate.fail("interval", "(lo, hi) with lo < hi", repr(interval), "e.g. (-1.5, 1.5)")
    steps = _validate.integer(steps, "steps", fix="e.g. steps=250")
    size = _validate.integer(batch_size, "batch_size", fix="e.g. batch_size=64")
    lr = _validate.positive(lr, "lr", fix="e.g. lr=0.03")
    h = _validate.positive(step_size, "step_size", fix="e.g. step_size=0.25")
    seed = _validate.integer(seed, "seed", minimum=0, fix="e.g. seed=0")
    like = next(net.parameters())
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, eta_min=lr / 10)
    times = torch.tensor([0.0, 1.0], dtype=like.dtype)
    history, started = TrainingHistory(per="step"), clock.perf_counter()
    history.nfe_per_step = 4 * round(1.0 / h)
    field = TaylorDynamics(net, order)
    for _ in range(steps):
        z0 = low + (high - low) * torch.rand(size, 1, dtype=like.dtype, generator=generator)
        if weight > 0:
            state = torch.cat([z0, torch.zeros_like(z0)], dim=1)
            end = odeint(field, state, times, method="rk4", step_size=h)[-1]
            z1, penalty = end[:, :1], end[:, 1].mean()
        else:
            z1, penalty = odeint(net, z0, times, method="rk4", step_size=h)[-1], torch.zeros(())
        error = ((z1 - target(z0)) ** 2).mean()
        optimizer.zero_grad()
        (error + weight * penalty).backward()
        optimizer.step()
        schedule.step()
        history.record(error.item())
    history.seconds = clock.perf_counter() - started
    return history

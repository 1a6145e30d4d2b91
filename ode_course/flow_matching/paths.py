"""The straight probability path x_t = (1 − t) x₀ + t x₁ and the flow-matching regression.

Flow matching (Lipman et al. 2023; Liu, Gong & Liu 2023) trains the vector field v_θ(t, x) of
a continuous flow without solving an ODE. Pair a base point x₀ ~ N(0, I) (at t = 0, as in
:class:`~ode_course.cnf.CNF`) with a data point x₁ (at t = 1) and move on the straight line

    x_t = (1 − t) x₀ + t x₁,    whose velocity is the *conditional* target  u = x₁ − x₀.

Averaged over all pairs through a point x, these velocities give the *marginal* velocity
u_t(x) = E[x₁ − x₀ | x_t = x], the field whose flow carries N(0, I) to the data. Regressing
v_θ on the conditional target,

    L_CFM(θ) = E_{t, x₀, x₁} |v_θ(t, x_t) − (x₁ − x₀)|²,

differs from regressing it on the marginal one, L_FM(θ) = E |v_θ(t, x_t) − u_t(x_t)|², by a
constant independent of θ, so both have the same gradient; only the first is computable from
samples. This module holds the path (:func:`straight_path`), its target
(:func:`conditional_velocity`), the times (:func:`sample_time`) and both losses
(:func:`flow_matching_loss`, :func:`marginal_flow_matching_loss`).

A field is called as ``field(t, x)`` with x of shape (N, D) and t of shape (N, 1), one time
per point: :class:`~ode_course.cnf.TimeMLP` takes that as it is.

Example:
    >>> x0, x1 = torch.zeros(2, 1), torch.ones(2, 1)
    >>> straight_path(x0, x1, 0.25).flatten().tolist()
    [0.25, 0.25]
    >>> conditional_velocity(x0, x1).flatten().tolist()
    [1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ode_course import _validate

__all__ = [
    "conditional_velocity",
    "flow_matching_loss",
    "marginal_flow_matching_loss",
    "sample_time",
    "straight_path",
]

Field = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def pair(x0: Any, x1: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(x₀, x₁) if both are (N, D) tensors of one shape and dtype (shared in the package)."""
    x0, x1 = _validate.points(x0, "x0"), _validate.points(x1, "x1")
    if x0.shape != x1.shape:
        _validate.fail(
            "x1",
            f"of the shape of x0, {tuple(x0.shape)} (one data point per base point)",
            f"shape {tuple(x1.shape)}",
            "draw as many base points as data points, e.g. x0 = torch.randn_like(x1)",
        )
    if x0.dtype != x1.dtype:
        _validate.fail(
            "x1",
            f"of the dtype of x0 ({x0.dtype})",
            str(x1.dtype),
            "x1 = x1.to(x0.dtype)",
            TypeError,
        )
    return x0, x1


def times_like(
    t: Any, n: int, like: torch.Tensor, name: str = "t", *, unit: bool = True
) -> torch.Tensor:
    """``t`` (a number, a 0-d tensor, or a tensor of shape (N,) or (N, 1)) as an (N, 1) tensor
    of times (in [0, 1] if ``unit``), with the dtype and device of ``like`` (shared in the
    package)."""
    if isinstance(t, torch.Tensor):
        if t.ndim == 0 or t.shape in ((n,), (n, 1)):
            t = t.to(dtype=like.dtype, device=like.device).reshape(-1, 1).expand(n, 1)
        else:
            _validate.shape(
                t,
                name,
                f"a number or a tensor of shape (), ({n},) or ({n}, 1): one time per point",
                False,
                fix=f"pass one time for all points, or {n} times, e.g. sample_time({n})",
            )
    else:
        value = _validate.real(t, name, fix="pass a time in [0, 1], e.g. t=0.5")
        t = torch.full((n, 1), value, dtype=like.dtype, device=like.device)
    _validate.finite(t, name, fix="pass finite times")
    with torch.no_grad():
        ok = not unit or bool(((t >= 0) & (t <= 1)).all())
    if not ok:
        _validate.fail(
            name,
            "in [0, 1] (the path runs from the base at t = 0 to the data at t = 1)",
            f"values from {t.min().item():g} to {t.max().item():g}",
            "rescale the times, e.g. t = t.clamp(0, 1)",
        )
    return t


def straight_path(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """x_t = (1 − t) x₀ + t x₁: the point at time t on the line from x₀ (t = 0) to x₁ (t = 1).

    Args:
        x0: the base points, shape (N, D).
        x1: the data points, shape (N, D).
        t: the times in [0, 1]: a number or 0-d tensor (one time for all), or shape (N,) or
            (N, 1) (one per point).

    Returns:
        x_t, shape (N, D).

    Raises:
        TypeError: ``x0``/``x1`` are not floating-point tensors, or differ in dtype.
        ValueError: a shape does not match, or a time lies outside [0, 1].

    Example:
        >>> x0, x1 = torch.zeros(2, 2), torch.ones(2, 2)
        >>> straight_path(x0, x1, torch.tensor([0.0, 0.5])).tolist()
        [[0.0, 0.0], [0.5, 0.5]]
    """
    x0, x1 = pair(x0, x1)
    t = times_like(t, len(x0), x0)
    return (1 - t) * x0 + t * x1


def conditional_velocity(x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    """u = d x_t/dt = x₁ − x₀: the velocity of the straight path, the same at every time.

    Args:
        x0: the base points, shape (N, D).
        x1: the data points, shape (N, D).

    Returns:
        x₁ − x₀, shape (N, D).

    Raises:
        TypeError, ValueError: as :func:`straight_path`.

    Example:
        >>> conditional_velocity(torch.tensor([[1.0]]), torch.tensor([[3.0]])).item()
        2.0
    """
    x0, x1 = pair(x0, x1)
    return x1 - x0


def sample_time(
    n: int,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """t ~ U[0, 1], n times of shape (n, 1): one time per point of a batch.

    Args:
        n: the number of times.
        generator: a ``torch.Generator`` for reproducible draws (default: torch's global one).
        dtype: the dtype (default: torch's default dtype).
        device: the device (default: the CPU).

    Returns:
        The times, shape (n, 1).

    Raises:
        TypeError, ValueError: ``n`` is not a positive integer.

    Example:
        >>> t = sample_time(1000, generator=torch.Generator().manual_seed(0))
        >>> t.shape, bool((t >= 0).all() and (t <= 1).all())
        (torch.Size([1000, 1]), True)
    """
    n = _validate.integer(n, "n", fix="pass the batch size, e.g. n=len(x1)")
    return torch.rand(n, 1, generator=generator, dtype=dtype, device=device)


def _field_output(field: Field, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    v = field(t, x)
    if not isinstance(v, torch.Tensor) or v.shape != x.shape:
        got = f"shape {tuple(v.shape)}" if isinstance(v, torch.Tensor) else type(v).__name__
        _validate.fail(
            "field(t, x)",
            f"a tensor of the shape of x, {tuple(x.shape)}, for t of shape ({len(x)}, 1)",
            got,
            "make the field return one velocity per point, e.g. TimeMLP(D) (which takes t of "
            "shape (N, 1))",
        )
    return v


def flow_matching_loss(
    field: Field,
    x0: torch.Tensor,
    x1: torch.Tensor,
    t: torch.Tensor | float | None = None,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """L = (1/N) Σᵢ |v_θ(tᵢ, x_{tᵢ}) − (x₁ᵢ − x₀ᵢ)|²: conditional flow matching on one batch.

    No ODE is solved: one evaluation of the field per batch.

    Args:
        field: v_θ, called as ``field(t, x)`` with t of shape (N, 1) and x of shape (N, D),
            returning (N, D) (e.g. :class:`~ode_course.cnf.TimeMLP`).
        x0: the base points, shape (N, D), usually ``torch.randn_like(x1)``.
        x1: the data points, shape (N, D).
        t: the times (a number, or shape (N,) or (N, 1), in [0, 1]); default: drawn by
            :func:`sample_time`.
        generator: the ``torch.Generator`` for the times when ``t`` is None.

    Returns:
        The loss, a 0-d tensor (differentiable with respect to the field's parameters).

    Raises:
        TypeError: ``field`` is not callable; ``x0``/``x1`` are not floating-point tensors.
        ValueError: a shape does not match, a time lies outside [0, 1], or the field returns
            another shape.

    Example:
        >>> x1 = torch.ones(4, 2)
        >>> flow_matching_loss(lambda t, x: torch.zeros_like(x), torch.zeros(4, 2), x1).item()
        2.0
    """
    _validate.callable_(field, "field", fix="pass the vector field, e.g. TimeMLP(D)")
    x0, x1 = pair(x0, x1)
    if t is None:
        t = sample_time(len(x0), generator=generator, dtype=x0.dtype, device=x0.device)
    t = times_like(t, len(x0), x0)
    x_t = (1 - t) * x0 + t * x1
    v = _field_output(field, t, x_t)
    return ((v - (x1 - x0)) ** 2).sum(dim=1).mean()


def marginal_flow_matching_loss(
    field: Field,
    velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x_t: torch.Tensor,
    t: torch.Tensor | float,
) -> torch.Tensor:
    """L = (1/N) Σᵢ |v_θ(tᵢ, xᵢ) − u_{tᵢ}(xᵢ)|²: regression on a known marginal velocity.

    Only computable when u_t is known in closed form (a Gaussian mixture:
    :meth:`~ode_course.flow_matching.GaussianMixture1D.marginal_velocity`). Its difference from
    :func:`flow_matching_loss` at the same points is a constant independent of θ (in
    expectation), so the gradients agree.

    Args:
        field: v_θ, called as ``field(t, x)`` (t of shape (N, 1)), as in
            :func:`flow_matching_loss`.
        velocity: u_t, a field called as ``velocity(t, x)`` with t of shape (N, 1) and x of
            shape (N, D), returning (N, D).
        x_t: the points on the path, shape (N, D).
        t: their times (a number, or shape (N,) or (N, 1), in [0, 1]).

    Returns:
        The loss, a 0-d tensor.

    Raises:
        TypeError: ``field`` or ``velocity`` is not callable; ``x_t`` is not a float tensor.
        ValueError: a shape does not match, a time lies outside [0, 1], or a field returns
            another shape.

    Example:
        >>> u = lambda t, x: -x
        >>> marginal_flow_matching_loss(lambda t, x: x, u, torch.ones(3, 1), 0.5).item()
        4.0
    """
    _validate.callable_(field, "field", fix="pass the vector field, e.g. TimeMLP(D)")
    _validate.callable_(
        velocity, "velocity", fix="pass u_t(x) as velocity(t, x), e.g. mixture.marginal_velocity"
    )
    x_t = _validate.points(x_t, "x_t")
    t = times_like(t, len(x_t), x_t)
    target = velocity(t, x_t)
    if not isinstance(target, torch.Tensor) or target.shape != x_t.shape:
        got = f"shape {tuple(target.shape)}" if isinstance(target, torch.Tensor) else type(target)
        _validate.fail(
            "velocity(t, x)",
            f"a tensor of the shape of x_t, {tuple(x_t.shape)}",
            str(got),
            "return one velocity per point (for 1-D data, shape (N, 1))",
        )
    v = _field_output(field, t, x_t)
    return ((v - target) ** 2).sum(dim=1).mean()

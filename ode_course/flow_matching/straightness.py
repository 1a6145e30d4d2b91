"""How straight a flow is: the detour of its paths, and the change of its velocity along them.

A path x(t) from x(0) to x(1) is a straight line traversed at constant speed exactly when one
Euler step, x(0) + v(0, x(0)), lands on x(1): then every solver is exact with one step. Two
measures of how far a flow is from that, from paths sampled on a grid t₀ = 0 < … < t_T = 1
(:func:`~ode_course.flow_matching.trajectories`, shape (T + 1, N, D)):

- :func:`path_straightness`: the mean over the N particles of the detour, the length of the
  polygon minus its chord,

      S = (1/N) Σᵢ [Σₖ |xᵢ(t_{k+1}) − xᵢ(t_k)| − |xᵢ(t_T) − xᵢ(t₀)|] ≥ 0,

  which is 0 for straight paths (whatever their speed);
- :func:`velocity_variance`: the mean over the particles of the variance, over the times of
  the grid, of the velocity v(t_k, xᵢ(t_k)) (Liu, Gong & Liu 2023 call the integral version
  the straightness of a flow): 0 exactly when every particle moves at a constant velocity.

Example:
    >>> line = torch.linspace(0, 1, 5)[:, None, None] * torch.tensor([[[3.0, 4.0]]])
    >>> path_straightness(line).item()
    0.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ode_course import _validate

__all__ = ["path_straightness", "velocity_variance"]


def _paths(traj: Any) -> torch.Tensor:
    traj = _validate.tensor(traj, "traj", floating=True)
    _validate.shape(
        traj,
        "traj",
        "of shape (T + 1, N, D) with T >= 1: the points of N paths at T + 1 times",
        traj.ndim == 3 and traj.shape[0] >= 2 and traj.shape[1] >= 1,
        fix="pass trajectories(field, x0, steps=T) (a single path: traj[:, None, :])",
    )
    return traj


def path_straightness(traj: torch.Tensor) -> torch.Tensor:
    """S = mean over particles of (Σₖ |x(t_{k+1}) − x(t_k)| − |x(t_T) − x(t₀)|): length − chord.

    Args:
        traj: the paths, shape (T + 1, N, D) (time first, as
            :func:`~ode_course.flow_matching.trajectories` returns them).

    Returns:
        S ≥ 0, a 0-d tensor; 0 for straight paths. For a semicircle of radius r it tends to
        (π − 2) r as the grid is refined.

    Raises:
        TypeError: ``traj`` is not a floating-point tensor.
        ValueError: ``traj`` is not of shape (T + 1, N, D) with T ≥ 1.

    Example:
        >>> corner = torch.tensor([[[0.0, 0.0]], [[1.0, 0.0]], [[1.0, 1.0]]])
        >>> f"{path_straightness(corner).item():.6f}"  # 2 − √2
        '0.585786'
    """
    traj = _paths(traj)
    length = (traj[1:] - traj[:-1]).norm(dim=-1).sum(dim=0)
    chord = (traj[-1] - traj[0]).norm(dim=-1)
    return (length - chord).mean()


def velocity_variance(
    field: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    traj: torch.Tensor,
    times: torch.Tensor,
) -> torch.Tensor:
    """V = (1/N) Σᵢ (1/(T+1)) Σₖ |v(t_k, xᵢ(t_k)) − v̄ᵢ|², v̄ᵢ the mean velocity of particle i.

    Args:
        field: v, called as ``field(t, x)`` with t a 0-d tensor and x of shape (N, D).
        traj: the paths, shape (T + 1, N, D).
        times: the grid t₀, …, t_T, shape (T + 1,).

    Returns:
        V ≥ 0, a 0-d tensor (computed under ``torch.no_grad()``); 0 when every particle has a
        constant velocity.

    Raises:
        TypeError: ``field`` is not callable, or ``traj``/``times`` are not float tensors.
        ValueError: a shape is wrong, or the field returns another shape.

    Example:
        >>> traj = torch.zeros(3, 4, 1)  # v(t, x) = t: velocities 0, ½, 1 along each path
        >>> times = torch.tensor([0.0, 0.5, 1.0])
        >>> f"{velocity_variance(lambda t, x: t * torch.ones_like(x), traj, times).item():.6f}"
        '0.166667'
    """
    _validate.callable_(field, "field", fix="pass the vector field v(t, x)")
    traj = _paths(traj)
    times = _validate.tensor(times, "times", floating=True)
    _validate.shape(
        times,
        "times",
        f"of shape ({len(traj)},), one time per row of traj",
        times.shape == (len(traj),),
        fix=f"pass torch.linspace(0, 1, {len(traj)}) for trajectories(..., steps={len(traj) - 1})",
    )
    with torch.no_grad():
        velocities = []
        for t, x in zip(times.to(traj), traj, strict=True):
            v = field(t, x)
            if not isinstance(v, torch.Tensor) or v.shape != x.shape:
                _validate.fail(
                    "field(t, x)",
                    f"a tensor of the shape of x, {tuple(x.shape)}",
                    f"{type(v).__name__} {tuple(getattr(v, 'shape', ()))}",
                    "return one velocity per point",
                )
            velocities.append(v)
        v = torch.stack(velocities)  # (T + 1, N, D)
        return ((v - v.mean(dim=0)) ** 2).sum(dim=-1).mean()

"""The exact likelihood of a diffusion model, through its probability-flow ODE.

The probability-flow ODE is a continuous flow, so Chapter 7's instantaneous change of variables
gives the exact log-density of its samples. Only the direction of time differs: the CNF runs
from the base N(0, I) at s = 0 to the data, the diffusion from data at t = 0 to noise at t = 1.
With s = 1 − t, the flow's velocity is v(s, x) = −f_PF(1 − s, x) (:class:`FlowVelocity`), it
starts at s = 0 from N(0, I) (the forward process's p₁ is within α₁ ≈ 0.007 of it with the
default schedule) and ends at
s = 1 − t_end, where its density is that of the data blurred by σ(t_end) ≈ 0.01.
:func:`probability_flow_nll` solves it with :func:`ode_course.flow_matching.exact_nll`'s
machinery (Dopri5, exact trace, float64), so the diffusion model, Chapter 7's CNF and
Chapter 9's flow matching are scored by the same number.

The same :class:`FlowVelocity` shows that diffusion and flow matching are one family: both are
flows with Gaussian probability paths, x_s = a_s x_data + b_s z (flow matching's
a_s = s, b_s = 1 − s; the diffusion's a_s = α_{1−s}, b_s = σ_{1−s}), and Chapter 9's
straightness measure compares their paths.

Example:
    >>> from ode_course.diffusion import GaussianEpsilon
    >>> vp = VPSchedule()
    >>> exact = GaussianEpsilon(vp, mean=[0.0, 0.0], std=[1.0, 1.0])  # data N(0, I): ε* = σ x
    >>> f"{probability_flow_nll(exact, torch.zeros(1, 2)).nll:.4f}"  # log 2π
    '1.8379'
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from ode_course import _validate
from ode_course.cnf import CNF, mean_nll
from ode_course.diffusion.sampling import T_END, probability_flow
from ode_course.diffusion.schedule import VPSchedule, as_time
from ode_course.flow_matching.training import NLLResult

__all__ = ["FlowVelocity", "probability_flow_nll"]


class FlowVelocity(nn.Module):
    """The probability-flow ODE as a flow in Chapter 9's time: v(s, x) = −f_PF(1 − s, x).

    Noise at s = 0, data at s = 1 − t_end; called as ``velocity(s, x)`` like any field of
    Chapters 7 and 9 (:class:`~ode_course.cnf.CNF`, :func:`~ode_course.flow_matching.trajectories`).
    Times beyond 1 − t_end are clamped to it: the drift is undefined at t = 0.

    Args:
        model: the noise predictor ε_θ(t, x) (an ``nn.Module``).
        schedule: its noise schedule.
        t_end: the diffusion end time in (0, 1).
    """

    def __init__(
        self, model: nn.Module, schedule: VPSchedule | None = None, t_end: float = T_END
    ) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            _validate.fail(
                "model",
                "a torch.nn.Module ε_θ(t, x)",
                type(model).__name__,
                "pass the trained network, e.g. a TimeMLP",
                TypeError,
            )
        self.model = model
        self.schedule = schedule or VPSchedule()
        self.t_end = float(as_time(t_end, "t_end"))
        self._drift = probability_flow(model, self.schedule)

    def forward(self, s: Any, x: torch.Tensor) -> torch.Tensor:
        """dx/ds at flow time s (a number or 0-d tensor), shape (N, D)."""
        t = (1.0 - torch.as_tensor(s, dtype=torch.float64)).clamp(self.t_end, 1.0)
        return -self._drift(t, x)


def probability_flow_nll(
    model: nn.Module,
    x: torch.Tensor,
    *,
    schedule: VPSchedule | None = None,
    t_end: float = T_END,
    rtol: float = 1e-6,
    atol: float = 1e-6,
) -> NLLResult:
    """−(1/N) Σₙ log p(xₙ) under the probability-flow ODE of ``model`` (Dopri5, exact trace).

    Args:
        model: the noise predictor ε_θ(t, x) (an ``nn.Module``; evaluated on a float64 copy).
        x: the test points, shape (N, D).
        schedule: its noise schedule (default :class:`VPSchedule`).
        t_end: where the flow ends, in (0, 1).
        rtol, atol: Dopri5's tolerances.

    Returns:
        A :class:`~ode_course.flow_matching.training.NLLResult` (nats, NFE of the solve).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``; ``x`` is not numbers.
        ValueError: ``x`` not of shape (N, D); ``t_end`` outside (0, 1); a tolerance ≤ 0.
    """
    x = _validate.points(x, "x").detach().to(torch.float64)
    rtol = _validate.positive(rtol, "rtol", fix="e.g. rtol=1e-6")
    atol = _validate.positive(atol, "atol", fix="e.g. atol=1e-6")
    if not isinstance(model, nn.Module):
        _validate.fail(
            "model",
            "a torch.nn.Module ε_θ(t, x)",
            type(model).__name__,
            "pass the trained network",
            TypeError,
        )
    velocity = FlowVelocity(copy.deepcopy(model).to(torch.float64), schedule, t_end)
    flow = CNF(x.shape[1], net=velocity, t1=1.0 - velocity.t_end, rtol=rtol, atol=atol)
    nll = mean_nll(flow, x)
    return NLLResult(nll, flow.nfe)

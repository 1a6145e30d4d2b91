"""Which base point goes to which data point: optimal-transport and reflow couplings.

Flow matching needs pairs (x₀, x₁). Drawn independently, the straight lines of many pairs cross,
the marginal velocity averages them, and the learned flow curves. Two ways to pair better:

- :func:`ot_coupling` (minibatch optimal transport, Tong et al. 2024; Pooladian et al. 2023):
  within a batch, reorder the data so that the pairs minimise Σᵢ |x₀ᵢ − x₁σ(i)|² over the
  permutations σ, solved exactly by ``scipy.optimize.linear_sum_assignment`` (the Hungarian
  method, O(N³)). Optimal pairs do not cross, so their lines are close to the flow's paths.
- :func:`reflow_pairs` (rectified flow, Liu, Gong & Liu 2023): pair each x₀ with the end point
  x̂₁ of the trained flow from it. The flow's paths do not cross either, and a flow retrained
  on these pairs is straighter.

Example:
    >>> x0 = torch.tensor([[0.0], [10.0]])
    >>> _, x1 = ot_coupling(x0, torch.tensor([[11.0], [1.0]]))
    >>> x1.flatten().tolist()  # each base point gets the data point next to it
    [1.0, 11.0]
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from scipy.optimize import linear_sum_assignment

from ode_course.flow_matching.paths import pair
from ode_course.flow_matching.sampling import sample_flow

__all__ = ["ot_coupling", "reflow_pairs"]


def ot_coupling(x0: torch.Tensor, x1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(x₀, x₁[σ]) with σ = argmin over permutations of Σᵢ |x₀ᵢ − x₁σ(i)|².

    Args:
        x0: the base points, shape (N, D); kept in their order.
        x1: the data points, shape (N, D) (as many as base points).

    Returns:
        ``(x0, x1[sigma])``: the pairs of the optimal assignment, row i with row i.

    Raises:
        TypeError, ValueError: as :func:`~ode_course.flow_matching.straight_path` (shapes must
            agree: one data point per base point).

    Example:
        >>> x0 = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
        >>> _, x1 = ot_coupling(x0, x0.flip(0) + 0.1)
        >>> torch.equal(x1, x0 + 0.1)
        True
    """
    x0, x1 = pair(x0, x1)
    with torch.no_grad():
        cost = torch.cdist(x0.double(), x1.double()) ** 2
    _, columns = linear_sum_assignment(cost.cpu().numpy())
    return x0, x1[torch.as_tensor(columns, device=x1.device)]


def reflow_pairs(
    field: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    *,
    method: str = "rk4",
    steps: int | None = 20,
    rtol: float | None = None,
    atol: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(x₀, x̂₁) with x̂₁ the end point at t = 1 of the flow dx/dt = v(t, x) from x(0) = x₀.

    The pairs of rectified flow's "reflow" step: training a new field on them straightens it.

    Args:
        field: the trained field v, called as ``field(t, x)`` (t a 0-d tensor).
        x0: the base points, shape (N, D), e.g. ``torch.randn(N, D)``.
        method, steps, rtol, atol: the solver, as in
            :func:`~ode_course.flow_matching.sample_flow` (for ``method="dopri5"`` pass
            ``steps=None`` and tolerances).

    Returns:
        ``(x0, x1_hat)``, both of shape (N, D), detached.

    Raises:
        TypeError, ValueError: as :func:`~ode_course.flow_matching.sample_flow`.

    Example:
        >>> x0 = torch.zeros(2, 1)
        >>> _, x1 = reflow_pairs(lambda t, x: torch.ones_like(x), x0, steps=2)
        >>> x1.flatten().tolist()
        [1.0, 1.0]
    """
    samples = sample_flow(field, x0, method=method, steps=steps, rtol=rtol, atol=atol)
    return x0.detach(), samples.x

"""A 1-D Gaussian mixture whose straight-path marginal velocity is known in closed form.

With x₀ ~ N(0, 1) and x₁ from the mixture Σₖ πₖ N(μₖ, σₖ²), the point x_t = (1 − t) x₀ + t x₁
of component k is Gaussian, N(t μₖ, sₖ²(t)) with sₖ²(t) = (1 − t)² + t² σₖ², so the marginal
density p_t is a mixture too. Given x_t = x in component k, the conditional velocity x₁ − x₀
is Gaussian with the mean (linear regression of x₁ − x₀ on x_t, covariance t σₖ² − (1 − t))

    E[x₁ − x₀ | x_t = x, k] = μₖ + (t σₖ² − (1 − t)) / sₖ²(t) · (x − t μₖ),

and the marginal velocity averages these with the posterior responsibilities
wₖ(x, t) ∝ πₖ N(x; t μₖ, sₖ²(t)):

    u_t(x) = Σₖ wₖ(x, t) E[x₁ − x₀ | x_t = x, k].

This is the one case in the chapter where the field that flow matching learns can be compared
with the truth. Points are (N, 1) tensors (or (N,)); times a number or one per point. The
formulas hold for every real t (sₖ²(t) > 0), so an adaptive solver may evaluate the velocity
past t = 1.

Example:
    >>> mix = GaussianMixture1D((0.5, 0.5), (-2.0, 2.0), (0.5, 0.5))
    >>> x = torch.tensor([[0.0]], dtype=torch.float64)
    >>> mix.marginal_velocity(0.5, x).item()  # by symmetry, nothing moves at 0
    0.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ode_course import _validate
from ode_course.flow_matching.paths import times_like

__all__ = ["GaussianMixture1D"]

_LOG_2PI = math.log(2 * math.pi)


def _floats(values: Any, name: str) -> tuple[float, ...]:
    if isinstance(values, torch.Tensor):
        values = values.tolist()
    if not isinstance(values, Sequence) or isinstance(values, str) or len(values) == 0:
        _validate.fail(
            name,
            "a non-empty sequence of numbers, one per component",
            repr(values)[:60],
            f"e.g. {name}=(0.5, 0.5)",
            TypeError,
        )
    return tuple(_validate.real(v, f"{name}[{i}]") for i, v in enumerate(values))


@dataclass(frozen=True)
class GaussianMixture1D:
    """The density Σₖ πₖ N(x; μₖ, σₖ²) on the line, as data for the straight path from N(0, 1).

    Args:
        weights: πₖ > 0, one per component; divided by their sum.
        means: μₖ.
        stds: σₖ > 0.

    Raises:
        TypeError: an argument is not a sequence of numbers.
        ValueError: the lengths differ, a weight or a standard deviation is not positive.

    Example:
        >>> mix = GaussianMixture1D((1, 3), (0.0, 1.0), (1.0, 1.0))
        >>> mix.weights
        (0.25, 0.75)
    """

    weights: tuple[float, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]

    def __post_init__(self) -> None:
        weights = _floats(self.weights, "weights")
        means = _floats(self.means, "means")
        stds = _floats(self.stds, "stds")
        if not len(weights) == len(means) == len(stds):
            _validate.fail(
                "weights, means and stds",
                "of one length (one entry per component)",
                f"lengths {len(weights)}, {len(means)} and {len(stds)}",
                "give every component a weight, a mean and a standard deviation",
            )
        for i, (w, s) in enumerate(zip(weights, stds, strict=True)):
            _validate.positive(w, f"weights[{i}]", fix="drop components of weight 0")
            _validate.positive(s, f"stds[{i}]", fix="use a small positive std, e.g. 0.1")
        total = sum(weights)
        object.__setattr__(self, "weights", tuple(w / total for w in weights))
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "stds", stds)

    def _params(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        kw: dict[str, Any] = {"dtype": like.dtype, "device": like.device}
        return (
            torch.tensor(self.weights, **kw),
            torch.tensor(self.means, **kw),
            torch.tensor(self.stds, **kw),
        )

    def sample(
        self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype | None = None
    ) -> torch.Tensor:
        """n draws x₁ from the mixture: a component k ~ π, then μₖ + σₖ ε, shape (n, 1).

        Args:
            n: the number of samples.
            generator: a ``torch.Generator`` for reproducible draws.
            dtype: the dtype (default: torch's default dtype).

        Example:
            >>> mix = GaussianMixture1D((1.0,), (3.0,), (1e-3,))
            >>> round(mix.sample(2, generator=torch.Generator().manual_seed(0))[0, 0].item(), 1)
            3.0
        """
        n = _validate.integer(n, "n", fix="ask for at least one sample, e.g. n=1000")
        like = torch.zeros((), dtype=dtype or torch.get_default_dtype())
        w, mu, sigma = self._params(like)
        k = torch.multinomial(w, n, replacement=True, generator=generator)
        eps = torch.randn(n, generator=generator, dtype=like.dtype)
        return (mu[k] + sigma[k] * eps)[:, None]

    def _components(self, x: Any, t: Any) -> dict[str, Any]:
        """x and t as (N, 1), and per component (N, K): log πₖ N(x; t μₖ, sₖ²), t μₖ, sₖ²."""
        one_d = (x.ndim if isinstance(x, torch.Tensor) else np.ndim(x)) == 1
        x = _validate.points(
            x, "x", dim=1, column=True, fix="pass 1-D points, shape (N,) or (N, 1)"
        )
        shape = (len(x),) if one_d else tuple(x.shape)
        tt = times_like(t, len(x), x, unit=False)  # solvers may step past t = 1
        w, mu, sigma = self._params(x)
        mean = tt * mu
        var = (1 - tt) ** 2 + tt**2 * sigma**2
        log_joint = torch.log(w) - 0.5 * ((x - mean) ** 2 / var + torch.log(var) + _LOG_2PI)
        return {
            "x": x,
            "t": tt,
            "shape": shape,
            "log_joint": log_joint,
            "mean": mean,
            "var": var,
            "mu": mu,
            "sigma": sigma,
        }

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log Σₖ πₖ N(x; μₖ, σₖ²) for every point, shape (N, 1) or (N,) → (N,).

        Example:
            >>> mix = GaussianMixture1D((1.0,), (0.0,), (1.0,))
            >>> f"{mix.log_prob(torch.zeros(1, 1)).item():.6f}"  # −½ log 2π
            '-0.918939'
        """
        return self.path_log_prob(x, 1.0)

    def path_log_prob(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """log p_t(x) = log Σₖ πₖ N(x; t μₖ, (1 − t)² + t² σₖ²): the density on the path.

        Args:
            x: the points, shape (N, 1) or (N,).
            t: the time (the path is t ∈ [0, 1]), a number or one per point ((N,) or (N, 1)).

        Returns:
            log p_t(x), shape (N,). At t = 0 the base N(0, 1), at t = 1 the mixture.

        Example:
            >>> mix = GaussianMixture1D((1.0,), (5.0,), (2.0,))
            >>> f"{mix.path_log_prob(torch.zeros(1, 1), 0.0).item():.6f}"  # N(0; 0, 1)
            '-0.918939'
        """
        return torch.logsumexp(self._components(x, t)["log_joint"], dim=1)

    def marginal_velocity(self, t: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
        """u_t(x) = Σₖ wₖ(x, t) [μₖ + (t σₖ² − (1 − t)) / sₖ²(t) · (x − t μₖ)].

        The velocity that moves p_t along the straight path: it satisfies the continuity
        equation ∂p_t/∂t + ∂(p_t u_t)/∂x = 0, and u_t(x) = E[x₁ − x₀ | x_t = x].

        A vector field, so called as ``f(t, x)`` like every field of the course: a solver can
        integrate it as it is.

        Args:
            t: the time (the path is t ∈ [0, 1]), a number or one per point ((N,) or (N, 1)).
            x: the points, shape (N, 1) or (N,).

        Returns:
            u_t(x), of the shape of ``x``.

        Example:
            >>> mix = GaussianMixture1D((1.0,), (0.0,), (1.0,))  # data = base, N(0, 1)
            >>> mix.marginal_velocity(0.5, torch.tensor([[1.5]])).item()  # (2t − 1) x / s² = 0
            0.0
        """
        c = self._components(x, t)
        responsibilities = torch.softmax(c["log_joint"], dim=1)
        slope = (c["t"] * c["sigma"] ** 2 - (1 - c["t"])) / c["var"]
        conditional = c["mu"] + slope * (c["x"] - c["mean"])
        return (responsibilities * conditional).sum(dim=1).reshape(c["shape"])

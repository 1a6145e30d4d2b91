"""A discrete normalizing flow, the baseline of the CNF: K planar layers z ↦ z + û tanh(wᵀz + b).

A discrete flow models log p(x) = log N(z_K; 0, I) + Σ_k log |det ∂z_k/∂z_{k−1}| and so must
use layers whose Jacobian determinants are cheap. The planar layer of Rezende & Mohamed (2015)
changes z along one direction û, so its Jacobian is a rank-one update of the identity and the
matrix determinant lemma gives the determinant in O(D). :class:`PlanarFlow` stacks K of them;
Chapter 7 trains it against a :class:`~ode_course.cnf.CNF`, whose "layers" have no such limit.

Example:
    >>> flow = PlanarFlow(2, n_layers=4).double()
    >>> x = torch.randn(3, 2, dtype=torch.float64)
    >>> torch.allclose(flow.inverse(flow.transform(x)[0]), x)
    True
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ode_course import _validate
from ode_course.cnf.base import standard_normal_log_prob

__all__ = ["PlanarFlow"]


class PlanarFlow(nn.Module):
    """K planar layers z ↦ z + û tanh(wᵀz + b) from the data to the base (Rezende & Mohamed 2015).

    Each layer's Jacobian is I + û ψ(z)ᵀ with ψ = tanh'(wᵀz + b) w, a rank-one update, so by
    the matrix determinant lemma det = 1 + ûᵀψ(z): O(D) per layer instead of O(D³). With
    z₀ = x and z_k the output of layer k,

        log p(x) = log N(z_K; 0, I) + Σ_k log |1 + ûₖᵀψₖ(z_{k−1})|.

    The layer is invertible when wᵀû ≥ −1 (then 1 + ûᵀψ > 0 as 0 < tanh' ≤ 1); as in the
    paper, the free parameter u is mapped to û = u + (m(wᵀu) − wᵀu) w/‖w‖² with
    m(a) = −1 + softplus(a), so that wᵀû = m(wᵀu) > −1 always. ``sample`` inverts the layers:
    a = wᵀz solves the increasing scalar equation a + (wᵀû) tanh(a + b) = wᵀy, found by bisection.

    Args:
        dim: D, the dimension of the data.
        n_layers: K.
        init_scale: the standard deviation of the initial u and w (b starts at 0).

    Raises:
        TypeError, ValueError: ``dim`` or ``n_layers`` is not a positive integer, or
            ``init_scale`` is negative or not a number.

    Example:
        >>> flow = PlanarFlow(2, n_layers=4).double()
        >>> x = torch.randn(3, 2, dtype=torch.float64)
        >>> torch.allclose(flow.inverse(flow.transform(x)[0]), x)
        True
    """

    def __init__(self, dim: int = 2, n_layers: int = 8, *, init_scale: float = 0.5) -> None:
        super().__init__()
        self.dim = _validate.integer(dim, "dim")
        self.n_layers = _validate.integer(n_layers, "n_layers")
        scale = _validate.non_negative(init_scale, "init_scale", fix="e.g. init_scale=0.5")
        self.u = nn.Parameter(scale * torch.randn(self.n_layers, self.dim))
        self.w = nn.Parameter(scale * torch.randn(self.n_layers, self.dim))
        self.b = nn.Parameter(torch.zeros(self.n_layers))

    def u_hat(self) -> torch.Tensor:
        """û = u + (m(wᵀu) − wᵀu) w/‖w‖², one row per layer, so that wᵀû = m(wᵀu) > −1."""
        wu = (self.w * self.u).sum(dim=1, keepdim=True)
        m = -1 + nn.functional.softplus(wu)
        w_norm2 = (self.w**2).sum(dim=1, keepdim=True).clamp_min(1e-30)
        return self.u + (m - wu) * self.w / w_norm2

    def transform(self, x: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Data to base: z_K and Σ_k log |1 + ûₖᵀψₖ|, shapes (N, D) and (N,).

        Args:
            x: the data, shape (N, D).

        Returns:
            ``(z, log_det)``: the base points z_K, shape (N, D), and the log-determinants of
            the whole map, shape (N,).

        Raises:
            ValueError, TypeError: ``x`` is not a finite (N, D) array.
        """
        z = _validate.points(x, "x", dim=self.dim, like=self.u)
        u_hat = self.u_hat()
        hs = []
        for u_k, w_k, b_k in zip(u_hat.unbind(0), self.w.unbind(0), self.b.unbind(0), strict=True):
            h = torch.tanh(torch.addmv(b_k, z, w_k))  # tanh(wᵀz + b) for every row
            z = torch.addr(z, h, u_k)  # z + û h
            hs.append(h)
        # 1 + ûᵀψ with ψ = (1 − h²) w, for all layers at once
        wu = (u_hat * self.w).sum(dim=1, keepdim=True)
        det = 1 + (1 - torch.stack(hs) ** 2) * wu
        return z, torch.log(det.abs()).sum(dim=0)

    def log_prob(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """log p(x) = log N(z_K) + Σ_k log |1 + ûₖᵀψₖ|, shape (N,).

        Raises:
            ValueError, TypeError: ``x`` is not a finite (N, D) array.
        """
        z, log_det = self.transform(x)
        return standard_normal_log_prob(z) + log_det

    def forward(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """The same as :meth:`log_prob`."""
        return self.log_prob(x)

    @torch.no_grad()
    def inverse(self, z: torch.Tensor | np.ndarray, n_bisections: int = 100) -> torch.Tensor:
        """Base to data: undo the layers K, …, 1, each by bisection on a = wᵀ(input), shape (N, D).

        For y = z + û tanh(wᵀz + b), a = wᵀz solves g(a) = a + c tanh(a + b) − wᵀy = 0 with
        c = wᵀû > −1, so g is increasing, and |a − wᵀy| ≤ |c| brackets the root.

        Args:
            z: the base points, shape (N, D).
            n_bisections: halvings of each bracket (100 reach the round-off of float64).

        Returns:
            The data points x with ``transform(x)[0] == z``, shape (N, D).

        Raises:
            ValueError, TypeError: ``z`` is not a finite (N, D) array, or ``n_bisections`` is
                not a positive integer.
        """
        y = _validate.points(z, "z", dim=self.dim, like=self.u)
        n_bisections = _validate.integer(n_bisections, "n_bisections", fix="e.g. n_bisections=100")
        u_hat = self.u_hat()
        for k in reversed(range(self.n_layers)):
            c, target = u_hat[k] @ self.w[k], y @ self.w[k]
            lo, hi = target - c.abs() - 1e-12, target + c.abs() + 1e-12
            for _ in range(n_bisections):
                mid = (lo + hi) / 2
                above = mid + c * torch.tanh(mid + self.b[k]) > target
                lo, hi = torch.where(above, lo, mid), torch.where(above, mid, hi)
            a = (lo + hi) / 2
            y = y - torch.tanh(a + self.b[k])[:, None] * u_hat[k]
        return y

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """n samples: base points z ~ N(0, I) mapped through :meth:`inverse`, shape (n, D).

        Raises:
            TypeError, ValueError: ``n`` is not a positive integer.
        """
        n = _validate.integer(n, "n", fix="ask for at least one sample, e.g. n=1000")
        z = torch.randn(n, self.dim, dtype=self.u.dtype, device=self.u.device, generator=generator)
        return self.inverse(z)

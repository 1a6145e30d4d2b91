"""Continuous normalizing flows: d log p(z(t))/dt = −tr(∂f/∂z(t)) along dz/dt = f(t, z).

A normalizing flow models a density p(x) by an invertible map between the data x and a base
variable z with a simple density (here the standard normal): by the change of variables,

    log p(x) = log N(z; 0, I) + log |det ∂z/∂x|.

A *discrete* flow (:class:`PlanarFlow`) composes K layers whose determinants are cheap by
construction. A *continuous* flow (:class:`CNF`, Chen et al. 2018) lets z follow an ODE
dz/dt = f(t, z) from the base at t = 0 to the data at t = t₁; any Lipschitz f gives an
invertible map, and the log-density changes by the *instantaneous change of variables*

    d log p(z(t))/dt = −tr(∂f/∂z(t)),

so the determinant becomes the integral of a trace. The CNF integrates the augmented state
[z, ℓ] with d[z, ℓ]/dt = [f(t, z), −tr ∂f/∂z], one tensor of shape (N, D + 1), with any of
three integrators (ours, ours with the adjoint method, torchdiffeq's):

- ``log_prob(x)`` goes from the data at t₁ back to the base at 0 (ℓ(t₁) = 0), and
  log p(x) = log N(z(0)) − ℓ(0);
- ``sample(n)`` goes from base points z(0) ~ N(0, I) forward to t₁, with
  log p(x) = log N(z(0)) + ℓ(t₁).

Both directions integrate the same vector field. The trace is either exact, D vector–Jacobian
products (:func:`exact_trace`), or Hutchinson's unbiased estimate εᵀ(∂f/∂z)ε with one product
(:func:`hutchinson_trace`, FFJORD, Grathwohl et al. 2019); the probe ε is drawn once per solve
and held fixed during it.

Example:
    >>> _ = torch.manual_seed(0)
    >>> cnf = CNF(2, hidden=(16,), method="rk4", step_size=0.25).double()
    >>> x = torch.randn(5, 2, dtype=torch.float64)
    >>> cnf.log_prob(x).shape, cnf.nfe  # 4 steps of rk4, 4 evaluations each
    (torch.Size([5]), 16)
    >>> cnf.sample(3).shape
    torch.Size([3, 2])
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import torch
from torch import nn

from ode_course.adjoint import odeint_adjoint
from ode_course.solvers import SOLVERS, CountNFE, odeint

__all__ = [
    "ACTIVATIONS",
    "CNF",
    "INTEGRATORS",
    "NOISE_TYPES",
    "TRACE_ESTIMATORS",
    "AugmentedDynamics",
    "DensityFit",
    "LinearField",
    "PlanarFlow",
    "TimeMLP",
    "density_on_grid",
    "exact_trace",
    "fit_density",
    "hutchinson_trace",
    "hutchinson_variance",
    "mean_nll",
    "sample_probe",
    "standard_normal_log_prob",
]

TRACE_ESTIMATORS = ("exact", "hutchinson")
"""How :class:`CNF` computes tr(∂f/∂z): exactly, or by Hutchinson's estimator."""

NOISE_TYPES = ("gaussian", "rademacher")
"""The distributions of Hutchinson's probe ε: standard normal, or ±1 with probability ½ each."""

INTEGRATORS = ("odeint", "odeint_adjoint", "torchdiffeq")
"""How :class:`CNF` solves its ODE: :func:`ode_course.solvers.odeint` (backpropagation through
the solver), ``ode_course.adjoint.odeint_adjoint`` (the adjoint method), or
``torchdiffeq.odeint``."""

ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "softplus": nn.Softplus}
"""Smooth activations for :class:`TimeMLP` (training a CNF differentiates f twice, so ReLU,
whose second derivative is zero, would leave the trace without a gradient)."""

_LOG_2PI = math.log(2 * math.pi)


# ------------------------------------------------------------------------------------ checks
def _choice(value: Any, name: str, valid: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in valid:
        raise ValueError(
            f"unknown {name} {value!r}; valid names are {', '.join(map(repr, valid))}. "
            f"Fix: pass {name}={valid[0]!r}, for example."
        )
    return value


def _positive_int(n: Any, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be a positive integer; got {name}={n!r}")
    return int(n)


def _check_pair(fz: Any, z: Any) -> None:
    """fz = f(z) and z: tensors of the same shape (N, D), z requiring grad."""
    for name, x in (("fz", fz), ("z", z)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if z.ndim != 2 or fz.shape != z.shape:
        raise ValueError(
            f"fz and z must both have shape (N, D), one row per point, and fz = f(z) row by row; "
            f"got fz of shape {tuple(fz.shape)} and z of shape {tuple(z.shape)}. Fix: for a "
            "single point pass z[None] and f(z)[None]."
        )
    if not z.requires_grad:
        raise ValueError(
            "z must require grad, so that ∂f/∂z can be computed: z = z.requires_grad_() "
            "*before* fz = f(z)."
        )


def _vjp(fz: torch.Tensor, z: torch.Tensor, v: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """vᵀ(∂f/∂z) row by row, shape (N, D); zero if f does not depend on z."""
    if not fz.requires_grad:
        return torch.zeros_like(z)
    (g,) = torch.autograd.grad(
        fz, z, grad_outputs=v, create_graph=create_graph, retain_graph=True, allow_unused=True
    )
    return torch.zeros_like(z) if g is None else g


# ------------------------------------------------------------------------------------ traces
def exact_trace(fz: torch.Tensor, z: torch.Tensor, *, create_graph: bool = False) -> torch.Tensor:
    """tr(∂f/∂z) = Σᵢ ∂fᵢ/∂zᵢ for every row, with D vector–Jacobian products (one per dimension).

    Product i is eᵢᵀ(∂f/∂z), the i-th row of the Jacobian, of which only the diagonal entry is
    kept: the cost grows like D backward passes through f. Rows must be independent (row n of
    ``fz`` depends only on row n of ``z``), as for any network applied to a batch.

    Args:
        fz: f(z), shape (N, D), computed from ``z`` after ``z.requires_grad_()``.
        z: the points, shape (N, D), requiring grad.
        create_graph: keep the graph of the result, to differentiate the trace (training).

    Returns:
        The traces, shape (N,).

    Raises:
        TypeError: ``fz`` or ``z`` is not a tensor.
        ValueError: the shapes differ or are not (N, D), or ``z`` does not require grad.

    Example:
        >>> A = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> z = torch.randn(3, 2).requires_grad_()
        >>> exact_trace(z @ A.T, z)  # tr A = 5 at every point
        tensor([5., 5., 5.])
    """
    _check_pair(fz, z)
    trace = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
    for i in range(z.shape[1]):
        e_i = torch.zeros_like(fz)
        e_i[:, i] = 1.0
        trace = trace + _vjp(fz, z, e_i, create_graph)[:, i]
    return trace


def hutchinson_trace(
    fz: torch.Tensor, z: torch.Tensor, probe: torch.Tensor, *, create_graph: bool = False
) -> torch.Tensor:
    """Hutchinson's estimate εᵀ(∂f/∂z)ε of tr(∂f/∂z) for each row, by one vector–Jacobian product.

    If E[εεᵀ] = I (standard normal or Rademacher ε), then E[εᵀJε] = Σᵢⱼ Jᵢⱼ E[εᵢεⱼ] = tr J:
    the estimate is unbiased, and it costs one backward pass, εᵀJ, whatever D is. Its variance
    is given by :func:`hutchinson_variance`.

    Args:
        fz: f(z), shape (N, D), computed from ``z`` after ``z.requires_grad_()``.
        z: the points, shape (N, D), requiring grad.
        probe: ε, shape (N, D), one probe per row (see :func:`sample_probe`).
        create_graph: keep the graph of the result, to differentiate it (training).

    Returns:
        The estimates, shape (N,).

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: the shapes differ, or ``z`` does not require grad.

    Example:
        >>> A = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> z = torch.randn(2, 2).requires_grad_()
        >>> probe = torch.tensor([[1.0, 0.0], [1.0, -1.0]])
        >>> hutchinson_trace(z @ A.T, z, probe)  # εᵀAε: 1, then 1 − 2 − 3 + 4
        tensor([1., 0.])
    """
    _check_pair(fz, z)
    if not isinstance(probe, torch.Tensor) or probe.shape != z.shape:
        got = tuple(probe.shape) if isinstance(probe, torch.Tensor) else type(probe).__name__
        raise ValueError(
            f"probe must be a tensor shaped like z {tuple(z.shape)}, one probe per row; got "
            f"{got}. Fix: probe = sample_probe(z.shape, 'gaussian', dtype=z.dtype)."
        )
    return (_vjp(fz, z, probe, create_graph) * probe).sum(dim=1)


def sample_probe(
    shape: Sequence[int] | torch.Size,
    noise: str = "gaussian",
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Probes ε with E[ε] = 0 and E[εεᵀ] = I: standard normal, or Rademacher (±1 each with ½).

    Args:
        shape: the shape of the result, e.g. (N, D).
        noise: ``"gaussian"`` or ``"rademacher"`` (see ``NOISE_TYPES``).
        dtype, device: of the result.
        generator: the random generator (torch's global one if omitted).

    Returns:
        A tensor of the given shape.

    Raises:
        ValueError: an unknown ``noise``.

    Example:
        >>> sample_probe((2, 3), "rademacher").abs().unique().tolist()
        [1.0]
    """
    noise = _choice(noise, "noise", NOISE_TYPES)
    shape = tuple(shape)
    if noise == "gaussian":
        return torch.randn(shape, dtype=dtype, device=device, generator=generator)
    bits = torch.randint(0, 2, shape, device=device, generator=generator)
    return (2 * bits - 1).to(dtype)


def hutchinson_variance(matrix: torch.Tensor | np.ndarray, noise: str = "gaussian") -> float:
    """The variance of one probe's estimate εᵀAε: 2‖S‖²_F (Gaussian), 2 Σ_{i≠j} S²ᵢⱼ (Rademacher).

    Only the symmetric part S = (A + Aᵀ)/2 matters, since εᵀAε = εᵀSε. For Gaussian ε, rotate
    to the eigenbasis of S: εᵀSε = Σ λᵢ gᵢ² with independent gᵢ ~ N(0, 1) and Var(gᵢ²) = 2, so
    the variance is 2 Σ λᵢ² = 2‖S‖²_F. For Rademacher ε, εᵢ² = 1 makes the diagonal exact, and
    the products εᵢεⱼ (i < j) are uncorrelated with variance 1, so the variance is
    4 Σ_{i<j} S²ᵢⱼ = 2 Σ_{i≠j} S²ᵢⱼ: never larger than Gaussian, and zero for a diagonal A. The
    mean of m independent probes has variance (this)/m.

    Args:
        matrix: A, shape (D, D).
        noise: ``"gaussian"`` or ``"rademacher"``.

    Returns:
        The variance, a Python float.

    Raises:
        ValueError: ``matrix`` is not square, or an unknown ``noise``.

    Example:
        >>> A = torch.tensor([[1.0, 2.0], [0.0, 3.0]])  # S = [[1, 1], [1, 3]]
        >>> hutchinson_variance(A, "gaussian"), hutchinson_variance(A, "rademacher")
        (24.0, 4.0)
    """
    noise = _choice(noise, "noise", NOISE_TYPES)
    a = torch.as_tensor(matrix, dtype=torch.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"matrix must be square, shape (D, D); got shape {tuple(a.shape)}")
    s = (a + a.T) / 2
    total = 2 * float((s**2).sum())
    return total if noise == "gaussian" else total - 2 * float((s.diagonal() ** 2).sum())


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) = −½‖z‖² − (D/2) log 2π for every row of z, shape (N, D) → (N,).

    Example:
        >>> f"{standard_normal_log_prob(torch.zeros(1, 2)).item():.6f}"  # −log 2π
        '-1.837877'
    """
    return -0.5 * (z**2).sum(dim=-1) - 0.5 * z.shape[-1] * _LOG_2PI


# ------------------------------------------------------------------------------------ dynamics
class TimeMLP(nn.Module):
    """f(t, z) = W_L [h_{L−1}, t] + b_L, h_k = σ(W_k [h_{k−1}, t] + b_k), h₀ = z: t in every layer.

    Args:
        dim: D, the width of z (input and output).
        hidden: the widths of the hidden layers.
        activation: σ, one of ``ACTIVATIONS`` (smooth, since training differentiates f twice).

    Raises:
        ValueError: a width is not a positive integer, or an unknown ``activation``.

    Example:
        >>> f = TimeMLP(2, hidden=(8, 8))
        >>> f(torch.tensor(0.5), torch.zeros(4, 2)).shape
        torch.Size([4, 2])
    """

    def __init__(
        self, dim: int, hidden: Sequence[int] = (64, 64), activation: str = "tanh"
    ) -> None:
        super().__init__()
        dim = _positive_int(dim, "dim")
        widths = [_positive_int(h, "each hidden width") for h in hidden]
        activation = _choice(activation, "activation", tuple(ACTIVATIONS))
        sizes = [dim, *widths, dim]
        self.layers = nn.ModuleList(nn.Linear(a + 1, b) for a, b in pairwise(sizes))
        self.activation = ACTIVATIONS[activation]()

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """dz/dt at time t (a 0-d tensor or a number) for the points z, shape (N, D)."""
        time = torch.as_tensor(t, dtype=z.dtype, device=z.device).expand(*z.shape[:-1], 1)
        h = z
        for k, layer in enumerate(self.layers):
            h = layer(torch.cat([h, time], dim=-1))
            if k < len(self.layers) - 1:
                h = self.activation(h)
        return h


class AugmentedDynamics(nn.Module):
    """The augmented vector field d[z, ℓ]/dt = [f(t, z), −tr ∂f/∂z] on states of shape (N, D + 1).

    The last column of the state is ℓ, the change of log-density along each trajectory:
    log p_t(z(t)) = log p_s(z(s)) + ℓ(t) − ℓ(s). The trace is exact or Hutchinson's estimate
    with the fixed probe ``probe``, so every evaluation within one solve uses the same ε.

    The trace needs ∂f/∂z, so f is always evaluated with autograd on; when the caller has
    autograd on too (training, or the adjoint's backward pass), the trace is kept
    differentiable (``create_graph``); otherwise the result is detached.

    Args:
        net: the vector field f(t, z), z of shape (N, D).
        trace: ``"exact"`` or ``"hutchinson"``.
        probe: ε of shape (N, D), required for ``"hutchinson"``.

    Raises:
        ValueError: an unknown ``trace``, or ``"hutchinson"`` without a probe.
    """

    def __init__(
        self, net: nn.Module, trace: str = "exact", probe: torch.Tensor | None = None
    ) -> None:
        super().__init__()
        self.net = net
        self.trace = _choice(trace, "trace estimator", TRACE_ESTIMATORS)
        if self.trace == "hutchinson" and probe is None:
            raise ValueError("trace='hutchinson' needs a probe; pass probe=sample_probe(...)")
        self.probe = probe

    def forward(self, t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """[f(t, z), −tr ∂f/∂z] for state = [z, ℓ] of shape (N, D + 1)."""
        create_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            z = state[:, :-1]
            if not z.requires_grad:
                z = z.detach().requires_grad_(True)
            fz = self.net(t, z)
            if self.trace == "exact":
                trace = exact_trace(fz, z, create_graph=create_graph)
            else:
                trace = hutchinson_trace(fz, z, self.probe, create_graph=create_graph)
        out = torch.cat([fz, -trace[:, None]], dim=1)
        return out if create_graph else out.detach()


# ------------------------------------------------------------------------------------ data
def _as_points(x: Any, dim: int, like: torch.Tensor, name: str = "x") -> torch.Tensor:
    """x as an (N, dim) tensor with the dtype and device of ``like``, checked."""
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(np.asarray(x, dtype=np.float64))
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} must be a tensor or array of shape (N, {dim}); got {type(x).__name__}"
            ) from exc
    if not (x.is_floating_point() or x.dtype in (torch.int32, torch.int64)):
        raise TypeError(f"{name} must hold real numbers; got dtype {x.dtype}")
    if x.ndim != 2 or x.shape[1] != dim or x.shape[0] == 0:
        hint = f" (a single point: {name}[None])" if x.ndim == 1 and x.shape[0] == dim else ""
        raise ValueError(
            f"{name} must have shape (N, {dim}) with N >= 1, one row per point, for a flow of "
            f"dimension {dim}; got shape {tuple(x.shape)}. Fix: reshape the data{hint}, or build "
            f"the flow with dim={x.shape[-1] if x.ndim else 1}."
        )
    bad = ~torch.isfinite(x).all(dim=1)
    if bool(bad.any()):
        rows = torch.nonzero(bad).flatten()[:5].tolist()
        raise ValueError(
            f"{name} must be finite; rows {rows} hold nan or inf ({int(bad.sum())} rows in all). "
            f"Fix: drop them, e.g. {name} = {name}[torch.isfinite({name}).all(dim=1)]."
        )
    return x.to(dtype=like.dtype, device=like.device)


def _parameter(module: nn.Module) -> torch.Tensor:
    """A parameter (or else a floating-point buffer) of the module: its dtype and device rule."""
    for p in module.parameters():
        return p
    for b in module.buffers():
        if b.is_floating_point():
            return b
    return torch.zeros((), dtype=torch.get_default_dtype())


# ------------------------------------------------------------------------------------ CNF
class CNF(nn.Module):
    """A continuous normalizing flow: dz/dt = f(t, z) carries N(0, I) at t = 0 to the data at t₁.

    log p(x) = log N(z(0); 0, I) − ∫₀^{t₁} tr(∂f/∂z(t)) dt along the trajectory through
    z(t₁) = x. The augmented state [z, ℓ] of shape (N, D + 1) follows
    :class:`AugmentedDynamics` in both directions (``log_prob`` backwards, ``sample`` forwards).

    Args:
        dim: D, the dimension of the data.
        hidden: the hidden widths of the default vector field, a :class:`TimeMLP` whose last
            layer starts at zero, so that the untrained flow is the identity and the untrained
            model is the base density N(0, I) (a sensible start for standardised data).
        activation: its activation, one of ``ACTIVATIONS``.
        net: a vector field f(t, z) (an ``nn.Module``) to use instead of the :class:`TimeMLP`.
        t1: the end time t₁ > 0.
        trace: ``"exact"`` or ``"hutchinson"`` (see ``TRACE_ESTIMATORS``).
        noise: the probe of Hutchinson's estimator, ``"gaussian"`` or ``"rademacher"``.
        integrator: ``"odeint"`` (ours), ``"odeint_adjoint"`` (ours, gradients by the adjoint
            method; imported only when chosen) or ``"torchdiffeq"``.
        method: the solver, e.g. ``"rk4"`` (fixed grid, needs ``step_size``) or ``"dopri5"``.
        step_size: the step of a fixed-grid method.
        rtol, atol: the tolerances of an adaptive method.

    Attributes:
        nfe: the number of evaluations of the augmented field in the latest solve (the adjoint's
            backward pass adds its own to the same count).

    Raises:
        ValueError: ``dim`` or a width is not a positive integer, ``t1`` is not positive and
            finite, or an unknown ``trace``, ``noise``, ``integrator``, ``method`` or
            ``activation`` (the message lists the valid names).
        TypeError: ``net`` is not an ``nn.Module``.

    Example:
        >>> A = torch.tensor([[0.5, 0.0], [0.0, -0.2]], dtype=torch.float64)
        >>> linear = CNF(2, net=LinearField(A), method="dopri5", rtol=1e-9, atol=1e-9)
        >>> x = torch.zeros(1, 2, dtype=torch.float64)
        >>> f"{linear.log_prob(x).item():.6f}"  # log N(0) − t₁ tr A = −1.837877 − 0.3
        '-2.137877'
    """

    def __init__(
        self,
        dim: int = 2,
        hidden: Sequence[int] = (64, 64),
        *,
        activation: str = "tanh",
        net: nn.Module | None = None,
        t1: float = 1.0,
        trace: str = "exact",
        noise: str = "gaussian",
        integrator: str = "odeint",
        method: str = "dopri5",
        step_size: float | None = None,
        rtol: float = 1e-5,
        atol: float = 1e-5,
    ) -> None:
        super().__init__()
        self.dim = _positive_int(dim, "dim")
        if net is None:
            net = TimeMLP(self.dim, hidden, activation)
            with torch.no_grad():  # f = 0 at first: the flow starts as the identity
                net.layers[-1].weight.zero_()
                net.layers[-1].bias.zero_()
        elif not isinstance(net, nn.Module):
            raise TypeError(
                f"net must be a torch.nn.Module called as net(t, z); got {type(net).__name__}. "
                "Fix: wrap a function in a Module, or leave net=None for a TimeMLP."
            )
        self.net = net
        if isinstance(t1, bool) or not isinstance(t1, numbers.Real) or not 0 < t1 < math.inf:
            raise ValueError(f"t1 must be positive and finite; got t1={t1!r}")
        self.t1 = float(t1)
        self.trace = _choice(trace, "trace estimator", TRACE_ESTIMATORS)
        self.noise = _choice(noise, "noise", NOISE_TYPES)
        self.integrator = _choice(integrator, "integrator", INTEGRATORS)
        if integrator != "torchdiffeq":
            _choice(method, "method", tuple(SOLVERS))
        self.method, self.step_size, self.rtol, self.atol = method, step_size, rtol, atol
        self._counter: CountNFE | None = None

    def extra_repr(self) -> str:
        solver = f"step_size={self.step_size}" if self.step_size else f"rtol={self.rtol}"
        return (
            f"dim={self.dim}, t1={self.t1}, trace={self.trace!r}, noise={self.noise!r}, "
            f"integrator={self.integrator!r}, method={self.method!r}, {solver}"
        )

    @property
    def nfe(self) -> int:
        """Evaluations of the augmented vector field in the latest solve."""
        return 0 if self._counter is None else self._counter.nfe

    def _odeint(self, field: nn.Module, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        kwargs: dict[str, Any] = {"method": self.method, "rtol": self.rtol, "atol": self.atol}
        if self.integrator == "torchdiffeq":
            import torchdiffeq

            if self.step_size is not None:
                kwargs["options"] = {"step_size": self.step_size}
            return torchdiffeq.odeint(field, y0, t, **kwargs)
        kwargs["step_size"] = self.step_size
        if self.integrator == "odeint_adjoint":
            return odeint_adjoint(field, y0, t, **kwargs)
        return odeint(field, y0, t, **kwargs)

    def flow(
        self,
        z: torch.Tensor | np.ndarray,
        t: Sequence[float] | torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Carry the points z from time t[0] through the times t: z(t_k) and ℓ(t_k) − ℓ(t[0]).

        Args:
            z: the points at time t[0], shape (N, D).
            t: the times, strictly monotone (increasing: towards the data; decreasing: towards
                the base), usually within [0, t₁].
            generator: draws Hutchinson's probe (one per solve), torch's global one if omitted.

        Returns:
            ``(zs, ells)``: zs of shape (len(t), N, D) and ells of shape (len(t), N), with
            log p_{t_k}(zs[k]) = log p_{t[0]}(z) + ells[k].

        Raises:
            ValueError, TypeError: ``z`` is not of shape (N, D), not finite, or bad times.
        """
        like = _parameter(self)
        z = _as_points(z, self.dim, like, "z")
        t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
        probe = None
        if self.trace == "hutchinson":
            probe = sample_probe(
                z.shape, self.noise, dtype=z.dtype, device=z.device, generator=generator
            )
        field = CountNFE(AugmentedDynamics(self.net, self.trace, probe))
        self._counter = field
        state = torch.cat([z, torch.zeros_like(z[:, :1])], dim=1)
        ys = self._odeint(field, state, t)
        return ys[..., :-1], ys[..., -1]

    def log_prob(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """log p(x) = log N(z(0)) − ℓ(0), integrating [z, ℓ] from [x, 0] at t₁ back to 0.

        Args:
            x: the data, shape (N, D); numpy arrays are converted to the parameters' dtype.

        Returns:
            The log-densities, shape (N,) (differentiable with respect to the parameters).

        Raises:
            ValueError: ``x`` is not of shape (N, D) or holds nan or inf.
            TypeError: ``x`` is not numeric.
        """
        x = _as_points(x, self.dim, _parameter(self), "x")
        zs, ells = self.flow(x, [self.t1, 0.0])
        return standard_normal_log_prob(zs[-1]) - ells[-1]

    def forward(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """The same as :meth:`log_prob`."""
        return self.log_prob(x)

    def sample(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        return_log_prob: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """x = z(t₁) for base points z(0) ~ N(0, I), integrating forward; optionally log p(x).

        Call it under ``torch.no_grad()`` unless you need gradients of the samples.

        Args:
            n: the number of samples.
            generator: draws the base points (and Hutchinson's probe).
            return_log_prob: also return log p(x) = log N(z(0)) + ℓ(t₁).

        Returns:
            The samples, shape (n, D), or ``(samples, log_probs)``.

        Raises:
            ValueError: ``n`` is not a positive integer.
        """
        n = _positive_int(n, "n")
        like = _parameter(self)
        z0 = torch.randn(n, self.dim, dtype=like.dtype, device=like.device, generator=generator)
        zs, ells = self.flow(z0, [0.0, self.t1], generator=generator)
        if return_log_prob:
            return zs[-1], standard_normal_log_prob(z0) + ells[-1]
        return zs[-1]


class LinearField(nn.Module):
    """The linear vector field f(t, z) = Az, z of shape (N, D) (so dz/dt = Az row by row).

    Its flow is z(t) = e^{tA} z(0), whose log-determinant is t·tr A: the closed form that
    :class:`CNF` is tested against.

    Args:
        matrix: A, shape (D, D); a buffer, not a parameter.

    Example:
        >>> LinearField(torch.eye(2))(0.0, torch.ones(1, 2))
        tensor([[1., 1.]])
    """

    def __init__(self, matrix: torch.Tensor) -> None:
        super().__init__()
        matrix = torch.as_tensor(matrix)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"matrix must be square, shape (D, D); got {tuple(matrix.shape)}")
        self.register_buffer("matrix", matrix)

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Az for every row of z."""
        return z @ self.matrix.T


# ------------------------------------------------------------------------------------ planar
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
        ValueError: ``dim`` or ``n_layers`` is not a positive integer.

    Example:
        >>> flow = PlanarFlow(2, n_layers=4).double()
        >>> x = torch.randn(3, 2, dtype=torch.float64)
        >>> torch.allclose(flow.inverse(flow.transform(x)[0]), x)
        True
    """

    def __init__(self, dim: int = 2, n_layers: int = 8, *, init_scale: float = 0.5) -> None:
        super().__init__()
        self.dim = _positive_int(dim, "dim")
        self.n_layers = _positive_int(n_layers, "n_layers")
        self.u = nn.Parameter(init_scale * torch.randn(self.n_layers, self.dim))
        self.w = nn.Parameter(init_scale * torch.randn(self.n_layers, self.dim))
        self.b = nn.Parameter(torch.zeros(self.n_layers))

    def u_hat(self) -> torch.Tensor:
        """û = u + (m(wᵀu) − wᵀu) w/‖w‖², one row per layer, so that wᵀû = m(wᵀu) > −1."""
        wu = (self.w * self.u).sum(dim=1, keepdim=True)
        m = -1 + nn.functional.softplus(wu)
        w_norm2 = (self.w**2).sum(dim=1, keepdim=True).clamp_min(1e-30)
        return self.u + (m - wu) * self.w / w_norm2

    def transform(self, x: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Data to base: z_K and Σ_k log |1 + ûₖᵀψₖ|, shapes (N, D) and (N,).

        Raises:
            ValueError, TypeError: ``x`` is not a finite (N, D) array.
        """
        z = _as_points(x, self.dim, self.u)
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
        """log p(x) = log N(z_K) + Σ_k log |1 + ûₖᵀψₖ|, shape (N,)."""
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
        """
        y = _as_points(z, self.dim, self.u, "z")
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
        """n samples: base points z ~ N(0, I) mapped through :meth:`inverse`, shape (n, D)."""
        n = _positive_int(n, "n")
        z = torch.randn(n, self.dim, dtype=self.u.dtype, device=self.u.device, generator=generator)
        return self.inverse(z)


# ------------------------------------------------------------------------------------ training
@dataclass(frozen=True)
class DensityFit:
    """What :func:`fit_density` measured: the mean NLL of each minibatch, and on validation data.

    Attributes:
        train_nll: −mean log p over each training minibatch, one entry per iteration.
        val_nll: (iteration, −mean log p over the validation data), every ``eval_every``.
    """

    train_nll: list[float]
    val_nll: list[tuple[int, float]]


def _log_prob_model(model: Any) -> Callable:
    if not callable(getattr(model, "log_prob", None)):
        raise TypeError(
            "model must have a log_prob(x) method (a CNF or a PlanarFlow); got "
            f"{type(model).__name__}"
        )
    return model.log_prob


def mean_nll(
    model: nn.Module, x: torch.Tensor | np.ndarray, *, batch_size: int | None = None
) -> float:
    """−(1/N) Σₙ log p(xₙ), in nats, evaluated without gradients (in batches if asked).

    Args:
        model: a density model with ``log_prob`` (:class:`CNF`, :class:`PlanarFlow`).
        x: the data, shape (N, D).
        batch_size: evaluate this many points at a time (all at once if omitted).

    Returns:
        The mean negative log-likelihood, a Python float.

    Raises:
        TypeError: ``model`` has no ``log_prob``.
        ValueError: bad ``x`` or ``batch_size``.
    """
    log_prob = _log_prob_model(model)
    x = _as_points(x, model.dim, _parameter(model))
    size = len(x) if batch_size is None else _positive_int(batch_size, "batch_size")
    with torch.no_grad():
        total = sum(float(log_prob(x[i : i + size]).sum()) for i in range(0, len(x), size))
    return -total / len(x)


def fit_density(
    model: nn.Module,
    x_train: torch.Tensor | np.ndarray,
    *,
    n_iters: int = 500,
    batch_size: int = 256,
    lr: float = 1e-2,
    x_val: torch.Tensor | np.ndarray | None = None,
    eval_every: int = 100,
    seed: int = 0,
) -> DensityFit:
    """Maximum likelihood by Adam: minimise −(1/B) Σ log p(x_b) over random minibatches.

    The learning rate decays from ``lr`` to ``lr``/10 along a cosine over the iterations.

    Args:
        model: a density model with ``log_prob`` and parameters (:class:`CNF`, :class:`PlanarFlow`).
        x_train: the training data, shape (N, D).
        n_iters: the number of Adam steps.
        batch_size: the minibatch size (drawn without replacement within a batch).
        lr: the initial learning rate.
        x_val: validation data, evaluated every ``eval_every`` iterations and at the end.
        eval_every: how often to evaluate ``x_val``.
        seed: seeds the minibatch draws.

    Returns:
        A :class:`DensityFit`. The model is trained in place.

    Raises:
        TypeError: ``model`` has no ``log_prob``.
        ValueError: a non-positive count or learning rate, or bad data.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> flow = PlanarFlow(2, n_layers=2).double()
        >>> x = torch.randn(64, 2, dtype=torch.float64) * 2
        >>> fit = fit_density(flow, x, n_iters=50, batch_size=32, lr=0.05)
        >>> fit.train_nll[-1] < fit.train_nll[0]
        True
    """
    _log_prob_model(model)
    n_iters = _positive_int(n_iters, "n_iters")
    batch_size = _positive_int(batch_size, "batch_size")
    eval_every = _positive_int(eval_every, "eval_every")
    if not (isinstance(lr, numbers.Real) and 0 < lr < math.inf):
        raise ValueError(f"lr must be positive and finite; got lr={lr!r}")
    like = _parameter(model)
    x_train = _as_points(x_train, model.dim, like, "x_train")
    if x_val is not None:
        x_val = _as_points(x_val, model.dim, like, "x_val")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, n_iters, eta_min=lr / 10)
    generator = torch.Generator().manual_seed(seed)
    train, val = [], []
    size = min(batch_size, len(x_train))
    for it in range(1, n_iters + 1):
        batch = x_train[torch.randperm(len(x_train), generator=generator)[:size]]
        optimizer.zero_grad()
        loss = -model.log_prob(batch).mean()
        loss.backward()
        optimizer.step()
        schedule.step()
        train.append(loss.item())
        if x_val is not None and (it % eval_every == 0 or it == n_iters):
            val.append((it, mean_nll(model, x_val)))
    return DensityFit(train, val)


def density_on_grid(
    model: nn.Module,
    *,
    bounds: tuple[float, float] = (-3.0, 3.0),
    resolution: int = 100,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p(x) = exp(log p(x)) at the centres of a resolution × resolution grid over bounds².

    The cells have area ((hi − lo)/resolution)², so ``density.sum() * cell_area`` approximates
    ∫ p over the square (≈ 1 when the square holds almost all the mass).

    Args:
        model: a 2-D density model with ``log_prob``.
        bounds: (lo, hi), the same for both axes.
        resolution: points per axis.

    Returns:
        ``(X, Y, density)``, numpy arrays of shape (resolution, resolution), as from
        ``np.meshgrid`` (rows follow the second coordinate).

    Raises:
        TypeError: ``model`` has no ``log_prob``.
        ValueError: the model is not 2-D, bad bounds or resolution.

    Example:
        >>> X, Y, p = density_on_grid(PlanarFlow(2, n_layers=1).double(), bounds=(-6, 6))
        >>> f"{p.sum() * (12 / 100) ** 2:.3f}"
        '1.000'
    """
    log_prob = _log_prob_model(model)
    if getattr(model, "dim", None) != 2:
        raise ValueError(f"density_on_grid draws 2-D densities; the model has dim={model.dim}")
    lo, hi = (float(b) for b in bounds)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"bounds must be finite with lo < hi; got {bounds!r}")
    resolution = _positive_int(resolution, "resolution")
    width = (hi - lo) / resolution
    centres = lo + width * (np.arange(resolution) + 0.5)
    X, Y = np.meshgrid(centres, centres)
    points = np.column_stack([X.ravel(), Y.ravel()])
    with torch.no_grad():
        p = torch.exp(log_prob(_as_points(points, 2, _parameter(model)))).cpu().numpy()
    return X, Y, p.reshape(X.shape)

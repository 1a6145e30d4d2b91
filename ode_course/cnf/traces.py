"""The trace tr(∂f/∂z) that a CNF integrates: exactly, or by Hutchinson's unbiased estimate.

Both estimators are built from one operation, the vector–Jacobian product vᵀ(∂f/∂z), which
reverse-mode autodiff computes in one backward pass without forming the Jacobian:

- :func:`exact_trace` takes D products, eᵢᵀ(∂f/∂z) for i = 1, …, D, and keeps the diagonal
  entry of each: tr(∂f/∂z) = Σᵢ ∂fᵢ/∂zᵢ, at the cost of D backward passes;
- :func:`hutchinson_trace` takes one product with a random probe ε and returns εᵀ(∂f/∂z)ε,
  whose mean is the trace whenever E[εεᵀ] = I (FFJORD, Grathwohl et al. 2019);
- :func:`sample_probe` draws such probes (``NOISE_TYPES``), and :func:`hutchinson_variance`
  gives the variance of one estimate in closed form.

Throughout, ``z`` has shape (N, D), one point per row, and ``fz = f(z)`` is computed row by row
from ``z`` after ``z.requires_grad_()``.

Example:
    >>> A = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> z = torch.randn(3, 2).requires_grad_()
    >>> exact_trace(z @ A.T, z)  # tr A = 5 at every point
    tensor([5., 5., 5.])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ode_course import _validate

__all__ = [
    "NOISE_TYPES",
    "TRACE_ESTIMATORS",
    "exact_trace",
    "hutchinson_trace",
    "hutchinson_variance",
    "sample_probe",
    "vector_jacobian_product",
]

TRACE_ESTIMATORS = ("exact", "hutchinson")
"""How a CNF computes tr(∂f/∂z): exactly, or by Hutchinson's estimator."""

NOISE_TYPES = ("gaussian", "rademacher")
"""The distributions of Hutchinson's probe ε: standard normal, or ±1 with probability ½ each."""


# ------------------------------------------------------------------------------------ products
def _vjp(fz: torch.Tensor, z: torch.Tensor, v: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """vᵀ(∂f/∂z) row by row, shape (N, D), by one backward pass; zero if f ignores z."""
    if not fz.requires_grad:
        return torch.zeros_like(z)
    (g,) = torch.autograd.grad(
        fz, z, grad_outputs=v, create_graph=create_graph, retain_graph=True, allow_unused=True
    )
    return torch.zeros_like(z) if g is None else g


# ------------------------------------------------------------------------------------ arguments
def _check_pair(fz: Any, z: Any) -> None:
    """fz = f(z) and z: tensors of the same shape (N, D), z requiring grad."""
    _validate.tensor(fz, "fz", fix="pass fz = f(z), the torch.Tensor your field returns")
    _validate.tensor(z, "z", fix="z = torch.as_tensor(z).requires_grad_() before fz = f(z)")
    single = "for a single point pass z[None] and f(z)[None]"
    _validate.shape(z, "z", "of shape (N, D), one row per point", z.ndim == 2, fix=single)
    _validate.shape(
        fz,
        "fz",
        f"of the shape of z, {tuple(z.shape)}, with fz = f(z) row by row",
        fz.shape == z.shape,
        fix=single,
    )
    if not z.requires_grad:
        _validate.fail(
            "z",
            "a tensor that requires grad, so that ∂f/∂z can be computed",
            "z.requires_grad=False",
            "z = z.requires_grad_() *before* fz = f(z)",
        )


def vector_jacobian_product(
    fz: torch.Tensor, z: torch.Tensor, v: torch.Tensor, *, create_graph: bool = False
) -> torch.Tensor:
    """vᵀ(∂f/∂z) for every row, shape (N, D), by one backward pass (zero where f ignores z).

    The one operation both trace estimators, and Chapter 11's Jacobian norms, are built from.

    Args:
        fz: f(z), shape (N, D), computed from ``z`` after ``z.requires_grad_()``.
        z: the points, shape (N, D), requiring grad.
        v: one vector per row, shape (N, D).
        create_graph: keep the graph of the result, to differentiate it (training).

    Returns:
        The products, shape (N, D).

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: the shapes differ, or ``z`` does not require grad.

    Example:
        >>> z = torch.ones(1, 2, requires_grad=True)
        >>> A = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> vector_jacobian_product(z @ A.T, z, torch.tensor([[1.0, 0.0]]))  # row 1 of A
        tensor([[1., 2.]])
    """
    _check_pair(fz, z)
    fix = "pass one vector per row, shaped like z"
    _validate.tensor(v, "v", fix=fix)
    _validate.shape(v, "v", f"shaped like z {tuple(z.shape)}", v.shape == z.shape, fix=fix)
    return _vjp(fz, z, v, create_graph)


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
    fix = "probe = sample_probe(z.shape, 'gaussian', dtype=z.dtype)"
    _validate.tensor(probe, "probe", fix=fix)
    _validate.shape(
        probe,
        "probe",
        f"shaped like z {tuple(z.shape)}, one probe per row",
        probe.shape == z.shape,
        fix=fix,
    )
    return (_vjp(fz, z, probe, create_graph) * probe).sum(dim=1)


# ------------------------------------------------------------------------------------ probes
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
    noise = _validate.one_of(noise, "noise", NOISE_TYPES)
    size = tuple(shape)
    if noise == "gaussian":
        return torch.randn(size, dtype=dtype, device=device, generator=generator)
    bits = torch.randint(0, 2, size, device=device, generator=generator)
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
    noise = _validate.one_of(noise, "noise", NOISE_TYPES)
    a = torch.as_tensor(matrix, dtype=torch.float64)
    _validate.shape(
        a,
        "matrix",
        "square, of shape (D, D)",
        a.ndim == 2 and a.shape[0] == a.shape[1],
        fix="pass the Jacobian of f at one point, a D × D matrix",
    )
    s = (a + a.T) / 2
    total = 2 * float((s**2).sum())
    return total if noise == "gaussian" else total - 2 * float((s.diagonal() ** 2).sum())

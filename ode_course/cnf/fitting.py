"""Fitting a density by maximum likelihood, and reading the fitted density back.

Every model of this package (:class:`~ode_course.cnf.CNF`, :class:`~ode_course.cnf.PlanarFlow`)
has ``log_prob(x)`` and a dimension ``dim``; these functions need nothing else:

- :func:`mean_nll`: the mean negative log-likelihood −(1/N) Σₙ log p(xₙ), in nats;
- :func:`fit_density`: maximum likelihood by Adam on minibatches, returning the package's
  :class:`~ode_course.history.TrainingHistory` with the losses measured on the way;
- :func:`density_on_grid`: p(x) on a square grid, to draw a 2-D density and to check that it
  integrates to 1.

Example:
    >>> from ode_course.cnf import PlanarFlow
    >>> flow = PlanarFlow(2, n_layers=1).double()
    >>> with torch.no_grad():
    ...     _ = flow.w.zero_()  # w = 0, b = 0: the identity map, the model is N(0, I)
    >>> f"{mean_nll(flow, torch.zeros(1, 2)):.6f}"  # −log N(0; 0, I) = log 2π
    '1.837877'
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from ode_course import _validate
from ode_course.cnf.base import reference_tensor
from ode_course.history import TrainingHistory

__all__ = ["density_on_grid", "fit_density", "mean_nll"]


def _log_prob_of(model: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    """The model's ``log_prob`` method, checked."""
    if not callable(getattr(model, "log_prob", None)):
        _validate.fail(
            "model",
            "a density model with a log_prob(x) method",
            type(model).__name__,
            "pass a CNF or a PlanarFlow (or any nn.Module with log_prob and dim)",
            TypeError,
        )
    return model.log_prob


def _dim_of(model: Any) -> int:
    """The model's dimension D, ``model.dim``, checked."""
    return _validate.integer(
        getattr(model, "dim", None),
        "model.dim",
        fix="give the model a dim attribute, the dimension of its data (as CNF and PlanarFlow)",
    )


def mean_nll(
    model: nn.Module, x: torch.Tensor | np.ndarray, *, batch_size: int | None = None
) -> float:
    """−(1/N) Σₙ log p(xₙ), in nats, evaluated without gradients (in batches if asked).

    Args:
        model: a density model with ``log_prob`` (:class:`~ode_course.cnf.CNF`,
            :class:`~ode_course.cnf.PlanarFlow`).
        x: the data, shape (N, D).
        batch_size: evaluate this many points at a time (all at once if omitted).

    Returns:
        The mean negative log-likelihood, a Python float.

    Raises:
        TypeError: ``model`` has no ``log_prob``.
        TypeError, ValueError: bad ``x`` or ``batch_size``.

    Example:
        >>> from ode_course.cnf import PlanarFlow
        >>> flow = PlanarFlow(2, n_layers=2).double()
        >>> x = torch.randn(10, 2, dtype=torch.float64)
        >>> abs(mean_nll(flow, x, batch_size=3) - mean_nll(flow, x)) < 1e-12
        True
    """
    log_prob = _log_prob_of(model)
    points = _validate.points(x, "x", dim=_dim_of(model), like=reference_tensor(model))
    if batch_size is None:
        size = len(points)
    else:
        size = _validate.integer(batch_size, "batch_size", fix="e.g. batch_size=1000, or None")
    with torch.no_grad():
        total = sum(
            float(log_prob(points[i : i + size]).sum()) for i in range(0, len(points), size)
        )
    return -total / len(points)


def fit_density(
    model: nn.Module,
    x_train: torch.Tensor | np.ndarray,
    *,
    steps: int = 500,
    batch_size: int = 256,
    lr: float = 1e-2,
    x_val: torch.Tensor | np.ndarray | None = None,
    eval_every: int = 100,
    seed: int = 0,
    regulariser: Callable[[], torch.Tensor] | None = None,
) -> TrainingHistory:
    """Maximum likelihood by Adam: minimise −(1/B) Σ log p(x_b) over random minibatches.

    The learning rate decays from ``lr`` to ``lr``/10 along a cosine over the iterations. With
    ``regulariser``, each step minimises −(1/B) Σ log p(x_b) + regulariser(), the regulariser
    called after the forward pass (e.g. ``lambda: cnf.penalty`` for a
    :class:`~ode_course.regularisation.RegularisedCNF`, whose forward pass sets it).

    Args:
        model: a density model with ``log_prob`` and parameters (:class:`~ode_course.cnf.CNF`,
            :class:`~ode_course.cnf.PlanarFlow`).
        x_train: the training data, shape (N, D).
        steps: the number of Adam steps.
        batch_size: the minibatch size (drawn without replacement within a batch).
        lr: the initial learning rate.
        x_val: validation data, evaluated every ``eval_every`` iterations and at the end.
        eval_every: how often to evaluate ``x_val``.
        seed: seeds the minibatch draws.
        regulariser: a function of no arguments returning a 0-d tensor added to each step's
            loss (Chapter 11's penalties); None for plain maximum likelihood.

    Returns:
        A :class:`~ode_course.history.TrainingHistory` per step: −mean log p of each
        training minibatch (the penalty not included), with ``x_val`` the mean NLL of the
        validation data after the steps in ``val_at``, and for a model with ``nfe`` (a CNF)
        the evaluations of each step's solve in ``nfe``. The model is trained in place.

    Raises:
        TypeError: ``model`` has no ``log_prob``, or ``regulariser`` is not callable.
        TypeError, ValueError: a count that is not a positive integer, a learning rate that is
            not positive and finite, or bad data.

    Example:
        >>> from ode_course.cnf import PlanarFlow
        >>> _ = torch.manual_seed(0)
        >>> flow = PlanarFlow(2, n_layers=2).double()
        >>> x = torch.randn(64, 2, dtype=torch.float64) * 2
        >>> fit = fit_density(flow, x, steps=50, batch_size=32, lr=0.05)
        >>> fit.train_loss[-1] < fit.train_loss[0]
        True
    """
    log_prob = _log_prob_of(model)
    dim = _dim_of(model)
    steps = _validate.integer(steps, "steps", fix="e.g. steps=500")
    batch_size = _validate.integer(batch_size, "batch_size", fix="e.g. batch_size=256")
    eval_every = _validate.integer(eval_every, "eval_every", fix="e.g. eval_every=100")
    lr = _validate.positive(lr, "lr", fix="pass a small positive learning rate, e.g. lr=0.01")
    like = reference_tensor(model)
    train_points = _validate.points(x_train, "x_train", dim=dim, like=like)
    val_points = None if x_val is None else _validate.points(x_val, "x_val", dim=dim, like=like)
    if regulariser is not None:
        _validate.callable_(
            regulariser, "regulariser", fix="pass a function of no arguments: lambda: cnf.penalty"
        )
    counts = hasattr(model, "nfe")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, eta_min=lr / 10)
    seed = _validate.integer(seed, "seed", minimum=0, fix="e.g. seed=0")
    generator = torch.Generator().manual_seed(seed)
    history, started = TrainingHistory(per="step"), time.perf_counter()
    size = min(batch_size, len(train_points))
    for it in range(1, steps + 1):
        batch = train_points[torch.randperm(len(train_points), generator=generator)[:size]]
        optimizer.zero_grad()
        nll = -log_prob(batch).mean()
        loss = nll if regulariser is None else nll + regulariser()
        loss.backward()
        optimizer.step()
        schedule.step()
        history.record(nll.item())
        if counts:
            history.nfe.append(int(getattr(model, "nfe")))  # noqa: B009 - a Module attribute
        if val_points is not None and (it % eval_every == 0 or it == steps):
            history.record_validation(mean_nll(model, val_points))
    history.seconds = time.perf_counter() - started
    return history


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
        TypeError, ValueError: the model is not 2-D, bad bounds or resolution.

    Example:
        >>> from ode_course.cnf import PlanarFlow
        >>> X, Y, p = density_on_grid(PlanarFlow(2, n_layers=1).double(), bounds=(-6, 6))
        >>> f"{p.sum() * (12 / 100) ** 2:.3f}"
        '1.000'
    """
    log_prob = _log_prob_of(model)
    dim = getattr(model, "dim", None)
    if dim != 2:
        _validate.fail(
            "model",
            "a 2-D density model (density_on_grid draws the plane)",
            f"model.dim={dim}",
            "pass a model built with dim=2",
        )
    example = "e.g. bounds=(-3.0, 3.0)"
    try:
        low, high = bounds
    except (TypeError, ValueError):
        _validate.fail("bounds", "a pair (lo, hi)", repr(bounds), example)
    lo = _validate.real(low, "bounds[0]", fix=example)
    hi = _validate.real(high, "bounds[1]", fix=example)
    if not lo < hi:
        _validate.fail(
            "bounds", "(lo, hi) with lo < hi", f"bounds={bounds!r}", f"bounds=({hi:g}, {lo:g})"
        )
    resolution = _validate.integer(resolution, "resolution", fix="e.g. resolution=100")
    width = (hi - lo) / resolution
    centres = lo + width * (np.arange(resolution) + 0.5)
    X, Y = np.meshgrid(centres, centres)
    points = np.column_stack([X.ravel(), Y.ravel()])
    with torch.no_grad():
        grid = _validate.points(points, "points", dim=2, like=reference_tensor(model))
        p = torch.exp(log_prob(grid)).cpu().numpy()
    return X, Y, p.reshape(X.shape)

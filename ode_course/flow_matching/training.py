"""Training by flow matching, and measuring what it costs and what it buys.

:func:`fit_flow_matching` minimises the conditional flow-matching loss by Adam on minibatches,

    L(θ) = E_{t ~ U[0,1], (x₀, x₁)} |v_θ(t, (1 − t) x₀ + t x₁) − (x₁ − x₀)|²,

with one of three couplings of the base points x₀ and the data points x₁:

- independent (the default): x₀ ~ N(0, I) drawn afresh for every minibatch of data;
- ``coupling="ot"``: the same draws, re-paired within the minibatch by optimal transport
  (:func:`~ode_course.flow_matching.ot_coupling`, Tong et al. 2024);
- ``pairs=(x0, x1)``: fixed pairs, e.g. from :func:`~ode_course.flow_matching.reflow_pairs`
  (rectified flow, Liu, Gong & Liu 2023).

A training step evaluates the field once and solves no ODE; the returned
:class:`~ode_course.history.TrainingHistory` counts the evaluations (``nfe_per_step``) and
measures the wall time.
:func:`~ode_course.solvers.count_evaluations` counts the forward passes of any module during
any computation (a maximum-likelihood CNF step of Chapter 7, say), and :func:`exact_nll`
computes the test negative log-likelihood of any trained field through Chapter 7's
instantaneous change of variables (:class:`~ode_course.cnf.CNF`, Dopri5, exact trace), so
that flow matching and maximum likelihood are judged by the same number.

Example:
    >>> from ode_course.cnf import TimeMLP
    >>> _ = torch.manual_seed(0)
    >>> x1 = torch.randn(256, 2) * 0.5 + 1.0
    >>> field = TimeMLP(2, hidden=(16,))
    >>> fit = fit_flow_matching(field, x1, steps=100, batch_size=64, lr=1e-2)
    >>> fit.nfe_per_step, fit.train_loss[-1] < fit.train_loss[0]
    (1, True)
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ode_course import _validate
from ode_course.cnf import CNF, mean_nll
from ode_course.flow_matching.coupling import ot_coupling
from ode_course.flow_matching.paths import flow_matching_loss, pair
from ode_course.history import TrainingHistory
from ode_course.solvers import CountNFE

__all__ = [
    "COUPLINGS",
    "NLLResult",
    "exact_nll",
    "fit_flow_matching",
]

COUPLINGS = ("independent", "ot")
"""The couplings :func:`fit_flow_matching` draws pairs with: independent draws, or minibatch
optimal transport."""


@dataclass(frozen=True)
class NLLResult:
    """A test negative log-likelihood and the cost of computing it.

    Attributes:
        nll: −(1/N) Σₙ log p(xₙ), in nats.
        nfe: evaluations of the augmented field [v, −tr ∂v/∂x] in the solve.
    """

    nll: float
    nfe: int


def fit_flow_matching(
    field: nn.Module,
    data: torch.Tensor | None = None,
    *,
    steps: int = 1000,
    batch_size: int = 256,
    lr: float = 1e-2,
    coupling: str = "independent",
    pairs: tuple[torch.Tensor, torch.Tensor] | None = None,
    seed: int = 0,
    progress: bool = False,
) -> TrainingHistory:
    """Minimise E |v_θ(t, x_t) − (x₁ − x₀)|² by Adam on minibatches: no ODE solve, no trace.

    Every step draws ``batch_size`` data points x₁ (without replacement within the batch),
    as many base points x₀ ~ N(0, I) (re-paired by optimal transport if ``coupling="ot"``),
    or a minibatch of the fixed ``pairs``, times t ~ U[0, 1], and takes one Adam step on
    :func:`~ode_course.flow_matching.flow_matching_loss`. The learning rate decays from
    ``lr`` to ``lr``/10 along a cosine, as in :func:`~ode_course.cnf.fit_density`.

    Args:
        field: v_θ(t, x), an ``nn.Module`` taking t of shape (B, 1) and x of shape (B, D)
            (e.g. :class:`~ode_course.cnf.TimeMLP`); trained in place, in its own dtype.
        data: the data points x₁, shape (N, D) (not with ``pairs``).
        steps: the number of Adam steps.
        batch_size: B, the minibatch size (at most N).
        lr: the initial learning rate.
        coupling: ``"independent"`` or ``"ot"`` (see ``COUPLINGS``).
        pairs: fixed pairs (x₀, x₁) of shape (N, D) each, instead of ``data`` (reflow).
        seed: seeds the minibatches, the base points and the times.
        progress: show a progress bar (tqdm).

    Returns:
        A :class:`~ode_course.history.TrainingHistory` per step: the loss of each minibatch,
        the counted evaluations per step (``nfe_per_step``, 1) and the wall time.

    Raises:
        TypeError: ``field`` is not an ``nn.Module``; data that are not float tensors.
        ValueError: neither or both of ``data`` and ``pairs``; an unknown ``coupling``, or
            ``coupling="ot"`` with ``pairs``; a count or learning rate that is not positive.

    Example:
        >>> from ode_course.cnf import TimeMLP
        >>> _ = torch.manual_seed(0)
        >>> x0 = torch.randn(128, 1)
        >>> field = TimeMLP(1, hidden=(8,))
        >>> fit = fit_flow_matching(field, pairs=(x0, x0 + 2.0), steps=200, batch_size=32)
        >>> v = field(torch.full((1, 1), 0.5), torch.zeros(1, 1)).item()
        >>> abs(v - 2.0) < 0.2  # it learns the constant velocity x₁ − x₀ = 2
        True
    """
    if not isinstance(field, nn.Module):
        _validate.fail(
            "field",
            "a torch.nn.Module v(t, x) with parameters to train",
            type(field).__name__,
            "pass e.g. TimeMLP(D)",
            TypeError,
        )
    steps = _validate.integer(steps, "steps", fix="e.g. steps=1000")
    batch_size = _validate.integer(batch_size, "batch_size", fix="e.g. batch_size=256")
    lr = _validate.positive(lr, "lr", fix="pass a small positive learning rate, e.g. lr=0.01")
    coupling = _validate.one_of(coupling, "coupling", COUPLINGS, fix="e.g. coupling='ot'")
    seed = _validate.integer(seed, "seed", minimum=0, fix="e.g. seed=0")
    if (data is None) == (pairs is None):
        _validate.fail(
            "data, pairs",
            "exactly one given: the data x₁, or fixed pairs (x₀, x₁)",
            "both" if data is not None else "neither",
            "pass fit_flow_matching(field, x_train, ...) or pairs=(x0, x1)",
        )
    if pairs is not None:
        if coupling != "independent":
            _validate.fail(
                "coupling",
                "'independent' when fixed pairs are given (the pairs are the coupling)",
                repr(coupling),
                "drop coupling=, or pass data instead of pairs",
            )
        if not isinstance(pairs, tuple) or len(pairs) != 2:
            _validate.fail(
                "pairs",
                "a tuple (x0, x1) of two tensors of shape (N, D)",
                type(pairs).__name__,
                "pass pairs=reflow_pairs(field, x0)",
                TypeError,
            )
        base, target = pair(*pairs)
    else:
        target = _validate.points(data, "data")
        base = None
    like = next(iter(field.parameters()), None)
    dtype = like.dtype if like is not None else target.dtype
    target = target.detach().to(dtype)
    base = None if base is None else base.detach().to(dtype)
    size = min(batch_size, len(target))
    optimizer = torch.optim.Adam(field.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, eta_min=lr / 10)
    generator = torch.Generator().manual_seed(seed)
    counted = CountNFE(field)
    history = TrainingHistory(per="step")
    iterator: Any = range(steps)
    if progress:
        from tqdm import tqdm  # type: ignore[import-untyped]

        iterator = tqdm(iterator, desc="flow matching", mininterval=1.0)
    start = time.perf_counter()
    for _ in iterator:
        index = torch.randperm(len(target), generator=generator)[:size]
        x1 = target[index]
        if base is None:
            x0 = torch.randn(x1.shape, generator=generator, dtype=dtype)
            if coupling == "ot":
                x0, x1 = ot_coupling(x0, x1)
        else:
            x0 = base[index]
        optimizer.zero_grad()
        loss = flow_matching_loss(counted, x0, x1, generator=generator)
        loss.backward()
        optimizer.step()
        schedule.step()
        history.record(loss.item())
    history.seconds = time.perf_counter() - start
    history.nfe_per_step = counted.nfe // steps
    return history


def exact_nll(
    field: nn.Module,
    x: torch.Tensor,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-6,
) -> NLLResult:
    """−(1/N) Σₙ log p(xₙ) of the flow dx/dt = v(t, x) from N(0, I) at t = 0 to t = 1.

    log p(x) = log N(x(0); 0, I) − ∫₀¹ tr(∂v/∂x)(t, x(t)) dt along the path through x(1) = x:
    Chapter 7's :class:`~ode_course.cnf.CNF` with ``net=field``, solved backwards by Dopri5
    with the exact trace, in float64 (on a copy of the field, which is left as it was). The
    same function scores a flow trained by flow matching and a CNF's field trained by maximum
    likelihood.

    Args:
        field: v(t, x), an ``nn.Module`` (e.g. a trained :class:`~ode_course.cnf.TimeMLP`, or
            ``cnf.net``).
        x: the test points, shape (N, D).
        rtol, atol: the tolerances of Dopri5.

    Returns:
        :class:`NLLResult`: the mean NLL in nats and the solve's NFE.

    Raises:
        TypeError: ``field`` is not an ``nn.Module``; ``x`` is not a float tensor.
        ValueError: ``x`` is not of shape (N, D); a tolerance is not positive.

    Example:
        >>> from ode_course.cnf import LinearField
        >>> still = LinearField(torch.zeros(2, 2))  # v = 0: the model is N(0, I)
        >>> f"{exact_nll(still, torch.zeros(1, 2)).nll:.6f}"  # log 2π
        '1.837877'
    """
    if not isinstance(field, nn.Module):
        _validate.fail(
            "field",
            "a torch.nn.Module v(t, x)",
            type(field).__name__,
            "pass the trained field, e.g. a TimeMLP or cnf.net",
            TypeError,
        )
    x = _validate.points(x, "x").detach().to(torch.float64)
    rtol = _validate.positive(rtol, "rtol", fix="e.g. rtol=1e-6")
    atol = _validate.positive(atol, "atol", fix="e.g. atol=1e-6")
    net = copy.deepcopy(field).to(torch.float64)
    model = CNF(x.shape[1], net=net, method="dopri5", rtol=rtol, atol=atol)
    nll = mean_nll(model, x)
    return NLLResult(nll, model.nfe)

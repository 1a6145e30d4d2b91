"""Denoising score matching: learn the score of the noisy data by predicting the noise.

The reverse of the forward process needs the score ∇ₓ log p_t(x) of the noisy data, which is
unknown. Denoising score matching (Vincent 2011) regresses on something known instead: for
x_t = α_t x₀ + σ_t ε, the score of x_t given x₀ is −ε / σ_t, and

    L_DSM(θ) = E_{t, x₀, ε} |ε_θ(t, x_t) − ε|²

has the same minimiser as the score-matching loss we cannot compute,

    L_SM(θ) = E_{t, x_t} |ε_θ(t, x_t) + σ_t ∇ log p_t(x_t)|²,

because the two differ by a constant that does not depend on θ (E[ε | x_t] = −σ_t ∇ log p_t).
The network ε_θ predicts the noise; its score is s_θ = −ε_θ / σ_t. On a 1-D Gaussian mixture
the true score is known in closed form (:func:`mixture_score`), so both losses can be computed
and compared, as Chapter 9 did for flow matching.

Example:
    >>> from ode_course.cnf import TimeMLP
    >>> _ = torch.manual_seed(0)
    >>> eps_model = TimeMLP(2, hidden=(32,))
    >>> fit = fit_diffusion(eps_model, torch.randn(256, 2) * 0.5, steps=50, batch_size=64)
    >>> fit.nfe_per_step, len(fit.train_loss)
    (1, 50)
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

from ode_course import _validate
from ode_course.diffusion.schedule import VPSchedule, as_time
from ode_course.flow_matching import GaussianMixture1D
from ode_course.history import TrainingHistory
from ode_course.solvers import CountNFE

__all__ = [
    "denoising_loss",
    "fit_diffusion",
    "mixture_score",
    "score_matching_loss",
]

T_MIN = 1e-3
"""The smallest training time: below it σ_t → 0 and the target −ε/σ_t of the score explodes."""


def _model(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        _validate.fail(
            "model",
            "a torch.nn.Module ε_θ(t, x) that predicts the noise",
            type(model).__name__,
            "pass e.g. TimeMLP(D)",
            TypeError,
        )
    return model


def _draws(
    x0: torch.Tensor, generator: torch.Generator | None, t_min: float
) -> tuple[torch.Tensor, torch.Tensor]:
    t = t_min + (1 - t_min) * torch.rand(x0.shape[0], 1, generator=generator, dtype=x0.dtype)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    return t, noise


def denoising_loss(
    model: nn.Module,
    x0: torch.Tensor,
    schedule: VPSchedule | None = None,
    *,
    generator: torch.Generator | None = None,
    t_min: float = T_MIN,
) -> torch.Tensor:
    """L_DSM = mean |ε_θ(t, α_t x₀ + σ_t ε) − ε|² over one draw of t ~ U[t_min, 1], ε ~ N(0, I).

    Args:
        model: ε_θ(t, x), t of shape (N, 1), x of shape (N, D).
        x0: data points, shape (N, D).
        schedule: the noise schedule (default :class:`VPSchedule`).
        generator: the random numbers of t and ε (the same generator state gives the same draw).
        t_min: the smallest time drawn, in (0, 1).

    Returns:
        A 0-d tensor, differentiable in the model's parameters (summed over D, mean over N).
    """
    model = _model(model)
    x0 = _validate.points(x0, "x0")
    schedule = schedule or VPSchedule()
    t, noise = _draws(x0, generator, float(as_time(t_min, "t_min")))
    xt = schedule.perturb(x0, t, noise)
    return (model(t, xt) - noise).pow(2).sum(dim=1).mean()


def mixture_score(
    mixture: GaussianMixture1D, schedule: VPSchedule, t: float | torch.Tensor, x: torch.Tensor
) -> torch.Tensor:
    """∇ₓ log p_t(x) for 1-D data from a Gaussian mixture Σₖ wₖ N(μₖ, sₖ²), in closed form.

    The forward process keeps a mixture a mixture: p_t = Σₖ wₖ N(α_t μₖ, α_t² sₖ² + σ_t²), so
    the score is the responsibilities' average of −(x − α_t μₖ) / (α_t² sₖ² + σ_t²).

    Args:
        mixture: the data distribution (Chapter 9's
            :class:`~ode_course.flow_matching.GaussianMixture1D`).
        schedule: the noise schedule.
        t: the time, a float or a tensor of shape (N, 1), in (0, 1].
        x: the points, shape (N, 1).

    Returns:
        The score, shape (N, 1).
    """
    x = _validate.points(x, "x", dim=1)
    t = as_time(t).to(x.dtype)
    weights = torch.as_tensor(mixture.weights, dtype=x.dtype)
    means = torch.as_tensor(mixture.means, dtype=x.dtype)
    stds = torch.as_tensor(mixture.stds, dtype=x.dtype)
    alpha, sigma = schedule.alpha(t).to(x.dtype), schedule.sigma(t).to(x.dtype)
    var = alpha**2 * stds**2 + sigma**2  # (N or 1, K)
    centred = x - alpha * means
    log_r = torch.log(weights) - 0.5 * torch.log(2 * torch.pi * var) - 0.5 * centred**2 / var
    resp = torch.softmax(log_r, dim=1)
    return (resp * (-centred / var)).sum(dim=1, keepdim=True)


def score_matching_loss(
    model: nn.Module,
    x0: torch.Tensor,
    true_score: Any,
    schedule: VPSchedule | None = None,
    *,
    generator: torch.Generator | None = None,
    t_min: float = T_MIN,
) -> torch.Tensor:
    """L_SM = mean |ε_θ(t, x_t) + σ_t ∇ log p_t(x_t)|² on the same draw as :func:`denoising_loss`.

    Args:
        model: ε_θ(t, x).
        x0: data points, shape (N, D).
        true_score: ∇ log p_t, called as ``true_score(t, x)`` (e.g. a
            :func:`mixture_score` with its mixture and schedule bound).
        schedule, generator, t_min: as :func:`denoising_loss` (the same generator state draws
            the same t and x_t, so the two losses can be compared draw for draw).
    """
    model = _model(model)
    _validate.callable_(true_score, "true_score", fix="pass s(t, x), the exact score")
    x0 = _validate.points(x0, "x0")
    schedule = schedule or VPSchedule()
    t, noise = _draws(x0, generator, float(as_time(t_min, "t_min")))
    xt = schedule.perturb(x0, t, noise)
    target = -schedule.sigma(t).to(x0.dtype) * true_score(t, xt)
    return (model(t, xt) - target).pow(2).sum(dim=1).mean()


def fit_diffusion(
    model: nn.Module,
    data: torch.Tensor,
    *,
    schedule: VPSchedule | None = None,
    steps: int = 2000,
    batch_size: int = 256,
    lr: float = 1e-2,
    seed: int = 0,
    progress: bool = False,
) -> TrainingHistory:
    """Minimise the denoising loss E |ε_θ(t, x_t) − ε|² by Adam on minibatches.

    As :func:`~ode_course.flow_matching.fit_flow_matching`: every step draws ``batch_size``
    data points, as many times t ~ U[t_min, 1] and noises ε ~ N(0, I), and takes one Adam step;
    the learning rate decays from ``lr`` to ``lr``/10 along a cosine. One evaluation of the
    network per step, no ODE solve.

    Args:
        model: ε_θ(t, x) (e.g. :class:`~ode_course.cnf.TimeMLP`), trained in place.
        data: the data x₀, shape (N, D).
        schedule: the noise schedule (default :class:`VPSchedule`).
        steps: Adam steps; batch_size: the minibatch size (N if larger); lr: the initial rate.
        seed: seeds the minibatches, times and noises.
        progress: show a progress bar (tqdm).

    Returns:
        A :class:`~ode_course.history.TrainingHistory` per step (the minibatch losses,
        ``nfe_per_step`` = 1 and the wall time).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``; ``data`` is not numbers.
        ValueError: a count or rate that is not positive.
    """
    model = _model(model)
    param = next(model.parameters(), None)
    data = _validate.points(data, "data", like=param).detach()
    steps = _validate.integer(steps, "steps", fix="e.g. steps=2000")
    batch_size = _validate.integer(batch_size, "batch_size", fix="e.g. batch_size=256")
    lr = _validate.positive(lr, "lr", fix="e.g. lr=0.01")
    seed = _validate.integer(seed, "seed", minimum=0, fix="e.g. seed=0")
    batch_size = min(batch_size, len(data))
    schedule = schedule or VPSchedule()
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule_lr = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, eta_min=lr / 10)
    counted = CountNFE(model)
    history = TrainingHistory(per="step")
    start = time.perf_counter()
    bar: Any = range(steps)
    if progress:
        from tqdm import tqdm  # type: ignore[import-untyped]

        bar = tqdm(bar, desc="denoising score matching", mininterval=1.0)
    for _ in bar:
        index = torch.randperm(len(data), generator=generator)[:batch_size]
        loss = denoising_loss(counted, data[index], schedule, generator=generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule_lr.step()
        history.record(loss.item())
    history.seconds = time.perf_counter() - start
    history.nfe_per_step = counted.nfe // steps
    return history

"""First-order optimizers and learning-rate schedules, from scratch in numpy.

Every optimizer turns a gradient g = ∇L(θ) into a step for each parameter array θ::

    SGD        θ ← θ − lr g
    Momentum   b ← μ b + g,                    θ ← θ − lr b
    Nesterov   b ← μ b + g,                    θ ← θ − lr (g + μ b)
    Adagrad    s ← s + g²,                     θ ← θ − lr g / (√s + ε)
    RMSprop    v ← α v + (1 − α) g²,           θ ← θ − lr g / (√v + ε)
    Adam       m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
               θ ← θ − lr m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)

(all operations elementwise). Each follows ``torch.optim`` exactly, so a trajectory here equals
the one PyTorch computes (the tests check 100 steps to a relative 1e-10). All share one interface:
``opt.step(params, grads)`` updates the list of float arrays ``params`` in place, and ``opt.lr`` may
be changed between steps by a schedule (:class:`StepDecay`, :class:`ExponentialDecay`,
:class:`CosineAnnealing`)::

    opt, schedule = Momentum(lr=0.1, momentum=0.9), CosineAnnealing(lr0=0.1, t_max=epochs)
    for epoch in range(epochs):
        opt.lr = schedule(epoch)
        for batch in batches:
            opt.step(model.params(), model.grads())

The package reads in four files, each on its own:

- ``optimizer.py``: the shared interface, :class:`Optimizer` (the input checks, weight decay,
  the step count and the state per parameter);
- ``momentum.py``: :class:`SGD`, :class:`Momentum` and :class:`Nesterov`;
- ``adaptive.py``: :class:`Adagrad`, :class:`RMSprop`, :class:`Adam`, and ``OPTIMIZERS``, all
  six by name;
- ``schedules.py``: :class:`Schedule`, :class:`StepDecay`, :class:`ExponentialDecay`,
  :class:`CosineAnnealing` and ``SCHEDULES``.

Example:
    >>> theta = np.array([1.0, -2.0])
    >>> opt = OPTIMIZERS["adam"](lr=0.1)
    >>> for _ in range(200):
    ...     opt.step([theta], [2 * theta])  # L(θ) = |θ|², ∇L = 2θ
    >>> bool(np.abs(theta).max() < 1e-2)
    True
"""

from __future__ import annotations

import numpy as np  # the doctests above use it

from ode_course.optim import adaptive, momentum, optimizer, schedules
from ode_course.optim.adaptive import OPTIMIZERS, Adagrad, Adam, RMSprop
from ode_course.optim.momentum import SGD, Momentum, Nesterov
from ode_course.optim.optimizer import Optimizer
from ode_course.optim.schedules import (
    SCHEDULES,
    CosineAnnealing,
    ExponentialDecay,
    Schedule,
    StepDecay,
)

__all__ = sorted({*optimizer.__all__, *momentum.__all__, *adaptive.__all__, *schedules.__all__})

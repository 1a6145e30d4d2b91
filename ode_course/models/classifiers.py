"""Classifiers built from the blocks, an MLP, a ResNet and an ODE-Net, and their training.

:func:`mlp_classifier`, :func:`resnet_classifier` and :func:`ode_classifier` build them,
:func:`count_parameters` sizes them and :func:`fit_classifier` trains them.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ode_course import _validate
from ode_course.history import TrainingHistory
from ode_course.models.blocks import ODEBlock, ODEFunc, ResBlock

__all__ = [
    "count_parameters",
    "fit_classifier",
    "mlp_classifier",
    "ode_classifier",
    "resnet_classifier",
]


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.

    Example:
        >>> count_parameters(nn.Linear(3, 2))  # a 3 × 2 weight and 2 biases
        8
    """
    if not isinstance(model, nn.Module):
        _validate.fail(
            "model", "a torch.nn.Module", type(model).__name__, "pass the network itself", TypeError
        )
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def mlp_classifier(n_in: int, n_classes: int, width: int, depth: int) -> nn.Sequential:
    """An MLP: Linear(n_in, width), then depth × [tanh, Linear(width, width)], tanh, a head.

    Raises:
        TypeError: a size is not an integer.
        ValueError: ``n_in``, ``n_classes`` or ``width`` is less than 1, or ``depth`` is
            negative.

    Example:
        >>> mlp_classifier(64, 10, width=32, depth=1)(torch.zeros(5, 64)).shape
        torch.Size([5, 10])
    """
    n_in, n_classes = _validate.integer(n_in, "n_in"), _validate.integer(n_classes, "n_classes")
    width = _validate.integer(width, "width")
    depth = _validate.integer(depth, "depth", minimum=0)
    layers: list[nn.Module] = [nn.Linear(n_in, width)]
    for _ in range(depth):
        layers += [nn.Tanh(), nn.Linear(width, width)]
    return nn.Sequential(*layers, nn.Tanh(), nn.Linear(width, n_classes))


def resnet_classifier(
    n_in: int, n_classes: int, width: int, hidden: int, n_blocks: int
) -> nn.Sequential:
    """A ResNet: a stem Linear(n_in, width), ``n_blocks`` residual blocks, tanh, a head.

    Raises:
        TypeError: a size is not an integer.
        ValueError: a size is less than 1.

    Example:
        >>> resnet_classifier(64, 10, width=32, hidden=16, n_blocks=3)(torch.zeros(5, 64)).shape
        torch.Size([5, 10])
    """
    n_in, n_classes = _validate.integer(n_in, "n_in"), _validate.integer(n_classes, "n_classes")
    width, n_blocks = _validate.integer(width, "width"), _validate.integer(n_blocks, "n_blocks")
    blocks = [ResBlock(width, hidden) for _ in range(n_blocks)]
    return nn.Sequential(nn.Linear(n_in, width), *blocks, nn.Tanh(), nn.Linear(width, n_classes))


def ode_classifier(
    n_in: int,
    n_classes: int,
    width: int,
    hidden: int,
    *,
    backend: str | None = None,
    **block_options: Any,
) -> nn.Sequential:
    """A stem Linear(n_in, width), one :class:`ODEBlock`, and a head Linear(width, n_classes).

    The ODE block replaces a stack of residual blocks with one vector field, whose parameters
    are shared across depth (time). The parts have names: ``model.stem``, ``model.block``
    (also ``model[1]``), ``model.activation`` and ``model.head``. ``model.block.nfe`` is the
    cost of the block's latest solve and ``model.stem(x)`` the initial state of the ODE.

    Args:
        n_in, n_classes: the input features and the classes.
        width: the width of the state the ODE evolves.
        hidden: the width of the vector field's hidden layer.
        backend: who solves, as for :class:`ODEBlock`.
        **block_options: ``t1``, ``method``, ``step_size``, ``rtol``, ``atol`` as for
            :class:`ODEBlock`.

    Raises:
        TypeError, ValueError: a bad size or block option (see :class:`ODEBlock`).

    Example:
        >>> model = ode_classifier(64, 10, width=16, hidden=32, method="rk4", step_size=0.5)
        >>> model(torch.zeros(5, 64)).shape, model.block.nfe
        (torch.Size([5, 10]), 8)
    """
    n_in, n_classes = _validate.integer(n_in, "n_in"), _validate.integer(n_classes, "n_classes")
    block = ODEBlock(ODEFunc(width, hidden), backend=backend, **block_options)
    parts = {
        "stem": nn.Linear(n_in, width),
        "block": block,
        "activation": nn.Tanh(),
        "head": nn.Linear(width, n_classes),
    }
    return nn.Sequential(OrderedDict(parts))


def fit_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 0.01,
    weight_decay: float = 0.1,
    seed: int = 0,
    regulariser: Callable[[], torch.Tensor] | None = None,
    x_val: torch.Tensor | None = None,
    y_val: torch.Tensor | None = None,
) -> TrainingHistory:
    """Minimise the cross-entropy of ``model(x)`` against ``y`` with AdamW and a one-cycle schedule.

    Each epoch visits the examples in a new random order (drawn from a generator seeded with
    ``seed``, so a run is reproducible) in mini-batches of ``batch_size``. The learning rate
    follows ``torch.optim.lr_scheduler.OneCycleLR`` (warm up to ``lr``, then anneal to almost
    0), and AdamW decays the weights by ``weight_decay``. The model is left in training mode.

    Args:
        model: maps a batch (B, ...) to logits (B, n_classes).
        x: the inputs, shape (N, ...), in the dtype of the model.
        y: the labels, shape (N,), integers in [0, n_classes).
        epochs: passes over the data.
        batch_size: examples per step.
        lr: the peak learning rate.
        weight_decay: AdamW's decoupled weight decay.
        seed: seeds the order of the examples.
        regulariser: a function of no arguments whose 0-d tensor is added to each step's loss,
            called after the forward pass (e.g. ``lambda: model.block.penalty`` for a
            :class:`~ode_course.regularisation.RegularisedODEBlock`); None for none.
        x_val, y_val: validation data, evaluated (under ``torch.no_grad()``, in eval mode)
            after every epoch.

    Returns:
        A :class:`~ode_course.history.TrainingHistory` per epoch: the mean training loss of
        each epoch (the cross-entropy, without the penalty), with validation data its loss and
        accuracy after every epoch, and the wall time.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``, or a number is of the wrong type.
        ValueError: ``x`` and ``y`` (or ``x_val`` and ``y_val``) differ in length, ``epochs``
            or ``batch_size`` is less than 1, ``lr`` is not positive, ``weight_decay`` or
            ``seed`` is negative.
        TypeError: ``regulariser`` is not callable.

    Example:
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> x, y = torch.randn(32, 2), torch.arange(32) % 2
        >>> history = fit_classifier(nn.Linear(2, 2), x, y, epochs=3, batch_size=8)
        >>> len(history), history.per
        (3, 'epoch')
    """
    if not isinstance(model, nn.Module):
        _validate.fail(
            "model", "a torch.nn.Module", type(model).__name__, "pass the network itself", TypeError
        )
    if len(x) != len(y):
        _validate.fail(
            "y",
            f"one label per example of x ({len(x)} examples)",
            f"{len(y)} labels",
            "pass x and y of the same length, e.g. x[:n] and y[:n]",
        )
    if (x_val is None) != (y_val is None) or (
        x_val is not None and y_val is not None and len(x_val) != len(y_val)
    ):
        _validate.fail(
            "y_val",
            "one label per example of x_val, both given or neither",
            "x_val and y_val do not match",
            "pass x_val=x_test, y_val=y_test together, or neither",
        )
    if regulariser is not None:
        _validate.callable_(
            regulariser, "regulariser", fix="pass a function of no arguments, e.g. lambda: 0.0"
        )
    epochs = _validate.integer(epochs, "epochs")
    batch_size = _validate.integer(batch_size, "batch_size")
    lr = _validate.positive(lr, "lr", fix="pass a peak learning rate such as lr=0.01")
    weight_decay = _validate.non_negative(weight_decay, "weight_decay")
    seed = _validate.integer(seed, "seed", minimum=0)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = math.ceil(len(y) / batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch
    )
    model.train()
    history, started = TrainingHistory(per="epoch"), time.perf_counter()
    for _ in range(epochs):
        order, total = torch.randperm(len(y), generator=generator), 0.0
        for start in range(0, len(y), batch_size):
            batch = order[start : start + batch_size]
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            penalty = 0.0 if regulariser is None else regulariser()
            optimizer.zero_grad()
            (loss + penalty).backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
        history.record(total / len(y))
        if x_val is not None and y_val is not None:
            model.eval()
            with torch.no_grad():
                logits = model(x_val)
                history.record_validation(
                    nn.functional.cross_entropy(logits, y_val).item(),
                    (logits.argmax(dim=1) == y_val).double().mean().item(),
                )
            model.train()
    history.seconds = time.perf_counter() - started
    return history

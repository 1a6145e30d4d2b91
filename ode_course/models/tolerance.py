"""What an adaptive solver's tolerance costs an ODE-Net: Chen et al.'s Figure 3, measured.

An ODE-Net solved by an adaptive method (``method="dopri5"``) has no fixed depth: the solver
takes as many evaluations of the vector field as the tolerance demands. Two tools measure it:

- :func:`tolerance_sweep` evaluates a trained classifier at several tolerances, each row giving
  the test accuracy, the forward NFE, the numerical error of h(T) against a much tighter solve
  and the wall time of the solve;
- :class:`NFERecorder` records, for every training step, the forward NFE and the backward NFE:
  the number of evaluations whose vector-Jacobian product the backward pass computes. When the
  gradients come from backpropagating through the solver's operations, that is the number of
  evaluations on the graph of the output: the stages of the accepted steps, not those of
  rejected steps or of the initial-step probe, which are not differentiated.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from ode_course import _validate
from ode_course.models.blocks import ODEBlock

__all__ = ["NFERecorder", "ToleranceRow", "tolerance_sweep"]


def _split_at_ode_block(model: nn.Module) -> tuple[nn.Sequential, int, ODEBlock]:
    """``model`` as a Sequential, the position of its one ODEBlock, and the block; or raise."""
    if not isinstance(model, nn.Sequential):
        _validate.fail(
            "model",
            "an nn.Sequential with one ODEBlock, such as ode_classifier(...)",
            type(model).__name__,
            "build the classifier with ode_classifier",
            TypeError,
        )
    sequential = cast(nn.Sequential, model)  # checked above
    layers: list[nn.Module] = list(sequential)
    found = [i for i, layer in enumerate(layers) if isinstance(layer, ODEBlock)]
    if len(found) != 1:
        _validate.fail(
            "model",
            "an nn.Sequential with exactly one ODEBlock",
            f"{len(found)} ODEBlocks",
            "build the classifier with ode_classifier",
        )
    return sequential, found[0], cast(ODEBlock, layers[found[0]])


@dataclasses.dataclass(frozen=True)
class ToleranceRow:
    """One row of :func:`tolerance_sweep`: a classifier evaluated at one tolerance.

    Attributes:
        tol: the tolerance, used as both rtol and atol.
        accuracy: the fraction of correctly classified examples.
        nfe: evaluations of the vector field in the forward solve.
        error: max |h(T) − h_ref(T)| over the batch, h_ref solved at the reference tolerance.
        seconds: the wall time of the solve (the fastest of the repeats); machine-dependent.
    """

    tol: float
    accuracy: float
    nfe: int
    error: float
    seconds: float


def tolerance_sweep(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    tolerances: Sequence[float],
    *,
    reference_tol: float = 1e-10,
    repeats: int = 3,
) -> list[ToleranceRow]:
    """Evaluate a trained ODE classifier with its ODE block solved at each tolerance.

    The model is cut at its ODE block: h(0) = stem(x), h(T) = block(h(0)) solved with
    rtol = atol = tol, logits = head(h(T)). The block's ``rtol`` and ``atol`` are restored
    afterwards. Nothing is differentiated.

    Args:
        model: an ``nn.Sequential`` with one :class:`ODEBlock` of an adaptive method, such as
            ``ode_classifier(..., method="dopri5", step_size=None)``.
        x: the inputs, in the dtype of the model.
        y: the labels, shape (N,).
        tolerances: the tolerances to try, each positive.
        reference_tol: the tolerance of the reference solve for ``error``.
        repeats: solves timed per tolerance (the fastest counts).

    Returns:
        One :class:`ToleranceRow` per tolerance, in the order given.

    Raises:
        TypeError: ``model`` is not an ``nn.Sequential``.
        ValueError: ``model`` has not exactly one ODEBlock, ``x`` and ``y`` differ in
            length, or a tolerance is not positive.

    Example:
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> from ode_course.models import ode_classifier
        >>> model = ode_classifier(4, 3, 8, 16, method="dopri5", step_size=None).double()
        >>> x, y = torch.randn(10, 4, dtype=torch.float64), torch.arange(10) % 3
        >>> rows = tolerance_sweep(model, x, y, [1e-2, 1e-6])
        >>> rows[0].nfe <= rows[1].nfe and rows[1].error < rows[0].error
        True
    """
    sequential, index, block = _split_at_ode_block(model)
    if len(x) != len(y):
        _validate.fail(
            "y",
            f"one label per example of x ({len(x)} examples)",
            f"{len(y)} labels",
            "pass x and y of the same length",
        )
    tolerances = [_validate.positive(tol, "tolerances") for tol in tolerances]
    reference_tol = _validate.positive(reference_tol, "reference_tol")
    repeats = _validate.integer(repeats, "repeats")
    saved = block.rtol, block.atol
    rows = []
    try:
        with torch.no_grad():
            h0 = sequential[:index](x)
            block.rtol = block.atol = reference_tol
            reference = block(h0)
            for tol in tolerances:
                block.rtol = block.atol = tol
                seconds = float("inf")
                for _ in range(repeats):
                    start = time.perf_counter()
                    h1 = block(h0)
                    seconds = min(seconds, time.perf_counter() - start)
                logits = sequential[index + 1 :](h1)
                accuracy = (logits.argmax(dim=-1) == y).double().mean().item()
                error = (h1 - reference).abs().max().item()
                rows.append(ToleranceRow(tol, accuracy, block.nfe, error, seconds))
    finally:
        block.rtol, block.atol = saved
    return rows


class NFERecorder:
    """Record the forward and backward NFE of an ODE block at every training step.

    Used as a context manager around a training loop (e.g.
    :func:`~ode_course.models.fit_classifier`): while it is active, every forward pass of
    ``block`` with gradients enabled appends its NFE to :attr:`forward` and a 0 to
    :attr:`backward`; every evaluation of ``block.func`` on that pass's graph adds 1 to its
    entry of :attr:`backward` when the backward pass computes its vector-Jacobian product.
    Forward passes under ``torch.no_grad()`` (evaluation) are not recorded.

    The backward count assumes gradients by backpropagation through the solver (the default
    backend). With ``backend="adjoint"`` the backward pass solves its own ODE instead: read its
    cost from ``block.nfe`` after ``backward()``, minus the forward NFE.

    Args:
        block: the :class:`ODEBlock` to watch.

    Raises:
        TypeError: ``block`` is not an ODEBlock.

    Example:
        >>> from ode_course.models import ODEFunc
        >>> block = ODEBlock(ODEFunc(2, 8), method="rk4", step_size=0.5)
        >>> with NFERecorder(block) as recorder:
        ...     block(torch.ones(3, 2)).sum().backward()
        >>> recorder.forward, recorder.backward  # 2 steps of 4 stages, each differentiated
        ([8], [8])
    """

    def __init__(self, block: ODEBlock):
        if not isinstance(block, ODEBlock):
            _validate.fail(
                "block",
                "an ODEBlock",
                type(block).__name__,
                "pass the classifier's ODE block, e.g. model[1]",
                TypeError,
            )
        self.block = block
        self.forward: list[int] = []
        self.backward: list[int] = []
        self._handles: list[Any] = []

    def __enter__(self) -> NFERecorder:
        self._handles = [
            self.block.register_forward_hook(self._after_block),
            self.block.func.register_forward_hook(self._after_evaluation),
        ]
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _after_block(self, module: nn.Module, inputs: Any, output: Any) -> None:
        if torch.is_grad_enabled():
            self.forward.append(self.block.nfe)
            self.backward.append(0)

    def _after_evaluation(self, module: nn.Module, inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor) and output.requires_grad:
            step = len(self.forward)  # the block's pass now running appends at this index

            def count(grad: torch.Tensor) -> None:
                if step < len(self.backward):  # not an adjoint's backward evaluation
                    self.backward[step] += 1

            output.register_hook(count)

    def per_epoch(self, steps_per_epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """The mean forward and backward NFE per step, epoch by epoch.

        Args:
            steps_per_epoch: training steps per epoch (``ceil(N / batch_size)``).

        Returns:
            Two arrays of length ``len(self.forward) // steps_per_epoch``.

        Raises:
            ValueError: the number of recorded steps is not a multiple of ``steps_per_epoch``.
        """
        steps_per_epoch = _validate.integer(steps_per_epoch, "steps_per_epoch")
        if len(self.forward) % steps_per_epoch:
            _validate.fail(
                "steps_per_epoch",
                f"a divisor of the {len(self.forward)} recorded steps",
                str(steps_per_epoch),
                "pass ceil(len(y) / batch_size) of the training run",
            )
        shape = (-1, steps_per_epoch)
        forward = np.asarray(self.forward, dtype=float).reshape(shape).mean(axis=1)
        backward = np.asarray(self.backward, dtype=float).reshape(shape).mean(axis=1)
        return forward, backward

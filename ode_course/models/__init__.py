"""Residual networks and ODE-Nets: a ResNet block is one Euler step of an ODE-Net.

A residual block maps h ↦ h + f(h, θ). An :class:`ODEBlock` maps h(0) ↦ h(T), the solution of
dh/dt = f(h(t), t, θ) at time T, computed by an ODE solver: with one Euler step of size 1 it is
exactly a residual block whose f also sees t. An :class:`AugmentedODEBlock` (Dupont et al.,
2019) first appends zeros to the state, so that its flow has room to move points past each
other. :func:`fit_classifier` is the training loop the chapter uses (the memory the backward
pass needs is measured by :func:`ode_course.memory.activation_memory`).
Shapes: states are batches (N, dim).

Who solves a block's ODE is chosen by ``backend=`` (:mod:`ode_course.backends`): our solvers,
the same solvers with adjoint gradients, or torchdiffeq. ``block.nfe`` is the cost of the
block's latest solve, counted by :class:`~ode_course.solvers.CountNFE` around the field (the
package's one counter; :func:`~ode_course.solvers.count_evaluations` counts the calls of a
module already inside a model).

The package reads in three files, each on its own:

- ``blocks.py``: :class:`ResBlock`, :class:`ODEFunc`, :class:`ODEBlock`,
  :class:`AugmentedODEBlock`;
- ``classifiers.py``: :func:`count_parameters`, the classifiers :func:`mlp_classifier`,
  :func:`resnet_classifier` and :func:`ode_classifier`, and :func:`fit_classifier`;
- ``tolerance.py``: what an adaptive solver's tolerance costs a trained ODE-Net
  (:func:`tolerance_sweep`, rows :class:`ToleranceRow`) and the forward and backward NFE
  during training (:class:`NFERecorder`), as in Chen et al.'s Figure 3.

Example:
    >>> func = ODEFunc(dim=3, hidden=8)
    >>> block = ODEBlock(func, method="rk4", step_size=0.25)
    >>> block(torch.zeros(5, 3)).shape
    torch.Size([5, 3])
    >>> block.nfe  # 4 steps of rk4, 4 evaluations each
    16
"""

from __future__ import annotations

import torch  # the doctests above use it

from ode_course.models import blocks, classifiers, tolerance
from ode_course.models.blocks import (
    AugmentedODEBlock,
    ODEBlock,
    ODEFunc,
    ResBlock,
)
from ode_course.models.classifiers import (
    count_parameters,
    fit_classifier,
    mlp_classifier,
    ode_classifier,
    resnet_classifier,
)
from ode_course.models.tolerance import NFERecorder, ToleranceRow, tolerance_sweep

__all__ = sorted({*blocks.__all__, *classifiers.__all__, *tolerance.__all__})

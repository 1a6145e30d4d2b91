"""Automatic differentiation on scalars, from scratch: the engine of Chapter 1 and its checks.

A computation is a graph of :class:`Value` nodes, each holding a number and the local
derivatives d(node)/d(parent) of the operation that made it. The chain rule,
dL/dv = Σ_children dL/dc · dc/dv, then gives every gradient in one backward pass. The package
reads in four files, each on its own:

- ``engine.py``: :class:`Value` (arithmetic, ``exp``, ``log``, ``tanh``, ``sigmoid``, ``relu``,
  :meth:`Value.from_op` for new operations, and :meth:`Value.backward`), :func:`maximum` and
  :func:`topological_order`;
- ``gradients.py``: gradients by reverse accumulation (:func:`grad`,
  :func:`reverse_mode_gradient`) or by forward tangents (:func:`forward_mode_gradient`), each
  counting its products;
- ``scalar_mlp.py``: :class:`Neuron`, :class:`ScalarLayer` and :class:`ScalarMLP`, a small
  network whose every weight is a Value;
- ``gradient_check.py``: :func:`numerical_gradient` (central differences),
  :func:`relative_error` and :func:`gradcheck`, which raises a :class:`GradientCheckError`
  naming the input whose derivative is wrong; later chapters reuse them.

Example:
    >>> a, b = Value(2.0, label="a"), Value(1.0, label="b")
    >>> e = (a + b) * (b + 1)
    >>> e.backward()
    >>> a.grad, b.grad
    (2.0, 5.0)
    >>> gradcheck(lambda a, b: (a + b) * (b + 1), [2.0, 1.0]) < 1e-8
    True
"""

from __future__ import annotations

from ode_course.autodiff import engine, gradient_check, gradients, scalar_mlp
from ode_course.autodiff.engine import Number as Number
from ode_course.autodiff.engine import Value, maximum, topological_order
from ode_course.autodiff.gradient_check import (
    GradientCheckError,
    gradcheck,
    numerical_gradient,
    relative_error,
)
from ode_course.autodiff.gradients import forward_mode_gradient, grad, reverse_mode_gradient
from ode_course.autodiff.scalar_mlp import SCALAR_ACTIVATIONS, Neuron, ScalarLayer, ScalarMLP

__all__ = sorted(
    {*engine.__all__, *gradients.__all__, *scalar_mlp.__all__, *gradient_check.__all__}
)

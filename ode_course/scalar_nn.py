"""The scalar MLP under its Chapter 1 name: :mod:`ode_course.autodiff.scalar_mlp`.

Chapter 1 builds a small network from :class:`~ode_course.autodiff.Value` objects as
``ode_course.scalar_nn.MLP``; the code lives in :mod:`ode_course.autodiff.scalar_mlp`, and this
module re-exports it, so both paths name the same classes.

Example:
    >>> from ode_course.autodiff import scalar_mlp
    >>> MLP is scalar_mlp.MLP and Layer is scalar_mlp.Layer
    True
"""

from __future__ import annotations

from ode_course.autodiff.engine import Value as Value
from ode_course.autodiff.scalar_mlp import ACTIVATIONS as ACTIVATIONS
from ode_course.autodiff.scalar_mlp import MLP, SCALAR_ACTIVATIONS, Layer, Neuron

__all__ = ["MLP", "SCALAR_ACTIVATIONS", "Layer", "Neuron"]

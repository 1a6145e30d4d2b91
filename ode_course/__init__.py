"""ode_course: the companion package of "Neural networks through the lens of ODEs".

Modules are named by concept: :mod:`~ode_course.autodiff` (a scalar reverse-mode engine and
gradient checking), :mod:`~ode_course.scalar_nn` (an MLP built from it), :mod:`~ode_course.data`
(generated datasets), :mod:`~ode_course.plotting` (shared figures), :mod:`~ode_course.checks`
(exercise check functions) and :mod:`~ode_course.seeding`.
"""

from ode_course.autodiff import (
    GradientCheckError,
    Value,
    forward_mode_gradient,
    grad,
    gradcheck,
    maximum,
    numerical_gradient,
    relative_error,
    reverse_mode_gradient,
    topological_order,
)
from ode_course.checks import CheckFailed, check_path_sum, check_softplus
from ode_course.data import two_moons
from ode_course.plotting import draw_graph, plot_decision_boundary
from ode_course.scalar_nn import MLP, Layer, Neuron
from ode_course.seeding import seed_everything

__version__ = "0.1.0"

__all__ = [
    "MLP",
    "CheckFailed",
    "GradientCheckError",
    "Layer",
    "Neuron",
    "Value",
    "check_path_sum",
    "check_softplus",
    "draw_graph",
    "forward_mode_gradient",
    "grad",
    "gradcheck",
    "maximum",
    "numerical_gradient",
    "plot_decision_boundary",
    "relative_error",
    "reverse_mode_gradient",
    "seed_everything",
    "topological_order",
    "two_moons",
]

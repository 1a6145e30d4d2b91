"""ode_course: the companion package of "Neural networks through the lens of ODEs".

Modules are named by concept:

- :mod:`~ode_course.autodiff`: a scalar reverse-mode engine and gradient checking;
- :mod:`~ode_course.scalar_nn`: a small MLP built from that engine;
- :mod:`~ode_course.mlp`: a vectorised numpy MLP with hand-written backward passes;
- :mod:`~ode_course.optim`: optimizers and learning-rate schedules for numpy arrays;
- :mod:`~ode_course.landscapes`: two-dimensional test functions for optimizers;
- :mod:`~ode_course.gradient_flow`: training by integrating dθ/dt = −∇L(θ) with an ODE solver;
- :mod:`~ode_course.solvers`: ODE solvers from scratch (Euler, midpoint, RK4, adaptive Dopri5);
- :mod:`~ode_course.models`: residual blocks, ODE blocks (plain and augmented), the classifiers
  built from them, their training loop and a measure of their backward-pass memory;
- :mod:`~ode_course.data`: datasets generated in code or shipped with scikit-learn;
- :mod:`~ode_course.plotting`: figures the chapters share;
- :mod:`~ode_course.checks`: the exercises' check functions;
- :mod:`~ode_course.editions`: student editions of the notebooks, without solutions;
- :mod:`~ode_course.seeding`: one call to seed Python, numpy and torch.
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
from ode_course.checks import (
    CheckFailed,
    check_adam_bias_correction,
    check_momentum_step,
    check_odefunc_parameters,
    check_path_sum,
    check_rk4_nfe,
    check_rk4_step,
    check_sigmoid_backward,
    check_softmax_cross_entropy_grad,
    check_softplus,
    check_stability_limit,
)
from ode_course.data import (
    DigitsSplit,
    concentric_circles,
    digits_per_class,
    load_digits,
    two_moons,
    xor,
)
from ode_course.editions import student_edition, write_student_editions
from ode_course.gradient_flow import FlowResult, TorchObjective, minimize
from ode_course.landscapes import LANDSCAPES, Descent, Landscape, descend
from ode_course.mlp import (
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropy,
    Tanh,
    TrainingHistory,
    accuracy,
    add_bias_column,
    confusion_matrix,
    fit,
    log_softmax,
    softmax,
)
from ode_course.models import (
    AugmentedODEBlock,
    ODEBlock,
    ODEFunc,
    ResBlock,
    activation_memory,
    count_parameters,
    mlp_classifier,
    ode_classifier,
    resnet_classifier,
    train_classifier,
)
from ode_course.optim import (
    OPTIMIZERS,
    SCHEDULES,
    SGD,
    Adagrad,
    Adam,
    CosineAnnealing,
    ExponentialDecay,
    Momentum,
    Nesterov,
    Optimizer,
    RMSprop,
    StepDecay,
)
from ode_course.plotting import (
    animate_paths,
    animation_html,
    draw_graph,
    plot_decision_boundary,
    plot_landscape,
)
from ode_course.scalar_nn import MLP, Layer, Neuron
from ode_course.seeding import seed_everything
from ode_course.solvers import SOLVERS, CountNFE, Solution, SolverError, odeint, solve

__version__ = "0.1.0"

__all__ = [
    "LANDSCAPES",
    "MLP",
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "SOLVERS",
    "Adagrad",
    "Adam",
    "AugmentedODEBlock",
    "CheckFailed",
    "CosineAnnealing",
    "CountNFE",
    "Descent",
    "DigitsSplit",
    "ExponentialDecay",
    "FlowResult",
    "GradientCheckError",
    "Landscape",
    "Layer",
    "Linear",
    "Momentum",
    "Nesterov",
    "Neuron",
    "ODEBlock",
    "ODEFunc",
    "Optimizer",
    "RMSprop",
    "ReLU",
    "ResBlock",
    "Sequential",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "Solution",
    "SolverError",
    "StepDecay",
    "Tanh",
    "TorchObjective",
    "TrainingHistory",
    "Value",
    "accuracy",
    "activation_memory",
    "add_bias_column",
    "animate_paths",
    "animation_html",
    "check_adam_bias_correction",
    "check_momentum_step",
    "check_odefunc_parameters",
    "check_path_sum",
    "check_rk4_nfe",
    "check_rk4_step",
    "check_sigmoid_backward",
    "check_softmax_cross_entropy_grad",
    "check_softplus",
    "check_stability_limit",
    "concentric_circles",
    "confusion_matrix",
    "count_parameters",
    "descend",
    "digits_per_class",
    "draw_graph",
    "fit",
    "forward_mode_gradient",
    "grad",
    "gradcheck",
    "load_digits",
    "log_softmax",
    "maximum",
    "minimize",
    "mlp_classifier",
    "numerical_gradient",
    "ode_classifier",
    "odeint",
    "plot_decision_boundary",
    "plot_landscape",
    "relative_error",
    "resnet_classifier",
    "reverse_mode_gradient",
    "seed_everything",
    "softmax",
    "solve",
    "student_edition",
    "topological_order",
    "train_classifier",
    "two_moons",
    "write_student_editions",
    "xor",
]

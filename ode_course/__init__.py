"""ode_course: the companion package of "Neural networks through the lens of ODEs".

Modules are named by concept, in the order of the chapters:

- :mod:`~ode_course.autodiff`: a scalar reverse-mode engine, a small MLP built from it
  (:class:`~ode_course.autodiff.ScalarMLP`), and gradient checking (Chapter 1);
- :mod:`~ode_course.mlp`: a vectorised numpy MLP with hand-written backward passes (Chapter 2);
- :mod:`~ode_course.optim`: optimizers and learning-rate schedules for numpy arrays (Chapter 3);
- :mod:`~ode_course.landscapes`: two-dimensional test functions for optimizers;
- :mod:`~ode_course.gradient_flow`: training by integrating dθ/dt = −∇L(θ) with an ODE solver
  (Chapter 4);
- :mod:`~ode_course.solvers`: ODE solvers from scratch (Euler, midpoint, RK4, adaptive Dopri5);
- :mod:`~ode_course.models`: residual blocks, ODE blocks (plain and augmented), the classifiers
  built from them and their training loop (Chapter 5);
- :mod:`~ode_course.adjoint`: gradients through an ODE solve by the adjoint method, in constant
  memory (Chapter 6);
- :mod:`~ode_course.backends`: the one keyword, ``backend=``, by which every model picks who
  solves its ODE (our solvers, with or without the adjoint, or torchdiffeq), and ``integrate``;
- :mod:`~ode_course.memory`: the memory held by torch tensors (peak, and the activations saved
  for the backward pass), measured on any device;
- :mod:`~ode_course.cnf`: continuous normalizing flows: trace estimators, the flow, a planar-flow
  baseline and density fitting (Chapter 7);
- :mod:`~ode_course.latent`: latent ODEs and an RNN baseline for irregularly sampled time series
  (Chapter 8);
- :mod:`~ode_course.flow_matching`: flow matching: probability paths, the regression loss, samplers
  built on our solvers, couplings, straightness and sample distances (Chapter 9);
- :mod:`~ode_course.diffusion`: diffusion models as SDEs and ODEs: the noise schedule, denoising
  score matching, the reverse SDE and the probability-flow ODE, samplers built for it, and its
  exact likelihood (Chapter 10);
- :mod:`~ode_course.regularisation`: neural ODEs that stay cheap to solve: the cost of a solve
  and the field's properties that set it, and the kinetic-energy, Jacobian-norm (RNODE) and
  higher-derivative (TayNODE) regularisers (Chapter 11);
- :mod:`~ode_course.data`: datasets generated in code or shipped with scikit-learn:
  classification sets, 2-D densities, irregular time series;
- :mod:`~ode_course.history`: :class:`~ode_course.history.TrainingHistory`, what every
  ``fit_*`` trainer returns;
- :mod:`~ode_course.plotting`: figures the chapters share;
- :mod:`~ode_course.checks`: the exercises' check functions, one module per chapter;
- :mod:`~ode_course.seeding`: one call to seed Python, numpy and torch.

The top level holds what the chapters use, grouped below by the concept that teaches it: a
notebook writes ``from ode_course import odeint, CNF, ...`` and, for its exercises, ``from
ode_course.checks import check_...``. Every other public name (result types, registries,
datasets and landscapes no chapter needs) is imported from its module, e.g. ``from
ode_course.solvers import Dopri5``. A test checks that each name here is the object its module
exports, and that no public name of two modules means two things.
"""

from ode_course import (
    adjoint,
    autodiff,
    backends,
    checks,
    cnf,
    data,
    diffusion,
    flow_matching,
    gradient_flow,
    history,
    landscapes,
    latent,
    memory,
    mlp,
    models,
    optim,
    plotting,
    regularisation,
    seeding,
    solvers,
)

# Every chapter: one seed for Python, numpy and torch.
from ode_course.seeding import seed_everything

# Chapter 1: reverse-mode autodiff on scalars, a network of scalar neurons, gradient checks.
from ode_course.autodiff import (
    GradientCheckError,
    ScalarMLP,
    Value,
    forward_mode_gradient,
    gradcheck,
    maximum,
    numerical_gradient,
    relative_error,
    reverse_mode_gradient,
    topological_order,
)

# Chapter 2: a numpy MLP with hand-written backward passes.
from ode_course.mlp import (
    Linear,
    ReLU,
    Sequential,
    SoftmaxCrossEntropy,
    Tanh,
    accuracy,
    add_bias_column,
    confusion_matrix,
    fit_mlp,
    softmax,
)

# Chapter 3: optimizers, schedules and the landscapes they descend.
from ode_course.optim import (
    OPTIMIZERS,
    SGD,
    Adagrad,
    Adam,
    CosineAnnealing,
    ExponentialDecay,
    Momentum,
    Nesterov,
    RMSprop,
    StepDecay,
)
from ode_course.landscapes import LANDSCAPES, descend

# Chapter 4: training as an ODE.
from ode_course.gradient_flow import TorchObjective, minimize

# Chapter 5: ODE solvers from scratch, and the networks built on them.
from ode_course.solvers import (
    DOPRI5,
    RK4,
    RK4_TABLEAU,
    CountNFE,
    Euler,
    FixedGridSolver,
    Midpoint,
    SolverError,
    count_evaluations,
    odeint,
    solve,
)
from ode_course.models import (
    AugmentedODEBlock,
    NFERecorder,
    ODEBlock,
    ODEFunc,
    ResBlock,
    count_parameters,
    mlp_classifier,
    ode_classifier,
    resnet_classifier,
    tolerance_sweep,
    fit_classifier,
)

# Every model that solves an ODE: evaluate it with other solver settings for a while.
from ode_course.backends import solver_settings

# Chapter 6: the adjoint method, and the memory it saves.
from ode_course.adjoint import AdjointStats, odeint_adjoint
from ode_course.memory import TensorMemory, activation_memory, peak_memory

# Chapter 7: continuous normalizing flows.
from ode_course.cnf import (
    CNF,
    AugmentedDynamics,
    LinearField,
    PlanarFlow,
    TimeMLP,
    density_on_grid,
    exact_trace,
    fit_density,
    hutchinson_trace,
    hutchinson_variance,
    mean_nll,
    sample_probe,
    standard_normal_log_prob,
)

# Chapter 8: latent ODEs for irregular time series.
from ode_course.latent import LatentODE, RNNBaseline, fit_series, prediction_mse

# Chapter 9: flow matching.
from ode_course.flow_matching import (
    GaussianMixture1D,
    energy_distance,
    exact_nll,
    fit_flow_matching,
    flow_matching_loss,
    marginal_flow_matching_loss,
    path_straightness,
    reflow_pairs,
    sample_flow,
    sample_time,
    straight_path,
    trajectories,
    velocity_variance,
)

# Chapter 10: diffusion models as SDEs and ODEs.
from ode_course.diffusion import (
    FlowVelocity,
    VPSchedule,
    denoising_loss,
    fit_diffusion,
    forward_sde,
    mixture_score,
    probability_flow_nll,
    reverse_sde,
    sample_diffusion,
    score_matching_loss,
)

# Chapter 11: neural ODEs that stay cheap to solve.
from ode_course.regularisation import (
    RegularisedCNF,
    RegularisedDynamics,
    RegularisedODEBlock,
    field_statistics,
    fit_map,
    hutchinson_frobenius,
    solve_cost,
    total_derivatives,
)

# Data sets (generated, or shipped with scikit-learn) and figures, for every chapter.
from ode_course.data import (
    collate_series,
    concentric_circles,
    digits_per_class,
    irregular_spirals,
    load_digits,
    standardise,
    toy_data,
    two_moons,
    xor,
)
from ode_course.plotting import (
    animate_flow,
    animate_paths,
    animation_html,
    draw_graph,
    plot_decision_boundary,
    plot_landscape,
)

__version__ = "0.1.0"

PUBLIC_MODULES = (
    seeding,
    autodiff,
    mlp,
    optim,
    landscapes,
    gradient_flow,
    solvers,
    models,
    adjoint,
    memory,
    backends,
    cnf,
    latent,
    flow_matching,
    diffusion,
    regularisation,
    data,
    history,
    plotting,
    checks,
)
"""The public modules, in the order of the chapters; each lists its names in ``__all__``."""

__all__ = sorted(
    name
    for name, value in list(globals().items())
    if not name.startswith("_")
    and name != "PUBLIC_MODULES"
    and not isinstance(value, type(seeding))
)

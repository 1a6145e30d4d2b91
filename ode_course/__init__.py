"""ode_course: the companion package of "Neural networks through the lens of ODEs".

Modules are named by concept, in the order of the chapters:

- :mod:`~ode_course.autodiff`: a scalar reverse-mode engine, a small MLP built from it, and
  gradient checking (Chapter 1; the MLP is also :mod:`~ode_course.scalar_nn`);
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
- :mod:`~ode_course.data`: datasets generated in code or shipped with scikit-learn:
  classification sets, 2-D densities, irregular time series;
- :mod:`~ode_course.plotting`: figures the chapters share;
- :mod:`~ode_course.checks`: the exercises' check functions, one module per chapter;
- :mod:`~ode_course.seeding`: one call to seed Python, numpy and torch.

Every public name of every module is also importable from ``ode_course`` itself:
``__all__`` is the union of the modules' ``__all__`` lists (a test checks that no name means two
things), so it is never written twice.
"""

import importlib
import os
import pkgutil

from ode_course.adjoint import *
from ode_course.autodiff import *
from ode_course.backends import *
from ode_course.checks import *
from ode_course.cnf import *
from ode_course.data import *
from ode_course.flow_matching import *
from ode_course.gradient_flow import *
from ode_course.landscapes import *
from ode_course.latent import *
from ode_course.memory import *
from ode_course.mlp import *
from ode_course.models import *
from ode_course.optim import *
from ode_course.plotting import *
from ode_course.scalar_nn import *
from ode_course.seeding import *
from ode_course.solvers import *

__version__ = "0.1.0"

PUBLIC_MODULES = tuple(
    importlib.import_module(f"ode_course.{module.name}")
    for module in pkgutil.iter_modules([os.path.dirname(__file__)])
    if not module.name.startswith("_")
)
"""The modules whose public names make up ``ode_course.__all__``."""

__all__ = sorted({name for module in PUBLIC_MODULES for name in module.__all__})

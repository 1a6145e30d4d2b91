"""Check functions for the exercises: each prints a verdict, or raises :class:`CheckFailed`.

A learner passes their answer (a number, or the function they wrote) to the chapter's check.
A right answer prints ``Correct: …``; a wrong one raises :class:`CheckFailed` with a message that
says what is wrong and how to look for the fix, naming the typical mistake when it recognises
one. The package reads in one file per chapter, over one shared harness:

- ``harness.py``: :class:`CheckFailed`, the verdicts, running the learner's code, and matching a
  wrong answer against a check's table of typical mistakes;
- ``chain_rule.py`` (Chapter 1): :func:`check_path_sum`, :func:`check_softplus`;
- ``backprop.py`` (Chapter 2): :func:`check_sigmoid_backward`,
  :func:`check_softmax_cross_entropy_grad`;
- ``optimizers.py`` (Chapter 3): :func:`check_momentum_step`, :func:`check_adam_bias_correction`;
- ``gradient_flow.py`` (Chapter 4): :func:`check_stability_limit`;
- ``neural_ode.py`` (Chapter 5): :func:`check_rk4_step`, :func:`check_rk4_nfe`,
  :func:`check_odefunc_parameters`;
- ``adjoint.py`` (Chapter 6): :func:`check_augmented_dynamics`, :func:`check_saved_bytes`;
- ``cnf.py`` (Chapter 7): :func:`check_linear_log_det`, :func:`check_hutchinson`,
  :func:`check_rademacher_exact`, :func:`check_redrawn_probe`;
- ``latent_ode.py`` (Chapter 8): :func:`check_gaussian_kl`, :func:`check_masked_log_likelihood`;
- ``flow_matching.py`` (Chapter 9): :func:`check_conditional_velocity`,
  :func:`check_euler_sampler`, :func:`check_straightness`;
- ``diffusion.py`` (Chapter 10): :func:`check_vp_marginal`, :func:`check_ddim_step`,
  :func:`check_pf_drift`, :func:`check_end_time`;
- ``regularisation.py`` (Chapter 11): :func:`check_kinetic_field`, :func:`check_rnode_loss`,
  :func:`check_frobenius_estimate`.

Example:
    >>> try:
    ...     check_rk4_nfe(4)
    ... except CheckFailed as verdict:
    ...     print(verdict)
    4 is the number of steps; each RK4 step evaluates f four times.
    >>> try:
    ...     check_path_sum(2.0, 6.0)
    ... except CheckFailed as verdict:
    ...     print(verdict)  # doctest: +ELLIPSIS
    ∂e/∂a = 2 is not right. a reaches e by one path, a → c → e: multiply ∂c/∂a (= 1) by ...
"""

from __future__ import annotations

from ode_course.checks import (
    adjoint,
    backprop,
    chain_rule,
    cnf,
    diffusion,
    flow_matching,
    gradient_flow,
    harness,
    latent_ode,
    neural_ode,
    optimizers,
    regularisation,
)
from ode_course.checks.adjoint import *
from ode_course.checks.backprop import *
from ode_course.checks.chain_rule import *
from ode_course.checks.cnf import *
from ode_course.checks.diffusion import *
from ode_course.checks.flow_matching import *
from ode_course.checks.gradient_flow import *
from ode_course.checks.harness import CheckFailed, NotAnswered
from ode_course.checks.latent_ode import *
from ode_course.checks.neural_ode import *
from ode_course.checks.optimizers import *
from ode_course.checks.regularisation import *

CHAPTER_MODULES = (
    chain_rule,
    backprop,
    optimizers,
    gradient_flow,
    neural_ode,
    adjoint,
    cnf,
    latent_ode,
    flow_matching,
    diffusion,
    regularisation,
)
"""The checks' modules, one per chapter, in chapter order."""

__all__ = sorted({*harness.__all__, *(n for m in CHAPTER_MODULES for n in m.__all__)})

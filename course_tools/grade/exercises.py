"""The auto-graded exercises: for each, its chapter, check, answer names and references.

:data:`EXERCISES` maps an exercise's label (the ``:label:`` of its ``{exercise}`` directive,
which is also the ``grade.id`` of its check cell) to an :class:`Exercise`. The grader scores an
exercise by calling the chapter's own check (``check``), then its randomised comparison
(``randomised``, a function of :mod:`course_tools.grade.randomised`) on inputs drawn from the
grader's seed, while watching for calls of the ``references``, the package's (or another
library's) implementations that the exercise asks the learner to write.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXERCISES", "Exercise"]


@dataclass(frozen=True)
class Exercise:
    """An auto-graded exercise.

    Attributes:
        id: its label, e.g. ``"ex-rk4-step"``.
        chapter: the chapter number.
        points: its default points (the notebooks' ``grade.points`` metadata says the same).
        answer: the names that the notebook defines and the grader scores.
        check: ``"module:function"``, the chapter's check, called with the answers in order.
        randomised: the name of the randomised comparison in :mod:`course_tools.grade.randomised`,
            or ``None`` for a typed number (its check compares a salted hash) or a measurement
            (its check repeats it).
        references: the implementations that the answer must neither be, wrap nor call:
            ``"module"`` (all of it) or ``"module:qualname"``.
        inputs: names among ``answer`` that the check reads but the learner did not write (the
            chapter's field, say): saved and passed to the check, never taken for a copy of a
            reference.
    """

    id: str
    chapter: int
    points: int
    answer: tuple[str, ...]
    check: str
    randomised: str | None = None
    references: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()


_C = "ode_course.checks."

EXERCISES: dict[str, Exercise] = {
    e.id: e
    for e in (
        Exercise("ex-path-sum", 1, 1, ("de_da", "de_db"), _C + "chain_rule:check_path_sum"),
        Exercise(
            "ex-softplus",
            1,
            2,
            ("softplus",),
            _C + "chain_rule:check_softplus",
            "softplus",
            (_C + "chain_rule:_softplus", _C + "chain_rule:_sigmoid"),
        ),
        Exercise(
            "ex-sigmoid-backward",
            2,
            2,
            ("sigmoid_backward",),
            _C + "backprop:check_sigmoid_backward",
            "sigmoid_backward",
            ("ode_course.mlp.layers:Sigmoid", "ode_course.autodiff.engine:Value.sigmoid"),
        ),
        Exercise(
            "ex-softmax-grad",
            2,
            2,
            ("softmax_ce_grad",),
            _C + "backprop:check_softmax_cross_entropy_grad",
            "softmax_ce_grad",
            ("ode_course.mlp.loss",),
        ),
        Exercise(
            "ex-initial-loss", 2, 1, ("expected_loss_26",), _C + "backprop:check_initial_loss"
        ),
        Exercise(
            "ex-momentum",
            3,
            2,
            ("momentum_step",),
            _C + "optimizers:check_momentum_step",
            "momentum_step",
            ("ode_course.optim",),
        ),
        Exercise(
            "ex-bias-correction",
            3,
            2,
            ("bias_correct",),
            _C + "optimizers:check_adam_bias_correction",
            "bias_correct",
            ("ode_course.optim",),
        ),
        Exercise(
            "ex-stability",
            4,
            2,
            ("max_stable_lr",),
            _C + "gradient_flow:check_stability_limit",
            "max_stable_lr",
            ("ode_course.gradient_flow",),
        ),
        Exercise(
            "ex-stiff-choice",
            4,
            2,
            ("predicted_steps", "solver"),
            _C + "gradient_flow:check_stiff_choice",
        ),
        Exercise(
            "ex-rk4-step",
            5,
            2,
            ("rk4_step",),
            _C + "neural_ode:check_rk4_step",
            "rk4_step",
            ("ode_course.solvers", "ode_course.backends", "ode_course.models", "torchdiffeq"),
        ),
        Exercise("ex-rk4-nfe", 5, 1, ("rk4_nfe",), _C + "neural_ode:check_rk4_nfe"),
        Exercise(
            "ex-odefunc-params", 5, 1, ("n_params",), _C + "neural_ode:check_odefunc_parameters"
        ),
        Exercise(
            "ex-augmented",
            6,
            2,
            ("augmented_dynamics",),
            _C + "adjoint:check_augmented_dynamics",
            "augmented_dynamics",
            ("ode_course.adjoint", "torchdiffeq"),
        ),
        Exercise(
            "ex-saved-bytes",
            6,
            2,
            ("saved_bytes_per_step",),
            _C + "adjoint:check_saved_bytes",
            "saved_bytes_per_step",
            ("ode_course.memory", "ode_course.checks.adjoint:measured_saved_bytes"),
        ),
        Exercise(
            "ex-backward-nfe",
            6,
            2,
            ("nfe", "field", "z0"),
            _C + "adjoint:check_backward_nfe",
            inputs=("field", "z0"),
        ),
        Exercise(
            "ex-linear-trace",
            7,
            2,
            ("log_det",),
            _C + "cnf:check_linear_log_det",
            "log_det",
            ("ode_course.cnf",),
        ),
        Exercise(
            "ex-hutchinson",
            7,
            2,
            ("hutchinson",),
            _C + "cnf:check_hutchinson",
            "hutchinson",
            ("ode_course.cnf.traces", "ode_course.cnf.dynamics:AugmentedDynamics"),
        ),
        Exercise(
            "ex-rademacher-exact",
            7,
            2,
            ("field",),
            _C + "cnf:check_rademacher_exact",
            "rademacher_field",
        ),
        Exercise(
            "ex-resample",
            7,
            2,
            ("RedrawnProbe",),
            _C + "cnf:check_redrawn_probe",
            "redrawn_probe",
            ("ode_course.cnf.dynamics:AugmentedDynamics", "ode_course.cnf.flow"),
        ),
        Exercise(
            "ex-latent-kl",
            8,
            2,
            ("kl_diagonal_gaussians",),
            _C + "latent_ode:check_gaussian_kl",
            "gaussian_kl",
            ("ode_course.latent",),
        ),
        Exercise(
            "ex-latent-likelihood",
            8,
            2,
            ("masked_log_likelihood",),
            _C + "latent_ode:check_masked_log_likelihood",
            "masked_log_likelihood",
            ("ode_course.latent",),
        ),
        Exercise(
            "ex-conditional-velocity",
            9,
            2,
            ("conditional_target",),
            _C + "flow_matching:check_conditional_velocity",
            "conditional_velocity",
            ("ode_course.flow_matching.paths",),
        ),
        Exercise(
            "ex-euler-sampler",
            9,
            2,
            ("euler_sampler",),
            _C + "flow_matching:check_euler_sampler",
            "euler_sampler",
            (
                "ode_course.flow_matching.sampling",
                "ode_course.solvers",
                "ode_course.backends",
                "torchdiffeq",
                _C + "flow_matching:_euler",
            ),
        ),
        Exercise(
            "ex-straightness",
            9,
            2,
            ("straightness",),
            _C + "flow_matching:check_straightness",
            "straightness",
            ("ode_course.flow_matching.straightness",),
        ),
    )
}
"""Every auto-graded exercise of the course, by label."""

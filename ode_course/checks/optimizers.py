"""Chapter 3 (optimizers): one heavy-ball momentum step, and Adam's bias correction."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ode_course.checks.harness import (
    CheckFailed,
    array_result,
    call,
    exercise_check,
    name_the_mistake,
    passed,
)
from ode_course.optim import Momentum

__all__ = ["check_adam_bias_correction", "check_momentum_step"]

Pair = tuple[np.ndarray, np.ndarray]


def _quadratic_gradients(theta: np.ndarray) -> np.ndarray:
    """∇f for f(θ) = ½ θᵀ diag(1, 10) θ, the ill-conditioned bowl the momentum check uses."""
    return np.array([1.0, 10.0]) * theta


def _same_theta(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, rtol=1e-10, atol=1e-12))


def _same_vector(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, rtol=1e-10, atol=1e-12))


@exercise_check
def check_momentum_step(
    momentum_step: Callable[[np.ndarray, np.ndarray, np.ndarray, float, float], Pair],
) -> None:
    """``momentum_step(theta, grad, velocity, lr, mu)`` returns (theta, velocity).

    The textbook heavy ball: v ← μ v − lr g, then θ ← θ + v. PyTorch's buffer form,
    b ← μ b + g, then θ ← θ − lr b, is the same method for a constant lr (b = −v / lr) and is
    accepted too: the returned second value may be either the velocity or the buffer, as long as
    it stays the same kind. Thirty steps on a quadratic bowl must follow the package's
    :class:`~ode_course.optim.Momentum`.

    Args:
        momentum_step: the learner's step, returning the pair (new_theta, new_velocity).

    Raises:
        CheckFailed: the function returns the wrong thing or follows a different trajectory; the
            message names the likely slip.

    Example:
        >>> def momentum_step(theta, grad, velocity, lr, mu):
        ...     velocity = mu * velocity - lr * grad
        ...     return theta + velocity, velocity
        >>> check_momentum_step(momentum_step)
        Correct: 30 steps of your heavy ball match ode_course.optim.Momentum.
        >>> def buffer_step(theta, grad, buffer, lr, mu):
        ...     buffer = mu * buffer + grad
        ...     return theta - lr * buffer, buffer
        >>> check_momentum_step(buffer_step)
        Correct: 30 steps of your heavy ball match ode_course.optim.Momentum.
    """
    lr, mu = 0.05, 0.9
    reference = np.array([1.0, 1.0])
    opt = Momentum(lr=lr, momentum=mu)
    theta, velocity = np.array([1.0, 1.0]), np.zeros(2)
    # "velocity" (v = μ v − lr g) or "buffer" (b = μ b + g), fixed by the first step
    form: str | None = None
    for k in range(30):
        g = _quadratic_gradients(theta)
        out = call(momentum_step, "momentum_step", theta.copy(), g.copy(), velocity.copy(), lr, mu)
        if not isinstance(out, tuple) or len(out) != 2:
            raise CheckFailed(
                "momentum_step must return a pair (new_theta, new_velocity); got "
                f"{type(out).__name__}."
            )
        new_theta = array_result(out[0], (2,), "new_theta")
        new_velocity = array_result(out[1], (2,), "new_velocity")
        opt.step([reference], [_quadratic_gradients(reference)])
        if not _same_theta(new_theta, reference):
            # the slips are stated for the textbook velocity; a buffer b stands for v = −lr b
            v_old = velocity if form != "buffer" else -lr * velocity
            mistakes = {  # the θ each slip gives from this step's θ, v and g
                "v ← μ v + lr g: the step must go against the gradient (v ← μ v − lr g)": (
                    theta + (mu * v_old + lr * g)
                ),
                "v ← v − lr g: the old velocity must be scaled by μ": theta + v_old - lr * g,
                "θ moved with the old velocity: update v first, then θ ← θ + v_new": (
                    theta + v_old
                ),
            }
            name_the_mistake(new_theta, mistakes, _same_theta, f"at step {k + 1}:")
            raise CheckFailed(
                f"at step {k + 1} theta is {new_theta.round(6)}, expected {reference.round(6)} "
                "(v ← μ v − lr g, then θ ← θ + v)."
            )
        forms = {"velocity": mu * velocity - lr * g, "buffer": mu * velocity + g}
        if form is None:  # first step: the learner's second value decides the form
            form = next(
                (name for name, want in forms.items() if _same_vector(new_velocity, want)),
                "velocity",
            )
        if not _same_vector(new_velocity, forms[form]):
            raise CheckFailed(
                f"at step {k + 1} the returned velocity is {new_velocity.round(6)}, expected "
                + (
                    f"μ v − lr g = {forms[form].round(6)}"
                    if form == "velocity"
                    else f"the buffer μ b + g = {forms[form].round(6)}"
                )
                + ": return the updated velocity (or PyTorch's buffer) too."
            )
        theta, velocity = new_theta, new_velocity
    passed("30 steps of your heavy ball match ode_course.optim.Momentum.")


@exercise_check
def check_adam_bias_correction(
    bias_correct: Callable[[np.ndarray, np.ndarray, int, float, float], Pair],
) -> None:
    """``bias_correct(m, v, t, beta1, beta2)`` returns (m̂, v̂) = (m/(1−β₁ᵗ), v/(1−β₂ᵗ)).

    ``t`` counts steps from 1; the check tries t = 1, 2, 10 and 1000.

    Args:
        bias_correct: the learner's correction of Adam's two moment estimates.

    Raises:
        CheckFailed: the correction is wrong; the message names the likely slip.

    Example:
        >>> def bias_correct(m, v, t, beta1, beta2):
        ...     return m / (1 - beta1**t), v / (1 - beta2**t)
        >>> check_adam_bias_correction(bias_correct)
        Correct: both corrected moments match at t = 1, 2, 10 and 1000.
        >>> try:
        ...     check_adam_bias_correction(lambda m, v, t, b1, b2: bias_correct(m, v, t, b2, b1))
        ... except CheckFailed as verdict:
        ...     print(verdict)
        β₁ and β₂ are swapped: m̂ uses β₁ and v̂ uses β₂.
    """
    rng = np.random.default_rng(2)
    beta1, beta2 = 0.9, 0.999
    for t in (1, 2, 10, 1000):
        m, v = rng.normal(size=3), rng.random(3)
        out = call(bias_correct, "bias_correct", m.copy(), v.copy(), t, beta1, beta2)
        if not isinstance(out, tuple) or len(out) != 2:
            raise CheckFailed(f"bias_correct must return a pair (m_hat, v_hat); got {out!r:.60}.")
        m_hat = array_result(out[0], (3,), "m_hat")
        v_hat = array_result(out[1], (3,), "v_hat")
        want_m, want_v = m / (1 - beta1**t), v / (1 - beta2**t)
        if np.allclose(m_hat, want_m) and np.allclose(v_hat, want_v):
            continue
        # the slips below touch m̂, v̂ or both, and one only shows after the first step, so they
        # are tests in order rather than a table of wrong answers
        if not (np.all(np.isfinite(m_hat)) and np.all(np.isfinite(v_hat))):
            raise CheckFailed(
                f"at t = {t} the result is not finite: t counts steps from 1, so use β**t "
                "(β**(t − 1) is 1 at the first step and divides by zero)."
            )
        if np.allclose(m_hat, m * (1 - beta1**t)):
            raise CheckFailed("m_hat multiplies by (1 − β₁ᵗ); the correction divides by it.")
        if np.allclose(m_hat, m / (1 - beta2**t)) or np.allclose(v_hat, v / (1 - beta1**t)):
            raise CheckFailed("β₁ and β₂ are swapped: m̂ uses β₁ and v̂ uses β₂.")
        if np.allclose(m_hat, m / (1 - beta1 ** (t + 1))) or np.allclose(
            v_hat, v / (1 - beta2 ** (t + 1))
        ):
            raise CheckFailed(
                f"at t = {t} the correction uses the power t + 1: t already counts steps from 1, "
                "so divide by 1 − βᵗ (an off-by-one: increment t before the correction, not "
                "inside it)."
            )
        if np.allclose(m_hat, want_m) and np.allclose(v_hat, v):
            raise CheckFailed(
                "v̂ is not corrected: it must be divided by 1 − β₂ᵗ too, or the first steps are "
                "far too large (v starts at 0, so v is biased towards 0 by a factor 1 − β₂ᵗ)."
            )
        if np.allclose(m_hat, m) and np.allclose(v_hat, want_v):
            raise CheckFailed("m̂ is not corrected: divide m by 1 − β₁ᵗ.")
        if np.allclose(m_hat, m / (1 - beta1)) and t > 1:
            raise CheckFailed("the power of β is missing: divide by 1 − β₁ᵗ, not by 1 − β₁.")
        raise CheckFailed(
            f"at t = {t}: m_hat = {m_hat.round(4)}, expected {want_m.round(4)}; "
            f"v_hat = {v_hat.round(6)}, expected {want_v.round(6)}."
        )
    passed("both corrected moments match at t = 1, 2, 10 and 1000.")

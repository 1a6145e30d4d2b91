"""Chapter 4 (gradient flow): the stability limit of gradient descent's rate, and a stiff choice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ode_course.checks.harness import (
    CheckFailed,
    answered,
    call,
    exercise_check,
    matches,
    name_the_mistake,
    number_answer,
    number_result,
    passed,
)

__all__ = ["check_stability_limit", "check_stiff_choice"]

# The predicted number of steps, as a salted digest (ode_course.checks.harness.digest) of the
# estimate in thousands of steps, not in clear.
_STIFF_STEPS = "f4ec27ececebf76ed224311f15396a153b64762c65311706519dc17ef3f75003"


def _same_rate(a: float, b: float) -> bool:
    return bool(np.isclose(a, b, rtol=1e-8))


@exercise_check
def check_stability_limit(max_stable_lr: Callable[[np.ndarray], float]) -> None:
    """``max_stable_lr(H)`` returns the stability limit of gradient descent's rate, 2/λ_max(H).

    Every rate below the limit converges and every rate above it diverges; the limit itself is
    not stable (the fastest component flips sign forever), so there is no *largest* stable rate.
    The success message does not repeat the answer.

    Gradient descent on L = ½ θᵀ H θ multiplies the error by (I − lr H) each step, which
    shrinks every component only if |1 − lr λ| < 1 for every eigenvalue λ of H.

    Args:
        max_stable_lr: the learner's function of a symmetric positive definite matrix H.

    Raises:
        CheckFailed: the answer is wrong on one of several symmetric positive definite matrices;
            the message names the likely slip.

    Example:
        >>> check_stability_limit(lambda H: 2 / np.linalg.eigvalsh(H).max())
        Correct: your limit matches on 3 Hessians of sizes 2, 5 and 8.
        >>> try:
        ...     check_stability_limit(lambda H: 1 / np.linalg.eigvalsh(H).max())
        ... except CheckFailed as verdict:
        ...     print(verdict)  # doctest: +ELLIPSIS
        max_stable_lr returns 1/λ_max: the step may be up to twice that, since ...
    """
    rng = np.random.default_rng(4)
    for n in (2, 5, 8):
        q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        eig = np.sort(rng.uniform(0.5, 50.0, size=n))
        hessian = q @ np.diag(eig) @ q.T
        got = number_result(call(max_stable_lr, "max_stable_lr", hessian.copy()), "max_stable_lr")
        want = 2.0 / eig[-1]
        if _same_rate(got, want):
            continue
        mistakes = {
            "1/λ_max: the step may be up to twice that, since |1 − lr λ| < 1 allows lr λ < 2": (
                1.0 / eig[-1]
            ),
            "2/λ_min: the largest eigenvalue, not the smallest, limits the step": 2.0 / eig[0],
            "2/trace(H): use the largest eigenvalue (np.linalg.eigvalsh), not the sum": (
                2.0 / eig.sum()
            ),
            "2/max|H_ij|: the limit depends on eigenvalues, not on matrix entries": (
                2.0 / np.abs(hessian).max()
            ),
        }
        name_the_mistake(got, mistakes, _same_rate, "max_stable_lr returns")
        raise CheckFailed(
            f"for a {n}×{n} Hessian you return {got:.6g}; expected 2/λ_max = {want:.6g}."
        )
    passed("your limit matches on 3 Hessians of sizes 2, 5 and 8.")


@exercise_check
def check_stiff_choice(predicted_steps: Any, solver: Any) -> None:
    """The predicted steps of gradient descent on a stiff quadratic, and the solver to use instead.

    The Hessian's eigenvalues run from 1 to 10⁴; gradient descent at 95% of its stability limit,
    rate 0.95 · 2/λ_max, shrinks the slowest component by 1 − rate · λ_min per step, so it needs
    about ln(10⁴) / (rate · λ_min) steps to bring it from 1 to 10⁻⁴. The check accepts a
    prediction within about 10% of that estimate (stored as a digest, not in clear), and
    ``"BDF"`` as the solver: RK45 is explicit and has a stability limit of the same kind.

    Args:
        predicted_steps: the learner's number of steps (``None`` until answered).
        solver: ``"BDF"`` or ``"RK45"`` (``None`` until answered).

    Raises:
        CheckFailed: not a number, a prediction far from the estimate, or the explicit solver;
            the message says what to reconsider.

    Example:
        >>> try:
        ...     check_stiff_choice(5000, "BDF")
        ... except CheckFailed as verdict:
        ...     print(verdict)  # doctest: +ELLIPSIS
        predicted_steps = 5000 is not within about 10% of the estimate...
    """
    steps = number_answer(predicted_steps, "predicted_steps")
    if not matches(steps, _STIFF_STEPS, "stiff-choice", quantum=1000.0, window=5):
        raise CheckFailed(
            f"predicted_steps = {steps:.6g} is not within about 10% of the estimate: per step the "
            "slowest component (λ_min = 1) is multiplied by 1 − rate · λ_min with rate "
            "0.95 · 2/λ_max; how many such steps take it from 1 to 10⁻⁴? (Use ln, not log10.)"
        )
    answered(solver, "solver")
    choice = str(solver).strip().upper() if isinstance(solver, str) else None
    if choice == "RK45":
        raise CheckFailed(
            "solver = 'RK45': RK45 is explicit, so its steps are limited by stability on the "
            "fastest mode just as gradient descent's are, and it too would need tens of "
            "thousands of steps. Which of the two is implicit?"
        )
    if choice != "BDF":
        raise CheckFailed(f"solver must be the string 'BDF' or 'RK45'; got {solver!r:.40}.")
    passed("your prediction is within 10% of the estimate, and you chose the implicit solver.")

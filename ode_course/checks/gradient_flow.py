"""Chapter 4 (gradient flow): the stability limit of gradient descent's learning rate."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ode_course.checks.harness import CheckFailed, call, name_the_mistake, number_result, passed

__all__ = ["check_stability_limit"]


def _same_rate(a: float, b: float) -> bool:
    return bool(np.isclose(a, b, rtol=1e-8))


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

"""Tests for ode_course.solvers.adaptive: Dopri5's dense output, the orders of its 5(4) pair,
its error control, and its solutions against expm, scipy's DOP853 and torchdiffeq."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import torch
import torchdiffeq
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ode_course.solvers import DOPRI5, CountNFE, Dopri5, odeint, solve

F64 = torch.float64


def tensor(x, dtype=F64) -> torch.Tensor:
    return torch.tensor(x, dtype=dtype)


ROTATION = tensor([[-0.2, 2.0], [-1.0, 0.0]])  # a damped rotation, non-normal
Y0_ROT = tensor([1.0, 0.5])
T_END = 3.0


def test_dopri5_error_weights_and_dense_output():
    assert sum(DOPRI5.b_err) == pytest.approx(0.0, abs=1e-15)
    assert DOPRI5.a[-1] == DOPRI5.b[:-1] and DOPRI5.b[-1] == 0  # FSAL
    solver = Dopri5()
    np.testing.assert_allclose(solver.dense_weights(0.0), 0.0, atol=0)
    np.testing.assert_allclose(solver.dense_weights(0.5), DOPRI5.b_mid, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(solver.dense_weights(1.0), DOPRI5.b, rtol=1e-13, atol=1e-15)


def test_dopri5_one_step_errors_have_the_orders_of_a_5_4_pair():
    """From one point, the 5th-order step's error is O(h⁶) and the embedded estimate of the
    4th-order solution's error is O(h⁵): halving h divides them by about 2⁶ and 2⁵."""
    solver, f = Dopri5(rtol=1.0, atol=1.0), lambda t, y: ROTATION @ y  # scale 1: raw norms
    one_step, estimate = [], []
    for h in (0.4, 0.2, 0.1, 0.05):
        y_new, _, err = solver.attempt(f, 0.0, Y0_ROT, f(0.0, Y0_ROT), h)
        exact = torch.from_numpy(scipy.linalg.expm(ROTATION.numpy() * h)) @ Y0_ROT
        one_step.append((y_new - exact).norm().item())
        estimate.append(err)
    for errors, order in ((one_step, 6), (estimate, 5)):
        observed = [math.log2(e1 / e2) for e1, e2 in pairwise(errors)]
        assert observed == pytest.approx([order] * 3, abs=0.3), observed


def test_adaptive_dopri5_error_follows_the_tolerance_and_nfe_grows_like_its_fifth_root():
    """On y' = A y: the global error is proportional to the tolerance (slope ≈ 1), and the number
    of steps grows like tol^(−1/5), as a controller for a 5th-order method predicts."""
    exact = torch.from_numpy(scipy.linalg.expm(ROTATION.numpy() * T_END)) @ Y0_ROT
    tolerances = 10.0 ** -np.arange(5, 12)
    errors, steps = [], []
    for tol in tolerances:
        solution = solve(
            lambda t, y: ROTATION @ y, Y0_ROT, tensor([0.0, T_END]), rtol=tol, atol=tol
        )
        errors.append((solution.ys[-1] - exact).norm().item())
        steps.append(solution.n_steps)
    error_slope = np.polyfit(np.log(tolerances), np.log(errors), 1)[0]
    step_slope = np.polyfit(np.log(tolerances), np.log(steps), 1)[0]
    assert error_slope == pytest.approx(1.0, abs=0.15)
    assert step_slope == pytest.approx(-1 / 5, abs=0.03)


# ------------------------------------------------------------------ dopri5 against oracles
def stable_matrix(dim: int, seed: int, damping: float) -> np.ndarray:
    """A = S − damping·P Pᵀ with S skew-symmetric: every eigenvalue has real part ≤ 0."""
    rng = np.random.default_rng(seed)
    q, p = rng.normal(size=(dim, dim)), rng.normal(size=(dim, dim))
    return (q - q.T) / math.sqrt(dim) - damping * p @ p.T / dim


@settings(max_examples=6, deadline=None)
@given(
    dim=st.integers(min_value=1, max_value=4),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    damping=st.floats(min_value=0.0, max_value=1.0),
)
@example(dim=1, seed=5884, damping=1.0)  # decays to 6e-5 by t = 2: below atol's scale
def test_dopri5_matches_expm_and_torchdiffeq(dim, seed, damping):
    a = stable_matrix(dim, seed, damping)
    y0 = np.random.default_rng(seed + 1).normal(size=dim)
    t = torch.linspace(0, 2, 5, dtype=F64)
    exact = np.stack([scipy.linalg.expm(a * ti) @ y0 for ti in t.tolist()])
    matrix = torch.from_numpy(a)
    field = CountNFE(lambda t, y: matrix @ y)
    solution = solve(field, torch.from_numpy(y0), t, rtol=1e-8, atol=1e-8)
    assert field.nfe == solution.nfe
    # the solver's own error model with rtol = atol: relative where |y| > 1, absolute below
    # (a solution that decays to 1e-5 is controlled to atol, not to 1e-8 of its size)
    scale = np.maximum(np.linalg.norm(exact, axis=1), 1.0)
    error = np.linalg.norm(solution.ys.numpy() - exact, axis=1) / scale
    assert error.max() <= 1e-6
    field.reset()
    theirs = torchdiffeq.odeint(field, torch.from_numpy(y0), t, rtol=1e-8, atol=1e-8)
    assert (solution.ys - theirs).abs().max().item() <= 1e-6
    assert abs(solution.nfe - field.nfe) <= 0.1 * field.nfe


def test_dopri5_rejects_steps_and_stays_accurate():
    """Van der Pol with μ = 5 has fast transitions that force rejected steps; the reference is
    scipy's 8th-order DOP853 at tolerance 1e-12."""

    def van_der_pol(t, y):
        return torch.stack([y[1], 5 * (1 - y[0] ** 2) * y[1] - y[0]])

    t, y0 = torch.linspace(0, 10, 3, dtype=F64), tensor([2.0, 0.0])
    solution = solve(van_der_pol, y0, t, rtol=1e-8, atol=1e-8)
    assert solution.n_rejected > 0
    assert solution.nfe == 2 + 6 * (solution.n_steps + solution.n_rejected)
    reference = scipy.integrate.solve_ivp(
        lambda t, y: [y[1], 5 * (1 - y[0] ** 2) * y[1] - y[0]],
        (0, 10),
        [2.0, 0.0],
        method="DOP853",
        t_eval=t.numpy(),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(solution.ys.numpy(), reference.y.T, rtol=1e-5, atol=1e-6)


def test_gradient_of_a_linear_flow_is_its_matrix_exponential():
    """d y(T)/d y0 = expm(A T) for y' = A y."""
    y0 = Y0_ROT.clone().requires_grad_()
    ys = odeint(lambda t, y: ROTATION @ y, y0, tensor([0.0, 1.0]), rtol=1e-10, atol=1e-10)
    (grad,) = torch.autograd.grad(ys[-1].sum(), y0)
    expected = torch.from_numpy(scipy.linalg.expm(ROTATION.numpy())).sum(dim=0)
    torch.testing.assert_close(grad, expected, rtol=1e-8, atol=1e-8)

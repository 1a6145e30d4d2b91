"""Tests for ode_course.optim.momentum: the heavy ball and Nesterov equal their textbook
velocity forms."""

from __future__ import annotations

import numpy as np
import pytest

from ode_course.optim import (
    Momentum,
    Nesterov,
)

RTOL = 1e-10
STEPS = 100


# ------------------------------------------------------------------ textbook momentum forms
def quadratic_grad(theta: np.ndarray) -> np.ndarray:
    h = np.array([1.0, 3.0, 10.0, 0.3, 5.0])
    return h * (theta - 1.0)


@pytest.mark.parametrize("mu", [0.5, 0.9])
def test_momentum_equals_textbook_velocity_form(mu):
    lr, theta0 = 0.03, np.array([2.0, -1.0, 0.5, 3.0, -2.0])
    theta, opt = theta0.copy(), Momentum(lr=lr, momentum=mu)
    x, v = theta0.copy(), np.zeros(5)  # textbook: v ← μ v − lr g, x ← x + v
    for _ in range(STEPS):
        opt.step([theta], [quadratic_grad(theta)])
        v = mu * v - lr * quadratic_grad(x)
        x = x + v
        np.testing.assert_allclose(theta, x, rtol=RTOL, atol=0)
        np.testing.assert_allclose(-lr * opt.state[0]["b"], v, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("mu", [0.5, 0.9])
def test_nesterov_equals_textbook_forms(mu):
    lr, theta0 = 0.03, np.array([2.0, -1.0, 0.5, 3.0, -2.0])
    theta, opt = theta0.copy(), Nesterov(lr=lr, momentum=mu)
    x, v = theta0.copy(), np.zeros(5)  # velocity form: v ← μ v − lr g, x ← x + μ v − lr g
    phi, w = theta0.copy(), np.zeros(5)  # Sutskever: w ← μ w − lr ∇L(φ + μ w), φ ← φ + w
    for _ in range(STEPS):
        opt.step([theta], [quadratic_grad(theta)])
        g = quadratic_grad(x)
        v = mu * v - lr * g
        x = x + mu * v - lr * g
        w = mu * w - lr * quadratic_grad(phi + mu * w)
        phi = phi + w
        np.testing.assert_allclose(theta, x, rtol=RTOL, atol=0)
        np.testing.assert_allclose(theta, phi + mu * w, rtol=RTOL, atol=0)

"""Tests for ode_course.gradient_flow: the flow against closed forms, stiffness, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.linalg import expm

from ode_course.checks import CheckFailed, check_stability_limit
from ode_course.data import digits_per_class, xor
from ode_course.gradient_flow import METHODS, TorchObjective, minimize
from ode_course.landscapes import LANDSCAPES


def quadratic(A):
    return (lambda x: 0.5 * x @ A @ x), (lambda x: A @ x)


@pytest.mark.parametrize("method", METHODS)
def test_flow_on_a_quadratic_matches_the_matrix_exponential(method):
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    A = q @ np.diag([0.5, 1.0, 2.0, 4.0]) @ q.T
    x0 = rng.normal(size=4)
    fun, grad = quadratic(A)
    result = minimize(fun, grad, x0, method=method, t_max=1.5, gtol=1e-12, rtol=1e-10, atol=1e-12)
    assert result.status == "t_max" and result.t == pytest.approx(1.5)
    exact = expm(-1.5 * A) @ x0
    assert np.linalg.norm(result.x - exact) <= 1e-6 * np.linalg.norm(exact)
    assert result.path.shape == (result.nit + 1, 4) and result.ts[0] == 0.0


def test_stiff_quadratic_bdf_takes_far_fewer_steps_than_rk45():
    A = np.diag(np.logspace(0, 3, 10))  # condition number 1e3
    fun, grad = quadratic(A)
    bdf = minimize(fun, grad, np.ones(10), method="BDF", gtol=1e-4)
    rk45 = minimize(fun, grad, np.ones(10), method="RK45", gtol=1e-4, max_steps=20_000)
    assert bdf.success and rk45.success
    assert 5 * bdf.nit <= rk45.nit


def test_hessian_is_used_by_implicit_solvers():
    A = np.diag([1.0, 300.0])
    fun, grad = quadratic(A)
    with_h = minimize(fun, grad, [1.0, 1.0], hessian=lambda x: A, gtol=1e-8)
    without = minimize(fun, grad, [1.0, 1.0], gtol=1e-8)
    assert with_h.success and without.success
    assert with_h.nfev < without.nfev  # no finite-difference Jacobians


@pytest.mark.parametrize(
    "name,start", [("six_hump_camel", (-1.0, -1.0)), ("goldstein_price", (1.0, 0.0))]
)
def test_converges_to_the_global_minimum_from_the_notebook_starts(name, start):
    land = LANDSCAPES[name]
    result = minimize(land.value, land.gradient, start, gtol=1e-7)
    assert result.success
    assert result.fun == pytest.approx(land.f_min, abs=1e-6)
    assert min(np.linalg.norm(result.x - np.array(m)) for m in land.minima) < 1e-4


def test_callback_stops_the_flow_and_counts_every_gradient():
    land = LANDSCAPES["goldstein_price"]
    calls = []

    def grad(x):
        calls.append(1)
        return land.gradient(x)

    result = minimize(
        land.value, grad, (1.0, 0.0), callback=lambda t, x: land.value(x) < 3.001, gtol=1e-12
    )
    assert result.status == "callback" and result.fun < 3.001
    assert result.nfev == len(calls) > result.nit


def test_torch_objective_trains_xor_to_100_percent():
    x, y = xor()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    obj = TorchObjective(model, torch.nn.functional.cross_entropy, x, torch.tensor(y))
    theta0 = obj.x0()
    numeric = np.array(
        [(obj.value(theta0 + e) - obj.value(theta0 - e)) / 2e-6 for e in 1e-6 * np.eye(len(theta0))]
    )
    np.testing.assert_allclose(obj.gradient(theta0), numeric, rtol=1e-6, atol=1e-9)
    result = minimize(obj.value, obj.gradient, theta0, gtol=1e-4)
    obj.load(result.x)
    with torch.no_grad():
        predictions = model(torch.tensor(x, dtype=torch.float64)).argmax(1).numpy()
    assert result.success and (predictions == y).all()


def test_digits_per_class_split():
    split = digits_per_class((3, 8), n_train=50, n_val=20, seed=1)
    assert split.x_train.shape == (100, 64) and split.x_val.shape == (40, 64)
    assert set(split.y_test.tolist()) == {0, 1}
    assert np.bincount(split.y_train).tolist() == [50, 50]
    with pytest.raises(ValueError, match="leaves none for testing"):
        digits_per_class((0,), n_train=150, n_val=40)
    with pytest.raises(ValueError, match="distinct digits"):
        digits_per_class((1, 1))


@pytest.mark.parametrize(
    "x0,kwargs,error,match",
    [
        ([np.nan, 1.0], {}, ValueError, r"x0 must be finite"),
        ([[1.0, 2.0]], {}, ValueError, r"x0 must be a non-empty flat array; got shape \(1, 2\)"),
        ([], {}, ValueError, r"x0 must be a non-empty flat array; got shape \(0,\)"),
        (
            [1.0, 1.0],
            {"method": "Euler"},
            ValueError,
            r"method must be one of 'BDF', 'Radau', 'LSODA', 'RK45'; got method='Euler'",
        ),
        ([1.0, 1.0], {"gtol": 0}, ValueError, r"gtol must be positive; got gtol=0"),
        ([1.0, 1.0], {"rtol": -1.0}, ValueError, r"rtol must be positive"),
        ([1.0, 1.0], {"atol": 0.0}, ValueError, r"atol must be positive"),
        ([1.0, 1.0], {"t_max": -5.0}, ValueError, r"t_max must be positive"),
        ([1.0, 1.0], {"t_max": "1e8"}, TypeError, r"t_max must be a real number"),
        ([1.0, 1.0], {"max_steps": 0}, ValueError, r"max_steps must be a positive integer"),
        ([1.0, 1.0], {"max_steps": 1e3}, TypeError, r"max_steps must be an integer >= 1"),
        (
            [1.0, 1.0],
            {"grad": lambda x: np.zeros(3)},
            ValueError,
            r"grad must be a function returning an array of shape \(2,\).*got shape \(3,\)",
        ),
        (
            [1.0, 1.0],
            {"grad": lambda x: np.array([np.inf, 0.0])},
            FloatingPointError,
            r"grad must be finite along the flow.*non-finite",
        ),
        ([1.0, 1.0], {"grad": None}, TypeError, r"grad must be callable"),
        ([1.0, 1.0], {"fun": 3.0}, TypeError, r"fun must be callable"),
    ],
)
def test_bad_input_is_named_with_a_fix(x0, kwargs, error, match):
    fun, grad = quadratic(np.eye(2))
    fun, grad = kwargs.pop("fun", fun), kwargs.pop("grad", grad)
    with pytest.raises(error, match=match) as info:
        minimize(fun, grad, x0, **kwargs)
    assert "Fix: " in str(info.value)


def test_torch_objective_bad_input():
    model = torch.nn.Linear(2, 1)
    x, y = torch.ones(4, 2), torch.zeros(4, 1)
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module.*Fix: "):
        TorchObjective(lambda v: v, torch.nn.functional.mse_loss, x, y)
    with pytest.raises(TypeError, match=r"loss_fn must be callable.*Fix: "):
        TorchObjective(model, "mse", x, y)
    obj = TorchObjective(model, torch.nn.functional.mse_loss, x, y)
    with pytest.raises(ValueError, match=r"theta must be of shape \(3,\).*Fix: "):
        obj.load(np.zeros(4))
    frozen = torch.nn.Linear(2, 1).requires_grad_(False)
    with pytest.raises(ValueError, match=r"model must be a model with parameters that require"):
        TorchObjective(frozen, torch.nn.functional.mse_loss, x, y)


def test_check_stability_limit(capsys):
    check_stability_limit(lambda H: 2.0 / np.linalg.eigvalsh(H).max())
    assert "Correct" in capsys.readouterr().out
    slips = {
        "twice that": lambda H: 1.0 / np.linalg.eigvalsh(H).max(),
        "not the smallest": lambda H: 2.0 / np.linalg.eigvalsh(H).min(),
        "not the sum": lambda H: 2.0 / np.trace(H),
        "must return a number": lambda H: "fast",
        "expected 2/λ_max": lambda H: 0.01,
    }
    for match, attempt in slips.items():
        with pytest.raises(CheckFailed, match=match):
            check_stability_limit(attempt)


def test_a_failing_solver_is_reported_with_a_fix(monkeypatch):
    from scipy import integrate

    class Failing:
        def __init__(self, fun, t0, y0, t_bound, **options):
            self.t, self.y, self.status = t0, y0, "running"

        def step(self):
            self.status = "failed"
            return "Required step size is less than spacing between numbers."

    monkeypatch.setattr(integrate, "RK45", Failing)
    fun, grad = quadratic(np.eye(2))
    with pytest.raises(
        RuntimeError, match=r"method must be .*'RK45', which failed at t = 0.*Fix: "
    ):
        minimize(fun, grad, [1.0, 1.0], method="RK45")

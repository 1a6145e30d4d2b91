"""Tests for ode_course.landscapes: values and gradients against torch autograd in float64,
the stated minima, vectorised evaluation and the input checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from ode_course.landscapes import (
    LANDSCAPES,
    Descent,
    Landscape,
    beale,
    descend,
    goldstein_price,
    rosenbrock,
    six_hump_camel,
)

RTOL = 1e-10

# The standard definitions, written out again independently of the package, for torch.
TORCH_F = {
    "six_hump_camel": lambda x, y: (
        (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2
    ),
    "goldstein_price": lambda x, y: (
        (1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2))
        * (30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2))
    ),
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    "beale": lambda x, y: (
        (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
    ),
}

NAMES = sorted(LANDSCAPES)


def random_points(land: Landscape, n: int = 500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = land.bounds
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


def torch_value_and_grad(name: str, x: np.ndarray, y: np.ndarray):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    f = TORCH_F[name](xt, yt)
    f.sum().backward()  # the points are independent, so this gives each point's gradient
    return f.detach().numpy(), np.stack([xt.grad.numpy(), yt.grad.numpy()])


@pytest.mark.parametrize("name", NAMES)
def test_value_and_gradient_match_torch_autograd(name):
    land = LANDSCAPES[name]
    x, y = random_points(land)
    f_ref, grad_ref = torch_value_and_grad(name, x, y)
    np.testing.assert_allclose(land.f(x, y), f_ref, rtol=RTOL, atol=0)
    grad = land.grad(x, y)
    assert grad.shape == (2, len(x))
    np.testing.assert_allclose(grad, grad_ref, rtol=RTOL, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_point_methods_match_torch_autograd(name):
    land = LANDSCAPES[name]
    for x, y in zip(*random_points(land, n=20, seed=1), strict=True):
        f_ref, grad_ref = torch_value_and_grad(name, np.array(x), np.array(y))
        value, gradient = land.value(np.array([x, y])), land.gradient([x, y])
        assert isinstance(value, float)
        assert value == pytest.approx(float(f_ref), rel=RTOL)
        assert gradient.shape == (2,)
        np.testing.assert_allclose(gradient, grad_ref, rtol=RTOL, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_minima_are_stationary_with_the_stated_value(name):
    land = LANDSCAPES[name]
    for point in land.minima:
        assert np.linalg.norm(land.gradient(point)) < 1e-6
        assert land.value(point) == pytest.approx(land.f_min, rel=1e-12, abs=1e-12)
        # a minimum, not a saddle: f rises in every direction
        for angle in np.linspace(0, 2 * np.pi, 16, endpoint=False):
            step = 1e-3 * np.array([np.cos(angle), np.sin(angle)])
            assert land.value(np.asarray(point) + step) > land.f_min


@pytest.mark.parametrize("name", NAMES)
def test_f_min_is_the_minimum_over_the_box(name):
    land = LANDSCAPES[name]
    _, _, Z = land.grid(301)
    assert Z.min() >= land.f_min - 1e-12


@pytest.mark.parametrize("name", NAMES)
def test_minima_and_start_lie_in_the_box(name):
    land = LANDSCAPES[name]
    (x0, x1), (y0, y1) = land.bounds
    for x, y in (*land.minima, land.start):
        assert x0 <= x <= x1 and y0 <= y <= y1
    assert land.value(land.start) > land.f_min + 1e-2


def test_known_values():
    assert goldstein_price.value([0.0, -1.0]) == 3.0
    assert goldstein_price.f(0, -1) == 3.0
    np.testing.assert_array_equal(goldstein_price.gradient([0.0, -1.0]), [0.0, 0.0])
    assert rosenbrock.value([1.0, 1.0]) == 0.0
    assert beale.value([3.0, 0.5]) == 0.0
    assert six_hump_camel.f_min == pytest.approx(-1.0316, abs=1e-4)
    assert six_hump_camel.minima[0] == pytest.approx((0.0898, -0.7126), abs=1e-4)
    assert six_hump_camel.minima[1] == pytest.approx((-0.0898, 0.7126), abs=1e-4)
    # the stated minimizers are exact to float64: Newton's method does not move them
    for point in six_hump_camel.minima:
        assert np.linalg.norm(six_hump_camel.gradient(point)) < 1e-14


@pytest.mark.parametrize("name", NAMES)
def test_vectorised_evaluation_equals_pointwise(name):
    land = LANDSCAPES[name]
    X, Y, Z = land.grid(n=12)
    assert X.shape == Y.shape == Z.shape == (12, 12)
    G = land.grad(X, Y)
    assert G.shape == (2, 12, 12)
    for i in range(12):
        for j in range(12):
            point = np.array([X[i, j], Y[i, j]])
            assert Z[i, j] == land.value(point)
            np.testing.assert_array_equal(G[:, i, j], land.gradient(point))
    # broadcasting a row of x against a column of y gives the same grid
    np.testing.assert_array_equal(land.f(X[0], Y[:, :1]), Z)
    np.testing.assert_array_equal(land.grad(X[0], Y[:, :1]), G)


def test_grad_broadcasts_when_a_partial_is_constant_in_one_variable():
    # ∂f/∂y of Rosenbrock and the camel's partials depend on both variables, but the result
    # must always have the broadcast shape, even for a scalar against an array
    for land in LANDSCAPES.values():
        assert land.grad(0.5, np.array([0.0, 1.0, 2.0])).shape == (2, 3)
        assert land.grad(np.array([0.0, 1.0]), 0.5).shape == (2, 2)
        assert land.grad(0.5, 0.25).shape == (2,)


def test_registry_and_frozen():
    assert set(LANDSCAPES) == {"six_hump_camel", "goldstein_price", "rosenbrock", "beale"}
    assert all(land.name == key for key, land in LANDSCAPES.items())
    with pytest.raises(dataclasses.FrozenInstanceError):
        rosenbrock.f_min = 1.0  # type: ignore[misc]
    assert "rosenbrock" in repr(rosenbrock)


@pytest.mark.parametrize(
    "point,shape",
    [
        ([1.0, 2.0, 3.0], r"\(3,\)"),
        (np.zeros((2, 1)), r"\(2, 1\)"),
        (1.0, r"\(\)"),
        ([], r"\(0,\)"),
    ],
)
@pytest.mark.parametrize("method", ["value", "gradient"])
def test_bad_point_shapes(method, point, shape):
    match = rf"point must be of shape \(2,\), one \(x, y\) pair; got shape {shape}\. Fix: "
    with pytest.raises(ValueError, match=match):
        getattr(rosenbrock, method)(point)


@pytest.mark.parametrize(
    "n,error", [(1, ValueError), (0, ValueError), (2.5, TypeError), (True, TypeError)]
)
def test_bad_grid_size(n, error):
    with pytest.raises(error, match=r"n must be an integer >= 2; got .*Fix: "):
        beale.grid(n)


def test_descend_runs_an_optimizer_and_stops_at_the_target():
    from ode_course.optim import SGD

    run = descend(rosenbrock, SGD(lr=1e-3), steps=10, tol=None)
    assert isinstance(run, Descent) and run.path.shape == (11, 2) and run.iterations is None
    start = descend(rosenbrock, SGD(lr=1e-3), steps=10, start=(1.0, 1.0))
    assert start.iterations == 0 and start.path.shape == (1, 2)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"steps": 0}, ValueError, r"steps must be a positive integer; got steps=0"),
        ({"steps": 10.0}, TypeError, r"steps must be an integer >= 1; got float"),
        ({"tol": -1.0}, ValueError, r"tol must be >= 0; got tol=-1"),
        ({"tol": "small"}, TypeError, r"tol must be a real number"),
        ({"start": (1.0, 2.0, 3.0)}, ValueError, r"start must be of shape \(2,\)"),
        ({"optimizer": "sgd"}, TypeError, r"optimizer must be an object with a step"),
        ({"landscape": "rosenbrock"}, TypeError, r"landscape must be a Landscape; got str"),
    ],
)
def test_descend_bad_arguments_are_named_with_a_fix(kwargs, error, match):
    from ode_course.optim import SGD

    landscape = kwargs.pop("landscape", rosenbrock)
    optimizer = kwargs.pop("optimizer", SGD(lr=1e-3))
    with pytest.raises(error, match=match) as info:
        descend(landscape, optimizer, **{"steps": 10, **kwargs})
    assert "Fix: " in str(info.value)


def test_six_hump_camel_race_momentum_escapes_the_local_minimum():
    """The module docstring's claim about the camel's start point."""
    from ode_course.optim import SGD, Momentum

    ends = {}
    for name, opt in (("sgd", SGD(lr=0.01)), ("momentum", Momentum(lr=0.01, momentum=0.9))):
        theta = np.array(six_hump_camel.start)
        for _ in range(1500):
            opt.step([theta], [six_hump_camel.gradient(theta)])
        ends[name] = theta
    np.testing.assert_allclose(ends["sgd"], [-1.6071, -0.5687], atol=1e-3)
    assert six_hump_camel.value(ends["sgd"]) == pytest.approx(2.1043, abs=1e-3)
    assert six_hump_camel.value(ends["momentum"]) == pytest.approx(six_hump_camel.f_min, abs=1e-6)

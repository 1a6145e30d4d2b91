"""Tests for the support modules: data, seeding, plotting and the exercise checks."""

from __future__ import annotations

import math
import random

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from ode_course.autodiff import Value
from ode_course.checks import CheckFailed, check_path_sum, check_softplus
from ode_course.data import concentric_circles, two_moons
from ode_course.plotting import draw_graph, plot_decision_boundary
from ode_course.seeding import seed_everything


# ---------------------------------------------------------------------- data
def test_two_moons_shapes_standardisation_and_reproducibility():
    X, y = two_moons(101, noise=0.2, seed=4)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0, rtol=1e-12)
    assert set(y.tolist()) == {0, 1}
    X2, y2 = two_moons(101, noise=0.2, seed=4)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, two_moons(101, noise=0.2, seed=5)[0])


@pytest.mark.parametrize(
    "kwargs,match",
    [({"n_samples": 1}, "n_samples must be an integer >= 2"), ({"noise": -0.1}, "noise must be")],
)
def test_two_moons_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        two_moons(**kwargs)


def test_concentric_circles_puts_half_the_points_in_the_disc_and_half_in_the_ring():
    X, y = concentric_circles(1001, r_inner=0.4, ring=(0.9, 1.3), seed=2)
    assert X.shape == (1001, 2) and y.shape == (1001,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert (y == 0).sum() == 500 and (y == 1).sum() == 501
    radius = np.linalg.norm(X, axis=1)
    assert radius[y == 0].max() < 0.4 and 0.9 <= radius[y == 1].min() <= radius[y == 1].max() <= 1.3
    # uniform in area: the disc's mean radius is 2/3 of its radius
    assert radius[y == 0].mean() == pytest.approx(2 / 3 * 0.4, rel=0.05)
    np.testing.assert_array_equal(
        X, concentric_circles(1001, r_inner=0.4, ring=(0.9, 1.3), seed=2)[0]
    )
    assert not np.array_equal(X, concentric_circles(1001, r_inner=0.4, ring=(0.9, 1.3), seed=3)[0])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"n_samples": 1}, "n_samples must be an integer >= 2"),
        ({"r_inner": 0.0}, r"0 < r_inner <= ring\[0\] < ring\[1\]; got r_inner=0.0"),
        ({"r_inner": 1.2}, r"got r_inner=1.2, ring=\(1.0, 1.5\)"),
        ({"ring": (1.5, 1.0)}, r"0 < r_inner <= ring\[0\] < ring\[1\]"),
    ],
)
def test_concentric_circles_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        concentric_circles(**kwargs)


# ---------------------------------------------------------------------- seeding
def test_seed_everything_seeds_all_generators():
    seed_everything(123)
    first = (random.random(), np.random.rand(), torch.rand(1).item())  # noqa: NPY002
    rng = seed_everything(123)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first  # noqa: NPY002
    assert rng.random() == np.random.default_rng(123).random()


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        seed_everything(bad)


# ---------------------------------------------------------------------- plotting
def test_draw_graph_draws_every_node_and_edge_label():
    a, b = Value(2.0, label="a"), Value(1.0, label="b")
    e = (a + b) * (b + 1)
    e.backward()
    ax = draw_graph(e)
    texts = [t.get_text() for t in ax.texts]
    assert sum("value" in t for t in texts) == 6  # a, b, the constant 1, a+b, b+1, e
    assert sum(t in {"1", "2", "3"} for t in texts) == 6  # one local derivative per edge
    assert any("grad 5" in t for t in texts)
    plt.close("all")
    with pytest.raises(TypeError, match="root must be a Value"):
        draw_graph(3.0)


def test_plot_decision_boundary_and_its_errors():
    X, y = two_moons(40, seed=0)
    ax = plot_decision_boundary(lambda P: P[:, 0] - P[:, 1], X, y, resolution=20)
    assert ax.get_xlabel() == "$x_1$"
    plt.close("all")
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        plot_decision_boundary(lambda P: P[:, 0], X[:, :1], y)
    with pytest.raises(ValueError, match="y must have shape"):
        plot_decision_boundary(lambda P: P[:, 0], X, y[:-1])
    with pytest.raises(ValueError, match="resolution must be at least 2"):
        plot_decision_boundary(lambda P: P[:, 0], X, y, resolution=1)


# ---------------------------------------------------------------------- exercise checks
def test_check_path_sum_accepts_the_answer(capsys):
    check_path_sum(3.0, 6.0)
    assert "Correct" in capsys.readouterr().out


def test_check_path_sum_names_the_missing_path():
    with pytest.raises(CheckFailed, match=r"one path only.*two\s+paths"):
        check_path_sum(3.0, 3.0)
    with pytest.raises(CheckFailed, match="∂e/∂a = 2 is not right"):
        check_path_sum(2.0, 6.0)
    with pytest.raises(CheckFailed, match="give both answers as numbers"):
        check_path_sum("3", 6.0)


def good_softplus(v: Value) -> Value:
    x = v.data
    return Value.from_op(math.log1p(math.exp(x)), (v,), (1 / (1 + math.exp(-x)),))


def test_check_softplus_accepts_a_correct_operation(capsys):
    check_softplus(good_softplus)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "attempt,match",
    [
        (lambda v: math.log1p(math.exp(v.data)), "returned float, not a Value"),
        (lambda v: Value(math.log1p(math.exp(v.data))), "gradient did not reach x"),
        (lambda v: Value.from_op(math.exp(v.data), (v,), (math.exp(v.data),)), "expected ln"),
        (
            lambda v: Value.from_op(math.log1p(math.exp(v.data)), (v,), (math.exp(v.data),)),
            "the sigmoid",
        ),
        (lambda v: v.nonexistent(), "raised AttributeError"),
    ],
)
def test_check_softplus_explains_mistakes(attempt, match):
    with pytest.raises(CheckFailed, match=match):
        check_softplus(attempt)


def test_check_sigmoid_backward_accepts_the_answer(capsys):
    from ode_course.checks import check_sigmoid_backward

    check_sigmoid_backward(lambda a, g: g * a * (1 - a))
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "attempt,match",
    [
        (lambda a, g: a * (1 - a), "without grad_out"),
        (lambda a, g: g * a, "not a"),
        (lambda a, g: g * (1 - a**2), "tanh's derivative"),
        (lambda a, g: g / (1 + np.exp(-a)), "do not apply σ again"),
        (lambda a, g: None, "forget the return"),
        (lambda a, g: g[:, :1], r"shape \(4, 1\); expected \(4, 3\)"),
        (lambda a, g: g * 2.0, "wrong values"),
    ],
)
def test_check_sigmoid_backward_explains_mistakes(attempt, match):
    from ode_course.checks import check_sigmoid_backward

    with pytest.raises(CheckFailed, match=match):
        check_sigmoid_backward(attempt)


def _stable_grad(z, y):
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


def _naive_grad(z, y):
    with np.errstate(all="ignore"):
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


def test_check_softmax_cross_entropy_grad(capsys):
    from ode_course.checks import check_softmax_cross_entropy_grad

    check_softmax_cross_entropy_grad(_stable_grad)
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="logits of ±1000 give inf or nan"):
        check_softmax_cross_entropy_grad(_naive_grad)
    with pytest.raises(CheckFailed, match="without dividing by N"):
        check_softmax_cross_entropy_grad(lambda z, y: _stable_grad(z, y) * len(y))
    with pytest.raises(CheckFailed, match="sign is flipped"):
        check_softmax_cross_entropy_grad(lambda z, y: -_stable_grad(z, y))
    with pytest.raises(CheckFailed, match="subtract 1 at the true class"):
        check_softmax_cross_entropy_grad(
            lambda z, y: _stable_grad(z, y) + np.eye(z.shape[1])[y] / len(y)
        )


def _good_momentum(theta, grad, velocity, lr, mu):
    velocity = mu * velocity - lr * grad
    return theta + velocity, velocity


def test_check_momentum_step(capsys):
    from ode_course.checks import check_momentum_step

    check_momentum_step(_good_momentum)
    assert "Correct" in capsys.readouterr().out
    slips = {
        "against the gradient": lambda t, g, v, lr, mu: (t + mu * v + lr * g, mu * v + lr * g),
        "scaled by μ": lambda t, g, v, lr, mu: (t + v - lr * g, v - lr * g),
        "old velocity": lambda t, g, v, lr, mu: (t + v, mu * v - lr * g),
        "must return a pair": lambda t, g, v, lr, mu: t - lr * g,
        "returned velocity": lambda t, g, v, lr, mu: (t - lr * g, v),
    }
    for match, attempt in slips.items():
        with pytest.raises(CheckFailed, match=match):
            check_momentum_step(attempt)


def test_check_adam_bias_correction(capsys):
    from ode_course.checks import check_adam_bias_correction

    check_adam_bias_correction(lambda m, v, t, b1, b2: (m / (1 - b1**t), v / (1 - b2**t)))
    assert "Correct" in capsys.readouterr().out
    slips = {
        "counts steps from 1": lambda m, v, t, b1, b2: (
            m / np.float64(1 - b1 ** (t - 1)) if t > 1 else m * np.inf,
            v / (1 - b2**t),
        ),
        "multiplies": lambda m, v, t, b1, b2: (m * (1 - b1**t), v * (1 - b2**t)),
        "swapped": lambda m, v, t, b1, b2: (m / (1 - b2**t), v / (1 - b1**t)),
        "power of β is missing": lambda m, v, t, b1, b2: (m / (1 - b1), v / (1 - b2)),
        "return a pair": lambda m, v, t, b1, b2: m,
    }
    for match, attempt in slips.items():
        with pytest.raises(CheckFailed, match=match):
            check_adam_bias_correction(attempt)


def test_landscape_plot_and_animation():
    from ode_course.landscapes import LANDSCAPES
    from ode_course.plotting import animate_paths, animation_html, plot_landscape

    land = LANDSCAPES["beale"]
    path = np.array([land.start, (2.0, 0.3), (3.0, 0.5)])
    ax = plot_landscape(land, paths={"demo": path})
    assert ax.get_title() == "beale" and ax.get_lines()
    plt.close("all")
    html = animation_html(animate_paths(land, {"demo": path}, frames=3, dpi=20))
    assert html.count("data:image/jpeg;base64") == 3  # one embedded frame per frame
    assert "http" not in html.split("<script")[0]  # no stylesheet fetched from the network
    with pytest.raises(ValueError, match="must name at least one"):
        animate_paths(land, {})
    with pytest.raises(ValueError, match=r"paths\['bad'\] must have shape \(n, 2\)"):
        animate_paths(land, {"bad": np.zeros((3, 3))})
    with pytest.raises(TypeError, match="matplotlib animation"):
        animation_html("not an animation")


def test_check_rk4_functions(capsys):
    from ode_course.checks import check_rk4_nfe, check_rk4_step

    def rk4(f, t, y, h):
        k1 = f(t, y)
        k2 = f(t + h / 2, y + h / 2 * k1)
        k3 = f(t + h / 2, y + h / 2 * k2)
        k4 = f(t + h, y + h * k3)
        return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    check_rk4_step(rk4)
    check_rk4_nfe(16)
    assert capsys.readouterr().out.count("Correct") == 2
    with pytest.raises(CheckFailed, match="Euler step"):
        check_rk4_step(lambda f, t, y, h: y + h * f(t, y))
    with pytest.raises(CheckFailed, match="number of steps"):
        check_rk4_nfe(4)
    with pytest.raises(CheckFailed, match="is not right"):
        check_rk4_nfe(None)
    with pytest.raises(CheckFailed, match="rk4_step raised NotImplementedError"):
        check_rk4_step(lambda f, t, y, h: (_ for _ in ()).throw(NotImplementedError("write it")))


def test_check_odefunc_parameters(capsys):
    from ode_course.checks import check_odefunc_parameters
    from ode_course.models import ODEFunc, ResBlock, count_parameters

    check_odefunc_parameters(count_parameters(ODEFunc(64, 64)))
    assert "Correct: (65·64 + 64) + (64·64 + 64) = 8384" in capsys.readouterr().out
    slips = {
        count_parameters(ResBlock(64, 64)): "first layer also reads t",
        65 * 64 + 64 * 64: "biases are missing",
        6 * 8384: "shared by every step",
        16 * 8384: "do not multiply by the NFE",
        100: "100 is not right",
        None: "give the count as an integer",
        True: "give the count as an integer",
    }
    for answer, match in slips.items():
        with pytest.raises(CheckFailed, match=match):
            check_odefunc_parameters(answer)

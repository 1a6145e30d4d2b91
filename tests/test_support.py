"""Tests for the support modules: data, seeding and plotting."""

from __future__ import annotations

import random

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from ode_course.autodiff import Value
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
    with pytest.raises((ValueError, TypeError), match=r"seed must be an integer >= 0.*Fix: "):
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
    with pytest.raises(ValueError, match=r"X must be of shape \(N, 2\).*Fix: "):
        plot_decision_boundary(lambda P: P[:, 0], X[:, :1], y)
    with pytest.raises(ValueError, match=r"y must be of shape.*Fix: "):
        plot_decision_boundary(lambda P: P[:, 0], X, y[:-1])
    with pytest.raises(ValueError, match=r"resolution must be an integer >= 2.*Fix: "):
        plot_decision_boundary(lambda P: P[:, 0], X, y, resolution=1)


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
    with pytest.raises(ValueError, match=r"paths must be a mapping that names at least one.*Fix: "):
        animate_paths(land, {})
    with pytest.raises(ValueError, match=r"paths\['bad'\] must be of shape \(n, 2\).*Fix: "):
        animate_paths(land, {"bad": np.zeros((3, 3))})
    with pytest.raises(TypeError, match="matplotlib animation"):
        animation_html("not an animation")

"""Tests for ode_course.plotting: each figure draws, and every bad argument is named with a fix.

Figures are drawn with matplotlib's non-interactive Agg backend (also set in conftest.py)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.animation import FuncAnimation

from ode_course.autodiff import Value
from ode_course.landscapes import LANDSCAPES
from ode_course.plotting import (
    animate_flow,
    animate_paths,
    animation_html,
    draw_graph,
    plot_decision_boundary,
    plot_landscape,
)

LAND = LANDSCAPES["rosenbrock"]
PATH = np.array([[-1.2, 1.0], [-1.0, 1.0], [0.0, 0.5]])
X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
Y = np.array([0, 1, 1, 0])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_every_figure_draws():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    assert len(draw_graph(a * b).texts) > 0
    assert plot_decision_boundary(lambda P: P[:, 0] - P[:, 1], X, Y, resolution=10) is not None
    ax = plot_landscape(LAND, paths={"sgd": PATH}, resolution=20)
    assert ax.get_title() == "rosenbrock" and ax.get_legend_handles_labels()[1] == ["sgd"]
    anim = animate_paths(LAND, {"sgd": PATH}, frames=2)
    assert isinstance(anim, FuncAnimation)
    assert "<script" in animation_html(anim)


def test_race_animation_marks_its_own_start_and_shows_every_path():
    other = PATH + 0.3  # a second path from another start than the landscape's
    anim = animate_paths(LAND, {"bdf": other, "adam": other.copy()}, frames=2)
    ax = anim._fig.axes[0]
    starts = [line for line in ax.lines if line.get_label() == "start"]
    assert len(starts) == 1 and np.allclose(starts[0].get_xydata()[0], other[0])
    # the landscape's own start point is not drawn
    assert not any(
        np.allclose(line.get_xydata()[0], LAND.start) for line in ax.lines if len(line.get_xydata())
    )
    race = {line.get_label(): line for line in ax.lines if line.get_label() in ("bdf", "adam")}
    assert matplotlib.colors.to_hex(race["adam"].get_color()) != matplotlib.colors.to_hex("tab:red")
    assert race["bdf"].get_zorder() > race["adam"].get_zorder()
    assert race["bdf"].get_linestyle() != race["adam"].get_linestyle()
    assert "<script" in animation_html(anim)  # renders the frames
    assert np.allclose(race["bdf"].get_xydata()[-1], other[-1])  # the last frame shows the path


def test_landscape_paths_never_share_the_start_markers_colour():
    names = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]  # OPTIMIZERS' order
    paths = {name: PATH + 0.1 * i for i, name in enumerate(names)}
    ax = plot_landscape(LAND, paths=paths, resolution=20)
    lines = {line.get_label(): line for line in ax.lines}
    colours = [matplotlib.colors.to_hex(lines[name].get_color()) for name in names]
    starts = [line for line in ax.lines if line.get_marker() == "o"]
    assert len(starts) == 1 and np.allclose(starts[0].get_xydata()[0], LAND.start)
    start_colour = matplotlib.colors.to_hex(starts[0].get_markerfacecolor())
    assert len(set(colours)) == len(names)  # every optimizer its own colour
    assert start_colour not in colours and matplotlib.colors.to_hex("tab:red") not in colours
    assert len({lines[name].get_linestyle() for name in names[:3]}) == 3  # and dashes


def test_flow_animation_has_one_frame_per_time_and_moves_the_points():
    times = np.linspace(0.0, 1.0, 4)
    base = np.random.default_rng(0).standard_normal((50, 2))
    path = np.stack([base * (1 + t) for t in times])
    anim = animate_flow({"a": path, "b": -path}, times, colour=base[:, 0], dpi=20)
    assert isinstance(anim, FuncAnimation) and len(anim._fig.axes) == 2
    html = animation_html(anim)
    assert html.count("data:image/jpeg;base64") == len(times)
    clouds = [ax.collections[0] for ax in anim._fig.axes]
    assert np.allclose(clouds[0].get_offsets(), path[-1])  # the last frame drawn is t = 1
    assert np.allclose(clouds[1].get_offsets(), -path[-1])
    assert anim._fig.texts[0].get_text() == "t = 1.00"


BAD = [
    (lambda: draw_graph(3.0), TypeError, r"root must be a Value .*got float"),
    (
        lambda: plot_decision_boundary(lambda P: P[:, 0], X[:, :1], Y),
        ValueError,
        r"X must be of shape \(N, 2\), one row per point; got shape \(4, 1\)",
    ),
    (
        lambda: plot_decision_boundary(lambda P: P[:, 0], X, Y[:-1]),
        ValueError,
        r"y must be of shape \(4,\), one label per row of X; got shape \(3,\)",
    ),
    (
        lambda: plot_decision_boundary(lambda P: P[:, 0], X, Y, resolution=1),
        ValueError,
        r"resolution must be an integer >= 2; got resolution=1",
    ),
    (
        lambda: plot_decision_boundary(lambda P: P[:, 0], X, Y, resolution=10.0),
        TypeError,
        r"resolution must be an integer >= 2; got float",
    ),
    (
        lambda: plot_decision_boundary(lambda P: P[:, 0], X, Y, margin=-1.0),
        ValueError,
        r"margin must be >= 0; got margin=-1",
    ),
    (
        lambda: plot_decision_boundary("model", X, Y),
        TypeError,
        r"predict must be callable; got str",
    ),
    (
        lambda: plot_landscape("rosenbrock"),
        TypeError,
        r"landscape must be an ode_course\.landscapes\.Landscape; got str",
    ),
    (
        lambda: plot_landscape(LAND, paths={"sgd": PATH[:, :1]}),
        ValueError,
        r"paths\['sgd'\] must be of shape \(n, 2\).*got shape \(3, 1\)",
    ),
    (
        lambda: plot_landscape(LAND, paths=[PATH]),
        TypeError,
        r"paths must be a mapping from optimizer names to iterates; got list",
    ),
    (lambda: plot_landscape(LAND, levels=0), ValueError, r"levels must be a positive integer"),
    (lambda: plot_landscape(LAND, resolution=1), ValueError, r"n must be an integer >= 2"),
    (lambda: animate_paths(LAND, {}), ValueError, r"paths must be a mapping that names at least"),
    (
        lambda: animate_paths(LAND, {"sgd": PATH}, frames=0),
        ValueError,
        r"frames must be a positive integer; got frames=0",
    ),
    (
        lambda: animate_paths(LAND, {"sgd": PATH}, frames=2.5),
        TypeError,
        r"frames must be an integer >= 1; got float",
    ),
    (
        lambda: animate_paths(LAND, {"sgd": PATH}, interval=0),
        ValueError,
        r"interval must be a positive integer",
    ),
    (
        lambda: animate_paths(LAND, {"sgd": np.zeros(3)}),
        ValueError,
        r"paths\['sgd'\] must be of shape \(n, 2\)",
    ),
    (lambda: animate_paths(None, {"sgd": PATH}), TypeError, r"landscape must be .*got NoneType"),
    (lambda: animation_html("movie"), TypeError, r"anim must be a matplotlib animation; got str"),
    (lambda: animate_flow([PATH], [0.0]), TypeError, r"paths must be a mapping from panel titles"),
    (lambda: animate_flow({}, [0.0]), ValueError, r"paths must be a mapping that names at least"),
    (
        lambda: animate_flow({"a": np.zeros((3, 5, 2))}, [0.0, 1.0]),
        ValueError,
        r"paths\['a'\] must be of shape \(T, N, 2\) with T = len\(times\) = 2; got shape \(3, 5",
    ),
    (
        lambda: animate_flow({"a": np.zeros((2, 5, 2))}, [0.0, 1.0], colour=np.zeros(4)),
        ValueError,
        r"colour must be of shape \(N,\), one value per point",
    ),
    (
        lambda: animate_flow({"a": np.zeros((2, 5, 2))}, [[0.0, 1.0]]),
        ValueError,
        r"times must be of shape \(T,\)",
    ),
    (
        lambda: animate_flow({"a": np.zeros((2, 5, 2))}, [0.0, 1.0], lim=0.0),
        ValueError,
        r"lim must be positive",
    ),
]


@pytest.mark.parametrize("call,error,match", BAD)
def test_bad_arguments_are_named_with_a_fix(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert "Fix: " in str(info.value)

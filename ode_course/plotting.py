"""Figures the chapters share: computational graphs and 2-D decision boundaries (matplotlib)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import Animation, FuncAnimation
from matplotlib.axes import Axes

from ode_course import _validate
from ode_course.autodiff import Value, topological_order
from ode_course.landscapes import Landscape

__all__ = [
    "animate_flow",
    "animate_paths",
    "animation_html",
    "draw_graph",
    "plot_decision_boundary",
    "plot_landscape",
]


def _node_text(node: Value, show_grad: bool) -> str:
    name = node.label or node.op or f"{node.data:g}"  # an unnamed leaf is a constant
    op = f"  [{node.op}]" if node.label and node.op else ""
    lines = [f"{name}{op}", f"value {node.data:.4g}"]
    if show_grad:
        lines.append(f"grad {node.grad:.4g}")
    return "\n".join(lines)


def draw_graph(
    root: Value,
    ax: Axes | None = None,
    *,
    show_grad: bool = True,
    show_local: bool = True,
) -> Axes:
    """Draw the graph that computed ``root``: leaves on the left, ``root`` on the right.

    Each box shows a node's name (its label, or the operation), value and gradient; each
    arrow is labelled with the local derivative d(child)/d(parent) that backward multiplies by.

    Args:
        root: the output node.
        ax: where to draw; a new figure is made if omitted.
        show_grad: print each node's ``grad`` in its box.
        show_local: label each edge with its local derivative.

    Returns:
        The axes drawn on.

    Raises:
        TypeError: ``root`` is not a Value.
    """
    if not isinstance(root, Value):
        _validate.fail(
            "root",
            "a Value (ode_course.autodiff.Value)",
            type(root).__name__,
            "draw the output of a computation on Values, e.g. draw_graph(Value(2.0) * Value(3.0))",
            TypeError,
        )
    order = topological_order(root)
    depth: dict[int, int] = {}
    for node in order:
        depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
    columns: dict[int, list[Value]] = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    pos = {}
    for col, nodes in columns.items():
        for row, node in enumerate(nodes):
            pos[id(node)] = (2.2 * col, (len(nodes) - 1) / 2 - row)

    if ax is None:
        width = 2.4 * len(columns) + 1
        height = 1.3 * max(len(c) for c in columns.values()) + 1
        _, ax = plt.subplots(figsize=(width, height))
    for node in order:
        x1, y1 = pos[id(node)]
        for parent, local in zip(node.parents, node.local_grads, strict=True):
            x0, y0 = pos[id(parent)]
            ax.annotate(
                "",
                xy=(x1 - 0.6, y1),
                xytext=(x0 + 0.6, y0),
                arrowprops={"arrowstyle": "->", "color": "0.4", "lw": 1.2},
            )
            if show_local:
                ax.text(
                    (x0 + x1) / 2,
                    (y0 + y1) / 2 + 0.12,
                    f"{local:.3g}",
                    ha="center",
                    fontsize=9,
                    color="tab:red",
                )
    for node in order:
        x, y = pos[id(node)]
        ax.text(
            x,
            y,
            _node_text(node, show_grad),
            ha="center",
            va="center",
            fontsize=9,
            bbox={
                "boxstyle": "round,pad=0.4",
                "fc": "tab:blue" if not node.parents else "white",
                "ec": "tab:blue",
                "alpha": 0.9 if node.parents else 0.25,
            },
        )
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.axis("off")
    return ax


def plot_decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    ax: Axes | None = None,
    *,
    resolution: int = 100,
    margin: float = 0.5,
) -> Axes:
    """Shade where ``predict`` says class 1 vs class 0 over the box around ``X``, and scatter X.

    Args:
        predict: maps an (N, 2) array to N scores; the boundary is drawn where the score is 0.5
            if the scores lie in [0, 1] and 0 otherwise.
        X: (N, 2) points.
        y: (N,) labels, coloured by value.
        ax: where to draw; a new figure is made if omitted.
        resolution: grid points per axis.
        margin: how far the grid extends beyond the data.

    Returns:
        The axes drawn on.

    Raises:
        ValueError: ``X`` is not (N, 2), ``y`` has a different length, ``resolution`` < 2, or
            ``margin`` is negative.
        TypeError: ``predict`` is not callable, or ``resolution`` is not an integer.
    """
    _validate.callable_(predict, "predict", fix="pass e.g. lambda grid: model(grid)[:, 1]")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    _validate.shape(
        X,
        "X",
        "of shape (N, 2), one row per point",
        X.ndim == 2 and X.shape[1] == 2,
        fix="the decision boundary is drawn in 2-D: pass two features per point",
    )
    _validate.shape(
        y,
        "y",
        f"of shape ({X.shape[0]},), one label per row of X",
        y.shape == (X.shape[0],),
        fix="pass the labels of the points in X, e.g. y.ravel()",
    )
    resolution = _validate.integer(
        resolution, "resolution", minimum=2, fix="grid points per axis, e.g. resolution=100"
    )
    margin = _validate.non_negative(margin, "margin", fix="e.g. margin=0.5")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    (x0, y0), (x1, y1) = X.min(0) - margin, X.max(0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    scores = np.asarray(predict(grid), dtype=float).reshape(gx.shape)
    level = 0.5 if scores.min() >= 0 and scores.max() <= 1 else 0.0
    ax.contourf(gx, gy, scores > level, levels=[-0.5, 0.5, 1.5], colors=["#c6dbef", "#fdd0a2"])
    ax.contour(gx, gy, scores, levels=[level], colors="k", linewidths=1)
    for label, colour in zip(np.unique(y), ["tab:blue", "tab:orange", "tab:green"], strict=False):
        sel = y == label
        ax.scatter(
            X[sel, 0],
            X[sel, 1],
            s=14,
            c=colour,
            edgecolors="k",
            linewidths=0.3,
            label=f"class {label}",
        )
    ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def _check_landscape(landscape: Landscape) -> None:
    if not isinstance(landscape, Landscape):
        _validate.fail(
            "landscape",
            "an ode_course.landscapes.Landscape",
            type(landscape).__name__,
            "pass one of LANDSCAPES, e.g. LANDSCAPES['rosenbrock']",
            TypeError,
        )


def _check_paths(paths: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not isinstance(paths, Mapping):
        _validate.fail(
            "paths",
            "a mapping from optimizer names to iterates",
            type(paths).__name__,
            "pass e.g. {'adam': run.path}",
            TypeError,
        )
    arrays = {name: np.asarray(path) for name, path in paths.items()}
    for name, path in arrays.items():
        _validate.shape(
            path,
            f"paths[{name!r}]",
            "of shape (n, 2), one (x, y) iterate per row",
            path.ndim == 2 and path.shape[1] == 2,
            fix="pass the iterates of one run, e.g. descend(...).path",
        )
    return arrays


def plot_landscape(
    landscape: Landscape,
    ax: Axes | None = None,
    *,
    paths: Mapping[str, np.ndarray] | None = None,
    levels: int = 30,
    resolution: int = 200,
) -> Axes:
    """Contours of log(1 + f − f*) over the landscape's box, its minima, and optional paths.

    Args:
        landscape: the function to draw.
        ax: where to draw; a new figure is made if omitted.
        paths: optimizer name → iterates of shape (n, 2), drawn as lines from the start point
            (a white dot), each with its own colour (never red, so that no path looks like a
            start or a minimum) and dashes, in the order of :func:`animate_paths`.
        levels: the number of contour levels.
        resolution: grid points per axis.

    Returns:
        The axes drawn on.

    Raises:
        TypeError: ``landscape`` is not a :class:`~ode_course.landscapes.Landscape`, or
            ``levels`` or ``resolution`` is not an integer.
        ValueError: a path is not of shape (n, 2), or ``levels`` < 1 or ``resolution`` < 2.
    """
    _check_landscape(landscape)
    levels = _validate.integer(levels, "levels", fix="the number of contour levels, e.g. 30")
    paths = _check_paths(paths or {})
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    X, Y, Z = landscape.grid(resolution)
    ax.contourf(X, Y, np.log1p(Z - landscape.f_min), levels=levels, cmap="Greys_r", alpha=0.8)
    for x, y in landscape.minima:
        ax.plot(x, y, marker="*", color="gold", markersize=14, markeredgecolor="k", zorder=5)
    for i, (name, path) in enumerate(paths.items()):
        colour, dashes, _ = _RACE_STYLES[i % len(_RACE_STYLES)]
        ax.plot(path[:, 0], path[:, 1], dashes, color=colour, lw=1.8, label=name)
    (x0, x1), (y0, y1) = landscape.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.plot(*landscape.start, "o", mfc="white", mec="k", markersize=7, zorder=6)
    ax.set_title(landscape.name.replace("_", " "))
    return ax


_RACE_STYLES = (
    ("tab:blue", "-", "o"),
    ("tab:orange", "--", "s"),
    ("tab:green", "-.", "^"),
    ("tab:purple", ":", "D"),
    ("tab:brown", "--", "v"),
    ("tab:cyan", "-.", "P"),
)
"""(colour, line style, head marker) of each path in :func:`animate_paths`, in order."""


def animate_paths(
    landscape: Landscape,
    paths: Mapping[str, np.ndarray],
    *,
    frames: int = 50,
    interval: int = 100,
    figsize: tuple[float, float] = (5.0, 4.5),
    dpi: int = 72,
) -> FuncAnimation:
    """An animation of optimizers moving over a landscape, one line per optimizer.

    Frame k shows every path up to step ⌈k · n_max / frames⌉, where n_max is the longest path;
    a path that ended earlier (it met its target) stays at its last point. The start point is
    the first point of the first path (a white dot); each path has its own colour (never red),
    dashes and head marker, and the first path is drawn on top of the others. Display it in a
    notebook with ``IPython.display.HTML(animation_html(anim))`` so that it plays in the book.

    Args:
        landscape: the function to draw.
        paths: optimizer name → iterates of shape (n, 2).
        frames: the number of frames.
        interval: milliseconds between frames.
        figsize, dpi: the size of each frame (small frames keep the notebook small).

    Returns:
        The animation; its figure is closed so that it is not also shown as a still image.
        Turn it into HTML for a notebook with :func:`animation_html`.

    Raises:
        ValueError: ``paths`` is empty, a path is not (n, 2), or ``frames`` < 1.
        TypeError: ``landscape`` is not a Landscape, or ``frames`` is not an integer.
    """
    _check_landscape(landscape)
    if not paths:
        _validate.fail(
            "paths",
            "a mapping that names at least one optimizer path",
            "none",
            "pass e.g. {'adam': descend(land, Adam(lr=0.1), steps=100).path}",
        )
    frames = _validate.integer(frames, "frames", fix="e.g. frames=50")
    interval = _validate.integer(interval, "interval", fix="milliseconds per frame, e.g. 100")
    arrays = _check_paths(paths)
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    plot_landscape(landscape, ax, resolution=120)
    for marker in [line for line in ax.lines if line.get_marker() == "o"]:
        marker.remove()  # the landscape's default start point: these paths may start elsewhere
    first = next(iter(arrays.values()))[0]
    ax.plot(*first, "o", mfc="white", mec="k", ms=7, zorder=6, label="start")
    lines, heads = {}, {}
    for i, name in enumerate(arrays):
        # no red (it would read as a start dot); the first path on top, each with its own dashes
        style = _RACE_STYLES[i % len(_RACE_STYLES)]
        z = 5 - i / (len(arrays) + 1)
        lines[name] = ax.plot(
            [], [], style[1], color=style[0], lw=2.2 if i == 0 else 1.6, zorder=z, label=name
        )[0]
        heads[name] = ax.plot([], [], style[2], color=style[0], mec="k", ms=6, zorder=z)[0]
    ax.legend(loc="upper left", fontsize=7)
    n_max = max(len(p) for p in arrays.values())
    counter = ax.text(0.98, 0.02, "", transform=ax.transAxes, ha="right", fontsize=8)

    def draw(k: int):
        step = int(np.ceil((k + 1) * (n_max - 1) / frames))
        for name, path in arrays.items():
            shown = path[: step + 1]
            lines[name].set_data(shown[:, 0], shown[:, 1])
            heads[name].set_data(shown[-1:, 0], shown[-1:, 1])
        counter.set_text(f"step {step}")
        return [*lines.values(), *heads.values(), counter]

    anim = FuncAnimation(fig, draw, frames=frames, interval=interval, blit=False)
    plt.close(fig)
    return anim


def animation_html(anim: Animation) -> str:
    """The animation as self-contained HTML and JavaScript, frames embedded as JPEG.

    JPEG frames are about half the size of PNG ones for shaded contour plots, which keeps the
    notebook (and the page of the book that shows it) small. Matplotlib's player links its
    button icons from a CDN; that link is dropped so the page needs no internet (the book's theme
    and JupyterLab ship the same icon font).

    Raises:
        TypeError: ``anim`` is not a matplotlib animation.
    """
    if not isinstance(anim, Animation):
        _validate.fail(
            "anim",
            "a matplotlib animation",
            type(anim).__name__,
            "pass what animate_paths returns",
            TypeError,
        )
    with matplotlib.rc_context({"animation.frame_format": "jpeg"}):
        html = anim.to_jshtml()
    return re.sub(r"<link[^>]*font-awesome[^>]*>\s*", "", html)


def animate_flow(
    paths: Mapping[str, np.ndarray],
    times: np.ndarray,
    *,
    colour: np.ndarray | None = None,
    lim: float = 3.5,
    interval: int = 120,
    size: float = 3.0,
    dpi: int = 72,
) -> FuncAnimation:
    """An animation of point clouds carried by a flow, one panel per cloud.

    Frame k shows every cloud at ``times[k]``: for a CNF, base samples z(0) ~ N(0, I) pushed
    along dz/dt = f(t, z) to z(t_k), so the last frame shows samples of the model. Colouring
    the points by where they started (their angle in the base, say) shows how the flow cuts and
    bends the Gaussian. Display it with ``IPython.display.HTML(animation_html(anim))``.

    Args:
        paths: panel title → the points at every time, shape (T, N, 2) (``CNF.flow``'s path
            as numpy).
        times: the T times of the frames, increasing.
        colour: one value per point, shape (N,), mapped through the cyclic ``hsv`` colour map;
            one colour for all points if omitted.
        lim: each panel shows [−lim, lim]².
        interval: milliseconds between frames.
        size, dpi: each panel is ``size`` inches square at ``dpi`` (small keeps the notebook small).

    Returns:
        The animation, with T frames; its figure is closed so that it is not also shown as a
        still image. Turn it into HTML with :func:`animation_html`.

    Raises:
        ValueError: ``paths`` is empty, a path is not of shape (T, N, 2) with T = len(times),
            ``colour`` has not one value per point, or ``lim`` or ``size`` is not positive.
        TypeError: ``paths`` is not a mapping, or ``interval`` or ``dpi`` is not an integer.
    """
    if not isinstance(paths, Mapping):
        _validate.fail(
            "paths",
            "a mapping from panel titles to points of shape (T, N, 2)",
            type(paths).__name__,
            "pass e.g. {'two moons': path.numpy()} with path from CNF.flow",
            TypeError,
        )
    if not paths:
        _validate.fail(
            "paths",
            "a mapping that names at least one point cloud",
            "none",
            "pass e.g. {'two moons': path.numpy()} with path from CNF.flow",
        )
    times = np.asarray(times, dtype=float)
    _validate.shape(
        times, "times", "of shape (T,), one time per frame", times.ndim == 1, fix="pass e.g. t"
    )
    arrays = {name: np.asarray(path, dtype=float) for name, path in paths.items()}
    for name, path in arrays.items():
        _validate.shape(
            path,
            f"paths[{name!r}]",
            f"of shape (T, N, 2) with T = len(times) = {len(times)}",
            path.ndim == 3 and path.shape[0] == len(times) and path.shape[2] == 2,
            fix="pass the points at every time of `times`, e.g. CNF.flow(z0, times)[0]",
        )
    n_points = {path.shape[1] for path in arrays.values()}
    if colour is not None:
        colour = np.asarray(colour, dtype=float)
        _validate.shape(
            colour,
            "colour",
            f"of shape (N,), one value per point (N = {sorted(n_points)})",
            colour.ndim == 1 and n_points == {len(colour)},
            fix="pass e.g. np.arctan2(z0[:, 1], z0[:, 0]), or colour=None",
        )
    lim = _validate.positive(lim, "lim", fix="the half-width of each panel, e.g. lim=3.5")
    size = _validate.positive(size, "size", fix="inches per panel, e.g. size=3.0")
    interval = _validate.integer(interval, "interval", fix="milliseconds per frame, e.g. 120")
    dpi = _validate.integer(dpi, "dpi", fix="dots per inch, e.g. dpi=72")
    fig, axes = plt.subplots(
        1, len(arrays), figsize=(size * len(arrays), size + 0.3), dpi=dpi, squeeze=False
    )
    clouds = []
    for ax, (name, path) in zip(axes[0], arrays.items(), strict=True):
        style = {"c": colour, "cmap": "hsv"} if colour is not None else {"color": "tab:blue"}
        clouds.append(ax.scatter(path[0, :, 0], path[0, :, 1], s=1.5, **style))
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    clock = fig.text(0.5, 0.02, "", ha="center", fontsize=10)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.9, bottom=0.1, wspace=0.05)

    def draw(k: int):
        for cloud, path in zip(clouds, arrays.values(), strict=True):
            cloud.set_offsets(path[k])
        clock.set_text(f"t = {times[k]:.2f}")
        return [*clouds, clock]

    anim = FuncAnimation(fig, draw, frames=len(times), interval=interval, blit=False)
    plt.close(fig)
    return anim

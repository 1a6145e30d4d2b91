"""Figures the chapters share: computational graphs and 2-D decision boundaries (matplotlib)."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from ode_course.autodiff import Value, topological_order

__all__ = ["draw_graph", "plot_decision_boundary"]


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
        ValueError: ``X`` is not (N, 2), ``y`` has a different length, or ``resolution`` < 2.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2); got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X; got {y.shape}")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2; got {resolution}")
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

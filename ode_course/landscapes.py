"""Two-dimensional test functions for optimizers, with analytic gradients and known minima.

Each :class:`Landscape` holds f(x, y), its gradient ∇f = (∂f/∂x, ∂f/∂y), the global minimizers
and minimum value, a box to plot it in and a start point for optimizer races:

- ``six_hump_camel``: f = (4 − 2.1x² + x⁴/3)x² + xy + (−4 + 4y²)y². Two global minima,
  f* ≈ −1.0316 at ±(0.0898, −0.7127), and four local ones (f ≈ −0.2155 at ±(1.7036, −0.7961),
  f ≈ 2.1043 at ±(1.6071, 0.5687)). Which one an optimizer finds depends on its momentum:
  from ``start`` = (−1.9, −0.5), gradient descent with lr = 0.01 stops in the local minimum at
  (−1.6071, −0.5687), while heavy-ball momentum (same lr, μ = 0.9) rolls on to a global one.
- ``goldstein_price``: f = [1 + (x+y+1)²(19 − 14x + 3x² − 14y + 6xy + 3y²)]
  · [30 + (2x − 3y)²(18 − 32x + 12x² + 48y − 36xy + 27y²)]. Global minimum f(0, −1) = 3;
  values up to about 10⁶ in the plotting box (plot log f), and several local minima.
- ``rosenbrock``: f = (a − x)² + b(y − x²)² with a = 1, b = 100. Minimum f(1, 1) = 0 at the
  end of a curved, flat-bottomed valley that is easy to find and slow to follow.
- ``beale``: f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)². Minimum
  f(3, 0.5) = 0; sharp ridges and flat plateaus, gradients over orders of magnitude.

``f`` and ``grad`` broadcast over numpy arrays (for contour plots), while
:meth:`Landscape.value` and :meth:`Landscape.gradient` take one point θ = (x, y), the way an
optimizer sees it.

Example:
    >>> land = LANDSCAPES["rosenbrock"]
    >>> theta = np.array(land.start)
    >>> round(land.value(theta), 6), land.gradient(theta).round(6)
    (24.2, array([-215.6,  -88. ]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ode_course import _validate

__all__ = [
    "LANDSCAPES",
    "Descent",
    "Landscape",
    "beale",
    "descend",
    "goldstein_price",
    "rosenbrock",
    "six_hump_camel",
]

Point = tuple[float, float]


def _xy(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _stack(dfdx: np.ndarray, dfdy: np.ndarray) -> np.ndarray:
    """(∂f/∂x, ∂f/∂y) as one array of shape (2, *broadcast shape)."""
    return np.stack(np.broadcast_arrays(dfdx, dfdy))


@dataclass(frozen=True)
class Landscape:
    """A test function f: ℝ² → ℝ with its gradient, global minima and plotting box.

    Attributes:
        name: the registry key, e.g. ``"rosenbrock"``.
        f: ``f(x, y)``, vectorised: x and y broadcast, and f has their broadcast shape.
        grad: ``grad(x, y)``, an array of shape (2, *broadcast shape) holding ∂f/∂x and ∂f/∂y
            (shape (2,) for scalar x and y).
        minima: the global minimizers (x*, y*).
        f_min: f at the global minimizers.
        bounds: a box ((x_min, x_max), (y_min, y_max)) that shows the interesting features.
        start: a start point (x₀, y₀) for optimizer races.

    Example:
        >>> land = LANDSCAPES["goldstein_price"]
        >>> float(land.f(0.0, -1.0)), land.gradient([0.0, -1.0])
        (3.0, array([0., 0.]))
    """

    name: str
    f: Callable[[ArrayLike, ArrayLike], np.ndarray] = field(repr=False)
    grad: Callable[[ArrayLike, ArrayLike], np.ndarray] = field(repr=False)
    minima: tuple[Point, ...]
    f_min: float
    bounds: tuple[Point, Point]
    start: Point

    def _point(self, point: ArrayLike, name: str = "point") -> np.ndarray:
        p = np.asarray(point, dtype=float)
        _validate.shape(
            p,
            name,
            "of shape (2,), one (x, y) pair",
            p.shape == (2,),
            fix=f"pass e.g. np.array([x, y]); to evaluate many points use "
            f"{self.name}.f(x, y) with arrays x and y",
        )
        return p

    def value(self, point: ArrayLike) -> float:
        """f(θ) at one point θ = (x, y).

        Args:
            point: the point, shape (2,).

        Returns:
            The value, a float.

        Raises:
            ValueError: ``point`` does not have shape (2,).
        """
        x, y = self._point(point)
        return float(self.f(x, y))

    def gradient(self, point: ArrayLike) -> np.ndarray:
        """∇f(θ) = (∂f/∂x, ∂f/∂y) at one point θ = (x, y).

        Args:
            point: the point, shape (2,).

        Returns:
            The gradient, shape (2,).

        Raises:
            ValueError: ``point`` does not have shape (2,).
        """
        x, y = self._point(point)
        return self.grad(x, y)

    def grid(self, n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """An n × n grid over :attr:`bounds` and f on it, for ``plt.contour(X, Y, Z)``.

        Args:
            n: points per axis, at least 2.

        Returns:
            ``(X, Y, Z)``, each of shape (n, n), with X varying along axis 1 (``np.meshgrid``).

        Raises:
            TypeError: ``n`` is not an integer.
            ValueError: ``n`` < 2.
        """
        n = _validate.integer(n, "n", minimum=2, fix="pass the points per axis, e.g. n=200")
        (x0, x1), (y0, y1) = self.bounds
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return X, Y, self.f(X, Y)


# --------------------------------------------------------------------------- six-hump camel
def _camel_f(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """f(x, y) = (4 − 2.1x² + x⁴/3) x² + xy + (−4 + 4y²) y²."""
    x, y = _xy(x, y)
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


def _camel_grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """∂f/∂x = 8x − 8.4x³ + 2x⁵ + y, ∂f/∂y = x − 8y + 16y³."""
    x, y = _xy(x, y)
    return _stack(8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3)


# Newton's method on ∇f = 0 from (0.09, −0.71), to the last digit of float64.
_CAMEL_X, _CAMEL_Y = 0.08984201310031807, -0.7126564030207396

six_hump_camel = Landscape(
    name="six_hump_camel",
    f=_camel_f,
    grad=_camel_grad,
    minima=((_CAMEL_X, _CAMEL_Y), (-_CAMEL_X, -_CAMEL_Y)),
    f_min=-1.0316284534898774,
    bounds=((-2.0, 2.0), (-1.0, 1.0)),
    start=(-1.9, -0.5),
)
"""Six-hump camel: two global minima f* ≈ −1.0316 at ±(0.0898, −0.7127), four local ones."""

# --------------------------------------------------------------------------- Goldstein-Price


def _gp_parts(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """f = A·B with A = 1 + a²P, B = 30 + c²Q, and their partial derivatives."""
    a, c = x + y + 1, 2 * x - 3 * y
    P = 19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2
    Q = 18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2
    A, B = 1 + a**2 * P, 30 + c**2 * Q
    dA = 2 * a * P + a**2 * (-14 + 6 * x + 6 * y)  # ∂A/∂x = ∂A/∂y: P_x = P_y
    dBdx = 4 * c * Q + c**2 * (-32 + 24 * x - 36 * y)
    dBdy = -6 * c * Q + c**2 * (48 - 36 * x + 54 * y)
    return A, B, dA, dBdx, dBdy


def _gp_f(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """f = [1 + (x+y+1)²(19 − 14x + 3x² − 14y + 6xy + 3y²)]
    · [30 + (2x − 3y)²(18 − 32x + 12x² + 48y − 36xy + 27y²)]."""
    A, B, *_ = _gp_parts(*_xy(x, y))
    return A * B


def _gp_grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """∂f/∂x = A_x B + A B_x, ∂f/∂y = A_y B + A B_y (product rule on f = A·B)."""
    A, B, dA, dBdx, dBdy = _gp_parts(*_xy(x, y))
    return _stack(dA * B + A * dBdx, dA * B + A * dBdy)


goldstein_price = Landscape(
    name="goldstein_price",
    f=_gp_f,
    grad=_gp_grad,
    minima=((0.0, -1.0),),
    f_min=3.0,
    bounds=((-2.0, 2.0), (-2.0, 2.0)),
    start=(-0.5, 0.5),
)
"""Goldstein–Price: one global minimum f* = 3 at (0, −1)."""

# --------------------------------------------------------------------------- Rosenbrock
_A, _B = 1.0, 100.0


def _rosenbrock_f(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """f = (a − x)² + b (y − x²)², a = 1, b = 100."""
    x, y = _xy(x, y)
    return (_A - x) ** 2 + _B * (y - x**2) ** 2


def _rosenbrock_grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """∂f/∂x = −2(a − x) − 4b x (y − x²), ∂f/∂y = 2b (y − x²)."""
    x, y = _xy(x, y)
    return _stack(-2 * (_A - x) - 4 * _B * x * (y - x**2), 2 * _B * (y - x**2))


rosenbrock = Landscape(
    name="rosenbrock",
    f=_rosenbrock_f,
    grad=_rosenbrock_grad,
    minima=((_A, _A**2),),
    f_min=0.0,
    bounds=((-2.0, 2.0), (-1.0, 3.0)),
    start=(-1.2, 1.0),
)
"""Rosenbrock's banana: f* = 0 at (1, 1), at the end of a narrow curved valley (a=1, b=100)."""

# --------------------------------------------------------------------------- Beale


def _beale_terms(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3


def _beale_f(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²."""
    t1, t2, t3 = _beale_terms(*_xy(x, y))
    return t1**2 + t2**2 + t3**2


def _beale_grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """∂f/∂x = 2 Σₖ tₖ (yᵏ − 1), ∂f/∂y = 2 Σₖ tₖ k x yᵏ⁻¹, tₖ the k-th bracket of f."""
    x, y = _xy(x, y)
    t1, t2, t3 = _beale_terms(x, y)
    dfdx = 2 * (t1 * (y - 1) + t2 * (y**2 - 1) + t3 * (y**3 - 1))
    dfdy = 2 * x * (t1 + 2 * t2 * y + 3 * t3 * y**2)
    return _stack(dfdx, dfdy)


beale = Landscape(
    name="beale",
    f=_beale_f,
    grad=_beale_grad,
    minima=((3.0, 0.5),),
    f_min=0.0,
    bounds=((-4.5, 4.5), (-4.5, 4.5)),
    start=(1.0, 1.5),
)
"""Beale: one global minimum f* = 0 at (3, 0.5)."""

LANDSCAPES: dict[str, Landscape] = {
    land.name: land for land in (six_hump_camel, goldstein_price, rosenbrock, beale)
}
"""The four landscapes by name (``"six_hump_camel"``, ``"goldstein_price"``, ...)."""


@dataclass(frozen=True)
class Descent:
    """The path of an optimizer on a landscape.

    Attributes:
        path: the iterates θ₀, θ₁, …, shape (n + 1, 2); it stops early once the target is met
            or the iterates blow up.
        values: f at each iterate, shape (n + 1,).
        iterations: the first k with f(θ_k) − f* ≤ tol, or None if it was never reached.
        diverged: whether the iterates became non-finite or f exceeded 1e12.
    """

    path: np.ndarray
    values: np.ndarray
    iterations: int | None
    diverged: bool


def descend(
    landscape: Landscape,
    optimizer: Any,
    *,
    steps: int,
    start: ArrayLike | None = None,
    tol: float | None = 1e-3,
) -> Descent:
    """Run ``optimizer`` on ``landscape``: θ_{k+1} = optimizer.step(θ_k, ∇f(θ_k)), k < steps.

    Args:
        landscape: the function to minimise.
        optimizer: anything with ``step(params, grads)``, e.g. ``ode_course.optim.Adam(lr=0.1)``.
        steps: the largest number of steps.
        start: θ₀, shape (2,); ``landscape.start`` if omitted.
        tol: stop at the first iterate with f − f* ≤ tol; ``None`` runs all ``steps``.

    Returns:
        A :class:`Descent`.

    Raises:
        TypeError: ``steps`` is not an integer, ``tol`` not a number, or ``optimizer`` has no
            ``step``.
        ValueError: ``steps`` < 1, ``tol`` is negative, or ``start`` is not a point of shape
            (2,).

    Example:
        >>> from ode_course.optim import SGD
        >>> run = descend(LANDSCAPES["rosenbrock"], SGD(lr=1e-3), steps=20_000)
        >>> run.iterations, bool(run.values[-1] <= 1e-3)
        (6543, True)
    """
    steps = _validate.integer(steps, "steps", fix="e.g. steps=1000")
    if tol is not None:
        tol = _validate.non_negative(tol, "tol", fix="e.g. tol=1e-3, or None to run all steps")
    if not isinstance(landscape, Landscape):
        _validate.fail(
            "landscape",
            "a Landscape",
            type(landscape).__name__,
            "pass one of LANDSCAPES, e.g. LANDSCAPES['rosenbrock']",
            TypeError,
        )
    if not callable(getattr(optimizer, "step", None)):
        _validate.fail(
            "optimizer",
            "an object with a step(params, grads) method",
            type(optimizer).__name__,
            "pass e.g. ode_course.optim.Adam(lr=0.1)",
            TypeError,
        )
    theta = landscape._point(landscape.start if start is None else start, "start").copy()
    path, values = [theta.copy()], [landscape.value(theta)]
    iterations, diverged = None, False
    if tol is not None and values[0] - landscape.f_min <= tol:
        iterations = 0
    f, grad = landscape.f, landscape.grad
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            if iterations is not None and tol is not None:
                break
            optimizer.step([theta], [grad(theta[0], theta[1])])
            value = float(f(theta[0], theta[1]))
            path.append(theta.copy())
            values.append(value)
            if not (np.all(np.isfinite(theta)) and np.isfinite(value) and value < 1e12):
                diverged = True
                break
            if tol is not None and value - landscape.f_min <= tol:
                iterations = k
    return Descent(np.array(path), np.array(values), iterations, diverged)

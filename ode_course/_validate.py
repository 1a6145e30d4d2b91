"""Argument checks shared by every public function: one vocabulary for bad input.

Each check returns the cleaned value or raises with a message of one shape,

    ``name`` must be <what it must be>; got <what it was>. Fix: <what to do>.

so that a learner reads which argument is wrong, why, and how to repair it, whichever function
they called. ``fix`` is the part a caller knows best ("pass e.g. step_size=0.01"); every check
has a sensible default. The checks never use ``assert`` (which ``python -O`` removes).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch


def fail(name: str, must: str, got: str, fix: str, error: type[Exception] = ValueError) -> None:
    """Raise ``error`` with the message ``name must be …; got …. Fix: …``."""
    raise error(f"{name} must be {must}; got {got}. Fix: {fix.rstrip('.')}.")


def _shown(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def integer(n: Any, name: str, *, minimum: int = 1, fix: str = "") -> int:
    """``n`` as an int ≥ ``minimum`` (bool is not an integer here)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        fail(
            name,
            f"an integer >= {minimum}",
            f"{type(n).__name__} {_shown(n)}",
            fix or f"pass a whole number such as {name}={max(minimum, 1)}",
            TypeError,
        )
    if n < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        fail(name, kind, f"{name}={n}", fix or f"pass {name}={max(minimum, 1)} or more")
    return int(n)


def real(x: Any, name: str, *, fix: str = "") -> float:
    """``x`` as a finite float (bool is not a number here)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        fail(
            name,
            "a real number",
            f"{type(x).__name__} {_shown(x)}",
            fix or f"pass a number such as {name}=0.1",
            TypeError,
        )
    value = float(x)
    if not math.isfinite(value):
        fail(name, "finite", f"{name}={value}", fix or f"pass a finite number for {name}")
    return value


def positive(x: Any, name: str, *, fix: str = "") -> float:
    """``x`` as a finite float > 0."""
    value = real(x, name, fix=fix)
    if value <= 0:
        fail(name, "positive", f"{name}={value:g}", fix or f"pass a positive {name}, e.g. 0.1")
    return value


def non_negative(x: Any, name: str, *, fix: str = "") -> float:
    """``x`` as a finite float ≥ 0."""
    value = real(x, name, fix=fix)
    if value < 0:
        fail(name, ">= 0", f"{name}={value:g}", fix or f"pass {name}=0 or a positive number")
    return value


def in_interval(
    x: Any, name: str, low: float, high: float, *, closed: str = "[)", fix: str = ""
) -> float:
    """``x`` as a float in the interval from ``low`` to ``high``; ``closed`` says which ends
    belong to it: ``"[]"``, ``"[)"``, ``"(]"`` or ``"()"``."""
    value = real(x, name, fix=fix)
    ok_low = value >= low if closed[0] == "[" else value > low
    ok_high = value <= high if closed[1] == "]" else value < high
    if not (ok_low and ok_high):
        interval = f"{closed[0]}{low:g}, {high:g}{closed[1]}"
        fail(name, f"in {interval}", f"{name}={value:g}", fix or f"pick {name} inside {interval}")
    return value


def one_of(value: Any, name: str, valid: Iterable[str], *, fix: str = "") -> str:
    """``value`` if it is one of the strings ``valid``."""
    options = list(valid)
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(v) for v in options)
        fail(name, f"one of {listed}", f"{name}={value!r}", fix or f"e.g. {name}={options[0]!r}")
    return value


def callable_(func: Any, name: str, *, fix: str = "") -> Any:
    """``func`` if it can be called."""
    if not callable(func):
        fail(
            name,
            "callable",
            f"{type(func).__name__} {_shown(func)}",
            fix or "pass a function or a torch.nn.Module",
            TypeError,
        )
    return func


def tensor(x: Any, name: str, *, floating: bool = False, fix: str = "") -> torch.Tensor:
    """``x`` if it is a torch.Tensor (of a floating-point dtype if ``floating``)."""
    if not isinstance(x, torch.Tensor):
        fail(
            name,
            "a torch.Tensor",
            type(x).__name__,
            fix or f"{name} = torch.tensor({name}, dtype=torch.float64)",
            TypeError,
        )
    if floating and not x.is_floating_point():
        fail(
            name,
            "of a floating-point dtype",
            str(x.dtype),
            fix or f"{name} = {name}.to(torch.float64) (or torch.float32)",
            TypeError,
        )
    return x


def finite(x: torch.Tensor | np.ndarray, name: str, *, fix: str = "") -> None:
    """Raise if ``x`` holds inf or nan (checked without recording autograd nodes)."""
    if isinstance(x, torch.Tensor):
        with torch.no_grad():
            ok = bool(torch.isfinite(x).all())
    else:
        ok = bool(np.all(np.isfinite(x)))
    if not ok:
        fail(name, "finite", "values that are inf or nan", fix or f"check how {name} was computed")


def strictly_monotone(
    times: Sequence[float], name: str, *, increasing_only: bool = False, fix: str = ""
) -> bool:
    """Raise unless ``times`` is strictly increasing (or, if allowed, strictly decreasing);
    return True if it increases. Names the first pair out of order."""
    times = list(times)
    if not all(math.isfinite(ti) for ti in times):
        fail(name, "finite", f"{name}={times}", fix or "remove inf/nan times")
    increasing = len(times) < 2 or times[1] > times[0]
    if increasing_only:
        increasing = True
    for i in range(1, len(times)):
        if (times[i] > times[i - 1]) != increasing or times[i] == times[i - 1]:
            order = (
                "strictly increasing" if increasing_only else "strictly increasing or decreasing"
            )
            fail(
                name,
                order,
                f"{name}[{i}]={times[i]:g} after {name}[{i - 1}]={times[i - 1]:g}",
                fix or "sort the times and drop repeats, e.g. torch.unique(t)",
            )
    return increasing


def shape(x: Any, name: str, must: str, ok: bool, *, fix: str) -> None:
    """Raise unless ``ok``: ``x``'s shape is not the ``must`` described."""
    if not ok:
        got = f"shape {tuple(x.shape)}" if hasattr(x, "shape") else type(x).__name__
        fail(name, must, got, fix)


def points(
    x: Any,
    name: str,
    *,
    dim: int | None = None,
    like: torch.Tensor | None = None,
    column: bool = False,
    fix: str = "",
) -> torch.Tensor:
    """``x`` as a tensor of N ≥ 1 finite points of dimension D, one per row: shape (N, D).

    The one contract for a set of points in the package. ``x`` may be a tensor, a numpy array
    or a nested list of real numbers. Floating-point values keep their dtype (a tensor keeps its
    autograd graph; a list of floats is read by numpy, as float64); integers become torch's
    default floating dtype. ``like``, where given, sets the dtype and device (a
    model's parameter: the data follow the model). ``dim`` fixes D; ``column=True`` reads a
    1-D input as N points of dimension 1.
    """
    if not isinstance(x, torch.Tensor):
        try:
            array = np.asarray(x)
            floating = np.issubdtype(array.dtype, np.floating)
            x = torch.as_tensor(array if floating else array.astype(np.float64))
        except (TypeError, ValueError):
            fail(
                name,
                "a tensor or array of shape (N, D) holding real numbers",
                f"{type(x).__name__} that numpy cannot read as numbers",
                f"pass numbers, e.g. {name} = torch.tensor(data, dtype=torch.float64)",
                TypeError,
            )
        if not floating:
            x = x.to(torch.get_default_dtype())
    if x.is_complex() or x.dtype == torch.bool:
        fail(
            name,
            "of a real dtype (it must hold real numbers)",
            f"dtype {x.dtype}",
            f"convert it, e.g. {name} = {name}.real.to(torch.float64)",
            TypeError,
        )
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    if column and x.ndim == 1:
        x = x[:, None]
    d = "D" if dim is None else str(dim)
    if x.ndim != 2 or x.shape[0] == 0 or (dim is not None and x.shape[1] != dim):
        if x.ndim == 1:
            how = f"reshape it: {name}[:, None] for 1-D points, {name}[None] for a single point"
        elif dim is not None and x.ndim == 2 and x.shape[0] > 0:
            how = f"pass points of dimension {dim}, or give the model dim={x.shape[1]}"
        else:
            how = f"reshape it, e.g. {name}.reshape(len({name}), -1), with at least one row"
        fail(
            name,
            f"of shape (N, {d}) with N >= 1, one row per point",
            f"shape {tuple(x.shape)}",
            fix or how,
        )
    with torch.no_grad():
        bad = ~torch.isfinite(x).all(dim=1)
        if bool(bad.any()):
            rows = torch.nonzero(bad).flatten()[:5].tolist()
            fail(
                name,
                "finite",
                f"rows {rows} holding nan or inf ({int(bad.sum())} rows in all)",
                f"drop them, e.g. {name} = {name}[torch.isfinite({name}).all(dim=1)]",
            )
    if like is not None:
        x = x.to(dtype=like.dtype, device=like.device)
    return x

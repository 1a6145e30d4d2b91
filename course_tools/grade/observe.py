"""Observe an answer in the student's sandbox; replay what it returned where no student code runs.

The trust boundary of the grader. The ``score`` step loads the student's answers (unpickling
runs student code, so it happens only in the student's sandbox), runs the chapter's check and
the randomised comparison on the grader's inputs, and :class:`Recorded` writes down what each
answer *returned*, as plain data (:func:`to_plain`: numbers, strings, arrays and tensors as
nested lists with their dtype and shape, tuples, lists, dicts). That record, JSON, is all that
crosses to the ``judge`` step, a fresh sandbox into which no student code is ever loaded: there
the same check and comparison run again, with the same seed and so on the same inputs, and
:class:`Replay` stands in for each answer, returning the recorded values in order
(:func:`from_plain` builds plain ``float``, ``ndarray`` and ``torch.Tensor`` objects, never a
subclass). The references are computed and the points given there.

So a submission that takes over its own scoring process (a ``__reduce__`` payload that writes
a verdict, patches ``builtins`` or the checks) forges nothing: its verdict is not read, and its
record must hold the right numbers for inputs it never saw.

Some checks need the live answer, not only its return values: they count how often it calls
back into the field they pass (``rk4_step``, the Euler sampler), follow its autograd graph or
its ``Value.backward``, or instantiate a class. Their exercises declare ``"replay": false`` in
their ``grade`` metadata and are judged in the scoring sandbox, as before; the guide says which.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ode_course.autodiff import Value

__all__: list[str] = []

MAX_ELEMENTS = 2_000_000  # numbers in one recorded value: more is not an answer to a check
_DTYPES = {
    "float64",
    "float32",
    "float16",
    "bfloat16",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "bool",
}


class Unobservable(Exception):
    """A value that is not plain data (a class, a module, a ``Value``, a subclass, a graph)."""


def to_plain(obj: Any, depth: int = 0, args: tuple[Any, ...] = ()) -> Any:
    """``obj`` as JSON-ready plain data (a dict naming its kind), or :class:`Unobservable`.

    Example:
        >>> to_plain((1, 2.5, "x"))
        {'tuple': [{'int': 1}, {'float': 2.5}, {'str': 'x'}]}
        >>> from_plain(to_plain(np.arange(3.0))).tolist()
        [0.0, 1.0, 2.0]
    """
    if depth > 20:
        raise Unobservable("nested too deep")
    kind = type(obj)
    if obj is None:
        return {"none": True}
    if kind is bool:
        return {"bool": obj}
    if kind is int:
        return {"int": obj} if abs(obj) < 2**63 else {"float": float(obj)}
    if kind is float:
        return {"float": obj}
    if kind is str:
        return {"str": obj[:10_000]}
    if kind in (tuple, list):
        return {kind.__name__: [to_plain(x, depth + 1, args) for x in obj]}
    if kind is dict and all(type(k) is str for k in obj):
        return {"dict": {k: to_plain(v, depth + 1, args) for k, v in obj.items()}}
    if kind is Value:
        return _value_graph(obj, args)
    if isinstance(obj, np.generic) and kind.__module__ == "numpy":
        return _array(np.asarray(obj), "scalar")
    if kind is np.ndarray:
        return _array(obj, "array")
    if kind in (torch.Tensor, torch.nn.Parameter):
        tensor = obj.detach()
        record = _array(
            tensor.to(torch.float64).numpy() if tensor.dtype == torch.bfloat16 else tensor.numpy(),
            "tensor",
        )
        record["dtype"] = str(tensor.dtype).removeprefix("torch.")
        record["grad"] = bool(obj.requires_grad)
        return record
    raise Unobservable(f"a {kind.__qualname__}")


MAX_NODES = 100_000


def _value_graph(root: Value, args: tuple[Any, ...]) -> dict[str, Any]:
    """A ``Value`` and the graph below it, as plain data: each node's ``data``, ``op``, parents
    (indices of earlier nodes) and local gradients; a leaf that is one of the call's arguments
    is recorded as that argument's position, so that the replayed graph reaches the judge's own
    input and ``backward`` fills in its ``grad``."""
    position = {id(a): k for k, a in enumerate(args) if type(a) is Value}
    order: list[Value] = []
    index: dict[int, int] = {}
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in index:
            continue
        if type(node) is not Value:
            raise Unobservable(f"a graph holding a {type(node).__qualname__}")
        if expanded or not node.parents or id(node) in position:
            index[id(node)] = len(order)
            order.append(node)
            if len(order) > MAX_NODES:
                raise Unobservable("a graph of more than 100,000 nodes")
            continue
        stack.append((node, True))
        stack.extend((p, False) for p in node.parents if id(p) not in index)
    nodes: list[dict[str, Any]] = []
    for node in order:
        if id(node) in position:
            nodes.append({"arg": position[id(node)]})
            continue
        data = [to_plain(node.data)] + [to_plain(g) for g in node.local_grads]
        nodes.append(
            {
                "data": data[0],
                "op": str(node.op)[:40],
                "parents": [index[id(p)] for p in node.parents],
                "local": data[1:],
            }
        )
    return {"value_graph": nodes}


def _value_from_graph(nodes: Any, args: tuple[Any, ...]) -> Value:
    if type(nodes) is not list or not nodes or len(nodes) > MAX_NODES:
        raise Unobservable("a malformed Value record")
    built: list[Value] = []
    for node in nodes:
        if not isinstance(node, dict):
            raise Unobservable("a malformed Value record")
        if "arg" in node:
            k = node["arg"]
            if type(k) is not int or not 0 <= k < len(args) or type(args[k]) is not Value:
                raise Unobservable("a Value record naming an argument that is not a Value")
            built.append(args[k])
            continue
        parents, local = node.get("parents"), node.get("local")
        if (
            type(parents) is not list
            or type(local) is not list
            or len(parents) != len(local)
            or not all(type(i) is int and 0 <= i < len(built) for i in parents)
        ):
            raise Unobservable("a malformed Value record")
        data = from_plain(node.get("data"))
        grads = [from_plain(g) for g in local]
        if not all(type(x) in (int, float) for x in [data, *grads]):
            raise Unobservable("a malformed Value record")
        try:
            built.append(
                Value.from_op(data, [built[i] for i in parents], grads, str(node.get("op", "")))
            )
        except (TypeError, ValueError) as exc:
            raise Unobservable(f"a Value the engine refuses ({exc})") from exc
    return built[-1]


def _array(array: np.ndarray, kind: str) -> dict[str, Any]:
    if array.dtype.name not in _DTYPES:
        raise Unobservable(f"an array of {array.dtype}")
    if array.size > MAX_ELEMENTS:
        raise Unobservable(f"an array of {array.size} numbers")
    return {kind: array.tolist(), "dtype": array.dtype.name, "shape": list(array.shape)}


def from_plain(data: Any, depth: int = 0, args: tuple[Any, ...] = ()) -> Any:
    """The plain object that :func:`to_plain` recorded; :class:`Unobservable` for anything
    else (the record is untrusted input: every field is checked).

    Example:
        >>> from_plain({"tensor": [1.0, 2.0], "dtype": "float64", "shape": [2], "grad": False})
        tensor([1., 2.], dtype=torch.float64)
    """
    if depth > 20 or not isinstance(data, dict) or not data:
        raise Unobservable("a malformed record")
    key = next(iter(data))
    value = data[key]
    if key == "none":
        return None
    if key == "bool" and type(value) is bool:
        return value
    if key == "int" and type(value) is int:
        return value
    if key == "float" and type(value) in (float, int):
        return float(value)
    if key == "str" and type(value) is str:
        return value
    if key in ("tuple", "list") and type(value) is list:
        items = [from_plain(x, depth + 1, args) for x in value]
        return tuple(items) if key == "tuple" else items
    if key == "dict" and type(value) is dict:
        return {str(k): from_plain(v, depth + 1, args) for k, v in value.items()}
    if key == "value_graph":
        return _value_from_graph(value, args)
    if key == "raised" and type(value) is str:
        raise _replayed_error(value, data.get("message"))
    if key in ("scalar", "array", "tensor"):
        dtype, shape = data.get("dtype"), data.get("shape")
        if dtype not in _DTYPES or not (
            type(shape) is list and all(type(n) is int and n >= 0 for n in shape)
        ):
            raise Unobservable("a malformed array record")
        size = math.prod(shape)
        if size > MAX_ELEMENTS:
            raise Unobservable("an array record too large")
        numpy_dtype = "float64" if dtype == "bfloat16" else dtype
        try:
            array = np.array(value, dtype=numpy_dtype).reshape(shape)
        except (ValueError, TypeError) as exc:
            raise Unobservable("a malformed array record") from exc
        if key == "scalar":
            return array[()]
        if key == "array":
            return array
        tensor = torch.from_numpy(array.copy()).to(getattr(torch, dtype))
        if data.get("grad") is True and tensor.is_floating_point():
            tensor.requires_grad_()
        return tensor
    raise Unobservable("a malformed record")


class Recorded:
    """The student's callable answer, writing down (as plain data) what each call returns.

    A call whose result is not plain data is recorded as unobservable: its replay fails, and
    the exercise scores 0 unless it is judged in the sandbox (``"replay": false``).
    """

    def __init__(self, fn: Callable[..., Any], calls: list[Any]) -> None:
        self.__wrapped__ = fn  # inspect.signature reads the student's signature through this
        self._calls = calls

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = self.__wrapped__(*args, **kwargs)
        except Exception as exc:  # replayed as the same exception, so the check reads the same
            self._calls.append({"raised": type(exc).__name__[:80], "message": str(exc)[:500]})
            raise
        try:
            self._calls.append(to_plain(result, args=args))
        except Unobservable as exc:
            self._calls.append({"unobservable": str(exc)})
        return result


def observe(
    answers: dict[str, Any], inputs: tuple[str, ...] = ()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answers to hand to the check (the learner's callables wrapped in :class:`Recorded`;
    the chapter's ``inputs`` as they are) and the record they fill in: per name,
    ``{"value": ...}`` for data, ``{"calls": [...], "params": [...]}`` for a function."""
    wrapped: dict[str, Any] = {}
    record: dict[str, Any] = {}
    for name, obj in answers.items():
        if callable(obj) and not isinstance(obj, type) and name not in inputs:
            try:
                params = [[p.name, p.kind.name] for p in inspect.signature(obj).parameters.values()]
            except (TypeError, ValueError):
                params = []
            record[name] = {"calls": [], "params": params}
            wrapped[name] = Recorded(obj, record[name]["calls"])
        else:
            wrapped[name] = obj
            try:
                record[name] = {"value": to_plain(obj)}
            except Unobservable as exc:
                record[name] = {"unobservable": str(exc)}
    return wrapped, record


class Replay:
    """A stand-in for a callable answer: returns the recorded results, in the recorded order."""

    def __init__(self, name: str, calls: list[Any], params: list[Any]) -> None:
        self._name, self._calls, self._index = name, calls, 0
        try:  # the student's parameter names and kinds: some checks read the signature
            self.__signature__ = inspect.Signature(
                [inspect.Parameter(str(n), getattr(inspect.Parameter, str(k))) for n, k in params]
            )
        except (AttributeError, TypeError, ValueError):
            self.__signature__ = inspect.Signature()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._index >= len(self._calls):
            raise Unobservable(f"{self._name} was called more often than when it was observed")
        data = self._calls[self._index]
        self._index += 1
        if isinstance(data, dict) and "unobservable" in data:
            raise Unobservable(f"{self._name} returned {data['unobservable']}, not plain data")
        return from_plain(data, args=args)


def _replayed_error(name: str, message: Any) -> Exception:
    """The exception the answer raised when observed: the built-in class of that name, else a
    plain ``Exception`` subclass that bears the name (no student class crosses over)."""
    import builtins

    text = message if isinstance(message, str) else ""
    found = getattr(builtins, name, None) if name.isidentifier() else None
    if isinstance(found, type) and issubclass(found, Exception):
        return found(text)
    return type(name if name.isidentifier() else "Error", (Exception,), {})(text)


def replayed(names: tuple[str, ...], record: Any) -> dict[str, Any]:
    """The answers rebuilt from ``record`` (see :func:`observe`): values and :class:`Replay`
    stand-ins; :class:`Unobservable` when the record lacks a name or is malformed."""
    if not isinstance(record, dict):
        raise Unobservable("no record of the answers")
    answers: dict[str, Any] = {}
    for name in names:
        entry = record.get(name)
        if not isinstance(entry, dict):
            raise Unobservable(f"no record of {name}")
        if "value" in entry:
            answers[name] = from_plain(entry["value"])
        elif isinstance(entry.get("calls"), list) and isinstance(entry.get("params", []), list):
            answers[name] = Replay(name, entry["calls"], entry.get("params", []))
        else:
            raise Unobservable(f"{name} is {entry.get('unobservable', 'not recorded')}")
    return answers

"""Measure the memory that torch tensors hold, on any device, CPU included.

``tracemalloc`` does not see torch's allocations (they bypass Python's allocator), and the
process's resident memory moves with the C allocator's caching, so neither measures what a
computation *needs*. :class:`TensorMemory` watches every tensor that a torch operation creates
(a ``TorchDispatchMode``: it sees the operations of the forward pass and of autograd's
backward pass alike), adds the size of each new storage when it appears and subtracts it when
the storage is freed. Its ``peak`` is the largest number of bytes held at once by tensors
created while it was active, which is what backpropagation's saved activations make grow.
:func:`activation_memory` counts those saved activations alone: the bytes that the graph of a
model's output keeps for the backward pass.

Example:
    >>> def two_buffers():
    ...     a = torch.zeros(1000, dtype=torch.float64)  # 8000 bytes
    ...     b = a + 1.0  # 8000 more, while a is alive
    ...     return b[:10]  # a view keeps all of b's storage alive
    >>> usage = TensorMemory()
    >>> with usage:
    ...     kept = two_buffers()
    >>> usage.peak, usage.current
    (16000, 8000)
    >>> peak_memory(lambda: torch.ones(250) * 2)  # the ones and their double: 2 × 1000 bytes
    2000
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from ode_course import _validate

__all__ = ["TensorMemory", "activation_memory", "peak_memory"]

OLDEST_TORCH = "2.2"
"""The oldest torch release on which these measurements hold (the package's declared floor).

On torch 2.0.1 and 2.1.2 the finalizer of a freed storage never runs, so ``current`` never
goes down, and Chapter 6 fails three of its checked cells; 2.2.2 passes them all."""


def _require_recent_torch() -> None:
    if torch.torch_version.TorchVersion(torch.__version__) < OLDEST_TORCH:
        raise RuntimeError(
            f"memory measurements need torch>={OLDEST_TORCH}; this is torch {torch.__version__}, "
            "whose freed storages are never reported. Fix: pip install -U torch."
        )


class TensorMemory(TorchDispatchMode):
    """A context manager that tracks the bytes held by tensors created inside it.

    Every storage created by a torch operation while the context is active is counted from its
    creation until it is freed (even if that happens after the context exits). Tensors that
    existed before are not counted, and views, reshapes and in-place operations add nothing,
    because they allocate nothing.

    Attributes:
        current: bytes held now by the tracked storages.
        peak: the largest value ``current`` reached while the context was active.

    Example:
        >>> with TensorMemory() as usage:
        ...     x = torch.empty(256, dtype=torch.float32)
        ...     del x
        ...     y = torch.empty(64, dtype=torch.float32)
        >>> usage.peak, usage.current  # 1024 bytes at most, 256 left
        (1024, 256)
    """

    def __init__(self) -> None:
        _require_recent_torch()
        super().__init__()
        self.current = 0
        self.peak = 0
        self._live: dict[int, int] = {}  # data pointer → bytes, for the storages still alive

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch wraps __torch_dispatch__ to keep torch.compile out of it, which imports
        # torch._dynamo (seconds) on first use; nothing here is compiled, so skip the wrapper
        return False

    def _free(self, key: int) -> None:
        self.current -= self._live.pop(key, 0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        outputs = (out,) if isinstance(out, torch.Tensor) else tree_flatten(out)[0]
        inputs = None  # the storages the operation read: a view or an in-place result is one
        for tensor in outputs:
            if not isinstance(tensor, torch.Tensor):
                continue
            storage = tensor.untyped_storage()
            if storage.data_ptr() in self._live:
                continue
            if inputs is None:
                inputs = {
                    x.untyped_storage().data_ptr()
                    for x in tree_flatten((args, kwargs))[0]
                    if isinstance(x, torch.Tensor)
                }
            if storage.data_ptr() not in inputs:
                self._track(storage)
        return out

    def _track(self, storage: torch.UntypedStorage) -> None:
        key, size = storage.data_ptr(), storage.nbytes()
        if size:
            self._live[key] = size
            self.current += size
            self.peak = max(self.peak, self.current)
            # torch keeps a storage's Python object alive as long as the storage itself, so
            # this runs when the memory is released
            weakref.finalize(storage, self._free, key)


def peak_memory(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """The peak bytes held at once by tensors that ``fn(*args, **kwargs)`` creates.

    Args:
        fn: the computation to measure, e.g. a forward and backward pass.
        *args, **kwargs: passed to ``fn``.

    Returns:
        The peak in bytes, measured by :class:`TensorMemory` (its result is discarded).

    Raises:
        TypeError: ``fn`` is not callable.

    Example:
        >>> peak_memory(torch.zeros, 1000, dtype=torch.float64)
        8000
    """
    _validate.callable_(
        fn, "fn", fix="pass the function, e.g. peak_memory(lambda: loss(model(x)).backward())"
    )
    with TensorMemory() as usage:
        fn(*args, **kwargs)
    return usage.peak


def activation_memory(model: nn.Module, *inputs: torch.Tensor) -> int:
    """Bytes that autograd keeps for the backward pass of ``model(*inputs)``, parameters excluded.

    Every tensor that an operation saves for its backward pass is recorded (with
    ``torch.autograd.graph.saved_tensors_hooks``); those that the graph of the output still
    holds at the end are counted, each distinct storage once and in full, and the model's
    parameters are left out. This is the memory a backward pass needs on top of the
    model itself: it grows with the number of layers of a ResNet, and with the number of
    function evaluations of an ODE block differentiated through its solver.

    Args:
        model: the module to run; its parameters should require grad.
        *inputs: its inputs.

    Returns:
        The number of bytes, which depends only on the shapes and dtypes involved.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.

    Example:
        >>> mlp = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
        >>> activation_memory(mlp, torch.zeros(10, 4))  # the input and the tanh output, float32
        480
    """
    if not isinstance(model, nn.Module):
        _validate.fail(
            "model",
            "a torch.nn.Module",
            type(model).__name__,
            "pass the network itself; to measure any function use peak_memory",
            TypeError,
        )
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    _require_recent_torch()
    packed: list[tuple[weakref.ref, int, int]] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        packed.append((weakref.ref(tensor), storage.data_ptr(), storage.nbytes()))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = model(*inputs)
    # Count what the graph of `out` still holds: a tensor saved by a node that was dropped
    # during the forward pass is gone (and its memory may have been reused by a later one).
    held = {ptr: nbytes for ref, ptr, nbytes in packed if ref() is not None}
    del out
    return sum(nbytes for ptr, nbytes in held.items() if ptr not in parameters)

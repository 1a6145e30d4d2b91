"""Detect an answer that is, wraps or calls a reference implementation.

Three tests, in the scoring process:

1. :func:`packaged_origin`: the answer object itself comes from ``ode_course`` (``rk4_step =
   some_package_function``, a ``functools.partial`` of one, an instance of a package class);
2. :func:`referenced` : a function of the answer holds a reference implementation among the
   globals or closure variables its code uses;
3. :class:`CallRecorder`: while the answer is graded, a profile hook (``sys.setprofile``) sees
   every Python call; a call to a reference's code with a frame of the learner's code below it
   on the stack is recorded. Because it compares code objects and files, not names, it sees
   the reference however it is reached: imported under another name, through a registry
   (``odeint(method="rk4")``), a subclass or a wrapper.

A reference is named ``"module"`` (every function defined in that module or package) or
``"module:qualname"`` (one function, or every method of one class).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import site
import sys
import sysconfig
import threading
import types
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import course_tools
import ode_course

__all__: list[str] = []

_PACKAGES = tuple(
    os.path.dirname(os.path.abspath(str(p.__file__))) for p in (ode_course, course_tools)
)


def _library_roots() -> tuple[str, ...]:
    roots = {*_PACKAGES, sys.prefix, sys.base_prefix, sys.exec_prefix}
    roots.update(sysconfig.get_paths().values())
    try:
        roots.update(site.getsitepackages())
    except AttributeError:  # some virtual environments lack it
        pass
    return tuple(sorted(os.path.abspath(r) for r in roots if r))


_LIBRARIES = _library_roots()


def is_learner_file(filename: str) -> bool:
    """True for code that no installed library holds: the notebook's cells (or an exec)."""
    if filename.startswith("<frozen") or filename.startswith("<built-in"):
        return False
    if filename.startswith("<"):
        return True  # "<string>", "<ipython-input-…>": code the learner compiled
    path = os.path.abspath(filename)
    return not any(path == root or path.startswith(root + os.sep) for root in _LIBRARIES)


def _codes_of(obj: Any) -> Iterator[types.CodeType]:
    """The code objects of a function, or of every function defined in a class's body."""
    if isinstance(obj, functools.partial):
        yield from _codes_of(obj.func)
    elif isinstance(obj, types.FunctionType):
        stack = [obj.__code__]
        while stack:
            code = stack.pop()
            yield code
            stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        inner = getattr(obj, "__wrapped__", None)  # a decorated function: its own code too
        if isinstance(inner, types.FunctionType) and inner is not obj:
            yield from _codes_of(inner)
    elif isinstance(obj, type):
        for value in vars(obj).values():
            target = value.__func__ if isinstance(value, staticmethod | classmethod) else value
            if isinstance(target, property):
                for part in (target.fget, target.fset, target.fdel):
                    if part is not None:
                        yield from _codes_of(part)
            elif isinstance(target, types.FunctionType):
                yield from _codes_of(target)


def resolve(name: str) -> tuple[set[types.CodeType], tuple[str, ...], list[Any]]:
    """The code objects, files and objects that the reference ``name`` stands for."""
    module_name, _, qualname = name.partition(":")
    module = importlib.import_module(module_name)
    if not qualname:
        files: list[str] = []
        if getattr(module, "__path__", None):  # a package: every file under it
            files = [os.path.abspath(p) + os.sep for p in module.__path__]
        elif getattr(module, "__file__", None):
            files = [os.path.abspath(str(module.__file__))]
        return set(), tuple(files), [module]
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return set(_codes_of(obj)), (), [obj]


def packaged_origin(obj: Any) -> str | None:
    """``"module.name"`` when ``obj`` (or what it wraps) is defined in ``ode_course``."""
    target = obj.func if isinstance(obj, functools.partial) else obj
    target = getattr(target, "__wrapped__", target)
    if isinstance(target, types.MethodType):
        target = target.__func__
    if isinstance(target, types.FunctionType | type | types.BuiltinFunctionType):
        module = getattr(target, "__module__", "") or ""
        label = f"{module}.{getattr(target, '__qualname__', '?')}"
    elif isinstance(target, int | float | complex | str | bytes | bool | type(None)):
        return None
    else:
        module = type(target).__module__ or ""
        label = f"an instance of {module}.{type(target).__qualname__}"
    return label if module == "ode_course" or module.startswith("ode_course.") else None


def _functions_in(obj: Any) -> Iterator[types.FunctionType]:
    if isinstance(obj, functools.partial):
        obj = obj.func
    if isinstance(obj, types.FunctionType):
        yield obj
    elif isinstance(obj, type):
        for value in vars(obj).values():
            target = value.__func__ if isinstance(value, staticmethod | classmethod) else value
            if isinstance(target, types.FunctionType):
                yield target


def referenced(obj: Any, forbidden: Iterable[Any], modules: Iterable[str] = ()) -> str | None:
    """The name of a forbidden object that a function of ``obj`` uses as a global or closure.

    ``forbidden`` are objects (functions, classes); ``modules`` are module names, everything
    defined in which is forbidden too (the module itself included).
    """
    banned = {id(x): x for x in forbidden}
    prefixes = tuple(modules)

    def inside(name: str) -> bool:
        return any(name == m or name.startswith(m + ".") for m in prefixes)

    for fn in _functions_in(obj):
        values: list[Any] = [fn.__globals__.get(n) for n in _names(fn.__code__)]
        values += [c.cell_contents for c in fn.__closure__ or () if _filled(c)]
        for value in values:
            label = getattr(value, "__qualname__", getattr(value, "__name__", None))
            if id(value) in banned:
                return str(label or repr(value))
            if isinstance(value, types.ModuleType) and inside(value.__name__):
                return value.__name__
            if isinstance(value, types.FunctionType | type) and inside(value.__module__ or ""):
                return f"{value.__module__}.{label}"
    return None


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


class CallRecorder:
    """A context manager that records calls of reference code made from the learner's code.

    Example:
        >>> from ode_course.checks.harness import close
        >>> with CallRecorder(["ode_course.checks.harness:close"]) as recorder:
        ...     _ = close(1.0, 1.0)  # a doctest is code that no library holds, like a notebook's
        >>> recorder.hits
        ['ode_course.checks.harness.close']
    """

    def __init__(self, references: Iterable[str]) -> None:
        self.codes: set[types.CodeType] = set()
        self.files: tuple[str, ...] = ()
        self.hits: list[str] = []
        self.tampered = False
        for name in references:
            codes, files, _ = resolve(name)
            self.codes |= codes
            self.files += files
        self._previous: Any = None

    def _forbidden(self, code: types.CodeType) -> bool:
        if code in self.codes:
            return True
        filename = os.path.abspath(code.co_filename)
        return any(
            filename == f or (f.endswith(os.sep) and filename.startswith(f)) for f in self.files
        )

    def _profile(self, frame: types.FrameType, event: str, arg: Any) -> None:
        if event != "call" or not self._forbidden(frame.f_code):
            return
        caller = frame.f_back
        while caller is not None:
            if is_learner_file(caller.f_code.co_filename):
                where = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
                module = frame.f_globals.get("__name__", "?")
                label = f"{module}.{where}"
                if label not in self.hits:
                    self.hits.append(label)
                return
            caller = caller.f_back

    def __enter__(self) -> CallRecorder:
        self._previous = sys.getprofile()
        sys.setprofile(self._profile)
        threading.setprofile(self._profile)
        return self

    def __exit__(self, *exc: object) -> None:
        if sys.getprofile() is not self._profile and sys.getprofile() != self._profile:
            self.tampered = True  # the learner's code switched the recording off
        sys.setprofile(self._previous)
        threading.setprofile(None)


def describe(obj: Any) -> str:
    """A short name for an answer object, for messages."""
    if inspect.isfunction(obj) or inspect.isclass(obj):
        return obj.__qualname__
    return type(obj).__name__


def _all_codes() -> set[types.CodeType]:
    """Every code object of every function and method of the modules loaded now."""
    codes: set[types.CodeType] = set()
    with warnings.catch_warnings():  # some libraries warn when a deprecated name is read
        warnings.simplefilter("ignore")
        for module in list(sys.modules.values()):
            codes |= _module_codes(module)
    return codes


def _module_codes(module: types.ModuleType) -> set[types.CodeType]:
    """The code objects of one module's functions and classes (nothing for an odd module)."""
    codes: set[types.CodeType] = set()
    try:
        values = list(vars(module).values())
    except TypeError:
        return codes
    for value in values:
        try:
            codes.update(_codes_of(value))
        except Exception:  # an odd attribute of some library: not ours to judge
            continue
    return codes


class ReferenceGuard:
    """Every reference function and method replaced, in the modules that hold it, by a wrapper
    that records a call made from anything but the grader and the libraries.

    The second way of seeing a reference used, beside :class:`CallRecorder`, and the one that
    the learner's code cannot switch off from inside: it is in place before the answers load,
    so an answer that refers to a reference by name gets the wrapper; it sees calls from any
    thread; and it tells the caller by its code object, not its file name (a wrapper compiled
    under a library's file name is still code that no library holds). A caller is the grader
    (``course_tools.grade``, ``ode_course.checks``), a library (any code object loaded before
    the answers: skipped, looking further down the stack), or the learner (anything else).
    """

    def __init__(self, references: Iterable[str]) -> None:
        self.hits: list[str] = []
        targets: dict[int, tuple[Any, str]] = {}
        for name in references:
            module_name, _, qualname = name.partition(":")
            module = importlib.import_module(module_name)
            for owner, attr, value in _reference_attributes(module, qualname):
                targets.setdefault(id(value), (value, f"{owner.__name__}.{attr}"))
        self._grader = {
            code
            for mod_name, mod in list(sys.modules.items())
            if mod_name.startswith(("course_tools.grade", "ode_course.checks"))
            for value in vars(mod).values()
            for code in _safe_codes(value)
        }
        self._known = _all_codes()
        self._restore: list[tuple[Any, str, Any]] = []
        wrappers = {key: self._wrap(value, label) for key, (value, label) in targets.items()}
        for mod_name, mod in list(sys.modules.items()):
            if not mod_name.startswith(("ode_course", "torchdiffeq")):
                continue
            for attr, value in list(vars(mod).items()):
                if id(value) in wrappers:
                    self._restore.append((mod, attr, value))
                    setattr(mod, attr, wrappers[id(value)])
        for key, (value, _) in targets.items():
            owner = getattr(value, "_guard_owner", None)
            if owner is not None:
                cls, attr, raw = owner
                self._restore.append((cls, attr, raw))
                setattr(cls, attr, wrappers[key])

    def _wrap(self, fn: Any, label: str) -> Any:
        guard = self

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            frame = sys._getframe(1)
            while frame is not None:
                code = frame.f_code
                if code in guard._grader:
                    break
                if code not in guard._known:
                    if label not in guard.hits:
                        guard.hits.append(label)
                    break
                frame = frame.f_back  # type: ignore[assignment]
            return fn(*args, **kwargs)

        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            try:
                setattr(wrapper, attr, getattr(fn, attr))
            except (AttributeError, TypeError):
                pass
        return wrapper

    def restore(self) -> None:
        """Put the originals back."""
        for owner, attr, value in reversed(self._restore):
            setattr(owner, attr, value)
        self._restore = []


def codes_of(obj: Any) -> list[types.CodeType]:
    """The code objects of a function or class (nested ones included); [] for anything else."""
    return list(_safe_codes(obj))


def functions_in(obj: Any) -> list[types.FunctionType]:
    """The functions of an answer: itself, or a class's methods."""
    return list(_functions_in(obj))


def reference_functions(module: types.ModuleType, qualname: str) -> list[tuple[Any, str, Any]]:
    """(owner, name, function) of every function and method a reference names."""
    return list(_reference_attributes(module, qualname))


def _safe_codes(value: Any) -> Iterator[types.CodeType]:
    try:
        yield from _codes_of(value)
    except Exception:
        return


def _reference_attributes(
    module: types.ModuleType, qualname: str
) -> Iterator[tuple[Any, str, Any]]:
    """(owner, attribute, function) of each function a reference names; methods are marked with
    their class (``_guard_owner``) so the guard can swap them on the class."""
    if qualname:
        parts = qualname.split(".")
        owner: Any = module
        for part in parts[:-1]:
            owner = getattr(owner, part)
        obj = getattr(owner, parts[-1])
        if isinstance(obj, type):
            yield from _methods(obj)
        elif isinstance(owner, type):
            yield from (m for m in _methods(owner) if m[1] == parts[-1])
        elif isinstance(obj, types.FunctionType):
            yield module, parts[-1], obj
        return
    modules = [module]
    if hasattr(module, "__path__"):
        prefix = module.__name__ + "."
        modules += [m for n, m in list(sys.modules.items()) if n.startswith(prefix)]
    for mod in modules:
        for attr, value in list(vars(mod).items()):
            if getattr(value, "__module__", None) != mod.__name__:
                continue
            if isinstance(value, types.FunctionType):
                yield mod, attr, value
            elif isinstance(value, type):
                yield from _methods(value)


def _methods(cls: type) -> Iterator[tuple[Any, str, Any]]:
    for attr, raw in list(vars(cls).items()):
        if isinstance(raw, types.FunctionType) and not (
            attr.startswith("__") and attr not in ("__init__", "__call__")
        ):
            fn = raw
        else:
            continue
        try:
            fn._guard_owner = (cls, attr, raw)  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            continue
        yield cls, attr, fn

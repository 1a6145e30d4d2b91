"""What the grader reads in a submission's source, as text, outside any sandbox.

The code cells of a notebook are data: the grader parses them (``ast``, ``tokenize``) and never
runs them here. Two findings:

- :func:`copies`: an answer whose definition is a copy of a reference implementation, by the
  similarity of their token streams once names, strings and numbers are made anonymous and
  comments and docstrings dropped (``difflib``'s ratio; :data:`SIMILAR` and above is a copy).
  Renaming the variables, reordering a few lines or wrapping the copy in another function
  does not hide it; the course's own worked solutions stay far below the threshold (a test
  checks every one of them against every reference).
- :func:`constructs`: uses of what no exercise of this course needs and every route around the
  grader does: reading source code back (``inspect.getsource``), running text as code
  (``exec``, ``eval``, ``compile``), tracing and profiling hooks, threads and processes,
  ``ctypes``, pickling hooks (``__reduce__``), the interpreter's own tables (``gc``,
  ``sys.modules``, ``builtins``). Each is reported with its cell for the instructor to read;
  none changes the points by itself.
"""

from __future__ import annotations

import ast
import difflib
import functools
import importlib
import inspect
import io
import keyword
import pkgutil
import re
import textwrap
import tokenize
import types
from collections.abc import Iterable
from typing import Any

__all__: list[str] = []

SIMILAR = 0.95
"""The similarity (difflib ratio of anonymised token streams) from which an answer is a copy."""
_MIN_TOKENS = 25  # shorter definitions (one formula) are alike by necessity, never copies

_SUSPICIOUS = {
    "getsource": "reads source code back (inspect.getsource)",
    "getsourcelines": "reads source code back (inspect.getsourcelines)",
    "getsourcefile": "looks up source files (inspect.getsourcefile)",
    "exec": "runs text as code (exec)",
    "eval": "runs text as code (eval)",
    "compile": "compiles text to code (compile)",
    "setprofile": "installs a profiling hook (setprofile)",
    "settrace": "installs a tracing hook (settrace)",
    "ThreadPoolExecutor": "runs code in other threads (ThreadPoolExecutor)",
    "ProcessPoolExecutor": "runs code in other processes (ProcessPoolExecutor)",
    "Thread": "starts a thread",
    "fork": "forks the process",
    "subprocess": "starts programs (subprocess)",
    "system": "starts programs (os.system)",
    "ctypes": "reaches memory directly (ctypes)",
    "__reduce__": "defines a pickling hook (__reduce__)",
    "__reduce_ex__": "defines a pickling hook (__reduce_ex__)",
    "__setstate__": "defines a pickling hook (__setstate__)",
    "get_objects": "searches the interpreter's objects (gc.get_objects)",
    "get_referrers": "searches the interpreter's objects (gc.get_referrers)",
    "builtins": "changes or reads the builtins",
    "__builtins__": "changes or reads the builtins",
    "__code__": "swaps or reads a function's code object",
    "__import__": "imports by a computed name (__import__)",
    "import_module": "imports by a computed name (importlib)",
    "socket": "opens network connections (socket)",
}
_BARE_ONLY = {"exec", "eval", "compile"}  # as attributes these are other things
_MODULES = {"ctypes", "subprocess", "socket", "multiprocessing", "threading", "gc", "builtins"}


def code_cells(notebook: dict[str, Any]) -> list[tuple[int, str]]:
    """(cell index, source) of every code cell, IPython's ``%``/``!`` lines blanked."""
    cells = notebook.get("cells")
    found = []
    for i, cell in enumerate(cells if isinstance(cells, list) else []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(s for s in src if isinstance(s, str)) if isinstance(src, list) else src
        if isinstance(src, str):
            found.append((i, re.sub(r"^\s*[%!].*$", "", src, flags=re.M)))
    return found


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def tokens(source: str) -> list[str]:
    """The token stream of ``source`` with names, strings and numbers anonymised, comments and
    docstrings dropped: what two copies of one function share however they are renamed."""
    tree = _parse(textwrap.dedent(source))
    if tree is None:
        return []
    for node in ast.walk(tree):  # drop docstrings
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body[0] = ast.Pass()
    out: list[str] = []
    try:
        stream = tokenize.generate_tokens(io.StringIO(ast.unparse(tree)).readline)
        for tok in stream:
            if tok.type == tokenize.NAME:
                out.append(tok.string if keyword.iskeyword(tok.string) else "ID")
            elif tok.type == tokenize.STRING:
                out.append("STR")
            elif tok.type == tokenize.NUMBER:
                out.append("NUM")
            elif tok.type == tokenize.OP:
                out.append(tok.string)
    except (tokenize.TokenError, SyntaxError):
        return []
    return out


def similarity(a: list[str], b: list[str]) -> float:
    """difflib's ratio of two token streams (1: the same)."""
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def definitions(notebook: dict[str, Any], names: Iterable[str]) -> dict[str, str]:
    """The last top-level definition (``def``, ``class`` or assignment) of each name, as text."""
    wanted, found = set(names), {}
    for _, source in code_cells(notebook):
        tree = _parse(source)
        if tree is None:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                targets = [node.name]
            elif isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            else:
                continue
            for name in targets:
                if name in wanted:
                    found[name] = ast.get_source_segment(source, node) or ""
    return found


@functools.cache
def reference_tokens(reference: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(name, tokens) of each function and class a reference names (of the course's package
    only; a third-party library is not compared)."""
    module_name, _, qualname = reference.partition(":")
    if not module_name.startswith("ode_course"):
        return ()
    module = importlib.import_module(module_name)
    objects: list[tuple[str, Any]] = []
    if qualname:
        obj: Any = module
        for part in qualname.split("."):
            obj = getattr(obj, part)
        objects.append((reference, obj))
    else:
        modules = [module]
        if hasattr(module, "__path__"):
            for info in pkgutil.walk_packages(module.__path__, module.__name__ + "."):
                modules.append(importlib.import_module(info.name))
        for mod in modules:
            for name, value in vars(mod).items():
                if (
                    isinstance(value, types.FunctionType | type)
                    and value.__module__ == mod.__name__
                ):
                    objects.append((f"{mod.__name__}:{name}", value))
    found = []
    for name, obj in objects:
        parts = [obj]
        if isinstance(obj, type):  # each method on its own, and the class as a whole
            parts += [v for v in vars(obj).values() if isinstance(v, types.FunctionType)]
        for part in parts:
            try:
                text = inspect.getsource(part)
            except (OSError, TypeError):
                continue
            stream = tokens(text)
            if len(stream) >= _MIN_TOKENS:
                found.append(
                    (f"{name}" if part is obj else f"{name}.{part.__name__}", tuple(stream))
                )
    return tuple(found)


def copies(
    notebook: dict[str, Any], answers: Iterable[str], references: Iterable[str]
) -> tuple[str, str, float] | None:
    """(answer name, reference name, similarity) of the closest copy at or above
    :data:`SIMILAR`, or None."""
    best: tuple[str, str, float] | None = None
    refs = [r for ref in references for r in reference_tokens(ref)]
    for name, text in definitions(notebook, answers).items():
        mine = tokens(text)
        if len(mine) < _MIN_TOKENS:
            continue
        for ref_name, ref in refs:
            # a copy inside a longer answer: compare with the answer's best-matching window too
            score = similarity(mine, list(ref))
            if score >= SIMILAR and (best is None or score > best[2]):
                best = (name, ref_name, score)
    return best


def constructs(notebook: dict[str, Any], course: dict[str, Any] | None = None) -> list[str]:
    """Where the submission uses what :data:`_SUSPICIOUS` lists, ``"cell 12: runs text as code
    (exec)"``, leaving out what the course's own notebook ``course`` uses too."""
    allowed = {f.partition(": ")[2] for f in constructs(course)} if course is not None else set()
    found: list[str] = []
    for index, source in code_cells(notebook):
        tree = _parse(source)
        if tree is None:
            continue
        seen: set[str] = set()
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Name):
                names.append(node.id)
            elif isinstance(node, ast.Attribute) and node.attr not in _BARE_ONLY:
                names.append(node.attr)  # model.eval() and re.compile are not eval and compile
            elif isinstance(node, ast.FunctionDef):
                names.append(node.name)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                module = getattr(node, "module", None) or ""
                names += [module.split(".")[0]] + [a.name.split(".")[0] for a in node.names]
                names += [a.name for a in node.names]
            for name in names:
                what = _SUSPICIOUS.get(name) or (
                    f"imports {name}"
                    if name in _MODULES and isinstance(node, ast.Import | ast.ImportFrom)
                    else None
                )
                if what and what not in seen and what not in allowed:
                    seen.add(what)
                    found.append(f"cell {index}: {what}")
    return found

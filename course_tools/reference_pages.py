"""Write the book's "Package reference" pages (book/reference/) from the package itself.

It also keeps the **Package reference.** paragraph of each notebook's first cell current: links
to the pages of the modules whose names the chapter imports.

One page per module of ``ode_course``, in the order of the chapters; a package (``solvers``,
``cnf``, ``data``, ``autodiff``, ``checks``) gets one section per concept file. Each page holds
Sphinx autodoc directives (rendered with Napoleon, for our Google-style docstrings) for every
name in the module's ``__all__``, in the order the source defines them, so the reference is the
docstrings, never a copy of them. ``tests/test_reference.py`` fails when the committed pages
differ from what this script writes, or when a name of ``ode_course.__all__`` has no entry.

Usage::

    python course_tools/reference_pages.py           # rewrite book/reference/*.md
    python course_tools/reference_pages.py --check   # exit 1 if they are out of date
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import itertools
import pkgutil
import re
import sys
from pathlib import Path
from types import ModuleType

from course_tools import course, notebook

ROOT = course.root()
OUT = ROOT / "book" / "reference"
NOTEBOOKS = ROOT / "notebooks"
LINKS_LABEL = "**Package reference.**"

# (module, what it is, the chapter that teaches it), in the order of the chapters.
PAGES: list[tuple[str, str, str]] = [
    ("autodiff", "reverse-mode autodiff, a scalar MLP, gradient checking", "Chapter 1"),
    ("mlp", "a numpy MLP with hand-written backward passes", "Chapter 2"),
    ("optim", "optimizers and learning-rate schedules", "Chapter 3"),
    ("landscapes", "test functions for optimizers", "Chapters 3 and 4"),
    ("gradient_flow", "training as an ODE", "Chapter 4"),
    ("solvers", "ODE solvers from scratch", "Chapter 5"),
    ("models", "ResNets and Neural ODEs", "Chapter 5"),
    ("adjoint", "gradients by the adjoint method", "Chapter 6"),
    ("memory", "the memory held by tensors", "Chapter 6"),
    ("backends", "who solves the ODE inside a model", "Chapters 5 to 8"),
    ("cnf", "continuous normalizing flows", "Chapter 7"),
    ("latent", "latent ODEs for irregular time series", "Chapter 8"),
    ("flow_matching", "flow matching", "Chapter 9"),
    ("diffusion", "diffusion models", "Chapter 10"),
    ("regularisation", "neural ODEs that stay cheap to solve", "Chapter 11"),
    ("data", "datasets", "Chapters 2 to 9"),
    ("history", "what every trainer returns", "Chapters 2 to 9"),
    ("plotting", "shared figures", "Chapters 1 to 9"),
    ("checks", "the exercise checks", "every chapter"),
    ("seeding", "reproducible runs", "every chapter"),
]
# The instructors' and maintainers' package, documented after the learners' one:
# (module, what it is, page file name).
TOOL_PAGES: list[tuple[str, str, str]] = [
    ("course_tools", "the command line, and where the course is", "course_tools"),
    ("course_tools.editions", "student editions and the answer key", "editions"),
    ("course_tools.grade", "grading submitted notebooks", "grade"),
    ("course_tools.gradescope", "a Gradescope autograder for a chapter", "gradescope"),
]
# Constants found without a docstring (a string right after the assignment): an error.
UNDOCUMENTED: list[str] = []


def title(name: str, what: str) -> str:
    return f"{name if '.' in name or name == 'course_tools' else 'ode_course.' + name}: {what}"


def _definition_lines(module: ModuleType) -> dict[str, int]:
    """The line at which the module's source defines (or assigns) each top-level name."""
    tree = ast.parse(inspect.getsource(module))
    lines: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            lines.setdefault(node.name, node.lineno)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    lines.setdefault(target.id, node.lineno)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            lines.setdefault(node.target.id, node.lineno)
    return lines


def _data_docstrings(module: ModuleType) -> dict[str, str]:
    """The docstrings of top-level assignments: the string right after ``NAME = …``."""
    body = ast.parse(inspect.getsource(module)).body
    docs: dict[str, str] = {}
    for node, after in itertools.pairwise(body):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        doc = (
            after.value.value
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
            else None
        )
        for target in targets:
            if isinstance(target, ast.Name) and isinstance(doc, str):
                docs[target.id] = inspect.cleandoc(doc)
    return docs


def _directive(module: ModuleType, value: object, name: str) -> list[str]:
    if inspect.isclass(value):
        if issubclass(value, BaseException):
            return [f".. autoexception:: {name}"]
        return [f".. autoclass:: {name}", "   :members:"]
    if inspect.isfunction(value):
        return [f".. autofunction:: {name}"]
    # A constant: autodoc finds the docstring of an assignment only in the module that makes it,
    # not in the package that re-exports it, so the page carries it (regenerated, never edited).
    doc = _data_docstrings(module).get(name)
    if doc is None:
        UNDOCUMENTED.append(f"{module.__name__}.{name}")
        doc = ""
    short = isinstance(value, str | int | float | tuple) and len(repr(value)) <= 120
    lines = [f".. py:data:: {name}"] + ([f"   :value: {value!r}"] if short else [])
    return lines + [""] + [f"   {line}".rstrip() for line in doc.splitlines()]


def _entries(module: ModuleType, current: str) -> list[str]:
    """autodoc directives for ``module.__all__``, in source order, under ``current``."""
    lines = _definition_lines(module)
    names = sorted(module.__all__, key=lambda n: (lines.get(n, 10**9), n))
    block = [f".. currentmodule:: {current}", ""]
    for name in names:
        block += [*_directive(module, getattr(module, name), name), ""]
    return block


def _submodules(package: ModuleType) -> list[ModuleType]:
    """A package's public submodules, in the order its docstring names them."""
    names = [m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]
    doc = package.__doc__ or ""

    def position(name: str) -> int:
        found = doc.find(f"{name}.py")
        return found if found >= 0 else len(doc)

    return [importlib.import_module(f"{package.__name__}.{n}") for n in sorted(names, key=position)]


def _eval_rst(lines: list[str]) -> list[str]:
    return ["```{eval-rst}", *lines, "```", ""]


def page(name: str, what: str, chapter: str) -> str:
    """The page of ``ode_course.NAME``, or of the tooling module ``course_tools…``."""
    tooling = name.split(".")[0] == "course_tools"
    module = importlib.import_module(name if tooling else f"ode_course.{name}")
    audience = "For instructors and maintainers (the `instructor` extra)." if tooling else None
    text = [f"# {title(name, what)}", "", audience or f"Taught in {chapter}.", ""]
    text += _eval_rst([f".. automodule:: {module.__name__}", "   :no-members:"])
    if not hasattr(module, "__path__") or name == "course_tools":
        if name == "course_tools":  # the package's own names are its course module's
            module = importlib.import_module("course_tools.course")
        return "\n".join(text + _eval_rst(_entries(module, module.__name__))).rstrip() + "\n"
    for sub in _submodules(module):
        heading = (sub.__doc__ or sub.__name__).strip().splitlines()[0].rstrip(".")
        path = sub.__name__.replace(".", "/") + ".py"
        text += [f"## {heading}", "", f"Source: `{path}`.", ""]
        current = [n for n in sub.__all__ if n not in module.__all__]
        if current:
            raise SystemExit(f"{sub.__name__} exports {current}, which {name} does not re-export")
        text += _eval_rst(
            [
                f".. automodule:: {sub.__name__}",
                "   :no-members:",
                "",
                *_entries(sub, module.__name__),
            ]
        )
    return "\n".join(text).rstrip() + "\n"


def index() -> str:
    rows = "\n".join(
        f"| [`ode_course.{name}`]({name}.md) | {what} | {chapter} |"
        for name, what, chapter in PAGES
    )
    tools = "\n".join(f"| [`{name}`]({page}.md) | {what} |" for name, what, page in TOOL_PAGES)
    return f"""# Package reference

Everything a chapter imports comes from `ode_course`, the course's own package. These pages are
generated from its docstrings: each function, class and constant with what it computes (the
maths), its arguments, what it returns, what it raises for bad input and how to fix it, and
an example that runs (the examples are tested). Every public name is also importable from the
top level, `from ode_course import odeint`, as the chapters do.

| module | what it holds | taught in |
| --- | --- | --- |
{rows}

Arguments are checked the same way everywhere: a wrong one raises an error that names the
argument, says what it must be and what it got, and how to fix it.

## For instructors and maintainers

`course_tools` lives beside `ode_course` in the same repository. A learner never imports it,
and a plain install brings none of its dependencies. It needs the `instructor` extra
(`pip install -e ".[instructor]"` in a checkout). It works on a checkout of the course:
`python -m course_tools [--root PATH] COMMAND`.

| module | what it holds |
| --- | --- |
{tools}
"""


def _owner(name: str) -> str | None:
    """The page (module) that documents the top-level name ``name``."""
    for module, _, _ in PAGES:
        if name in importlib.import_module(f"ode_course.{module}").__all__:
            return module
    return None


def chapter_modules(cells: list[dict]) -> list[str]:
    """The pages of the modules whose names a notebook's code cells import, in PAGES order."""
    pages = {module for module, _, _ in PAGES}
    used: set[str] = set()
    for node in notebook.imports(cells):
        if isinstance(node, ast.ImportFrom) and node.module == "ode_course":
            for alias in node.names:
                owner = alias.name if alias.name in pages else _owner(alias.name)
                if owner:
                    used.add(owner)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ode_course."):
            used.add((node.module or "").split(".")[1])
    return [module for module, _, _ in PAGES if module in used]


def links_paragraph(modules: list[str]) -> str:
    links = [f"[`ode_course.{m}`](../book/reference/{m}.md)" for m in modules]
    listed = links[0] if len(links) == 1 else ", ".join(links[:-1]) + " and " + links[-1]
    return f"{LINKS_LABEL} What this chapter imports is documented in {listed}."


def notebook_with_links(path: Path) -> str:
    """The text of the notebook at ``path`` with its first cell's reference paragraph current.

    The paragraph goes right before the **Time.** paragraph (or replaces an older one).
    """
    nb = notebook.read(path)
    first = nb["cells"][0]
    text = "".join(first["source"])
    paragraph = links_paragraph(chapter_modules(nb["cells"]))
    pattern = re.compile(re.escape(LINKS_LABEL) + r".*?(?=\n\n|\Z)", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: paragraph, text, count=1)
    elif "\n**Time.**" in text:
        text = text.replace("\n**Time.**", f"\n{paragraph}\n\n**Time.**", 1)
    else:
        text = text.rstrip("\n") + f"\n\n{paragraph}"
    lines = text.splitlines(keepends=True)
    first["source"] = "".join(lines)
    return notebook.dumps(nb)


def pages() -> dict[Path, str]:
    written = {OUT / "index.md": index()}
    for name, what, chapter in PAGES:
        written[OUT / f"{name}.md"] = page(name, what, chapter)
    for name, what, filename in TOOL_PAGES:
        written[OUT / f"{filename}.md"] = page(name, what, "")
    for path in course.chapters(ROOT):
        written[path] = notebook_with_links(path)
    if UNDOCUMENTED:
        raise SystemExit(
            "document these constants in a string right after each assignment: "
            + ", ".join(UNDOCUMENTED)
        )
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools reference",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--check", action="store_true", help="only check they are up to date")
    args = parser.parse_args(argv)
    wanted = pages()
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text("utf-8") != text]
    extra = [p for p in OUT.glob("*.md") if p not in wanted]  # a page of a removed module
    if args.check:
        for p in stale + extra:
            print(f"out of date: {p.relative_to(ROOT)}")
        if stale or extra:
            print("run: python -m course_tools reference")
        return 1 if stale or extra else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for p in extra:
        p.unlink()
    for p, text in wanted.items():
        p.write_text(text, encoding="utf-8")
    print(f"wrote {len(wanted)} files: the pages in {OUT.relative_to(ROOT)}, the notebooks' links")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The book's package reference: generated from the package, complete, linked from the chapters."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import ode_course
from course_tools import reference_pages

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from plain_docstrings import escape_line, escape_lines  # noqa: E402

REFERENCE = ROOT / "book" / "reference"
DIRECTIVE = re.compile(r"^\.\. (?:auto(?:class|function|exception)|py:data):: (\w+)$", re.M)


def test_the_committed_pages_and_links_are_what_the_generator_writes():
    run = subprocess.run(
        [sys.executable, "-m", "course_tools", "reference", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_public_name_has_exactly_one_entry():
    tools = {f"{page}.md" for _, _, page in reference_pages.TOOL_PAGES}
    entries = [
        name
        for page in REFERENCE.glob("*.md")
        if page.name not in tools
        for name in DIRECTIVE.findall(page.read_text())
    ]
    documented = {n for module in ode_course.PUBLIC_MODULES for n in module.__all__}
    assert sorted(entries) == sorted(documented)


def test_the_tooling_pages_document_every_public_name_of_their_modules():
    for name, _, page in reference_pages.TOOL_PAGES:
        module = importlib.import_module("course_tools.course" if name == "course_tools" else name)
        documented = DIRECTIVE.findall((REFERENCE / f"{page}.md").read_text())
        assert sorted(documented) == sorted(module.__all__), name


def test_every_reference_page_is_in_the_table_of_contents_so_the_browser_check_opens_it():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    part = next(p for p in toc["parts"] if p["caption"] == "Package reference")
    listed = [chapter["file"] for chapter in part["chapters"]]
    pages = ["book/reference/index"] + [
        f"book/reference/{m}"
        for m in [m for m, _, _ in reference_pages.PAGES]
        + [page for _, _, page in reference_pages.TOOL_PAGES]
    ]
    assert listed == pages
    assert sorted(f"book/reference/{p.stem}" for p in REFERENCE.glob("*.md")) == sorted(pages)


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_each_chapters_first_cell_links_the_pages_of_the_modules_it_imports(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    first = "".join(cells[0]["source"])
    modules = reference_pages.chapter_modules(cells)
    assert modules, f"{path.name} imports nothing from ode_course?"
    for module in modules:
        assert f"](../book/reference/{module}.md)" in first, (path.name, module)


def test_chapter_modules_reads_imports_from_the_package_and_its_modules():
    cells = [
        {"cell_type": "code", "source": ["%pip install x\n", "from ode_course import odeint, CNF"]},
        {"cell_type": "code", "source": ["from ode_course.autodiff import ScalarMLP\n"]},
        {"cell_type": "code", "source": ["from ode_course import adjoint as adjoint_module"]},
        {"cell_type": "markdown", "source": ["from ode_course.latent import LatentODE"]},
    ]
    assert reference_pages.chapter_modules(cells) == ["autodiff", "solvers", "adjoint", "cnf"]


@pytest.mark.parametrize(
    ("line", "escaped"),
    [
        ("log |det ∂z/∂x| and ``|x|``", r"log \|det ∂z/∂x\| and ``|x|``"),
        ("minimum f* at (x*, y*)", r"minimum f\* at (x\*, y\*)"),
        ("a method *is* its tableau, **always**", "a method *is* its tableau, **always**"),
        ("*args, **kwargs: passed on", r"\*args, \*\*kwargs: passed on"),
        (
            ":param \\*args: see :func:`~ode_course.odeint`",
            ":param \\*args: see :func:`~ode_course.odeint`",
        ),
    ],
)
def test_docstrings_keep_their_bars_and_stars_as_text(line, escaped):
    assert escape_line(line) == escaped


def test_doctest_and_literal_blocks_are_left_alone():
    lines = [">>> abs(-1) | 0", "1", "", "a | b", "Example::", "", "    x | y", "after |"]
    assert escape_lines(lines) == [
        ">>> abs(-1) | 0",
        "1",
        "",
        r"a \| b",
        "Example::",
        "",
        "    x | y",
        r"after \|",
    ]

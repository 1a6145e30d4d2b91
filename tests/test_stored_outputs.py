"""Stored outputs that nbval compares must not contain round-off printed as data.

A quantity at round-off level (a relative error of 3e-16, a gap of 1e-15 between two solvers)
changes its digits with the CPU, the BLAS build and the thread count, so a checked cell that
prints it fails on the next machine. Such a cell asserts a bound and prints the bound ("below
1e-12"), never the digits. This test reads every code cell whose output nbval compares and fails
on any number whose magnitude is below 1e-10, except

- a number printed as a bound, right after ``<``, ``≤``, ``<=``, "below", "under", "within"
  or "at most";
- the entries of ``ALLOWED`` below, each a deliberate small number with the reason it is stable.

See CONTRIBUTING.md for the rule and for what to do instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
THRESHOLD = 1e-10

# (notebook, code-cell index as nbval numbers it, the number as printed): why it may be printed.
ALLOWED: dict[tuple[str, int, str], str] = {
    # Chapter 5's tolerance sweep prints the tolerances it asks for (inputs, not results) ...
    ("05_neural_ode.ipynb", 11, "1e-11"): "a requested tolerance, an input",
    # ... and the global error they produce, which follows the tolerance (2.3e-11 at 1e-11), far
    # above round-off (the solution is of order 1, so round-off is near 1e-15).
    ("05_neural_ode.ipynb", 11, "2.3e-11"): "a truncation error of order tol, not round-off",
}

_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")
_BOUND = re.compile(r"(?:<|≤|<=|\bbelow|\bunder|\bwithin|\bat most)\s*$", re.I)
_TEXT_KEYS = ("text/plain", "text/html", "text/markdown", "text/latex")


def ignored(cell: nbformat.NotebookNode) -> bool:
    """True if nbval does not compare this cell's output (a tag, or the legacy comment)."""
    tags = cell.get("metadata", {}).get("tags", [])
    return (
        "nbval-ignore-output" in tags
        or "nbval-skip" in tags
        or "NBVAL_IGNORE_OUTPUT" in cell.source
        or "NBVAL_SKIP" in cell.source
    )


def printed_text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        for key in _TEXT_KEYS:
            if key in out.get("data", {}):
                parts.append(out["data"][key])
    return "".join(parts)


def tiny_numbers(text: str) -> list[str]:
    """The numbers in ``text`` with 0 < |x| < 1e-10 that are not printed as bounds."""
    found = []
    for match in _NUMBER.finditer(text):
        value = float(match.group())
        if 0 < abs(value) < THRESHOLD and not _BOUND.search(text[: match.start()]):
            found.append(match.group())
    return found


def offending(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    problems = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    for index, cell in enumerate(code):
        if ignored(cell):
            continue
        for number in tiny_numbers(printed_text(cell)):
            if (path.name, index, number) not in ALLOWED:
                problems.append(f"{path.name} Cell {index}: prints {number}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_round_off_printed_in_checked_cells(path):
    problems = offending(path)
    assert not problems, (
        "round-off printed as data in a checked cell; assert a bound and print the bound "
        "(see CONTRIBUTING.md):\n" + "\n".join(problems)
    )


def test_every_allowed_entry_is_still_printed():
    """A stale allow-list entry would silently allow the number somewhere else later."""
    for name, index, number in ALLOWED:
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        cell = [c for c in nb.cells if c.cell_type == "code"][index]
        assert number in tiny_numbers(printed_text(cell)), (name, index, number)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("relative errors 3e-16 2e-16", ["3e-16", "2e-16"]),
        ("gap 1.3e-15, error 2.6e-04", ["1.3e-15"]),
        ("largest relative error below 1e-12", []),
        ("max |a - b| < 1e-13 and at most 5e-14", []),
        ("the two forms agree within 1e-12", []),
        ("loss 1.6087650873, step 0.0400, 1e-10 exactly", []),
        ("0.00000000003 is tiny too", ["0.00000000003"]),
        ("exactly 0 and 0.0e+00", []),
        ("name_1e-16 is an identifier", []),
    ],
)
def test_tiny_numbers_finds_round_off_but_not_bounds(text, expected):
    assert tiny_numbers(text) == expected


def test_ignored_cells_are_not_scanned(tmp_path):
    nb = nbformat.v4.new_notebook()
    printed = [nbformat.v4.new_output("stream", name="stdout", text="error 4e-16\n")]
    checked = nbformat.v4.new_code_cell("print(err)", outputs=printed)
    tagged = nbformat.v4.new_code_cell("print(err)", outputs=printed)
    tagged.metadata["tags"] = ["nbval-ignore-output"]
    nb.cells = [checked, tagged]
    path = tmp_path / "scratch.ipynb"
    nbformat.write(nb, path)
    assert offending(path) == ["scratch.ipynb Cell 0: prints 4e-16"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_ignored_cells_use_the_tag_and_say_why(path):
    """Ignored output is marked by nbval's cell tag (the old comment shows in the book as code),
    and the cell's first line is a comment that tells the reader why its output may change."""
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    for index, cell in enumerate(code):
        assert "NBVAL_IGNORE_OUTPUT" not in cell.source, f"{path.name} Cell {index}: use the tag"
        if "nbval-ignore-output" in cell.get("metadata", {}).get("tags", []):
            assert cell.source.startswith("# ("), (
                f"{path.name} Cell {index}: start an ignored cell with a '# (reason)' comment"
            )


_CHECK_CALL = re.compile(r"^\s*check_\w+\(", re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_exercise_verdicts_are_hidden_in_the_book(path):
    """A cell that calls a check prints its verdict; the book must not show it under the
    exercise (the verdict of the stored, solved run would spoil it). The `remove-output` tag
    hides the output in the book while nbval still compares it."""
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    for index, cell in enumerate(code):
        if _CHECK_CALL.search(cell.source):
            tags = cell.get("metadata", {}).get("tags", [])
            assert "remove-output" in tags, f"{path.name} Cell {index}: tag it remove-output"

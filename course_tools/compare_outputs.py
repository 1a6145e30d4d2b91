"""Show, cell by cell, where executed notebooks print something other than the stored ones.

``make nbval-portable`` says *that* a cell differs on another configuration; this script shows
*what* every configuration printed, side by side, including the cells nbval does not compare
(tagged ``nbval-ignore-output``), which is how one checks that a printed precision holds
everywhere before storing it. Text outputs are compared after the nbval sanitizer
(``tests/nbval_sanitize.cfg``); figures are not compared. Usage::

    python course_tools/store_outputs.py --config sse-1thread --out _build/outputs/sse-1thread
    python course_tools/store_outputs.py --config avx-3threads --out _build/outputs/avx-3threads
    python course_tools/compare_outputs.py _build/outputs/sse-1thread _build/outputs/avx-3threads

Each folder is compared with ``notebooks/``; the exit status is 1 if a compared cell differs.
"""

from __future__ import annotations

import argparse
import configparser
import re
import sys
from pathlib import Path

import nbformat

from course_tools import course, notebook

ROOT = course.root()
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
IGNORE_TAG = "nbval-ignore-output"


def sanitizers() -> list[tuple[re.Pattern[str], str]]:
    parser = configparser.ConfigParser()
    parser.read(SANITIZE, encoding="utf-8")
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


def text_outputs(cell: nbformat.NotebookNode, rules: list[tuple[re.Pattern[str], str]]) -> str:
    """The cell's stdout, stderr and text/plain outputs, joined and sanitized."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        elif "data" in out and "text/plain" in out["data"]:
            parts.append(out["data"]["text/plain"])
        elif out.get("output_type") == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
    text = "".join(parts)
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def is_ignored(cell: nbformat.NotebookNode) -> bool:
    return IGNORE_TAG in cell.get("metadata", {}).get("tags", []) or "NBVAL_IGNORE_OUTPUT" in (
        cell.source
    )


def code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [c for c in notebook.read(path).cells if c.cell_type == "code"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools compare-outputs",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("folders", nargs="+", type=Path, help="folders of executed notebooks")
    parser.add_argument("--all", action="store_true", help="also show ignored cells that differ")
    args = parser.parse_args(argv)
    rules = sanitizers()
    differ = False
    for stored in sorted((ROOT / "notebooks").glob("*.ipynb")):
        runs = {f.name: f / stored.name for f in args.folders if (f / stored.name).exists()}
        if not runs:
            continue
        cells = {name: code_cells(path) for name, path in runs.items()}
        for index, cell in enumerate(code_cells(stored)):
            ignored = is_ignored(cell)
            reference = text_outputs(cell, rules)
            others = {n: text_outputs(c[index], rules) for n, c in cells.items()}
            if all(o == reference for o in others.values()) or (ignored and not args.all):
                continue
            differ = differ or not ignored
            label = " (output ignored by nbval)" if ignored else ""
            print(f"=== {stored.name} Cell {index}{label}")
            print(f"--- stored\n{reference}")
            for name, text in others.items():
                print(f"--- {name}\n{text}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())

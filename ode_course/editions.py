"""Student editions of the chapter notebooks: the same notebook with the solutions taken out.

Conventions the chapters follow (and the tests check):

- a code cell tagged ``solution`` holds a worked answer. In the student edition it is replaced
  by the starter code in its ``student_stub`` metadata (for example a function that raises
  ``NotImplementedError``), or dropped when it has none;
- a solution written in markdown sits in a ``{solution}`` directive, or between a
  ``{solution-start}`` and a ``{solution-end}`` directive (which may span several cells). Those
  parts are removed;
- a code cell tagged ``exercise`` calls a check function; its stored outputs are cleared.

Everything else is copied unchanged, and the original notebooks are never modified.

Command line (``make student``)::

    python -m ode_course.editions notebooks _build/student
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

from ode_course import _validate

__all__ = ["student_edition", "write_student_editions"]

# A fenced {solution} directive inside a markdown cell: ```{solution} label ... ``` (3+ ticks).
_SOLUTION_BLOCK = re.compile(r"^(`{3,}|:{3,})\{solution\}.*?^\1[ \t]*$\n?", re.M | re.S)
_GATE_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}.*?^\1[ \t]*$\n?", re.M | re.S)
_GATE_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}.*?^\1[ \t]*$\n?", re.M | re.S)


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _tags(cell: dict[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _markdown(text: str, like: dict[str, Any]) -> dict[str, Any] | None:
    if not text.strip():
        return None
    cell = copy.deepcopy(like)
    cell["source"] = text.strip("\n")
    return cell


def student_edition(notebook: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``notebook`` (nbformat 4, as a dict) with its solutions removed.

    Args:
        notebook: a notebook as loaded by ``json.load`` or ``nbformat.read``.

    Returns:
        A new notebook; the argument is not modified.

    Raises:
        TypeError: ``notebook`` is not a dict.
        ValueError: the notebook is not nbformat 4, or a ``{solution-start}`` has no matching
            ``{solution-end}``.
    """
    if not isinstance(notebook, dict):
        _validate.fail(
            "notebook",
            "a notebook as a dict",
            type(notebook).__name__,
            "load it with json.load(open(path)) or nbformat.read(path, as_version=4)",
            TypeError,
        )
    if notebook.get("nbformat") != 4 or "cells" not in notebook:
        _validate.fail(
            "notebook",
            "an nbformat 4 notebook with a 'cells' list",
            f"nbformat={notebook.get('nbformat')!r}"
            + ("" if "cells" in notebook else " without 'cells'"),
            "upgrade it with nbformat.read(path, as_version=4), or pass the loaded .ipynb",
        )
    out = copy.deepcopy(notebook)
    cells: list[dict[str, Any]] = []
    in_gate = False
    for cell in out["cells"]:
        tags = _tags(cell)
        if cell["cell_type"] == "code" and "solution" in tags:
            stub = cell.get("metadata", {}).get("student_stub")
            if stub is not None:
                cell["source"] = stub
                cell["metadata"]["tags"] = [t for t in tags if t != "solution"] + ["stub"]
                cell["metadata"].pop("student_stub", None)
                cell["outputs"], cell["execution_count"] = [], None
                cells.append(cell)
            continue
        if cell["cell_type"] == "markdown":
            text = _source(cell)
            kept = ""
            while text:
                if in_gate:
                    end = _GATE_END.search(text)
                    if end is None:
                        text = ""  # the whole cell is inside the solution
                        break
                    text, in_gate = text[end.end() :], False
                else:
                    start = _GATE_START.search(text)
                    if start is None:
                        kept += text
                        break
                    kept += text[: start.start()]
                    text, in_gate = text[start.end() :], True
            if kept == _source(cell) and not _SOLUTION_BLOCK.search(kept):
                cells.append(cell)  # untouched
                continue
            new = _markdown(_SOLUTION_BLOCK.sub("", kept), cell)
            if new is not None:
                cells.append(new)
            continue
        if in_gate:
            continue  # code that belongs to a gated solution without a solution tag
        if cell["cell_type"] == "code" and "exercise" in tags:
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    if in_gate:
        _validate.fail(
            "notebook",
            "a notebook whose every {solution-start} directive is closed by a {solution-end}",
            "a {solution-start} with no matching {solution-end}",
            "add a {solution-end} directive after the solution's last cell",
        )
    out["cells"] = cells
    return out


def write_student_editions(src: str | Path, dest: str | Path) -> list[Path]:
    """Write the student edition of every ``*.ipynb`` in ``src`` to ``dest`` (same file names).

    Returns:
        The paths written.

    Raises:
        FileNotFoundError: ``src`` is not a folder or holds no notebooks.
        ValueError: ``dest`` is the same folder as ``src`` (the originals must not change).
    """
    src, dest = Path(src), Path(dest)
    notebooks = sorted(src.glob("*.ipynb")) if src.is_dir() else []
    if not notebooks:
        _validate.fail(
            "src",
            "a folder that holds *.ipynb notebooks",
            f"src={str(src)!r}, where no notebooks were found",
            "pass the notebooks folder, e.g. write_student_editions('notebooks', 'student')",
            FileNotFoundError,
        )
    if dest.resolve() == src.resolve():
        _validate.fail(
            "dest",
            "a folder other than src (student editions never overwrite the originals)",
            f"dest={str(dest)!r}, the same folder as src",
            "write them elsewhere, e.g. dest='_build/student'",
        )
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        edition = student_edition(json.loads(path.read_text(encoding="utf-8")))
        target = dest / path.name
        target.write_text(
            json.dumps(edition, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m ode_course.editions SOURCE_DIR DEST_DIR", file=sys.stderr)
        return 2
    for path in write_student_editions(args[0], args[1]):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

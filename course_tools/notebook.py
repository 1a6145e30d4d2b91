"""Reading and writing the course's notebooks: the one place that does, with nbformat.

Every tool of this package reads a chapter with :func:`read` and writes one with :func:`write`
(or :func:`dumps`), so that a notebook the tools rewrite (a student edition, the reference
links, the Colab links, the stored outputs) is written the way Jupyter writes it: nbformat 4,
keys sorted, one space of indent, a newline at the end. A cell without an ``id`` (nbformat
4.5 wants one) gets one derived from its position and source, never a random one, so that the
same notebook always reads and writes the same. The grader is the exception on purpose: a
submission is untrusted data, which it parses as plain JSON and checks itself.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "n.ipynb"
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title")])
    >>> write(nb, path)
    >>> read(path).cells[0].source
    '# Title'
    >>> path.read_text(encoding="utf-8") == dumps(read(path))
    True
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["dumps", "imports", "read", "write"]


def _with_ids(notebook: Any) -> Any:
    """``notebook`` with an id for every cell that has none: a hash of its place and source."""
    if notebook.get("nbformat") == 4 and notebook.get("nbformat_minor", 0) >= 5:
        for index, cell in enumerate(notebook.get("cells", [])):
            if "id" not in cell:
                text = "".join(cell.get("source", ""))
                cell["id"] = hashlib.sha1(f"{index}:{text}".encode()).hexdigest()[:8]
    return notebook


def read(path: str | Path) -> Any:
    """The notebook at ``path`` as nbformat 4 (a ``NotebookNode``, a dict with attributes)."""
    data = _with_ids(json.loads(Path(path).read_text(encoding="utf-8")))
    return nbformat.reads(json.dumps(data), as_version=4)


def dumps(notebook: Any) -> str:
    """The text of ``notebook`` as Jupyter writes it (and :func:`write` does)."""
    return nbformat.writes(nbformat.from_dict(_with_ids(notebook))) + "\n"


def imports(cells: list[Any]) -> list[ast.Import | ast.ImportFrom]:
    r"""The import statements of the code cells, in order (IPython's ``%`` and ``!`` lines left
    out; a cell that is not Python then is skipped).

    Example:
        >>> cells = [{"cell_type": "code", "source": "%pip install x\nfrom a import b"}]
        >>> [ast.unparse(node) for node in imports(cells)]
        ['from a import b']
    """
    found: list[ast.Import | ast.ImportFrom] = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        lines = "".join(cell["source"]).splitlines()
        code = "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(code)
        except SyntaxError:  # e.g. a cell whose only body line was a %magic
            continue
        found += [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    return found


def write(notebook: Any, path: str | Path) -> None:
    """Write ``notebook`` to ``path`` as :func:`dumps` gives it."""
    Path(path).write_text(dumps(notebook), encoding="utf-8")

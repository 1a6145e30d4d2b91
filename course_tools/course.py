"""Where the course is: its root folder, and the chapters its table of contents lists.

Every tool of this package reads the course from a root folder it is given: the folder that
holds ``_toc.yml``, ``_config.yml``, ``notebooks/`` and ``book/``. ``python -m course_tools
--root PATH …`` gives it; without ``--root`` the tools use the checkout they are run in (the
first folder, from the working directory upwards, that has a ``_toc.yml``). Nothing here reads
the package's own location, so an installed ``course_tools`` grades or builds any checkout.

The chapter list is declared once, in ``_toc.yml``: :func:`chapters` reads it, and every list of
chapters elsewhere (README, introduction, instructor guide, reference pages) is generated from
it or tested against it.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "_toc.yml").write_text(
    ...     "root: book/intro\\nparts:\\n  - chapters:\\n      - file: notebooks/01_a\\n"
    ...     "      - file: book/b\\n"
    ... )
    >>> (root / "notebooks").mkdir()
    >>> _ = (root / "notebooks" / "01_a.ipynb").write_text("{}")
    >>> [p.name for p in chapters(root)]
    ['01_a.ipynb']
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["chapters", "find_root", "root", "set_root"]

_ROOT: Path | None = None


def find_root(start: str | Path | None = None) -> Path:
    """The first folder at or above ``start`` (default: the working directory) with a
    ``_toc.yml``.

    Raises:
        FileNotFoundError: there is none; the message says to pass ``--root``.
    """
    here = Path(start if start is not None else os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    raise FileNotFoundError(
        f"no course found at or above {here} (no _toc.yml). "
        "Fix: run from a checkout of the course, or pass --root PATH "
        "(python -m course_tools --root PATH ...)."
    )


def set_root(path: str | Path | None) -> Path:
    """Make ``path`` (or, when None, :func:`find_root`'s answer) the course of later calls."""
    global _ROOT
    if path is None:
        _ROOT = find_root()
        return _ROOT
    candidate = Path(path).resolve()
    if not (candidate / "_toc.yml").is_file():
        raise FileNotFoundError(
            f"root={str(path)!r} has no _toc.yml. Fix: pass the folder of a course checkout."
        )
    _ROOT = candidate
    return _ROOT


def root() -> Path:
    """The course in use: the one :func:`set_root` chose, else :func:`find_root`'s."""
    return _ROOT if _ROOT is not None else set_root(None)


def chapters(course: str | Path | None = None) -> list[Path]:
    """The chapter notebooks, in the order of the table of contents of ``course``."""
    import yaml

    base = Path(course) if course is not None else root()
    toc = yaml.safe_load((base / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc.get("parts", toc.get("chapters", [])))
    return [
        base / f"{name}.ipynb"
        for name in files
        if name.startswith("notebooks/") and (base / f"{name}.ipynb").is_file()
    ]

"""Re-execute notebooks top to bottom in fresh kernels and store their outputs.

This is ``make outputs``: the one way outputs get into the repository, so that nobody commits a
notebook they ran by hand, out of order or with a stale kernel. Each notebook runs in a new
``python3`` kernel started from ``notebooks/``, cell by cell in order; the file is rewritten
with the new outputs and execution counts 1, 2, 3, ... and nothing else (no timing metadata).
A cell that raises stops that notebook and leaves its file untouched.

Usage::

    python course_tools/store_outputs.py                          # every notebook, in place
    python course_tools/store_outputs.py notebooks/02_backprop.ipynb
    python course_tools/store_outputs.py --config sse-1thread --out _build/outputs/sse-1thread

``--config`` runs under one of the numerical configurations of ``course_tools/numeric_configs.py``,
and ``--out`` writes the executed notebooks to a folder instead of in place: with both, a
maintainer can see what another machine would print (``course_tools/compare_outputs.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from course_tools import course, notebook
from course_tools.numeric_configs import CONFIGS, environment

ROOT = course.root()


def execute(path: Path, config: str = "default", timeout: int = 1800) -> nbformat.NotebookNode:
    """Run the notebook at ``path`` in a fresh kernel under ``config``; return it executed."""
    nb = notebook.read(path)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=environment(config))
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools outputs",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument(
        "--config", default="default", choices=["default", *CONFIGS], help="numerical config"
    )
    parser.add_argument("--out", type=Path, help="write here instead of in place")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    failed = []
    for path in paths:
        start = time.perf_counter()
        try:
            nb = execute(path, args.config)
        except CellExecutionError as exc:
            print(f"{path.name}: a cell failed, file left unchanged\n{exc}", file=sys.stderr)
            failed.append(path.name)
            continue
        target = args.out / path.name if args.out else path
        target.parent.mkdir(parents=True, exist_ok=True)
        notebook.write(nb, target)
        print(f"{path.name:<28} {time.perf_counter() - start:6.1f} s -> {target}", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

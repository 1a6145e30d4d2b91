"""Run a submitted notebook in a fresh kernel, under a time limit, and save its answers.

The notebook is executed top to bottom by nbclient in a new ``python3`` kernel whose working
folder is a temporary one. A cell that raises does not stop the run (the cells after it may
still define answers); a run that passes its time limit is interrupted, and only the answer
captures are run after that, so a notebook that hangs keeps what it defined before. After each
auto-graded check cell (metadata ``grade``), and once more at the end, a cell inserted by the
runner saves the exercise's ``grade.answer`` objects with cloudpickle
(``course_tools.grade.capture.save_answers``). Nothing the notebook prints is read.
"""

from __future__ import annotations

import copy
import logging
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__: list[str] = []

_CAPTURE = "ode_course_capture"  # metadata key of the cells the runner inserts
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the colours of an IPython traceback


@dataclass(frozen=True)
class Spec:
    """One auto-graded exercise as the grader sees it: id, points, answer names, check cell."""

    id: str
    points: int
    answer: tuple[str, ...]
    cell: int | None  # index of the check cell in the notebook, None if it is not there


@dataclass
class RunResult:
    """What executing a notebook gave: the answer files, the errors, and how it ended."""

    answers: dict[str, list[Path]]  # exercise id → answer files, the check cell's first
    errors: list[str] = field(default_factory=list)  # "cell 12: ValueError: ..."
    timed_out: bool = False
    kernel_died: bool = False
    seconds: float = 0.0

    @property
    def crashed(self) -> bool:
        """True when a cell raised or the kernel died."""
        return bool(self.errors) or self.kernel_died


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _capture_cell(specs: list[Spec], folder: Path, tag: str) -> tuple[dict[str, Any], dict]:
    paths = {spec.id: folder / f"{spec.id}.{tag}.pkl" for spec in specs}
    lines = [
        "(lambda save: ("
        + ", ".join(
            f"save(globals(), {list(spec.answer)!r}, {str(paths[spec.id])!r})" for spec in specs
        )
        + '))(__import__("course_tools.grade.capture", fromlist=["save_answers"]).save_answers)'
    ]
    cell: dict[str, Any] = {
        "cell_type": "code",
        "metadata": {_CAPTURE: True},
        "source": "\n".join(lines),
        "outputs": [],
        "execution_count": None,
    }
    return cell, paths


def run_notebook(
    notebook: dict[str, Any],
    specs: list[Spec],
    folder: Path,
    timeout: float,
    work: Path | None = None,
) -> RunResult:
    """Execute ``notebook`` with answer captures; answer files are written under ``folder``.

    Args:
        notebook: the submission, as loaded by ``json.load``.
        specs: the exercises to capture answers for.
        folder: an existing, empty folder for the answer files.
        timeout: seconds for the whole notebook.
        work: the kernel's working folder (default: ``folder / "work"``).

    Returns:
        The answer files of every exercise and how the run ended.
    """
    import nbformat
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    cells: list[dict[str, Any]] = []
    origins: list[int] = []  # the original cell number of each executed cell
    answers: dict[str, list[Path]] = {spec.id: [] for spec in specs}
    by_cell: dict[int, list[Spec]] = {}
    for spec in specs:
        if spec.cell is not None:
            by_cell.setdefault(spec.cell, []).append(spec)
    for i, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        cells.append(
            {**copy.deepcopy(cell), "source": source, "outputs": [], "execution_count": None}
        )
        origins.append(i)
        if i in by_cell:
            capture, paths = _capture_cell(by_cell[i], folder, "cell")
            cells.append(capture)
            origins.append(i)
            for name, path in paths.items():
                answers[name].append(path)
    if specs:
        capture, paths = _capture_cell(specs, folder, "end")
        cells.append(capture)
        for name, path in paths.items():
            answers[name].append(path)
    work = work if work is not None else folder / "work"
    work.mkdir(exist_ok=True)
    node = nbformat.from_dict(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": notebook.get("metadata", {}), "cells": []}
    )
    node.cells = [nbformat.from_dict(c) for c in cells]
    quiet = logging.getLogger("course_tools.grade.nbclient")
    quiet.setLevel(logging.CRITICAL)
    # after a timeout, nbclient's output poller ends with an exception nobody awaits: asyncio
    # would print it at exit
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    client = NotebookClient(
        node,
        timeout=max(1, int(timeout)),
        kernel_name="python3",
        allow_errors=False,
        record_timing=False,
        extra_arguments=["--HistoryManager.enabled=False"],
        resources={"metadata": {"path": str(work)}},
        log=quiet,
    )
    result = RunResult(answers=answers)
    start = time.monotonic()
    deadline = start + timeout
    # the kernel's own stderr (ipykernel's start-up warnings) is not the learner's output
    with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        for index, cell in enumerate(node.cells):
            inserted = bool(cell.metadata.get(_CAPTURE))
            remaining = deadline - time.monotonic()
            if not inserted and (result.timed_out or remaining <= 0):
                result.timed_out = True
                continue  # past the limit: only the captures still run
            client.timeout = 60 if inserted else max(1, int(remaining + 0.999))
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                result.timed_out = True
                if client.km is not None:
                    run_sync(client.km.interrupt_kernel)()  # type: ignore[arg-type]
                if inserted:
                    break  # the kernel does not answer any more
            except CellExecutionError as exc:
                # a check's verdict on a wrong answer is not a crash (the grader re-checks it)
                if not inserted and getattr(exc, "ename", "") != "CheckFailed":
                    text = _ANSI.sub("", str(exc))
                    lines = [line for line in text.strip().splitlines() if line.strip()]
                    where = f"cell {origins[index]}" if index < len(origins) else "a cell"
                    result.errors.append(f"{where}: {lines[-1][:200] if lines else 'error'}")
            except DeadKernelError:
                result.kernel_died = True
                break
    result.seconds = time.monotonic() - start
    return result

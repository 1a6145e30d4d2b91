"""Tests for ode_course.editions: student editions drop exactly the solutions."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from ode_course.editions import student_edition, write_student_editions

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def md(text, **meta):
    return {"cell_type": "markdown", "metadata": meta, "source": text}


def code(text, tags=(), stub=None, outputs=()):
    meta = {"tags": list(tags)}
    if stub is not None:
        meta["student_stub"] = stub
    return {
        "cell_type": "code",
        "metadata": meta,
        "source": text,
        "outputs": list(outputs),
        "execution_count": 1,
    }


def notebook(*cells):
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}


OUTPUT = {"output_type": "stream", "name": "stdout", "text": "Correct!\n"}


def test_tagged_solutions_and_solution_markdown_are_removed_and_nothing_else():
    nb = notebook(
        md("# Title"),
        md(":::{exercise}\n:label: ex1\nDo it.\n:::"),
        md("````{solution-start} ex1\n:class: dropdown\n````\nExplanation."),
        code("x = 42", tags=["solution"], stub="x = None  # your answer"),
        md("```{solution-end}\n```\n\n## Next section"),
        code("check(x)", tags=["exercise"], outputs=[OUTPUT]),
        md("Text.\n\n```{solution} ex2\n:class: dropdown\n\nHidden answer.\n```\n\nAfter."),
        code("y = 1", tags=["solution"]),
        code("print(2)", outputs=[OUTPUT]),
    )
    before = json.dumps(nb)
    out = student_edition(nb)
    assert json.dumps(nb) == before  # the input is not modified
    sources = ["".join(c["source"]) for c in out["cells"]]
    assert sources == [
        "# Title",
        ":::{exercise}\n:label: ex1\nDo it.\n:::",
        "x = None  # your answer",
        "## Next section",
        "check(x)",
        "Text.\n\n\nAfter.",
        "print(2)",
    ]
    stub, check = out["cells"][2], out["cells"][4]
    assert stub["metadata"]["tags"] == ["stub"] and "student_stub" not in stub["metadata"]
    assert check["outputs"] == [] and check["execution_count"] is None
    assert out["cells"][6]["outputs"] == [OUTPUT]  # ordinary outputs are kept
    assert out["cells"][0] is not nb["cells"][0]


def test_unmatched_solution_start_is_an_error():
    with pytest.raises(ValueError, match=r"notebook must be .*got a \{solution-start\} with no"):
        student_edition(notebook(md("````{solution-start} a\n````"), code("x = 1")))


@pytest.mark.parametrize(
    "bad,error,match",
    [
        ({"cells": []}, ValueError, r"notebook must be an nbformat 4 notebook.*got nbformat=None"),
        ({"nbformat": 4}, ValueError, r"nbformat 4 notebook with a 'cells' list.*without 'cells'"),
        ("nb.ipynb", TypeError, r"notebook must be a notebook as a dict; got str"),
    ],
)
def test_a_bad_notebook_is_named_with_a_fix(bad, error, match):
    with pytest.raises(error, match=match) as info:
        student_edition(bad)
    assert "Fix: " in str(info.value)


def test_write_student_editions_never_touches_the_originals(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    path = src / "01_x.ipynb"
    path.write_text(json.dumps(notebook(code("a = 1", tags=["solution"]))))
    before = path.read_text()
    written = write_student_editions(src, tmp_path / "out")
    assert [p.name for p in written] == ["01_x.ipynb"]
    assert json.loads(written[0].read_text())["cells"] == []
    assert path.read_text() == before
    with pytest.raises(ValueError, match=r"dest must be .*never overwrite.*Fix: "):
        write_student_editions(src, src)
    with pytest.raises(FileNotFoundError, match=r"src must be .*no notebooks were found.*Fix: "):
        write_student_editions(tmp_path / "missing", tmp_path / "out")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_has_exercises_and_a_consistent_edition(path):
    original = json.loads(path.read_text(encoding="utf-8"))
    edition = student_edition(original)
    n_solutions = sum("solution" in c["metadata"].get("tags", []) for c in original["cells"])
    n_stubs = sum("stub" in c["metadata"].get("tags", []) for c in edition["cells"])
    assert n_solutions >= 1 and n_stubs >= 1
    text = json.dumps(edition)
    assert "solution-start" not in text and "{solution}" not in text
    assert sum("{exercise}" in "".join(c["source"]) for c in edition["cells"]) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_edition_runs_until_the_first_check_function(path, tmp_path):
    """Top to bottom, the first error must be the check function's own CheckFailed."""
    edition = student_edition(json.loads(path.read_text(encoding="utf-8")))
    edition = nbformat.reads(json.dumps(edition), as_version=4)
    client = NotebookClient(
        edition, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    assert info.value.ename == "CheckFailed", info.value.evalue

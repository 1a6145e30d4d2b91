"""course_tools.notebook: the one reader and writer of the course's notebooks."""

from __future__ import annotations

import json

from course_tools import course, notebook


def test_every_chapter_reads_and_writes_back_byte_for_byte():
    for path in course.chapters():
        assert notebook.dumps(notebook.read(path)) == path.read_text(encoding="utf-8"), path.name


def test_a_cell_without_an_id_gets_the_same_one_every_time(tmp_path):
    path = tmp_path / "n.ipynb"
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# a"}]
    path.write_text(
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
    )
    first, second = notebook.read(path), notebook.read(path)
    assert first.cells[0].id == second.cells[0].id
    assert notebook.dumps(json.loads(path.read_text())) == notebook.dumps(first)

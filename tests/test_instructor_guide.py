"""The instructor guide is generated from the notebooks and the measured times, never typed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import instructor_guide  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_guide_is_up_to_date():
    assert instructor_guide.PAGE.read_text(encoding="utf-8") == instructor_guide.build(), (
        "book/instructors.md is stale. Fix: run `make guide` (or `make times` to re-measure)."
    )


def test_every_chapter_has_a_measured_time():
    times = json.loads(instructor_guide.TIMES.read_text(encoding="utf-8"))["seconds"]
    for nb in NOTEBOOKS:
        assert nb.stem in times and times[nb.stem] > 0, f"run `make times`: {nb.stem} not measured"


def test_every_chapter_lists_objectives_prerequisites_and_assessed_exercises():
    for nb in NOTEBOOKS:
        info = instructor_guide.chapter_info(nb)
        assert len(info["objectives"]) >= 3
        assert info["prerequisites"] and info["time"]
        assert len(info["exercises"]) >= 3
        for ex in info["exercises"]:
            assert ex["label"] and ex["title"] and ex["assesses"], (nb.stem, ex)
        assert any(ex["check"] for ex in info["exercises"]), "at least one checked coding exercise"

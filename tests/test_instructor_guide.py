"""The instructor guide is generated from the notebooks and the measured times, never typed."""

from __future__ import annotations

import json
import re
from pathlib import Path

from course_tools import guide as instructor_guide

ROOT = Path(__file__).resolve().parents[1]

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


PAGE_TEXT = instructor_guide.PAGE.read_text(encoding="utf-8")


def test_the_split_into_sections_counts_words_code_cells_and_exercises():
    cells = [
        {"cell_type": "markdown", "source": "# Title\n\nFour words of intro."},
        {"cell_type": "code", "source": "x = 1"},
        {
            "cell_type": "markdown",
            "source": "End of intro.\n\n## 1. First\n\n:::{exercise} T\n:label: ex-a\nQ\n:::",
        },
        {"cell_type": "code", "source": "y = 2"},
        {"cell_type": "code", "source": "z = 3"},
        {"cell_type": "markdown", "source": "## Summary\n\nDone."},
    ]
    found = instructor_guide._split(cells)
    assert [s["title"] for s in found] == ["Introduction", "1. First", "Summary"]
    assert [s["code"] for s in found] == [1, 2, 0]
    assert [s["labels"] for s in found] == [[], ["ex-a"], []]
    assert [s["words"] for s in found] == [2 + 4 + 3 + 3, 6 + 3 + 3, 1]


def test_every_chapter_has_a_time_per_section_with_the_books_exercise_numbers():
    prose = " ".join(PAGE_TEXT.split())  # the method is stated, however the lines wrap
    assert f"at {instructor_guide.READING_RATE} words a minute" in prose
    assert "in proportion to their code cells" in prose
    for nb in NOTEBOOKS:
        info = instructor_guide.chapter_info(nb)
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        sections = info["sections"]
        assert len(sections) >= 3 and all(s["words"] > 0 for s in sections)
        assert sum(s["code"] for s in sections) == sum(c["cell_type"] == "code" for c in cells)
        labels = [label for s in sections for label in s["labels"]]
        assert labels == [ex["label"] for ex in info["exercises"]]
        chapter = PAGE_TEXT.split(f"## {info['title']}\n", 1)[1].split("\n## ", 1)[0]
        for s in sections:
            row = f"| {s['title']} | {instructor_guide._minutes(s['words'])} min | "
            assert row in chapter, (nb.stem, s["title"])
        for label in labels:  # {numref} prints the number the book gives the exercise
            assert f"{{numref}}`%s <{label}>`" in chapter
            assert f"{{numref}}`Exercise %s <{label}>`" in chapter


def test_written_exercises_point_to_their_rubric_in_the_answer_key():
    for nb in NOTEBOOKS:
        for ex in instructor_guide.chapter_info(nb)["exercises"]:
            if ex["check"] is None and ex["points"]:
                assert f"written: rubric ({ex['points']} points) in the answer key" in PAGE_TEXT
    assert "## Answer key and rubrics" in PAGE_TEXT and "make answer-key" in PAGE_TEXT


def test_citation_cff_names_the_version_of_pyproject_and_the_configured_repository():
    import yaml

    cff = instructor_guide.citation()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    version = re.search(r'^version\s*=\s*"([^"]+)"', pyproject, re.M).group(1)
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["version"] == version, (
        "CITATION.cff's version must be pyproject.toml's. Fix: update CITATION.cff, then "
        "`make guide`."
    )
    assert cff["title"] == config["title"]
    assert cff["repository-code"] == config["repository"]["url"]
    assert set(cff["license"]) == {"CC-BY-4.0", "MIT"} and cff["authors"]
    assert "## How to cite" in PAGE_TEXT and f"version {version}" in PAGE_TEXT
    assert f"version = {{{version}}}" in PAGE_TEXT


def test_the_page_documents_student_editions_and_has_a_grading_section():
    assert "## Handing out student editions" in PAGE_TEXT and "`student/`" in PAGE_TEXT
    grading = PAGE_TEXT.split("## Grading submissions\n", 1)[1].split("\n## ", 1)[0]
    assert "python -m course_tools grade" in grading


def test_the_semester_path_adds_up_the_chapters_estimates_and_ends_at_the_last_chapter():
    assert instructor_guide.study_hours("About 90 minutes, exercises included.") == 1.5
    assert instructor_guide.study_hours("About 2½ hours, exercises included.") == 2.5
    chapters = [instructor_guide.chapter_info(nb) for nb in NOTEBOOKS]
    total = sum(instructor_guide.study_hours(ch["time"]) for ch in chapters)
    prose = " ".join(PAGE_TEXT.split())
    assert f"about {instructor_guide._hours(total)} hours of study" in prose
    assert f"Chapters 1–{len(chapters)} in order" in prose

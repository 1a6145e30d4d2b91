"""Tests for course_tools.editions: student editions drop exactly the solutions."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from course_tools import course
from course_tools.__main__ import main as course_tools_main
from course_tools.editions import (
    _release_ref,
    answer_key,
    stale_student_editions,
    student_edition,
    student_editions,
    write_answer_key,
    write_student_editions,
)
from course_tools.myst import (
    citation_labels,
    exercise_numbers,
    find_exercises,
    plain_markdown,
    read_bibliography,
    source,
)
from ode_course import PUBLIC_MODULES

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
STUDENT = ROOT / "student"
BIB = ROOT / "book" / "references.bib"
VERSION = re.search(
    r'^version\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M
).group(1)


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
        md(":::{exercise} Do it\n:label: ex1\nDo it.\n:::"),
        md("````{solution-start} ex1\n:class: dropdown\n````\nExplanation."),
        code("x = 42", tags=["solution"], stub="x = None  # your answer"),
        md("```{solution-end}\n```"),
        code("check_x(x)", tags=["exercise"], outputs=[OUTPUT]),
        md(
            "## Next section\n\nText.\n\n```{solution} ex2\n:class: dropdown\n\nHidden.\n```"
            "\n\nAfter."
        ),
        code("y = 1", tags=["solution"]),
        code("print(2)", outputs=[OUTPUT]),
    )
    before = json.dumps(nb)
    out = student_edition(nb, numbers={"ex1": 7})
    assert json.dumps(nb) == before  # the input is not modified
    sources = ["".join(c["source"]) for c in out["cells"]]
    assert sources == [
        "# Title",
        "**Exercise 7: Do it**\n\nDo it.",
        "x = None  # your answer",
        "check_x(x)",
        "## Next section\n\nText.\n\n\nAfter.",
        "print(2)",
    ]
    stub, check = out["cells"][2], out["cells"][3]
    assert stub["metadata"]["tags"] == ["stub"] and "student_stub" not in stub["metadata"]
    assert check["outputs"] == [] and check["execution_count"] is None
    assert out["cells"][5]["outputs"] == [OUTPUT]  # ordinary outputs are kept
    assert student_edition(nb, clear_outputs=True)["cells"][-1]["outputs"] == []
    assert out["cells"][0] is not nb["cells"][0]
    assert out["metadata"]["ode_course"] == {"edition": "student", "ref": "main", "outputs": "kept"}


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
    assert sum("**Exercise" in "".join(c["source"]) for c in edition["cells"]) >= 3


# --- written exercises: rubric in the notebook, answer cell in the student edition ----------

RUBRIC = {"points": 2, "criteria": ["names the first thing", "names the second thing"]}


def test_a_written_exercise_gets_an_answer_cell_where_its_solution_was_and_loses_its_rubric():
    nb = notebook(
        md(":::{exercise} Explain it\n:label: ex-w\nWhy {cite}`k1`?\n:::", rubric=RUBRIC),
        code("guess = None", tags=["exercise"]),
        md("````{solution-start} ex-w\n:class: dropdown\n````\nBecause."),
        code("print(1)", tags=["solution"]),
        md("```{solution-end}\n```\n\n## Next"),
    )
    out = student_edition(nb, numbers={"ex-w": 3}, citations={"k1": ("Ann and Bo", "2001")})
    sources = ["".join(c["source"]) for c in out["cells"]]
    assert sources[0] == "**Exercise 3: Explain it**\n\nWhy (Ann and Bo, 2001)?"
    assert sources[1] == "guess = None"
    answer = out["cells"][2]
    assert answer["cell_type"] == "markdown" and answer["metadata"]["tags"] == ["answer"]
    assert answer["metadata"]["grade"] == {"id": "ex-w", "points": 2, "manual": True}
    assert answer["source"] == (
        "**Your answer to Exercise 3: Explain it** (2 points)\n\n"
        "> Why (Ann and Bo, 2001)?\n\n*Your answer:*"
    )
    assert sources[3:] == ["## Next"]
    assert "rubric" not in json.dumps(out)
    assert "rubric" in nb["cells"][0]["metadata"]  # the original keeps it


def test_a_checked_exercise_gets_no_answer_cell_and_an_existing_one_is_restated_not_doubled():
    checked = notebook(
        md(":::{exercise} Code it\n:label: ex-c\nWrite f.\n:::"),
        code(
            "def f():\n    return 1",
            tags=["solution"],
            stub="def f():\n    raise NotImplementedError",
        ),
        code("check_f(f)", tags=["exercise"]),
    )
    assert not any(
        "answer" in c["metadata"].get("tags", []) for c in student_edition(checked)["cells"]
    )
    existing = notebook(
        md(":::{exercise} Say it\n:label: ex-s\nSay why.\n:::", rubric=RUBRIC),
        md("*Your answer:*"),
        md("````{solution-start} ex-s\n````\nBecause.\n```{solution-end}\n```"),
    )
    out = student_edition(existing)
    assert len(out["cells"]) == 2
    assert out["cells"][1]["metadata"]["grade"]["id"] == "ex-s"
    assert out["cells"][1]["source"].endswith("> Say why.\n\n*Your answer:*")
    # a {solution} inside the exercise's own cell: the answer cell comes right after that cell
    inline = notebook(
        md(":::{exercise} T\n:label: ex-i\nQ?\n:::\n\n```{solution} ex-i\nA.\n```", rubric=RUBRIC),
        md("## Next"),
    )
    assert [c["metadata"].get("tags") for c in student_edition(inline)["cells"]] == [
        None,
        ["answer"],
        None,
    ]


def test_myst_becomes_plain_markdown():
    numbers = {"ex-a": 4}
    citations = {"k1": ("Chen et al.", "2018"), "k2": ("Kingma and Ba", "2015")}
    text = (
        "(sec-x)=\n"
        "See {cite}`k1`, {cite:p}`k1,k2` and {cite:t}`k2`; {numref}`Exercise %s <ex-a>`, "
        "{ref}`ex-a`, {ref}`the intro <sec-x>`, {doc}`Chapter 5 <05_neural_ode>`, {eq}`eq-adj`, "
        "{math}`x^2`, $y$ and {py:func}`~ode_course.odeint`.\n\n"
        ":::{note}\nA remark.\n:::\n\n"
        "::::{admonition} What the sources get wrong\n:class: warning\n"
        "Text {cite}`missing`.\n\n:::{exercise} Inner\n:label: ex-a\nDo.\n:::\n::::\n"
    )
    assert plain_markdown(text, numbers, citations) == (
        "See (Chen et al., 2018), (Chen et al., 2018; Kingma and Ba, 2015) and Kingma and Ba "
        "(2015); Exercise 4, Exercise 4, the intro, Chapter 5, (eq-adj), $x^2$, $y$ and "
        "`ode_course.odeint`.\n\n"
        "> **Note**\n>\n> A remark.\n\n"
        "> **What the sources get wrong**\n>\n> Text (missing).\n>\n> **Exercise 4: Inner**\n>\n"
        "> Do.\n"
    )
    # a citation right after the authors' names gives only the year
    assert plain_markdown("Chen et al. {cite}`k1` solve it.", numbers, citations) == (
        "Chen et al. (2018) solve it."
    )
    # without a number the exercise is still bold, and plain text is left alone
    assert plain_markdown(":::{exercise} T\n:label: ex-z\nQ\n:::") == "**Exercise: T**\n\nQ\n"
    assert plain_markdown("$$\na = b\n$$\n\n```python\nx = 1\n```") == (
        "$$\na = b\n$$\n\n```python\nx = 1\n```"
    )


def test_the_bibliography_gives_every_key_an_author_year_label():
    entries = read_bibliography(BIB)
    labels = citation_labels(entries)
    assert set(labels) == set(entries) and len(labels) >= 20
    assert labels["chen2018neural"] == ("Chen et al.", "2018")
    assert labels["owens1989efficient"] == ("Owens and Filkin", "1989")
    assert labels["polyak1964some"] == ("Polyak", "1964")
    for authors, year in labels.values():
        assert re.fullmatch(r"\d{4}", year) and "{" not in authors and "\\" not in authors
    used = set()
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]*)`", source(cell)):
                used |= {k.strip() for k in keys.split(",")}
    assert used <= set(labels), f"cited but not in references.bib: {used - set(labels)}"


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [c["file"] for part in toc["parts"] for c in part["chapters"]]


def test_exercises_are_numbered_as_the_book_numbers_them():
    """sphinx-exercise numbers the book's exercises in one sequence, in table-of-contents order."""
    files = _toc_files()
    chapters = [f for f in files if f.startswith("notebooks/")]
    assert chapters == sorted(chapters), "the chapters' toc order must be their file-name order"
    assert [f"notebooks/{p.stem}" for p in NOTEBOOKS] == chapters
    for page in files:
        path = ROOT / f"{page}.md"
        if path.exists():  # a prose page with an exercise would shift the numbers
            assert ":{exercise}" not in path.read_text(encoding="utf-8"), page
    cells = [json.loads(p.read_text(encoding="utf-8"))["cells"] for p in NOTEBOOKS]
    numbers = exercise_numbers(cells)
    labels = [ex.label for c in cells for ex in find_exercises(c)]
    assert list(numbers) == labels and list(numbers.values()) == list(range(1, len(labels) + 1))
    # the built book, when it is newer than every notebook, prints the same numbers
    html = ROOT / "_build" / "html" / "notebooks"
    if not html.is_dir() or min(p.stat().st_mtime for p in html.glob("*.html")) < max(
        p.stat().st_mtime for p in NOTEBOOKS
    ):
        return
    for path in NOTEBOOKS:
        page = (html / f"{path.stem}.html").read_text(encoding="utf-8")
        for label in (ex.label for ex in find_exercises(cells[NOTEBOOKS.index(path)])):
            shown = re.search(rf'href="#{label}"> Exercise (\d+) ', page)
            assert shown and int(shown.group(1)) == numbers[label], label


# --- every chapter ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_written_exercise_has_a_rubric_and_an_answer_cell(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    edition = student_editions(ROOT / "notebooks")[path.name]
    answers = {
        c["metadata"]["grade"]["id"]: c
        for c in edition["cells"]
        if "answer" in c["metadata"].get("tags", [])
    }
    # written exercises, and the written part of a checked exercise that also has a rubric
    written = [ex for ex in find_exercises(nb["cells"]) if ex.written or ex.rubric]
    for ex in written:
        rubric = ex.rubric
        fix = "add {points, criteria} rubric metadata to its cell (course_tools/editions.py)"
        assert rubric, f"{ex.label}: no rubric. Fix: {fix}"
        assert 2 <= len(rubric["criteria"]) <= 4 and rubric["points"] == len(rubric["criteria"])
        assert all(isinstance(c, str) and len(c) > 20 for c in rubric["criteria"])
        cell = answers[ex.label]
        assert cell["metadata"]["grade"] == {
            "id": ex.label,
            "points": rubric["points"],
            "manual": True,
        }
        assert source(cell).rstrip().endswith("*Your answer:*") and ex.title in source(cell)
    assert set(answers) == {ex.label for ex in written}
    assert '"rubric"' not in json.dumps(edition)


def _namespace() -> dict:
    names = {
        name: getattr(module, name)
        for module in PUBLIC_MODULES
        for name in module.__all__
        if hasattr(module, name)
    }
    return {**names, "np": np, "torch": torch, "nn": torch.nn, "math": math, "F64": torch.float64}


def _check_cells(edition):
    """(check cell, the code cells from its exercise's heading to it) in a student edition."""
    cells = edition["cells"]
    for j, cell in enumerate(cells):
        if "exercise" in cell["metadata"].get("tags", []) and re.search(
            r"\bcheck_\w+\(", source(cell)
        ):
            k = j
            while not (cells[k]["cell_type"] == "markdown" and "**Exercise " in source(cells[k])):
                k -= 1
            yield j, [c for c in cells[k + 1 : j + 1] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_check_says_not_answered_yet_for_the_untouched_starter_code(path):
    """Each check cell of the student edition, run after its exercise's starter code."""
    edition = student_editions(ROOT / "notebooks")[path.name]
    found = 0
    for j, code_cells in _check_cells(edition):
        namespace = _namespace()
        for cell in code_cells[:-1]:
            exec(source(cell), namespace)  # the stubs: definitions and `answer = None`
        for name in edition["cells"][j]["metadata"]["grade"]["answer"]:
            namespace.setdefault(name, None)  # read by the check, defined earlier in the chapter
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):  # said, not raised: "Run all" goes on
            exec(source(code_cells[-1]), namespace)
        assert "is not answered yet" in printed.getvalue(), source(code_cells[-1])
        found += 1
    checked = sum(not ex.written for ex in find_exercises(json.loads(path.read_text())["cells"]))
    assert found == checked >= 1


# --- the published folder --------------------------------------------------------------------


def test_the_published_student_editions_are_up_to_date():
    stale = stale_student_editions(ROOT / "notebooks", STUDENT)
    assert not stale, f"student/ is out of date: {stale}. Fix: run `make student` and commit it."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_published_edition_is_plain_markdown_opens_itself_in_colab_and_has_no_outputs(path):
    text = (STUDENT / path.name).read_text(encoding="utf-8")
    edition = json.loads(text)
    meta = edition["metadata"]["ode_course"]
    assert meta["outputs"] == "cleared" and meta["ref"] in ("main", f"v{VERSION}")
    for cell in edition["cells"]:
        body = source(cell)
        if cell["cell_type"] == "markdown":
            for myst in (":::", "```{", "{cite", "{numref}", "{ref}", "{doc}", ":label:", "{eq}"):
                assert myst not in body, (path.name, myst, body[:200])
        else:
            assert cell["outputs"] == [] and cell["execution_count"] is None
    ref = meta["ref"]
    first = source(edition["cells"][0])
    assert f"/blob/{ref}/student/{path.name})" in first and "/notebooks/" not in first
    install = next(source(c) for c in edition["cells"] if "%pip install" in source(c))
    pinned = re.search(r"git\+https://github\.com/[\w.-]+/[\w.-]+@([\w.-]+)", install)
    assert (pinned.group(1) if pinned else "main") == ref


def test_the_colab_ref_is_the_release_tag_when_git_has_it_and_main_otherwise(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nversion = "1.2.3"\n')
    assert _release_ref(tmp_path) == "main"  # not a git repository
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    assert _release_ref(tmp_path) == "main"
    subprocess.run([*git, "tag", "v1.2.3"], check=True)
    assert _release_ref(tmp_path) == "v1.2.3"
    nb = notebook(
        md(
            "# T\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            "(https://colab.research.google.com/github/o/r/blob/main/notebooks/01_x.ipynb)"
        ),
        code('%pip install -q "git+https://github.com/o/r"'),
    )
    out = student_edition(nb, ref="v1.2.3")
    assert "github/o/r/blob/v1.2.3/student/01_x.ipynb)" in out["cells"][0]["source"]
    assert out["cells"][1]["source"] == '%pip install -q "git+https://github.com/o/r@v1.2.3"'
    assert student_edition(nb)["cells"][1]["source"] == nb["cells"][1]["source"]


def test_the_check_finds_a_stale_a_missing_and_an_orphaned_edition(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(course, "_ROOT", course._ROOT)  # the command line sets the course root
    src, dest = tmp_path / "notebooks", tmp_path / "student"
    src.mkdir()
    (tmp_path / "_toc.yml").write_text("root: intro\n")
    for name in ("01_a", "02_b"):
        (src / f"{name}.ipynb").write_text(json.dumps(notebook(md(f"# {name}"))))

    def cli(*args: str) -> int:
        return course_tools_main(["--root", str(tmp_path), "student", *args])

    assert cli("--ref", "main") == 0
    assert cli("--check") == 0
    (src / "01_a.ipynb").write_text(json.dumps(notebook(md("# changed"))))
    (dest / "03_c.ipynb").write_text((dest / "02_b.ipynb").read_text())
    (dest / "02_b.ipynb").unlink()
    assert stale_student_editions(src, dest) == ["01_a.ipynb", "02_b.ipynb", "03_c.ipynb"]
    assert cli("--check") == 1
    assert "make student" in capsys.readouterr().err
    (dest / "other.ipynb").write_text(json.dumps(notebook()))  # not an edition: kept
    write_student_editions(src, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["01_a.ipynb", "02_b.ipynb", "other.ipynb"]


def test_the_answer_key_has_every_exercise_numbered_with_its_rubric_or_check_and_solution(
    tmp_path,
):
    key = answer_key(ROOT / "notebooks")
    cells = [json.loads(p.read_text(encoding="utf-8"))["cells"] for p in NOTEBOOKS]
    numbers = exercise_numbers(cells)
    for chapter in cells:
        for ex in find_exercises(chapter):
            section = key.split(f"### Exercise {numbers[ex.label]}: {ex.title}\n", 1)[1]
            section = section.split("\n### ", 1)[0]
            assert "**Solution.**" in section and "(none)" not in section, ex.label
            if ex.written:
                assert all(c in section for c in ex.rubric["criteria"]), ex.label
            else:
                assert "**Graded automatically** by `check_" in section, ex.label
    assert ":::" not in key and "{cite}" not in key
    path = write_answer_key(ROOT / "notebooks", tmp_path / "key" / "answer_key.md")
    assert path.read_text(encoding="utf-8") == key
    # not in the book, not tracked
    assert all("answer_key" not in f for f in _toc_files())
    assert "_build/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_student_edition_links_the_published_book_not_the_repository_and_lists_its_references(
    path,
):
    """A student edition leaves the repository (Colab, a download): its links into book/ go to
    the published pages, each built from a page that exists, and its citations are listed."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    base = config["html"]["baseurl"]
    org, repo = config["repository"]["url"].rstrip("/").split("/")[-2:]
    assert base == f"https://{org}.github.io/{repo}/"  # where .github/workflows/pages.yml publishes
    text = "".join(
        "".join(c["source"])
        for c in json.loads((STUDENT / path.name).read_text(encoding="utf-8"))["cells"]
        if c["cell_type"] == "markdown"
    )
    assert "../book/" not in text
    pages = re.findall(re.escape(base) + r"([\w/-]+)\.html", text)
    assert pages, "no link to the book's package reference"
    for page in pages:
        assert (ROOT / f"{page}.md").exists(), page
    cited = re.findall(r"\(([A-Z][^()]*?), (\d{4})\)", text)
    if cited:
        assert "## References" in text

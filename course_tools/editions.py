"""Editions of the chapter notebooks: the student edition, and the instructor's answer key.

Conventions the chapters follow (and the tests check):

- a code cell tagged ``solution`` holds a worked answer. In the student edition it is replaced
  by the starter code in its ``student_stub`` metadata (for example a function that raises
  ``NotImplementedError``), or dropped when it has none;
- a solution written in markdown sits in a ``{solution}`` directive, or between a
  ``{solution-start}`` and a ``{solution-end}`` directive (which may span several cells). Those
  parts are removed;
- a code cell tagged ``exercise`` calls a check function; its stored outputs are cleared;
- a written exercise (one that no check cell follows) carries a ``rubric`` in its cell's
  metadata, ``{"points": n, "criteria": [...]}``, one point per criterion. The student edition
  drops the rubric and puts, where the solution was, a markdown answer cell tagged ``answer``
  with metadata ``{"grade": {"id": label, "points": n, "manual": true}}``: the question
  restated, then a line ``*Your answer:*`` below which the student writes.

The student edition is plain Markdown (MyST converted, see ``course_tools.myst``): an exercise
box becomes **Exercise N: title**, N as in the book, and a citation "(Author, year)". Its Colab
badge opens the student edition itself (``student/NAME.ipynb`` at ``ref``), and its Colab install
line installs the package at ``ref`` when that is a release tag (at ``main``, the unpinned
install is the same thing). The answer key (``answer_key``) lists, per chapter, every exercise
with its number, question, rubric or check, and solution; it is for instructors only.

Command line::

    python -m course_tools student              # make student: writes student/
    python -m course_tools student --check      # is student/ up to date?
    python -m course_tools answer-key           # make answer-key: _build/answer_key.md
"""

from __future__ import annotations

import argparse
import copy
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from course_tools import notebook as notebook_io
from course_tools.myst import (
    Exercise,
    citation_labels,
    directives,
    exercise_numbers,
    find_exercises,
    plain_markdown,
    read_bibliography,
    source,
    tags,
    unlatex,
)
from ode_course import _validate

__all__ = [
    "answer_key",
    "reference_list",
    "solution_code",
    "solved_edition",
    "stale_student_editions",
    "student_edition",
    "student_editions",
    "write_answer_key",
    "write_student_editions",
]

# A fenced {solution} directive inside a markdown cell: ```{solution} label ... ``` (3+ ticks).
_SOLUTION_BLOCK = re.compile(r"^(`{3,}|:{3,})\{solution\}.*?^\1[ \t]*$\n?", re.M | re.S)
_GATE_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}.*?^\1[ \t]*$\n?", re.M | re.S)
_GATE_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}.*?^\1[ \t]*$\n?", re.M | re.S)
_COLAB = re.compile(
    r"(https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+)/blob/[\w.-]+/notebooks/"
)
_INSTALL = re.compile(r"(git\+https://github\.com/[\w.-]+/[\w.-]+?)(?:@[\w.-]+)?(?=[\"'#\s])")
_BOOK_LINK = re.compile(r"\]\(\.\./book/([\w/-]+)\.md(?=[)#])")
_CITE_ROLE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")
_YOUR_ANSWER = "*Your answer:*"
STUDENT_NOTE = (
    "*Student edition: the worked solutions are removed. Write each answer in the cell below its "
    "exercise, and run the check cells for feedback.*"
)


def _markdown(text: str, like: dict[str, Any]) -> dict[str, Any] | None:
    if not text.strip():
        return None
    cell = copy.deepcopy(like)
    cell["source"] = text.strip("\n")
    return cell


def _quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines())


def _answer_cell(ex: Exercise, number: int | None, context: dict[str, Any]) -> dict[str, Any]:
    """The markdown cell in which a student answers a written exercise."""
    head = "Exercise" + (f" {number}" if number is not None else "") + f": {ex.title}"
    question = plain_markdown(ex.body, context["numbers"], context["citations"])
    points = int((ex.rubric or {}).get("points", 1))
    return {
        "cell_type": "markdown",
        "id": re.sub(r"[^\w-]", "-", f"answer-{ex.label}")[:64],
        "metadata": {
            "tags": ["answer"],
            "grade": {"id": ex.label, "points": points, "manual": True},
        },
        "source": f"**Your answer to {head}** ({points} point{'s' if points != 1 else ''})\n\n"
        f"{_quote(question)}\n\n{_YOUR_ANSWER}\n",
    }


def _answer_places(cells: list[dict[str, Any]], context: dict[str, Any]) -> dict[int, Any]:
    """Original cell index → (answer cell, replace?): where each written answer goes.

    A written exercise's answer cell goes where its solution ends, after any starter code of an
    ungraded experiment (a ``solution`` cell with a ``student_stub``), so that the experiment
    comes before the answer it feeds. An exercise with a rubric *and* a check (a written part
    beside a checked one) gets its answer cell after the check and the code cells that follow it.
    """
    places: dict[int, Any] = {}
    for ex in find_exercises(cells):
        if not ex.written and not ex.rubric:
            continue
        cell = _answer_cell(ex, context["numbers"].get(ex.label), context)
        where, replace = ex.cell + 1, False
        if ex.checks:
            where = ex.checks[-1] + 1
            while where < len(cells) and cells[where]["cell_type"] == "code":
                where += 1
        elif not any(d.name == "solution" for d in directives(source(cells[ex.cell]))):
            gated = "solution-start" in {d.name for d in directives(source(cells[ex.cell]))}
            for j in range(ex.cell + 1, len(cells)):
                later, text = cells[j], source(cells[j])
                names = (
                    {d.name for d in directives(text)}
                    if later["cell_type"] == "markdown"
                    else set()
                )
                if (
                    not gated
                    and later["cell_type"] == "markdown"
                    and text.strip().startswith(_YOUR_ANSWER)
                ):
                    where, replace = j, True  # an answer cell already there: restate it
                    cell["id"] = later.get("id", cell["id"])
                    break
                if "solution" in names:
                    where = j
                    break
                if "solution-start" in names:
                    gated = True
                if "solution-end" in names:
                    where = j  # before the cell that closes the solution (its rest is kept)
                    break
                if not gated and (
                    names & {"exercise", "exercise-start"}
                    or (later["cell_type"] == "markdown" and re.search(r"^#{1,3} ", text, re.M))
                ):
                    break
        places[where] = (cell, replace)
    return places


def _relink(text: str, ref: str, book_url: str | None = None) -> str:
    """Point Colab at the student edition at ``ref``; pin the install line when ``ref`` is a tag;
    point links into the repository's ``book/`` at the published book (``book_url``)."""
    text = _COLAB.sub(rf"\1/blob/{ref}/student/", text)
    if ref != "main":
        text = _INSTALL.sub(rf"\1@{ref}", text)
    if book_url:
        text = _BOOK_LINK.sub(lambda m: f"]({book_url}book/{m.group(1)}.html", text)
    return text


def _authors(field: str) -> str:
    """BibTeX's "Last, First and Last, First" as "First Last, First Last and First Last"."""
    names = []
    for name in re.split(r"\s+and\s+", field):
        last, _, first = name.partition(",")
        names.append(unlatex(f"{first.strip()} {last.strip()}".strip()))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def reference_list(keys: list[str], bibliography: Mapping[str, Mapping[str, str]]) -> str:
    """The works cited by ``keys`` as a Markdown list, in the order given (for editions that
    leave the book, where Sphinx's bibliography is not).

    Example:
        >>> bib = {"k": {"author": "Chen, Ricky and Duvenaud, David", "year": "2018",
        ...              "title": "{Neural} {ODE}s", "booktitle": "NeurIPS"}}
        >>> print(reference_list(["k"], bib))
        - Ricky Chen and David Duvenaud (2018). *Neural ODEs*. NeurIPS.
    """
    lines = []
    for key in keys:
        entry = bibliography.get(key)
        if entry is None:
            continue
        authors = _authors(entry["author"]) if "author" in entry else ""
        title = unlatex(entry.get("title", key))
        venue = entry.get("journal") or entry.get("booktitle") or entry.get("publisher") or ""
        venue = unlatex(re.sub(r"\\url\{([^}]*)\}", r"\1", venue or entry.get("howpublished", "")))
        line = f"- {authors} ({entry.get('year', 'n.d.')}). *{title}*."
        lines.append(line + (f" {venue}." if venue else ""))
    return "\n".join(lines)


def _cited_keys(cells: list[dict[str, Any]]) -> list[str]:
    """The cite keys of the markdown cells, in order of first use."""
    keys = (
        key.strip()
        for cell in cells
        if cell["cell_type"] == "markdown"
        for match in _CITE_ROLE.finditer(source(cell))
        for key in match.group(1).split(",")
    )
    return list(dict.fromkeys(keys))


def student_edition(
    notebook: dict[str, Any],
    *,
    numbers: Mapping[str, int] | None = None,
    citations: Mapping[str, tuple[str, str]] | None = None,
    ref: str = "main",
    clear_outputs: bool = False,
    book_url: str | None = None,
    bibliography: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """Return a copy of ``notebook`` (nbformat 4, as a dict) with its solutions removed.

    Args:
        notebook: a notebook as loaded by ``json.load`` or ``nbformat.read``.
        numbers: exercise label → the book's number; ``student_editions`` computes it for a
            whole folder. Without it the exercises are shown without numbers.
        citations: cite key → (authors, year), from ``book/references.bib``.
        ref: the git branch or release tag the Colab badge and install line point at.
        clear_outputs: also clear every code cell's stored outputs (the published folder does).
        book_url: the published book (``html.baseurl`` of ``_config.yml``): links into the
            repository's ``book/`` folder point there, since the edition leaves the repository.
        bibliography: the entries of ``book/references.bib`` (``read_bibliography``): the works
            the notebook cites are listed in a last "References" cell.

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
    context: dict[str, Any] = {
        "numbers": dict(numbers or {}),
        "citations": dict(citations or {}),
    }
    out = copy.deepcopy(notebook)
    places = _answer_places(out["cells"], context)
    cells: list[dict[str, Any]] = []
    in_gate = False
    for index, cell in enumerate(out["cells"]):
        cell.get("metadata", {}).pop("rubric", None)
        if index in places:
            answer, replace = places[index]
            cells.append(answer)
            if replace:
                continue
        tags_ = tags(cell)
        if cell["cell_type"] == "code" and "solution" in tags_:
            stub = cell.get("metadata", {}).get("student_stub")
            if stub is not None:
                cell["source"] = stub
                cell["metadata"]["tags"] = [t for t in tags_ if t != "solution"] + ["stub"]
                cell["metadata"].pop("student_stub", None)
                cell["outputs"], cell["execution_count"] = [], None
                cells.append(cell)
            continue
        if cell["cell_type"] == "markdown":
            text = source(cell)
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
            if kept == source(cell) and not _SOLUTION_BLOCK.search(kept):
                cells.append(cell)  # no solution in it
                continue
            new = _markdown(_SOLUTION_BLOCK.sub("", kept), cell)
            if new is not None:
                cells.append(new)
            continue
        if in_gate:
            continue  # code that belongs to a gated solution without a solution tag
        if cell["cell_type"] == "code" and ("exercise" in tags_ or clear_outputs):
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    if in_gate:
        _validate.fail(
            "notebook",
            "a notebook whose every {solution-start} directive is closed by a {solution-end}",
            "a {solution-start} with no matching {solution-end}",
            "add a {solution-end} directive after the solution's last cell",
        )
    cited = _cited_keys(cells) if bibliography else []
    for cell in cells:
        text = _relink(source(cell), ref, book_url)
        if cell["cell_type"] == "markdown":
            text = plain_markdown(text, context["numbers"], context["citations"]).strip("\n")
        if text != source(cell):
            cell["source"] = text
    if cells and cells[0]["cell_type"] == "markdown" and "colab-badge" in source(cells[0]):
        first = source(cells[0])
        badge = re.search(r"^\[!\[Open In Colab\].*$", first, re.M)
        if badge is not None:
            at = badge.end()
            cells[0]["source"] = f"{first[:at]}\n\n{STUDENT_NOTE}{first[at:]}"
    listed = reference_list(cited, bibliography or {})
    if listed:
        cells.append(
            {
                "cell_type": "markdown",
                "id": "references",
                "metadata": {},
                "source": f"## References\n\n{listed}",
            }
        )
    out["cells"] = cells
    out["metadata"]["ode_course"] = {
        "edition": "student",
        "ref": ref,
        "outputs": "cleared" if clear_outputs else "kept",
    }
    return out


def _notebooks(src: str | Path) -> list[Path]:
    src = Path(src)
    notebooks = sorted(src.glob("*.ipynb")) if src.is_dir() else []
    if not notebooks:
        _validate.fail(
            "src",
            "a folder that holds *.ipynb notebooks",
            f"src={str(src)!r}, where no notebooks were found",
            "pass the notebooks folder, e.g. write_student_editions('notebooks', 'student')",
            FileNotFoundError,
        )
    return notebooks


def _context(paths: list[Path], bibliography: str | Path | None) -> dict[str, Any]:
    """The book's exercise numbers and citation labels for the notebooks in ``paths``."""
    loaded = {p.name: notebook_io.read(p) for p in paths}
    bib = Path(bibliography) if bibliography else paths[0].parent.parent / "book/references.bib"
    entries = read_bibliography(bib) if bib.exists() else {}
    config = paths[0].parent.parent / "_config.yml"
    found = (
        re.search(r"^\s+baseurl:\s*(\S+)", config.read_text(encoding="utf-8"), re.M)
        if config.exists()
        else None
    )
    return {
        "notebooks": loaded,
        "numbers": exercise_numbers(nb["cells"] for nb in loaded.values()),
        "citations": citation_labels(entries),
        "bibliography": entries,
        "book_url": found.group(1).rstrip("/") + "/" if found else None,
    }


def student_editions(
    src: str | Path,
    *,
    bibliography: str | Path | None = None,
    ref: str = "main",
    clear_outputs: bool = False,
) -> dict[str, dict[str, Any]]:
    """File name → student edition, for every ``*.ipynb`` in ``src``, numbered as in the book.

    The book numbers its exercises in one sequence in table-of-contents order, which is the
    notebooks' file-name order. ``bibliography`` defaults to ``book/references.bib`` next to
    ``src``; the other arguments are those of ``student_edition``.
    """
    context = _context(_notebooks(src), bibliography)
    return {
        name: student_edition(
            nb,
            numbers=context["numbers"],
            citations=context["citations"],
            ref=ref,
            clear_outputs=clear_outputs,
            book_url=context["book_url"],
            bibliography=context["bibliography"],
        )
        for name, nb in context["notebooks"].items()
    }


def _dumps(notebook: dict[str, Any]) -> str:
    return notebook_io.dumps(notebook)


def _is_student_edition(path: Path) -> bool:
    try:
        meta = notebook_io.read(path).get("metadata", {})
    except Exception:  # not a notebook at all: not an edition either
        return False
    return meta.get("ode_course", {}).get("edition") == "student"


def write_student_editions(
    src: str | Path,
    dest: str | Path,
    *,
    bibliography: str | Path | None = None,
    ref: str = "main",
    clear_outputs: bool = False,
) -> list[Path]:
    """Write the student edition of every ``*.ipynb`` in ``src`` to ``dest`` (same file names).

    A student edition left in ``dest`` whose notebook no longer exists is removed.

    Returns:
        The paths written.

    Raises:
        FileNotFoundError: ``src`` is not a folder or holds no notebooks.
        ValueError: ``dest`` is the same folder as ``src`` (the originals must not change).
    """
    src, dest = Path(src), Path(dest)
    editions = student_editions(
        src, bibliography=bibliography, ref=ref, clear_outputs=clear_outputs
    )
    if dest.resolve() == src.resolve():
        _validate.fail(
            "dest",
            "a folder other than src (student editions never overwrite the originals)",
            f"dest={str(dest)!r}, the same folder as src",
            "write them elsewhere, e.g. dest='student'",
        )
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("*.ipynb"):
        if old.name not in editions and _is_student_edition(old):
            old.unlink()
    written = []
    for name, edition in editions.items():
        target = dest / name
        target.write_text(_dumps(edition), encoding="utf-8")
        written.append(target)
    return written


def stale_student_editions(
    src: str | Path, dest: str | Path, *, bibliography: str | Path | None = None
) -> list[str]:
    """The file names in ``dest`` that differ from what ``write_student_editions`` would write.

    Each edition is regenerated with the ``ref`` and outputs policy recorded in the published
    files' metadata, so the answer does not depend on the git tags of the checkout. A missing
    file and a student edition without a notebook count as stale.
    """
    dest = Path(dest)
    published = {p.name: p for p in sorted(dest.glob("*.ipynb"))} if dest.is_dir() else {}
    recorded: dict[str, Any] = next(
        (
            notebook_io.read(p)["metadata"].get("ode_course", {})
            for p in published.values()
            if _is_student_edition(p)
        ),
        {},
    )
    editions = student_editions(
        src,
        bibliography=bibliography,
        ref=recorded.get("ref", "main"),
        clear_outputs=recorded.get("outputs", "cleared") == "cleared",
    )
    stale = [
        name
        for name, edition in editions.items()
        if name not in published or published[name].read_text(encoding="utf-8") != _dumps(edition)
    ]
    return stale + sorted(set(published) - set(editions))


def _solution_parts(
    cells: list[dict[str, Any]], exercises: list[Exercise]
) -> list[tuple[str, str, str]]:
    """The worked solutions, in order: (exercise label, ``"code"`` or ``"markdown"``, text).

    A solution is a code cell tagged ``solution``, everything between ``{solution-start}``
    and ``{solution-end}``, or a ``{solution}`` directive; it belongs to the exercise it names,
    else to the latest exercise above it.
    """
    parts: list[tuple[str, str, str]] = []
    starts = {ex.cell: ex.label for ex in exercises}
    gate: str | None = None
    current = ""
    for i, cell in enumerate(cells):
        current = starts.get(i, current)
        text = source(cell)
        if cell["cell_type"] == "code":
            if gate is not None or "solution" in tags(cell):
                parts.append((gate or current, "code", text.strip()))
            continue
        last = 0
        for d in directives(text):
            if gate is not None and text[last : d.start].strip():
                parts.append((gate, "markdown", text[last : d.start].strip()))
            if d.name == "solution":
                parts.append((d.arg or current, "markdown", d.body.strip()))
            elif d.name == "solution-start":
                gate = d.arg or current
            elif d.name == "solution-end":
                gate = None
            last = d.end
        if gate is not None and text[last:].strip():
            parts.append((gate, "markdown", text[last:].strip()))
    return parts


def _solutions(cells: list[dict[str, Any]], exercises: list[Exercise]) -> dict[str, list[str]]:
    """Exercise label → the parts of its worked solution (markdown text, fenced code)."""
    parts: dict[str, list[str]] = {ex.label: [] for ex in exercises}
    for label, kind, text in _solution_parts(cells, exercises):
        parts.setdefault(label, []).append(f"```python\n{text}\n```" if kind == "code" else text)
    return parts


def solved_edition(notebook: dict[str, Any]) -> dict[str, Any]:
    """The student edition of ``notebook`` with every worked solution typed into the answer
    cell that replaces it: the notebook a learner who knows every answer hands in."""
    typed = {
        c["metadata"]["student_stub"]: "".join(c["source"])
        for c in notebook["cells"]
        if "student_stub" in c["metadata"]
    }
    edition = student_edition(notebook)
    for cell in edition["cells"]:
        if "stub" in cell["metadata"].get("tags", []):
            cell["source"] = typed["".join(cell["source"])]
    return edition


def solution_code(path: str | Path) -> dict[str, str]:
    """Exercise label → the code of its worked solution in the notebook at ``path``.

    The code cells the student edition removes, joined in order: what an instructor's (or a
    test's) right answer is, read from the one place the author wrote it.
    """
    cells = notebook_io.read(path)["cells"]
    code: dict[str, list[str]] = {}
    for label, kind, text in _solution_parts(cells, find_exercises(cells)):
        if kind == "code":
            code.setdefault(label, []).append(text)
    return {label: "\n\n".join(texts) + "\n" for label, texts in code.items()}


def answer_key(src: str | Path, *, bibliography: str | Path | None = None) -> str:
    """The instructor's answer key of the notebooks in ``src``, as Markdown.

    Per chapter, every exercise under its number in the book: the question, how it is graded
    (the check function and the points of the check cell's ``grade`` metadata, or the rubric
    of a written exercise) and the worked solution. It contains the answers: it is neither in
    the book nor in the student editions (``make answer-key`` writes ``_build/answer_key.md``).
    """
    context = _context(_notebooks(src), bibliography)
    numbers, citations = context["numbers"], context["citations"]

    def plain(text: str) -> str:
        return plain_markdown(text, numbers, citations).strip()

    lines = [
        "# Answer key",
        "",
        "For instructors only: it holds every solution. Generated by `make answer-key` from the",
        "notebooks (the rubrics are the `rubric` metadata of the written exercises' cells).",
        "",
    ]
    for name, nb in context["notebooks"].items():
        cells = nb["cells"]
        title = next(
            (line[2:].strip() for line in source(cells[0]).splitlines() if line.startswith("# ")),
            name,
        )
        exercises = find_exercises(cells)
        solutions = _solutions(cells, exercises)
        lines += [f"## {title}", "", f"Notebook: `notebooks/{name}`.", ""]
        for ex in exercises:
            number = numbers.get(ex.label)
            head = "Exercise" + (f" {number}" if number is not None else "") + f": {ex.title}"
            lines += [f"### {head}", "", f"Label: `{ex.label}`.", "", plain(ex.body), ""]
            if ex.written or ex.rubric:
                rubric = ex.rubric or {}
                lines.append(
                    f"**Rubric** ({rubric.get('points', '?')} points, one per criterion; "
                    "graded by hand" + ("; the written part" if ex.checks else "") + "):"
                    if rubric
                    else "**Rubric:** none yet (add `rubric` metadata to the exercise's cell)."
                )
                lines += [""] + [f"{k}. {c}" for k, c in enumerate(rubric.get("criteria", []), 1)]
                if ex.checks:
                    lines.append("")
            if ex.checks:
                for j in ex.checks:
                    call = re.search(r"\bcheck_\w+", source(cells[j]))
                    grade = cells[j].get("metadata", {}).get("grade", {})
                    n = grade.get("points")
                    points = "" if n is None else f", {n} point{'' if n == 1 else 's'}"
                    lines.append(
                        f"**Graded automatically** by `{call.group(0) if call else '?'}`{points}."
                    )
            lines += ["", "**Solution.**", ""]
            lines += [plain(part) + "\n" for part in solutions.get(ex.label, [])] or ["(none)", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_answer_key(
    src: str | Path, dest: str | Path, *, bibliography: str | Path | None = None
) -> Path:
    """Write ``answer_key(src)`` to the file ``dest`` and return its path."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(answer_key(src, bibliography=bibliography), encoding="utf-8")
    return dest


def _release_ref(root: Path) -> str:
    """``vX.Y.Z`` (the version in pyproject.toml) when git has that tag, otherwise ``main``."""
    pyproject = root / "pyproject.toml"
    match = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(encoding="utf-8"), re.M)
    if match is None:
        return "main"
    tag = f"v{match.group(1)}"
    try:
        found = subprocess.run(
            ["git", "tag", "--list", tag], cwd=root, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return "main"
    return tag if tag in found else "main"


def main_student(argv: list[str] | None = None) -> int:
    """``python -m course_tools student [DEST] [--check] [--ref REF] [--keep-outputs]``."""
    from course_tools import course

    root = course.root()
    parser = argparse.ArgumentParser(
        prog="python -m course_tools student",
        description="Write the student editions of the course's notebooks (or --check them).",
    )
    parser.add_argument("dest", nargs="?", help="where they go (default: ROOT/student)")
    parser.add_argument("--check", action="store_true", help="only say whether dest is stale")
    parser.add_argument("--ref", help="branch or tag for Colab (default: the release tag, or main)")
    parser.add_argument("--keep-outputs", action="store_true", help="keep the stored outputs")
    args = parser.parse_args(argv)
    src, dest = root / "notebooks", Path(args.dest) if args.dest else root / "student"
    if args.check:
        stale = stale_student_editions(src, dest)
        for name in stale:
            print(f"{dest}/{name} is out of date", file=sys.stderr)
        if stale:
            print("Fix: run `make student` and commit the result.", file=sys.stderr)
        return 1 if stale else 0
    ref = args.ref or _release_ref(root)
    for path in write_student_editions(src, dest, ref=ref, clear_outputs=not args.keep_outputs):
        print(f"wrote {path} (Colab at {ref})")
    return 0


def main_answer_key(argv: list[str] | None = None) -> int:
    """``python -m course_tools answer-key [FILE]`` (default: ROOT/_build/answer_key.md)."""
    from course_tools import course

    root = course.root()
    parser = argparse.ArgumentParser(
        prog="python -m course_tools answer-key",
        description="Write the instructors' answer key (every solution and rubric).",
    )
    parser.add_argument("file", nargs="?", help="default: ROOT/_build/answer_key.md")
    args = parser.parse_args(argv)
    dest = Path(args.file) if args.file else root / "_build" / "answer_key.md"
    print(f"wrote {write_answer_key(root / 'notebooks', dest)}")
    return 0


if __name__ == "__main__":
    sys.exit(main_student())

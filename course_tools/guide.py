"""Write book/instructors.md from the notebooks themselves and the measured execution times.

Everything on the page is read, not typed: each chapter's objectives, prerequisites and time
estimate from its first cell; its exercises from the ``{exercise}`` directives (their titles and
the ``assesses`` metadata of their cells); the check function that grades each coding exercise
from the ``exercise``-tagged cell that follows it; and the execution time from
``benchmarks/notebook_times.json``, which ``make times`` measures; the time per section from
the words of each section and its share of the chapter's code cells (``sections``); the
version to cite from ``CITATION.cff``. ``make guide`` rewrites the page;
``tests/test_instructor_guide.py`` fails when the page is stale.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from course_tools import course
from course_tools import notebook as notebook_io
from course_tools.editions import student_edition

ROOT = course.root()

TIMES = ROOT / "benchmarks" / "notebook_times.json"
PAGE = ROOT / "book" / "instructors.md"
CITATION = ROOT / "CITATION.cff"
READING_RATE = 120
"""Words a minute at which the time per section assumes a student reads (text with formulas
and code, read carefully rather than skimmed)."""
_HEADING = re.compile(r"^## +(.+?)\s*$")

_EXERCISE = re.compile(
    r"^(:{3,}|`{3,})\{exercise\}[ \t]*(?P<title>[^\n]*)\n(?P<body>.*?)^\1", re.M | re.S
)
_LABEL = re.compile(r"^:label:\s*(\S+)", re.M)
_CHECK = re.compile(r"\b(check_\w+)\(")


def _src(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _field(text: str, name: str) -> str:
    """The paragraph that starts with **name.** in the first cell, without the label."""
    match = re.search(rf"\*\*{name}\.\*\*(.*?)(?:\n\s*\n|\Z)", text, re.S)
    if match is None:
        raise ValueError(f"the first cell has no **{name}.** paragraph")
    return " ".join(match.group(1).split())


def _objectives(text: str) -> list[str]:
    match = re.search(r"\*\*Learning objectives\.\*\*[^\n]*\n\n?((?:- .*\n?(?:  .*\n?)*)+)", text)
    if match is None:
        raise ValueError("the first cell has no bullet list after **Learning objectives.**")
    items = re.split(r"^- ", match.group(1), flags=re.M)
    return [" ".join(item.split()) for item in items if item.strip()]


def chapter_info(path: Path) -> dict:
    """Title, objectives, prerequisites, time estimate and exercises of one chapter notebook."""
    cells = notebook_io.read(path)["cells"]
    first = _src(cells[0])
    title = next(line[2:].strip() for line in first.splitlines() if line.startswith("# "))
    exercises = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for match in _EXERCISE.finditer(_src(cell)):
            label = _LABEL.search(match.group("body"))
            check = None
            for later in cells[i + 1 :]:
                if later["cell_type"] == "markdown" and _EXERCISE.search(_src(later)):
                    break
                if "exercise" in later.get("metadata", {}).get("tags", []):
                    found = _CHECK.search(_src(later))  # a stub cell may come before the check
                    if found:
                        check = found.group(1)
                        break
            rubric = cell.get("metadata", {}).get("rubric") or {}
            exercises.append(
                {
                    "label": label.group(1) if label else "",
                    "title": match.group("title").strip(),
                    "assesses": cell.get("metadata", {}).get("assesses", ""),
                    "check": check,
                    "points": rubric.get("points") if check is None else None,
                }
            )
    return {
        "name": path.stem,
        "title": title,
        "objectives": _objectives(first),
        "prerequisites": _field(first, "Prerequisites"),
        "time": _field(first, "Time"),
        "exercises": exercises,
        "sections": sections(path),
    }


def _split(cells: list[dict]) -> list[dict[str, Any]]:
    """The sections of a chapter (``## `` headings; what comes first is the introduction)."""
    found: list[dict[str, Any]] = [{"title": "Introduction", "words": 0, "code": 0, "labels": []}]
    for cell in cells:
        if cell["cell_type"] == "code":
            found[-1]["code"] += 1
            found[-1]["words"] += len(_src(cell).split())
            continue
        lines: list[str] = []
        for line in [*_src(cell).splitlines(), None]:
            heading = _HEADING.match(line) if line is not None else None
            if line is not None and heading is None:
                lines.append(line)
                continue
            text = "\n".join(lines)
            found[-1]["words"] += len(text.split())
            found[-1]["labels"] += [m.group(1) for m in _LABEL.finditer(text)]
            lines = []
            if heading is not None:
                found.append({"title": heading.group(1), "words": 0, "code": 0, "labels": []})
    return found


def sections(path: Path) -> list[dict]:
    """Each section of a chapter: its title, reading words, code cells and exercise labels.

    The words are those a student reads: the section's markdown and code as the student
    edition shows them (solutions left out). The code cells are those of the full notebook,
    whose execution ``benchmarks/notebook_times.json`` measures.
    """
    notebook = notebook_io.read(path)
    full = _split(notebook["cells"])
    read = _split(student_edition(notebook)["cells"])
    if [s["title"] for s in full] != [s["title"] for s in read]:
        raise ValueError(f"{path.name}: a section heading sits inside a solution")
    return [dict(s, words=r["words"]) for s, r in zip(full, read, strict=True)]


def citation() -> dict:
    """Title, version, authors and repository of the course, from CITATION.cff."""
    return yaml.safe_load(CITATION.read_text(encoding="utf-8"))


# Suggested routes through the course; the chapters' own first cells give the study times.
PATHS = [
    "## Suggested paths",
    "",
    "- **A two-week module on neural ODEs** (about 8 hours of study): pre-reading Chapter 4",
    "  §1–2 (gradient flow, and Euler's method as gradient descent); week 1 Chapter 5 (ResNets",
    "  as Euler steps, the solvers, the ODE-Net on digits); week 2 Chapter 6 (the adjoint",
    "  method) and one of Chapter 7 (densities) or Chapter 8 (time series). Assign the coding",
    "  exercises of Chapters 5 and 6: their checks give feedback while learners work, and",
    "  `make grade` scores the submissions (see Grading submissions below). A third week",
    "  on generative models adds Chapter 9 (flow matching) after Chapter 7.",
    "- **A first course on backpropagation** (about 5½ hours): Chapters 1, 2 and 3 in order,",
    "  with every exercise; Chapter 4 §1–2 as an optional last session that links optimizers to",
    "  ODEs.",
    "- **A full semester** (about {hours} hours of study, one chapter a week with room for",
    "  projects): Chapters 1–{last} in order; Chapters 1–3 are the foundations, Chapter 4 the",
    "  bridge, Chapters 5–{last} the continuous models. A project can extend any chapter's last",
    "  section.",
    "",
]


def study_hours(time: str) -> float:
    """The hours of a chapter's time estimate: "About 90 minutes, …" → 1.5, "About 2½ hours" → 2.5.

    Raises:
        ValueError: the estimate does not start "About N minutes" or "About N hours".
    """
    found = re.match(r"About (\d+)(½?) (minutes|hours?)\b", time)
    if found is None:
        raise ValueError(
            f"a chapter's **Time.** must start 'About N hours' or 'About N minutes'; got {time!r}"
        )
    amount = int(found.group(1)) + (0.5 if found.group(2) else 0.0)
    return amount / 60 if found.group(3) == "minutes" else amount


def _hours(total: float) -> str:
    whole, half = int(total), total - int(total) >= 0.5
    return f"{whole}½" if half else str(whole)


def paths(chapters: list[dict]) -> list[str]:
    """The suggested paths; the full semester's length and last chapter come from the toc."""
    hours = _hours(sum(study_hours(ch["time"]) for ch in chapters))
    last = int(chapters[-1]["name"][:2]) if chapters else 0
    return [line.format(hours=hours, last=last) for line in PATHS]


GRADING = Path(__file__).with_name("guide_grading.md")
"""The grading command's documentation (usage of ``python -m course_tools grade``), Markdown
under a ``## Grading submissions`` heading; the page copies it, or prints a placeholder while
it is missing."""


def _minutes(words: int) -> int:
    return max(1, math.ceil(words / READING_RATE))


def _section_table(ch: dict, seconds: float | None) -> list[str]:
    code = sum(s["code"] for s in ch["sections"]) or 1
    lines = [
        "**Time per section** (reading at the stated rate; execution as apportioned above).",
        "",
        "| section | reading | execution | exercises |",
        "|---|---|---|---|",
    ]
    for s in ch["sections"]:
        share = seconds * s["code"] / code if seconds is not None else None
        run = "not measured" if share is None else "< 1 s" if share < 0.5 else f"{share:.0f} s"
        numbers = ", ".join(f"{{numref}}`%s <{label}>`" for label in s["labels"])
        lines.append(f"| {s['title']} | {_minutes(s['words'])} min | {run} | {numbers} |")
    total = sum(_minutes(s["words"]) for s in ch["sections"])
    lines += ["", f"Reading the whole chapter: about {total} minutes, before the exercises.", ""]
    return lines


def _how_to_cite(cff: dict) -> list[str]:
    authors = " and ".join(a.get("name") or f"{a['given-names']} {a['family-names']}"
                           for a in cff["authors"])  # fmt: skip
    return [
        "## How to cite",
        "",
        f"Cite the version you used. This is version {cff['version']} (the `version` of",
        "`pyproject.toml`, `ode_course.__version__`); `CITATION.cff` at the root of the",
        "repository holds the same data, and GitHub offers it as *Cite this repository*:",
        "",
        f"> {authors}. *{cff['title']}*, version {cff['version']}. {cff['repository-code']}",
        "",
        "```bibtex",
        "@misc{odecourse,",
        f"  author  = {{{{{authors}}}}},",
        f"  title   = {{{{{cff['title']}}}}},",
        f"  version = {{{cff['version']}}},",
        f"  url     = {{{cff['repository-code']}}}",
        "}",
        "```",
        "",
        "The text and figures are licensed under CC BY 4.0 and the code under the MIT licence",
        "(`LICENSE-CONTENT.md`, `LICENSE`).",
        "",
    ]


def render(chapters: list[dict], times: dict, cff: dict | None = None) -> str:
    seconds = times.get("seconds", {})
    lines = [
        "# For instructors",
        "",
        "<!-- Generated by course_tools/guide.py (`make guide`) from the notebooks,",
        "     benchmarks/notebook_times.json and CITATION.cff; edit those, not this page. -->",
        "",
        "This page summarises, for each chapter, what it teaches, what it assumes, the exercises",
        "and what each one assesses, and how long the notebook takes to execute. The execution",
        "times were measured by `benchmarks/notebook_times.py` on",
        f"{times.get('machine', 'a 2-core CPU')};",
        "they count the computer's time to run every cell, not the students' time to read and",
        "work, which each chapter estimates in its first cell.",
        "",
        "| chapter | execution time | study time (estimate) | exercises |",
        "|---|---|---|---|",
    ]
    for ch in chapters:
        t = seconds.get(ch["name"])
        shown = f"{t:.0f} s" if t is not None else "not measured"
        # the first clause: "About 2.5 hours, exercises included." -> "About 2.5 hours"
        study = re.split(r"[,.](?:\s|$)", ch["time"])[0]
        lines.append(
            f"| {{doc}}`{ch['title']} <../notebooks/{ch['name']}>` | {shown} | {study} | "
            f"{len(ch['exercises'])} |"
        )
    total = sum(seconds.get(ch["name"], 0.0) for ch in chapters)
    lines += [
        "",
        f"Executing every chapter takes {total:.0f} s in all.",
        "",
        "**Time per section.** Each chapter below lists its sections with two times. *Reading*",
        "is the number of words a student reads in the section (its text and code as the",
        "student edition shows them, solutions left out, formulas counted as written) at",
        f"{READING_RATE} words a minute, rounded up to a whole minute; the exercises come on top.",
        "*Execution* is the chapter's measured execution time shared among its sections in",
        "proportion to their code cells: the cells were not timed one by one, so a section that",
        "trains a model takes longer than shown and the others less. Exercise numbers are the",
        "book's.",
        "",
    ]
    lines += paths(chapters)
    for ch in chapters:
        lines += [f"## {ch['title']}", "", f"Notebook: `notebooks/{ch['name']}.ipynb`.", ""]
        lines += ["**Learning objectives.**", ""] + [f"- {o}" for o in ch["objectives"]] + [""]
        lines += [f"**Prerequisites.** {ch['prerequisites']}", ""]
        lines += [f"**Time.** {ch['time']}", ""]
        lines += _section_table(ch, seconds.get(ch["name"]))
        lines += ["**Exercises** (numbered as in the book).", ""]
        lines += ["| exercise | assesses | feedback |", "|---|---|---|"]
        for ex in ch["exercises"]:
            if ex["check"]:
                feedback = f"`{ex['check']}` explains what is wrong"
            elif ex["points"]:
                feedback = f"written: rubric ({ex['points']} points) in the answer key"
            else:
                feedback = "written: solution to compare"
            name = ex["title"]
            if ex["label"]:  # the number the book gives it, and its title
                name = f"{{numref}}`Exercise %s <{ex['label']}>`: {ex['title']}"
            lines.append(f"| {name} | {ex['assesses']} | {feedback} |")
        lines.append("")
    lines += [
        "## Handing out student editions",
        "",
        "The student editions are in the repository, in `student/` (`make student` writes them",
        "from `notebooks/`; a test fails when they are out of date). Each is the chapter's",
        "notebook with the worked solutions replaced by starter code (a function that raises",
        "`NotImplementedError`, or `None` where a number is asked for), the solution dropdowns",
        "removed, an answer cell after each written exercise, and every stored output cleared,",
        "which keeps them small and shows no result of a solved run. The MyST markup of the book",
        "is turned into plain Markdown that Jupyter and Colab render: an exercise box becomes",
        "**Exercise N: title**, numbered as in the book, and a citation (Author, year). The",
        "*Open in Colab* badge of a student edition opens that student edition; its install",
        "line installs the package of the release tag `vX.Y.Z` (the version in `pyproject.toml`)",
        "once git has that tag, and the `main` branch until then. Each chapter's page in the book",
        "also links its student edition.",
        "",
        "## How students get feedback",
        "",
        "Each coding exercise is followed by a cell that calls a check function from",
        "`ode_course.checks`. It prints `Correct: ...` when the answer is right, prints",
        "`not answered yet` (naming the cell to edit) for the untouched starter code without",
        "stopping the notebook, so that *Run all* on an untouched edition reaches its end, and",
        "otherwise raises `CheckFailed`, shown in Jupyter and Colab as its message alone, which",
        "names the mistake (a missing path in a sum over paths, a derivative that forgot the",
        "upstream gradient, RK4 without the 2s in its weights, Adam's bias correction with",
        "t + 1, ...). Students can run it as often as they like; the answer goes in the one cell",
        "that says `# your answer`. A written exercise has, in the student edition, a markdown",
        "cell tagged `answer` after its experiment, restating the question; the student writes",
        "below its line *Your answer:*. An exercise with both a check and a written part has",
        "both, the answer cell after the check.",
        "",
        "## Answer key and rubrics",
        "",
        "`make answer-key` writes `_build/answer_key.md`, for instructors only: per chapter, every",
        "exercise under its number in the book, its question, its check function or, for a written",
        "exercise, its rubric (what a full answer contains, one point per criterion), and the",
        "worked solution. The rubrics are kept in the metadata of the exercises' cells, which",
        "neither the book nor the student editions show; the answer key is not tracked.",
        "",
        "## Grading submissions",
        "",
    ]
    if GRADING.exists():
        text = GRADING.read_text(encoding="utf-8").strip()
        lines += re.sub(r"\A## Grading submissions\s*\n", "", text).splitlines()
    else:
        lines += [
            "<!-- the grading command's documentation goes here: course_tools/guide_grading.md -->",
            "The grading command, `python -m course_tools grade SUBMISSIONS/ [--chapter N] [--csv",
            "scores.csv]` (`make grade`), is documented here once it is in place.",
        ]
    lines.append("")
    if cff is not None:
        lines += _how_to_cite(cff)
    return "\n".join(lines)


def build() -> str:
    times = json.loads(TIMES.read_text(encoding="utf-8")) if TIMES.exists() else {}
    chapters = [chapter_info(p) for p in course.chapters(ROOT)]
    return render(chapters, times, citation())


def main(argv: list[str] | None = None) -> int:
    PAGE.write_text(build(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

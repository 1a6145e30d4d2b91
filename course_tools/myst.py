"""Reading the book's MyST: exercises and their numbers, citations, and plain Markdown.

The chapters are written in MyST Markdown for Jupyter Book: exercise boxes (``:::{exercise}``
from sphinx-exercise), admonitions, citations (``{cite}`` with keys in ``book/references.bib``)
and cross-references (``{numref}``, ``{ref}``, ``{doc}``, ``{eq}``). Jupyter and Colab show
that markup raw. This module finds the exercises, numbers them as the built book does, and
rewrites a cell's MyST as the plain Markdown that any notebook front end renders. Directives
are found by markdown-it-py (with mdit-py-plugins' ``:::`` fences, as MyST itself parses them),
and the bibliography is read by pybtex:

- ``:::{exercise} Title`` becomes a bold **Exercise N: Title** line followed by its text, N
  being the book's number: sphinx-exercise numbers the exercises of the whole book in one
  sequence, in table-of-contents order, which is the notebooks' file-name order (the prose
  pages hold no exercises; ``tests/test_editions.py`` checks both);
- an admonition (``{note}``, ``{admonition} Title``, ...) becomes a block quote headed by its
  title in bold;
- ``{cite}`key``` becomes "(Author, year)" as the book prints it (author-year style: one
  author's surname, "A and B" for two, "A et al." for more), ``{cite:t}`` "Author (year)";
- ``{numref}``/``{ref}`` to an exercise become "Exercise N"; other references and ``{doc}``
  keep their text; ``{eq}`label``` becomes "(label)"; ``{math}`x``` becomes ``$x$``; dollar
  maths is kept, since Jupyter renders it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__: list[str] = []

_OPTION = re.compile(r"^[ \t]*:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")
_ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<body>[^`]*)`")
_TARGET = re.compile(r"^\([\w:.-]+\)=[ \t]*\n", re.M)
_CHECK_CALL = re.compile(r"\bcheck_\w+\(")
_ADMONITIONS = {
    "note", "warning", "tip", "important", "hint", "caution", "attention", "danger", "error",
    "seealso", "admonition", "dropdown", "margin", "sidebar", "topic",
}  # fmt: skip


def source(cell: Mapping[str, Any]) -> str:
    """A cell's source as one string (nbformat stores a string or a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def tags(cell: Mapping[str, Any]) -> list[str]:
    """A cell's tags."""
    return list(cell.get("metadata", {}).get("tags", []))


@dataclass
class Directive:
    """One MyST directive: ``fence{name} arg``, its ``:key: value`` options and its body."""

    name: str
    arg: str
    options: dict[str, str]
    body: str
    start: int  # character offsets of the whole directive in the text
    end: int


def _parser() -> Any:
    """markdown-it with MyST's ``:::`` fences (mdit-py-plugins' colon_fence), built once."""
    global _MARKDOWN
    if _MARKDOWN is None:
        from markdown_it import MarkdownIt
        from mdit_py_plugins.colon_fence import colon_fence_plugin

        _MARKDOWN = MarkdownIt("commonmark").use(colon_fence_plugin)
    return _MARKDOWN


_MARKDOWN: Any = None
_NAME = re.compile(r"^\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*)$")


def directives(text: str) -> list[Directive]:
    """The top-level directives of ``text``, in order (nested ones stay in their parent's body).

    A directive is a fence (```` ``` ```` or ``:::``) whose info string is ``{name} arg``; the
    fences are found by markdown-it, as MyST's own parser finds them.
    """
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    found: list[Directive] = []
    for token in _parser().parse(text):
        match = _NAME.match(token.info.strip()) if token.type in ("fence", "colon_fence") else None
        if match is None or token.level != 0 or token.map is None:
            continue
        body_lines = token.content.splitlines(keepends=True)
        options: dict[str, str] = {}
        while body_lines and (option := _OPTION.match(body_lines[0].rstrip("\n"))):
            options[option.group("key")] = option.group("value").strip()
            body_lines = body_lines[1:]
        start, end = token.map
        found.append(
            Directive(
                name=match.group("name"),
                arg=match.group("arg").strip(),
                options=options,
                body="".join(body_lines).strip("\n"),
                start=offsets[start],
                end=offsets[min(end, len(lines))],
            )
        )
    return found


@dataclass
class Exercise:
    """An exercise of a notebook: its label (the id used everywhere), title, text and cells."""

    label: str
    title: str
    body: str
    cell: int  # index of the markdown cell that holds the ``{exercise}`` directive
    numbered: bool = True
    checks: list[int] = field(default_factory=list)  # cells that call a check_* function
    rubric: dict[str, Any] | None = None

    @property
    def written(self) -> bool:
        """A written (conceptual) exercise: no cell checks its answer."""
        return not self.checks


def find_exercises(cells: list[dict[str, Any]]) -> list[Exercise]:
    """The exercises of a notebook's cells, with the check cells that follow each one.

    A check cell is an ``exercise``-tagged code cell that calls a ``check_*`` function, after
    the exercise and before the next exercise or section heading.
    """
    found: list[Exercise] = []
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown":
            continue
        for d in directives(source(cell)):
            if d.name not in ("exercise", "exercise-start"):
                continue
            found.append(
                Exercise(
                    label=d.options.get("label", ""),
                    title=d.arg,
                    body=d.body,
                    cell=i,
                    numbered="nonumber" not in d.options,
                    rubric=cell.get("metadata", {}).get("rubric"),
                )
            )
            for j in range(i + 1, len(cells)):
                later = cells[j]
                text = source(later)
                if later.get("cell_type") == "markdown" and (
                    any(x.name in ("exercise", "exercise-start") for x in directives(text))
                    or re.search(r"^#{1,3} ", text, re.M)
                ):
                    break
                if "exercise" in tags(later) and _CHECK_CALL.search(text):
                    found[-1].checks.append(j)
    return found


def exercise_numbers(notebooks: Iterable[list[dict[str, Any]]]) -> dict[str, int]:
    """Label → the number the book prints, for the cells of each notebook in the book's order."""
    numbers: dict[str, int] = {}
    n = 0
    for cells in notebooks:
        for ex in find_exercises(cells):
            if ex.numbered:
                n += 1
                if ex.label:
                    numbers[ex.label] = n
    return numbers


def read_bibliography(path: str | Path) -> dict[str, dict[str, str]]:
    """Key → {field: value} of a BibTeX file, read by pybtex.

    Fields are lower-cased and their values kept as written, LaTeX included, with runs of
    white space made one space; the people (``author``, ``editor``) are joined by " and ", each
    as "Last, First", as BibTeX writes them.
    """
    from pybtex.database import parse_file

    entries: dict[str, dict[str, str]] = {}
    for key, entry in parse_file(str(path), bib_format="bibtex").entries.items():
        fields = {name.lower(): " ".join(value.split()) for name, value in entry.fields.items()}
        for role, people in entry.persons.items():
            fields[role.lower()] = " and ".join(str(person) for person in people)
        entries[key] = fields
    return entries


_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "c": "\u0327",
}


def unlatex(text: str) -> str:
    """BibTeX's accents and braces as Unicode text: ``Sz{\\'e}kely`` → ``Székely``."""
    accent = re.compile(r"\\([`'^\"~]|c\s)\s*\{?(\w)\}?")
    text = accent.sub(
        lambda m: unicodedata.normalize("NFC", m.group(2) + _ACCENTS[m.group(1).strip()]), text
    )
    letters = {"o": "ø", "O": "Ø", "ss": "ß", "aa": "å"}
    text = re.sub(
        r"\{\\(o|O|ss|aa)\}|\\(o|O|ss|aa)(?![a-zA-Z])\s?",
        lambda m: letters[m.group(1) or m.group(2)],
        text,
    )
    return text.replace("{", "").replace("}", "")


def _surname(name: str) -> str:
    name = name.strip()
    last = name.split(",")[0] if "," in name else name.split()[-1]
    return unlatex(last).strip()


def citation_labels(bibliography: Mapping[str, Mapping[str, str]]) -> dict[str, tuple[str, str]]:
    """Key → (authors, year) as the book's author-year style prints them."""
    labels = {}
    for key, entry in bibliography.items():
        names = [_surname(n) for n in re.split(r"\s+and\s+", entry.get("author", "")) if n]
        if not names:
            authors = entry.get("title", key).replace("{", "").replace("}", "")
        elif len(names) == 1:
            authors = names[0]
        elif len(names) == 2:
            authors = f"{names[0]} and {names[1]}"
        else:
            authors = f"{names[0]} et al."
        labels[key] = (authors, entry.get("year", "n.d."))
    return labels


def _names_authors(before: str, authors: str) -> bool:
    """Whether the words right before a citation name its authors: "Chen et al." or "Dupont,
    Doucet and Teh" before a key labelled "Chen et al." or "Dupont et al."."""
    tail = before.rstrip()
    if tail.endswith(authors):
        return True
    first = authors.split(" et al.")[0].split(" and ")[0]
    clause = re.split(r"[.;:()]\s", tail)[-1]  # the sentence or clause the citation ends
    words = [w.strip(",'’") for w in clause.split()[-8:]]
    return bool(first) and first in words


def _cite(name: str, keys: str, citations: Mapping[str, tuple[str, str]], before: str = "") -> str:
    found = [citations.get(k.strip(), (k.strip(), "")) for k in keys.split(",") if k.strip()]
    if name.startswith("cite:t"):  # textual: Author (year)
        return "; ".join(f"{a} ({y})" if y else a for a, y in found)
    if len(found) == 1 and found[0][1] and _names_authors(before, found[0][0]):
        return f"({found[0][1]})"  # "Chen et al. {cite}`key`" already names the authors
    return "(" + "; ".join(f"{a}, {y}" if y else a for a, y in found) + ")"


def _target(body: str) -> tuple[str | None, str]:
    """``text <target>`` → (text, target); ``target`` → (None, target)."""
    match = re.fullmatch(r"(?s)(.*?)\s*<([^<>]+)>", body.strip())
    if match and match.group(1):
        return match.group(1), match.group(2)
    return None, body.strip()


def _role(
    match: re.Match[str], numbers: Mapping[str, int], citations: Mapping[str, tuple[str, str]]
) -> str:
    name, body = match.group("name"), match.group("body")
    if name == "cite" or name.startswith("cite:"):
        return _cite(name, body, citations, match.string[: match.start()])
    if name == "math":
        return f"${body}$"
    if name == "eq":
        return f"({_target(body)[1]})"
    if name in ("numref", "ref"):
        text, label = _target(body)
        number = numbers.get(label)
        if text is not None:
            if number is None:
                return text.replace("%s", "").replace("{number}", "").strip()
            return text.replace("%s", str(number)).replace("{number}", str(number))
        return f"Exercise {number}" if number is not None else label
    if name == "doc":
        text, path = _target(body)
        return text if text is not None else Path(path).name
    if name.startswith("py:") or name in ("func", "class", "mod", "meth", "attr", "code"):
        text, target = _target(body)
        return f"`{text if text is not None else target.lstrip('~')}`"
    text, target = _target(body)  # {term}, {abbr}, {sub}, ...: keep the words
    return text if text is not None else target


def _quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines())


def plain_markdown(
    text: str,
    numbers: Mapping[str, int] | None = None,
    citations: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    r"""Rewrite MyST ``text`` as plain Markdown (see the module's docstring for the rules).

    Args:
        text: a markdown cell's source.
        numbers: exercise label → the book's number (``exercise_numbers``); an exercise whose
            label is missing is shown without a number.
        citations: cite key → (authors, year) (``citation_labels``); a missing key is shown as is.

    Returns:
        The text, in Markdown that Jupyter and Colab render.

    Example:
        >>> text = ":::{exercise} Two passes\n:label: ex-a\nSee {cite}`c18`.\n:::\n"
        >>> print(plain_markdown(text, {"ex-a": 2}, {"c18": ("Chen et al.", "2018")}))
        **Exercise 2: Two passes**
        <BLANKLINE>
        See (Chen et al., 2018).
        <BLANKLINE>
    """
    numbers = numbers or {}
    citations = citations or {}
    out, last = [], 0
    for d in directives(text):
        out.append(text[last : d.start])
        last = d.end
        body = plain_markdown(d.body, numbers, citations)
        if d.name in ("exercise", "exercise-start"):
            number = numbers.get(d.options.get("label", ""))
            head = "Exercise" + (f" {number}" if number is not None else "")
            head += f": {d.arg}" if d.arg else ""
            out.append(f"**{head}**\n\n{body}\n" if body else f"**{head}**\n")
        elif d.name == "exercise-end":
            continue
        elif d.name in _ADMONITIONS or d.name.split(":")[0] in _ADMONITIONS:
            title = d.arg if d.arg else d.name.capitalize()
            out.append(_quote(f"**{title}**\n\n{body}") + "\n")
        else:  # any other directive: keep its content as plain text
            out.append(f"{body}\n" if body else "")
    out.append(text[last:])
    result = _TARGET.sub("", "".join(out))
    return _ROLE.sub(lambda m: _role(m, numbers, citations), result)

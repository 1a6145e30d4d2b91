"""Sphinx extension: read the package's docstrings as the plain text they are written in.

The docstrings are written for ``help()`` and the source, in Google style with Unicode maths:
``|det ∂z/∂x|`` is an absolute value, ``θ*`` a minimiser, ``*args`` an argument. reStructuredText
gives ``|…|`` (substitutions) and ``*`` (emphasis) a meaning of their own, so the reference would
show errors in their place. After Napoleon has turned the sections into fields, this escapes
every ``|`` and every ``*`` that is not part of a paired ``*emphasis*`` or ``**strong**``, outside
inline literals, roles, literal blocks and doctest blocks.
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx

# ``literal``, :role:`target` and `interpreted text`, which are left as they are.
_PROTECTED = re.compile(r"``.+?``|:[\w:+.-]+:`[^`]+`|`[^`]+`_{0,2}")
# *emphasis* and **strong** that reST would read correctly.
_PAIRED = re.compile(
    r"(?<![\w*\\])\*\*(?=\S)[^*]+?(?<=\S)\*\*(?![\w*])|(?<![\w*\\])\*(?=[^\s*])[^*]+?(?<=[^\s*\\])\*(?![\w*])"
)
_SPECIAL = re.compile(r"(?<!\\)([|*])")


def _escape_text(text: str) -> str:
    out, last = [], 0
    for match in _PAIRED.finditer(text):
        out.append(_SPECIAL.sub(r"\\\1", text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_SPECIAL.sub(r"\\\1", text[last:]))
    return "".join(out)


def escape_line(line: str) -> str:
    """``line`` with its stray ``|`` and ``*`` escaped, literals and roles untouched."""
    out, last = [], 0
    for match in _PROTECTED.finditer(line):
        out.append(_escape_text(line[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_escape_text(line[last:]))
    return "".join(out)


def escape_lines(lines: list[str]) -> list[str]:
    """Escape a docstring's lines, leaving doctest blocks and ``::`` literal blocks alone."""
    result, literal_indent, in_doctest = [], None, False
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if stripped and indent <= literal_indent:
                literal_indent = None
            else:
                result.append(line)
                continue
        if in_doctest and not stripped:
            in_doctest = False
        if stripped.startswith(">>>"):
            in_doctest = True
        if in_doctest:
            result.append(line)
            continue
        result.append(escape_line(line))
        if stripped.endswith("::"):
            literal_indent = indent
    return result


def _process(app: Sphinx, what: str, name: str, obj: object, options: object, lines: list) -> None:
    lines[:] = escape_lines(lines)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.napoleon")
    app.connect("autodoc-process-docstring", _process, priority=600)  # after Napoleon (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx extension: publish each chapter's student edition and link it from the chapter page.

At the end of the build, the published student edition of every notebook page (solutions
removed, plain Markdown, numbered as in the book: see ``course_tools.editions``; ``make student``
writes them to the tracked folder ``student/``, and a test keeps that folder up to date) is
copied to ``student/NAME.ipynb`` in the HTML output, and each notebook page gets a line under
its Colab badge linking to it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform


def _is_notebook(app: Sphinx, docname: str) -> bool:
    return Path(app.env.doc2path(docname)).suffix == ".ipynb"


class StudentEditionLink(SphinxTransform):
    """Insert 'Student edition: NAME.ipynb (without solutions)' after the page's first paragraph."""

    default_priority = 500

    def apply(self, **kwargs) -> None:
        docname = self.env.docname
        if not _is_notebook(self.app, docname):
            return
        name = Path(docname).name
        depth = docname.count("/")
        link = nodes.reference(
            "", f"{name}.ipynb", refuri="../" * depth + f"student/{name}.ipynb", internal=False
        )
        para = nodes.paragraph(
            "",
            "",
            nodes.strong("", "Student edition: "),
            link,
            nodes.Text(" (the same notebook with the solutions removed, for handing out)"),
            classes=["student-edition"],
        )
        first = next(iter(self.document.findall(nodes.paragraph)), None)
        if first is None:
            return
        first.parent.insert(first.parent.index(first) + 1, para)


def write_editions(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    published = Path(app.srcdir) / "student"
    out = Path(app.outdir) / "student"
    out.mkdir(parents=True, exist_ok=True)
    for docname in sorted(app.env.found_docs):
        if _is_notebook(app, docname):
            edition = published / f"{Path(docname).name}.ipynb"
            if not edition.is_file():
                raise FileNotFoundError(
                    f"{edition} is missing: run `make student` to publish the student editions"
                )
            shutil.copyfile(edition, out / edition.name)


def setup(app: Sphinx) -> dict:
    app.add_transform(StudentEditionLink)
    app.connect("build-finished", write_editions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

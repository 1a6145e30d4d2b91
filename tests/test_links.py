"""The repository is named in one place (_config.yml); every other link must agree with it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from course_tools import links as sync_links

ROOT = Path(__file__).resolve().parents[1]

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [c["file"] for part in toc["parts"] for c in part["chapters"]]


def test_config_names_a_github_repository_and_main_branch():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert sync_links.repo_slug().count("/") == 1
    assert config["repository"]["branch"] == "main"
    assert config["execute"]["execute_notebooks"] == "off"


@pytest.mark.parametrize("path", [ROOT / "README.md", *NOTEBOOKS], ids=lambda p: p.name)
def test_every_repository_link_names_the_configured_repository(path):
    text = path.read_text(encoding="utf-8")
    slugs = sync_links.linked_slugs(text)
    assert slugs, f"{path.name} links to no repository"
    assert slugs == {sync_links.repo_slug()}, (
        f"{path.name} links to {sorted(slugs)}; _config.yml names {sync_links.repo_slug()}. "
        "Fix: run `make links`."
    )


def test_readme_links_every_notebook_to_colab():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for nb in NOTEBOOKS:
        assert sync_links.colab_url(sync_links.repo_slug(), nb.name) in readme, nb.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_the_course_conventions(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    first = "".join(nb["cells"][0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown" and first.startswith("# ")
    assert sync_links.colab_url(sync_links.repo_slug(), path.name) in first
    for heading in ("Learning objectives", "Prerequisites", "Time"):
        assert f"**{heading}" in first, f"{path.name}: first cell lacks {heading}"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    install = "".join(code[0]["source"])
    assert '"google.colab" in sys.modules' in install and "%pip install" in install
    assert code[0]["outputs"] == [], "the install cell must print nothing outside Colab"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "re-execute top to bottom in a fresh kernel"
    for cell in code:
        assert not any(o["output_type"] == "error" for o in cell["outputs"])


def test_every_notebook_is_in_the_table_of_contents():
    listed = set(toc_files())
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in listed, f"{nb.name} is missing from _toc.yml"
    for entry in listed:
        assert (ROOT / f"{entry}.md").exists() or (ROOT / f"{entry}.ipynb").exists(), entry


def test_the_readme_and_intro_list_the_chapters_of_the_table_of_contents_in_its_order():
    """The chapter list is declared once, in _toc.yml; the two chapter tables must follow it."""
    from course_tools import course

    chapters = course.chapters(ROOT)
    titles = [
        json.loads(p.read_text(encoding="utf-8"))["cells"][0]["source"][0].lstrip("# ").strip()
        for p in chapters
    ]
    for page, prefix in (("README.md", "notebooks/"), ("book/intro.md", "../notebooks/")):
        text = (ROOT / page).read_text(encoding="utf-8")
        rows = [
            (int(m.group(1)), m.group(2), m.group(3))
            for m in re.finditer(r"^\| (\d+) \| \[([^\]]+)\]\(([^)]+\.ipynb)\)", text, re.M)
        ]
        assert [r[2] for r in rows] == [f"{prefix}{p.name}" for p in chapters], page
        assert [r[0] for r in rows] == [int(p.name[:2]) for p in chapters], page
        for (_, title, link), want in zip(rows, titles, strict=True):
            assert want.startswith(title) or title.startswith(want.split(":")[0]), (page, link)

"""Keep every link to the GitHub repository in step with `repository.url` in `_config.yml`.

The repository URL is set in one place, `_config.yml`. The README's chapter table, each
notebook's "Open in Colab" badge and each notebook's Colab install line must name the same
org/repo; `tests/test_links.py` checks that they do and this script rewrites them
(`make links`) after the URL changes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from course_tools import course, notebook

ROOT = course.root()
GITHUB = re.compile(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?$")
# A link that names a repository: Colab notebook links and pip "git+https://github.com/..." lines.
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/")
GIT_INSTALL = re.compile(r"git\+https://github\.com/([\w.-]+/[\w.-]+?)(?=[\"'@#\s])")


def repo_slug(config: Path = ROOT / "_config.yml") -> str:
    """The 'org/repo' named by repository.url in the book's configuration."""
    url = yaml.safe_load(config.read_text(encoding="utf-8"))["repository"]["url"]
    match = GITHUB.match(url)
    if match is None:
        raise ValueError(
            f"repository.url in {config.name} must be https://github.com/ORG/REPO; got {url}"
        )
    return match.group(1)


def colab_url(slug: str, notebook: str) -> str:
    """The Colab link of a notebook on the main branch, as the book's launch button builds it."""
    return f"https://colab.research.google.com/github/{slug}/blob/main/notebooks/{notebook}"


def linked_slugs(text: str) -> set[str]:
    """Every org/repo that a text links to through Colab or a git+https install."""
    return set(COLAB_LINK.findall(text)) | set(GIT_INSTALL.findall(text))


def rewrite(text: str, slug: str) -> str:
    text = COLAB_LINK.sub(f"https://colab.research.google.com/github/{slug}/blob/", text)
    return GIT_INSTALL.sub(f"git+https://github.com/{slug}", text)


def files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "notebooks").glob("*.ipynb"))]


def main(argv: list[str] | None = None) -> int:
    slug = repo_slug()
    changed = []
    for path in files():
        if path.suffix == ".ipynb":
            nb = notebook.read(path)
            before = notebook.dumps(nb)
            for cell in nb["cells"]:
                source = "".join(cell["source"])
                cell["source"] = rewrite(source, slug).splitlines(keepends=True)
            if notebook.dumps(nb) != before:
                notebook.write(nb, path)
                changed.append(path)
        else:
            text = path.read_text(encoding="utf-8")
            if rewrite(text, slug) != text:
                path.write_text(rewrite(text, slug), encoding="utf-8")
                changed.append(path)
    for path in changed:
        print(f"updated {path.relative_to(ROOT)}")
    print(f"all links name {slug}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

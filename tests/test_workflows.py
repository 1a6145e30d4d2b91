"""The publishing workflows run the same commands as `make book` and `make nbval`."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def steps(name: str) -> list[str]:
    flow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    return [s.get("run", "") for job in flow["jobs"].values() for s in job.get("steps", [])]


def make_recipe(target: str) -> str:
    """The command lines of a Makefile target, with line continuations joined."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.M)
    assert match, f"no target {target}"
    return " ".join(match.group(1).split())


def test_pages_workflow_builds_with_make_book_and_publishes_the_html():
    text = (WORKFLOWS / "pages.yml").read_text(encoding="utf-8")
    assert "make book" in steps("pages.yml")
    assert "path: _build/html" in text and "branches: [main]" in text


def test_colab_workflow_runs_the_nbval_command_of_make_test():
    nbval = make_recipe("nbval").replace("$(BIN)/python", "python3").strip()
    assert nbval.startswith("python3 -m course_tools nbval")  # pytest --nbval, set up kernels
    commands = [" ".join(s.split()) for s in steps("colab-weekly.yml")]
    assert nbval in commands, (nbval, commands)
    flow = yaml.safe_load((WORKFLOWS / "colab-weekly.yml").read_text(encoding="utf-8"))
    assert "colab" in flow["jobs"]["nbval"]["container"]


def test_every_push_and_pull_request_runs_the_ci_entry_point():
    flow = yaml.safe_load((WORKFLOWS / "test.yml").read_text(encoding="utf-8"))
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads `on:` as True
    assert "push" in triggers and "pull_request" in triggers
    assert ".ci/run" in steps("test.yml")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")

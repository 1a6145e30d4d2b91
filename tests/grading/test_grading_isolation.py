"""The grader's isolation and its data boundary, part by part (fast: no notebook is executed).

The sandbox as a shell sees it; the package image; what the grader reads back from a sandbox
(and what it refuses to believe); the source analysis that finds copies of a reference and the
constructs that no exercise needs. Whole submissions are attacked in test_grading_attacks.py.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import course_tools
import ode_course
from course_tools.course import chapters
from course_tools.grade import EXERCISES, grade_notebook, sandbox, static, steps

ROOT = Path(__file__).resolve().parents[2]
needs_bwrap = pytest.mark.skipif(not sandbox.available(), reason="bubblewrap is not installed")


@pytest.fixture(scope="module")
def image():
    built = sandbox.PackageImage([ode_course, course_tools])
    yield built
    built.cleanup()


def test_the_image_hides_the_source_of_the_checks_and_the_grader(image):
    files = list(image.root.rglob("*"))
    sources = {f.relative_to(image.root).parts[:2] for f in files if f.suffix == ".py"}
    assert ("ode_course", "solvers") in sources  # a chapter may print a lesson's code
    assert not any(p[0] == "course_tools" or p[1] == "checks" for p in sources)
    assert any(f.name == "scoring.pyc" for f in files)
    assert image.packages["ode_course"] == Path(ode_course.__file__).parent


def test_the_command_shares_nothing_it_need_not(image, tmp_path):
    argv = sandbox.command(["true"], tmp_path, image)
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in argv
    binds = [argv[i + 2] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")]
    writable = [argv[i + 2] for i, a in enumerate(argv) if a == "--bind"]
    assert writable == [sandbox.BOX]
    assert str(ROOT) not in binds and str(ROOT / "notebooks") not in binds


@needs_bwrap
def test_inside_the_sandbox(image, tmp_path):
    """What a submission's shell finds: nothing of the checkout, nothing writable but its
    folder, no grader's environment, no network."""
    os.environ["ODE_COURSE_GRADER_SECRET"] = "x"
    script = (
        f"test ! -e {ROOT}/notebooks && echo no-notebooks; "
        f"ls {Path(ode_course.__file__).parent}/checks/*.py 2>/dev/null || echo no-source; "
        f"touch {sys.prefix}/planted 2>/dev/null || echo venv-read-only; "
        "touch /box/work/mine && echo box-writable; "
        'test -z "$ODE_COURSE_GRADER_SECRET" && echo env-clear; '
        "python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 80), 2)' "
        "2>/dev/null || echo no-network"
    )
    try:
        done = sandbox.run(["/bin/sh", "-c", script], tmp_path, image, sandbox.Limits(seconds=60))
    finally:
        del os.environ["ODE_COURSE_GRADER_SECRET"]
    said = done.stdout.split()
    for fact in (
        "no-notebooks",
        "no-source",
        "venv-read-only",
        "box-writable",
        "env-clear",
        "no-network",
    ):
        assert fact in said, (fact, done.stdout, done.stderr)
    assert not (Path(sys.prefix) / "planted").exists()
    assert (tmp_path / "work" / "mine").exists()  # the box is the one place it wrote


@needs_bwrap
def test_a_step_past_its_time_is_killed_with_everything_it_started(image, tmp_path):
    marker = tmp_path / "work" / "late"
    script = f"(sleep 3; touch {sandbox.BOX}/work/late) & sleep 30"
    done = sandbox.run(["/bin/sh", "-c", script], tmp_path, image, sandbox.Limits(seconds=1))
    assert done.returncode == -9
    subprocess.run(["sleep", "4"], check=True)
    assert not marker.exists()


def test_without_a_sandbox_the_grader_refuses_unless_told(monkeypatch, tmp_path):
    sandbox.available.cache_clear()
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    path = tmp_path / "01_a.ipynb"
    path.write_text(json.dumps({"cells": []}), encoding="utf-8")
    try:
        with pytest.raises(RuntimeError, match=r"sandbox must be available.*bubblewrap.*unsafe"):
            grade_notebook(path)
    finally:
        sandbox.available.cache_clear()


# --- what comes back from a sandbox is data, and only believed as far as the course says ----


def test_a_forged_result_gets_no_more_than_the_course_gives(tmp_path):
    rows = [
        {"id": "ex-path-sum", "points": 300, "message": "Correct", "reference": False},
        {"id": "ex-softplus", "points": 2, "message": 7, "reference": "yes"},
        {"id": "ex-invented", "points": 50, "message": "Correct"},
        {"id": "ex-path-sum", "points": 1, "message": "again"},
        "not a row",
    ]
    (tmp_path / "result.json").write_text(json.dumps(rows), encoding="utf-8")
    read = steps.read_result(tmp_path, {"ex-path-sum": 1, "ex-softplus": 2})
    assert read == {
        "ex-path-sum": {"points": 0, "message": "Correct", "reference": False},
        "ex-softplus": {"points": 2, "message": "no message", "reference": False},
    }
    (tmp_path / "result.json").write_text('{"ex-path-sum": 1}', encoding="utf-8")
    assert steps.read_result(tmp_path, {"ex-path-sum": 1}) == {}


def test_a_garbled_run_report_reads_as_a_run_that_left_nothing(tmp_path):
    assert steps.read_run(tmp_path)["kernel_died"] is True  # no file at all
    (tmp_path / "run.json").write_text(
        json.dumps({"errors": [1, "cell 3: boom"], "timed_out": "yes", "seconds": "lots"}),
        encoding="utf-8",
    )
    assert steps.read_run(tmp_path) == {
        "errors": ["cell 3: boom"],
        "timed_out": False,
        "kernel_died": False,
        "seconds": 0.0,
    }


# --- the source, read as text ---------------------------------------------------------------


def _solutions() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in chapters()}


def test_no_worked_solution_of_the_course_is_taken_for_a_copy():
    """The threshold leaves room: the closest solution (ex-straightness, a canonical one-liner
    of the same maths as ``path_straightness``) stays below it."""
    closest = 0.0
    for notebook in _solutions().values():
        for e in EXERCISES.values():
            refs = [r for ref in e.references for r in static.reference_tokens(ref)]
            for text in static.definitions(notebook, e.answer).values():
                mine = static.tokens(text)
                for _, ref in refs:
                    closest = max(closest, static.similarity(mine, list(ref)))
            assert static.copies(notebook, e.answer, e.references) is None, e.id
    assert 0.5 < closest < static.SIMILAR


def test_a_renamed_copy_of_a_reference_is_found():
    from ode_course.latent import elbo

    source = inspect.getsource(elbo.gaussian_kl)
    for old, new in (("gaussian_kl", "kl_diagonal_gaussians"), ("ratio", "r"), ("terms", "t")):
        source = source.replace(old, new)
    notebook = {"cells": [{"cell_type": "code", "source": source}]}
    found = static.copies(notebook, ["kl_diagonal_gaussians"], ["ode_course.latent"])
    assert found is not None and found[1].endswith("gaussian_kl") and found[2] >= static.SIMILAR


def test_constructs_that_no_exercise_needs_are_reported_once_per_cell():
    cells = [
        "import inspect\nexec(inspect.getsource(f))\nexec('1')",
        "import sys\nsys.setprofile(None)",
        "from concurrent.futures import ThreadPoolExecutor",
        "model.eval()\nre.compile('x')",  # methods that share a name, not the builtins
    ]
    notebook = {"cells": [{"cell_type": "code", "source": c} for c in cells]}
    found = sorted(static.constructs(notebook))
    assert found == [
        "cell 0: reads source code back (inspect.getsource)",
        "cell 0: runs text as code (exec)",
        "cell 1: installs a profiling hook (setprofile)",
        "cell 2: runs code in other threads (ThreadPoolExecutor)",
    ]
    # what the course's own notebook does is not held against the learner
    assert static.constructs(notebook, course=notebook) == []

"""The grader's parts without a kernel: the exercise table, the notebooks' metadata, the
reference detection, the randomised comparisons and the scoring process's verdicts."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import numpy as np
import pytest

from course_tools.grade import EXERCISES, randomised, references
from course_tools.grade.grader import detect_chapter
from ode_course.checks.harness import CheckFailed

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def test_every_exercise_names_a_check_and_references_that_exist():
    import importlib

    for e in EXERCISES.values():
        module, _, name = e.check.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), e.id
        if e.randomised is not None:
            assert callable(getattr(randomised, e.randomised)), e.id
        for ref in e.references:
            codes, files, _ = references.resolve(ref)
            assert codes or files, (e.id, ref)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_auto_graded_exercise_has_its_grade_metadata(path):
    chapter = int(path.name[:2])
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    labels = {
        m.group(1)
        for c in cells
        if c["cell_type"] == "markdown"
        for m in re.finditer(r":label:\s*(ex-[\w-]+)", _source(c))
    }
    found = {
        c["metadata"]["grade"]["id"]: c
        for c in cells
        if c["cell_type"] == "code" and "grade" in c.get("metadata", {})
    }
    for e in (e for e in EXERCISES.values() if e.chapter == chapter):
        assert e.id in labels, f"{path.name}: no exercise labelled {e.id}"
        assert e.id in found, f"{path.name}: the check cell of {e.id} has no grade metadata"
        cell = found[e.id]
        assert set(cell["metadata"]["grade"]) <= {
            "id",
            "points",
            "answer",
            "randomised",
            "references",
            "inputs",
            "replay",
        }, f"{path.name}: unknown keys in the grade metadata of {e.id}"
        assert re.search(rf"^\s*{e.check.partition(':')[2]}\(", _source(cell), re.M)
        assert "exercise" in cell["metadata"].get("tags", [])


def test_the_chapter_is_read_from_metadata_or_the_file_name():
    cell = {"cell_type": "code", "metadata": {"grade": {"id": "ex-rk4-step"}}, "source": ""}
    assert detect_chapter({"cells": [cell]}, Path("anything.ipynb")) == 5
    assert detect_chapter({"cells": []}, Path("alice_06_adjoint.ipynb")) == 6
    assert detect_chapter({"cells": []}, Path("08_latent_ode.ipynb")) == 8
    assert detect_chapter({"cells": []}, Path("homework.ipynb")) is None


def test_an_object_of_the_package_is_recognised_however_it_is_wrapped():
    from ode_course.latent import gaussian_kl
    from ode_course.solvers import RK4

    assert references.packaged_origin(gaussian_kl) == "ode_course.latent.elbo.gaussian_kl"
    assert "gaussian_kl" in references.packaged_origin(functools.partial(gaussian_kl))
    assert "an instance of" in references.packaged_origin(RK4(step_size=0.1))
    assert references.packaged_origin(lambda x: x) is None
    assert references.packaged_origin(16) is None


def test_a_function_that_refers_to_a_reference_is_found():
    from ode_course.latent import gaussian_kl

    namespace = {"gaussian_kl": gaussian_kl, "np": np}
    exec("def kl(*a):\n    return gaussian_kl(*a)\ndef own(x):\n    return np.sum(x)", namespace)
    assert references.referenced(namespace["kl"], [gaussian_kl]) == "gaussian_kl"
    assert references.referenced(namespace["kl"], [], ["ode_course.latent"])
    assert references.referenced(namespace["own"], [gaussian_kl], ["ode_course.latent"]) is None


def test_calls_of_a_reference_from_learner_code_are_recorded_and_others_not():
    from ode_course.solvers import odeint

    namespace = {"odeint": odeint}
    exec(
        "import torch\ndef step(f, t, y, h):\n"
        "    return odeint(f, y, torch.tensor([t, t + h]), method='rk4', step_size=h)[-1]",
        namespace,
    )
    with references.CallRecorder(["ode_course.solvers"]) as recorder:
        import torch

        namespace["step"](lambda t, y: -y, 0.0, torch.ones(1), 0.1)
    assert any(hit.startswith("ode_course.solvers") for hit in recorder.hits)
    assert not recorder.tampered
    assert references.is_learner_file("<string>")
    assert not references.is_learner_file(references.__file__)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_randomised_comparisons_accept_the_right_answers(seed):
    import math

    import torch

    from ode_course.autodiff import Value

    def softplus(v):
        x = v.data
        s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
        return Value.from_op(max(x, 0.0) + math.log1p(math.exp(-abs(x))), (v,), (s,))

    def rk4_step(f, t, y, h):
        k1 = f(t, y)
        k2 = f(t + h / 2, y + h / 2 * k1)
        k3 = f(t + h / 2, y + h / 2 * k2)
        k4 = f(t + h, y + h * k3)
        return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    def kl(mu_q, logvar_q, mu_p, logvar_p):
        r = (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp()
        return 0.5 * (logvar_p - logvar_q + r - 1).sum(-1)

    rng = np.random.default_rng(seed)
    randomised.softplus({"softplus": softplus}, rng)
    randomised.rk4_step({"rk4_step": rk4_step}, rng)
    randomised.gaussian_kl({"kl_diagonal_gaussians": kl}, rng)
    randomised.saved_bytes_per_step(
        {"saved_bytes_per_step": lambda b, d, h, s, i: s * b * (d + h) * i}, rng
    )
    randomised.max_stable_lr({"max_stable_lr": lambda h: 2 / np.linalg.eigvalsh(h).max()}, rng)
    randomised.log_det({"log_det": lambda a, t: t * torch.trace(a)}, rng)


def test_a_randomised_comparison_rejects_an_answer_fitted_to_the_check():
    def fitted(a, grad_out):  # right on the check's 4 × 3 batch only
        return grad_out * a * (1 - a) if a.shape == (4, 3) else grad_out * a

    with pytest.raises(CheckFailed, match="random batch"):
        for seed in range(5):  # a draw of shape (4, 3) would let it pass once
            randomised.sigmoid_backward({"sigmoid_backward": fitted}, np.random.default_rng(seed))


def test_the_exercise_table_is_read_from_the_course_notebooks(tmp_path):
    from course_tools.grade.exercises import load_exercises

    root = Path(__file__).resolve().parents[2]
    table = load_exercises(root)
    assert table == EXERCISES and len(table) >= 24
    # a course of one chapter with one check cell: the table is that cell
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "_toc.yml").write_text("root: intro\nchapters:\n  - file: notebooks/05_x\n")
    cell = {
        "cell_type": "code",
        "metadata": {"grade": {"id": "ex-a", "points": 3, "answer": ["f"], "inputs": []}},
        "source": "check_rk4_step(f)",
    }
    book = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "notebooks" / "05_x.ipynb").write_text(json.dumps(book))
    (only,) = load_exercises(tmp_path).values()
    assert (only.id, only.chapter, only.points, only.answer) == ("ex-a", 5, 3, ("f",))
    assert only.check == "ode_course.checks.neural_ode:check_rk4_step"
    # a malformed check cell and a repeated id are errors that say where and how to fix them
    cell["source"] = "check_rk4_step(f)\ncheck_rk4_nfe(f)"
    (tmp_path / "notebooks" / "05_x.ipynb").write_text(json.dumps(book))
    with pytest.raises(ValueError, match=r"05_x.ipynb, cell 0: .*exactly one check_\* call"):
        load_exercises(tmp_path)
    cell["source"] = "check_rk4_step(f)"
    book["cells"] = [cell, cell]
    (tmp_path / "notebooks" / "05_x.ipynb").write_text(json.dumps(book))
    with pytest.raises(ValueError, match=r"'ex-a' is declared twice"):
        load_exercises(tmp_path)

"""The grader against cheats, on small synthetic notebooks (a few cells with grade metadata).

Three notebooks cover every auto-graded exercise of every chapter, each graded once (a kernel
and a scoring process per notebook):

- ``references``: every exercise that has a reference implementation is answered by calling,
  wrapping or aliasing it, and *returns the right values*: each scores 0, flagged;
- ``redefined``: the notebook redefines every ``check_*`` to print "Correct" and gives wrong
  answers: each scores 0 with the real check's message (the notebook's output is never read);
- ``crash_and_hang``: half the exercises' answer cells raise before their answer is defined,
  then a cell hangs, and the right answers that follow it never run: all score 0, and the
  report says it crashed and timed out.

Numeric answers are not in clear in the checks' source (salted digests).
"""

from __future__ import annotations

import csv
import inspect
import json
import os
import re
from pathlib import Path

import pytest

from course_tools.course import chapters
from course_tools.editions import solution_code
from course_tools.grade import EXERCISES, grade_notebook
from course_tools.grade.grader import CSV_COLUMNS, write_csv
from ode_course.checks import adjoint, backprop, chain_rule, neural_ode

IMPORTS = """\
import math
import numpy as np
import torch
import torchdiffeq
from ode_course import (
    AdjointStats,
    AugmentedDynamics,
    Momentum,
    ODEFunc,
    activation_memory,
    exact_trace,
    hutchinson_trace,
    odeint,
    odeint_adjoint,
    sample_probe,
    softmax,
)
from ode_course.adjoint import adjoint_dynamics
from ode_course.latent import gaussian_kl, masked_gaussian_log_likelihood
from ode_course.autodiff import Value
from ode_course.checks import *
from ode_course.checks.cnf import check_linear_log_det, check_rademacher_exact, check_redrawn_probe
from ode_course.checks.flow_matching import (
    check_conditional_velocity, check_euler_sampler, check_straightness,
)
"""

# the field and states that chapter 6's backward-NFE exercise measures
_ADJOINT_SETUP = (
    "torch.manual_seed(0)\nfield = ODEFunc(dim=2, hidden=8).double()\n"
    "z0 = torch.randn(4, 2, dtype=torch.float64, requires_grad=True)\n"
)

# exercise → (a wrong answer, an answer that uses the reference or None); the right answer is
# the notebook's own solution (RIGHT, read from the repository's notebooks)
ANSWERS: dict[str, tuple[str, str | None]] = {
    "ex-path-sum": ("de_da, de_db = 2.0, 3.0", None),
    "ex-softplus": (
        "def softplus(v):\n    return Value.from_op(math.log1p(math.exp(v.data)), (v,), (0.5,))",
        "from ode_course.checks.chain_rule import _sigmoid, _softplus\n"
        "def softplus(v):\n    return Value.from_op(_softplus(v.data), (v,), (_sigmoid(v.data),))",
    ),
    "ex-sigmoid-backward": (
        "def sigmoid_backward(a, grad_out):\n    return grad_out * a",
        "from ode_course.mlp import Sigmoid\n"
        "def sigmoid_backward(a, grad_out):\n    layer = Sigmoid()\n    layer._a = a\n"
        "    return layer.backward(grad_out)",
    ),
    "ex-softmax-grad": (
        "def softmax_ce_grad(z, y):\n    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)\n"
        "    p[np.arange(len(y)), y] -= 1\n    return p",
        "def softmax_ce_grad(z, y):\n    p = softmax(z)\n"
        "    p[np.arange(len(y)), y] -= 1\n    return p / len(y)",
    ),
    "ex-initial-loss": ("expected_loss_26 = 1 / 26", None),
    "ex-momentum": (
        "def momentum_step(theta, grad, velocity, lr, mu):\n"
        "    velocity = mu * velocity + lr * grad\n    return theta + velocity, velocity",
        "def momentum_step(theta, grad, velocity, lr, mu):\n    Momentum(lr=lr, momentum=mu)\n"
        "    velocity = mu * velocity - lr * grad\n    return theta + velocity, velocity",
    ),
    "ex-bias-correction": (
        "def bias_correct(m, v, t, beta1, beta2):\n"
        "    return m / (1 - beta2**t), v / (1 - beta1**t)",
        "import ode_course.optim as o\n"
        "def bias_correct(m, v, t, beta1, beta2):\n    o.Adam()\n"
        "    return m / (1 - beta1**t), v / (1 - beta2**t)",
    ),
    "ex-stability": (
        "def max_stable_lr(hessian):\n    return 1 / np.linalg.eigvalsh(hessian).max()",
        "from ode_course.gradient_flow import minimize as max_stable_lr",
    ),
    "ex-stiff-choice": (
        "predicted_steps, solver = 48000, 'RK45'",
        None,
    ),
    "ex-rk4-step": (
        "def rk4_step(f, t, y, h):\n    return y + h * f(t, y)",
        "def rk4_step(f, t, y, h):\n    times = torch.tensor([t, t + h], dtype=y.dtype)\n"
        "    return odeint(f, y, times, method='rk4', step_size=h)[-1]",
    ),
    "ex-rk4-nfe": ("rk4_nfe = 4", None),
    "ex-odefunc-params": ("n_params = 65 * 64 + 64 * 64", None),
    "ex-augmented": (
        "def augmented_dynamics(func, t, z, a):\n    with torch.enable_grad():\n"
        "        z = z.detach().requires_grad_()\n        dz = func(t, z)\n"
        "        g = torch.autograd.grad(dz, (z, *func.parameters()), grad_outputs=a)\n"
        "    return dz.detach(), g[0], list(g[1:])",
        "def augmented_dynamics(func, t, z, a):\n"
        "    adjoint_dynamics(func, tuple(func.parameters()), z.shape)\n"
        "    with torch.enable_grad():\n"
        "        z = z.detach().requires_grad_()\n        dz = func(t, z)\n"
        "        g = torch.autograd.grad(dz, (z, *func.parameters()), grad_outputs=-a)\n"
        "    return dz.detach(), g[0], list(g[1:])",
    ),
    "ex-saved-bytes": (
        "def saved_bytes_per_step(batch, dim, hidden, n_stages, itemsize):\n"
        "    return n_stages * batch * (dim + hidden)",
        "def saved_bytes_per_step(batch, dim, hidden, n_stages, itemsize):\n"
        "    activation_memory(torch.nn.Linear(1, 1), torch.zeros(1, 1))\n"
        "    return n_stages * batch * (dim + hidden) * itemsize",
    ),
    "ex-backward-nfe": (
        _ADJOINT_SETUP + "nfe = {2: (20, 20), 11: (20, 20)}",
        None,
    ),
    "ex-linear-trace": (
        "def log_det(A, t):\n    return torch.trace(A)",
        "def log_det(A, t):\n"
        "    z = torch.zeros(1, A.shape[0], dtype=A.dtype, requires_grad=True)\n"
        "    return t * exact_trace(z @ A.T, z).item()",
    ),
    "ex-hutchinson": (
        "def hutchinson(fz, z, eps):\n"
        "    (v,) = torch.autograd.grad(fz, z, grad_outputs=eps, create_graph=True)\n"
        "    return v.sum(dim=1)",
        "from ode_course.cnf import hutchinson_trace as trace_estimate\n"
        "def hutchinson(fz, z, eps):\n    return trace_estimate(fz, z, eps, create_graph=True)",
    ),
    "ex-rademacher-exact": (
        "def field(z):\n    return z @ torch.ones(4, 4, dtype=z.dtype)",
        None,
    ),
    "ex-resample": (
        "class RedrawnProbe(torch.nn.Module):\n    def __init__(self, net):\n"
        "        super().__init__()\n        self.net = net\n"
        "    def forward(self, t, state):\n        return torch.zeros_like(state)",
        "class RedrawnProbe(torch.nn.Module):\n    def __init__(self, net):\n"
        "        super().__init__()\n        self.net = net\n"
        "    def forward(self, t, state):\n"
        "        probe = sample_probe(state[:, :-1].shape)\n"
        "        field = AugmentedDynamics(self.net, 'hutchinson', probe)\n"
        "        return field(t, state)",
    ),
    "ex-latent-kl": (
        "def kl_diagonal_gaussians(mu_q, logvar_q, mu_p, logvar_p):\n"
        "    r = (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp()\n"
        "    return (logvar_p - logvar_q + r - 1).sum(-1)",
        "def kl_diagonal_gaussians(*args):\n    return gaussian_kl(*args)",
    ),
    "ex-latent-likelihood": (
        "def masked_log_likelihood(x, mean, mask, std):\n"
        "    r = torch.where(mask, x - mean, torch.zeros_like(mean))\n"
        "    return (torch.where(mask, -r**2 / (2 * std**2), 0.0)).sum(dim=(1, 2))",
        "masked_log_likelihood = masked_gaussian_log_likelihood",
    ),
    "ex-conditional-velocity": (
        "def conditional_target(x0, x1):\n    return x0 - x1",
        "from ode_course.flow_matching import conditional_velocity\n"
        "def conditional_target(x0, x1):\n    return conditional_velocity(x0, x1)",
    ),
    "ex-euler-sampler": (
        "def euler_sampler(field, x0, steps):\n    x, dt = x0, 1.0 / steps\n"
        "    for k in range(steps):\n        x = x + field(k * dt, x)\n    return x",
        "from ode_course.flow_matching import sample_flow\n"
        "def euler_sampler(field, x0, steps):\n"
        "    return sample_flow(field, x0, method='euler', steps=steps).x",
    ),
    "ex-straightness": (
        "def straightness(traj):\n    length = (traj[1:] - traj[:-1]).norm(dim=-1).sum(dim=0)\n"
        "    return (length - (traj[-1] - traj[0]).norm(dim=-1)).sum()",
        "import ode_course.flow_matching as fm\n"
        "straightness = lambda traj: fm.path_straightness(traj)",
    ),
    "ex-vp-marginal": (
        "def vp_marginal(x0, t, beta_min, beta_max):\n"
        "    alpha = torch.exp(-0.5 * (beta_min + t * (beta_max - beta_min)) * t)\n"
        "    return alpha * x0, torch.sqrt(1 - alpha**2)",
        "from ode_course.diffusion import VPSchedule\n"
        "def vp_marginal(x0, t, beta_min, beta_max):\n"
        "    return VPSchedule(beta_min, beta_max).marginal(x0, t)",
    ),
    "ex-pf-drift": (
        "def pf_drift(score, t, x, schedule):\n"
        "    return -0.5 * schedule.beta(t) * x - schedule.beta(t) * score(t, x)",
        "from ode_course.diffusion import probability_flow\n"
        "def pf_drift(score, t, x, schedule):\n"
        "    eps = lambda s, y: -schedule.sigma(t) * score(t, y)\n"
        "    return probability_flow(eps, schedule)(t, x)",
    ),
    "ex-end-time": (
        "def solve_to_end(drift, x1, t_end):\n"
        "    times = torch.tensor([1.0, t_end], dtype=x1.dtype)\n"
        "    options = {'step_size': 0.5}\n"
        "    return torchdiffeq.odeint(drift, x1, times, method='rk4', options=options)[-1]",
        None,
    ),
    "ex-ddim-step": (
        "def ddim(x, eps, t, t_next, schedule):\n"
        "    h = schedule.log_snr(t) - schedule.log_snr(t_next)\n"
        "    ratio = schedule.alpha(t_next) / schedule.alpha(t)\n"
        "    return ratio * x - schedule.sigma(t_next) * torch.expm1(h) * eps",
        "from ode_course.diffusion import ddim_step as ddim",
    ),
    "ex-kinetic-field": (
        "def kinetic_field(f, t, state):\n"
        "    fz = f(t, state[:, :-1])\n"
        "    return torch.cat([fz, fz.norm(dim=1, keepdim=True)], dim=1)",
        "from ode_course.regularisation import RegularisedDynamics\n"
        "def kinetic_field(f, t, state):\n"
        "    field = RegularisedDynamics(f, log_density=False)\n"
        "    return field(t, torch.cat([state, state[:, -1:]], 1))[:, :-1]",
    ),
    "ex-rnode-loss": (
        "from ode_course.cnf import standard_normal_log_prob\n"
        "def rnode_loss(end, weight):\n"
        "    z0, ell, e, f = end[:, :-3], end[:, -3], end[:, -2], end[:, -1]\n"
        "    return -(standard_normal_log_prob(z0) - ell).mean() + weight * (e.mean() + f.mean())",
        None,
    ),
    "ex-frobenius-estimate": (
        "def frobenius_estimate(fz, z, eps):\n"
        "    (v,) = torch.autograd.grad(fz, z, grad_outputs=eps, create_graph=True)\n"
        "    return (v * eps).sum(dim=1)",
        "from ode_course.regularisation import hutchinson_frobenius\n"
        "def frobenius_estimate(fz, z, eps):\n"
        "    return hutchinson_frobenius(fz, z, eps, create_graph=True)",
    ),
}


def code(source: str, grade: dict | None = None) -> dict:
    metadata = {"grade": grade} if grade else {}
    return {"cell_type": "code", "metadata": metadata, "source": source, "outputs": []}


def check_cell(exercise_id: str) -> dict:
    e = EXERCISES[exercise_id]
    call = f"{e.check.partition(':')[2]}({', '.join(e.answer)})"
    grade = {"id": e.id, "points": e.points, "answer": list(e.answer)}
    return code(f"try:\n    {call}\nexcept Exception as exc:\n    print(exc)", grade)


def notebook(cells: list[dict]) -> dict:
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": meta, "cells": cells}


def write(tmp: Path, name: str, cells: list[dict]) -> Path:
    path = tmp / f"{name}.ipynb"
    path.write_text(json.dumps(notebook(cells)), encoding="utf-8")
    return path


RIGHT = {
    label: code
    for path in chapters()
    for label, code in solution_code(path).items()
    if label in EXERCISES
}


def test_every_auto_graded_exercise_has_a_cheat_table_entry_and_a_solution():
    assert set(ANSWERS) == set(EXERCISES) == set(RIGHT)


# Grading the three notebooks takes about 100 s of kernels: `make grade-check` runs these tests
# (with the whole-notebook gradings), `make unit` the fast ones of this file.
# The tests share one module fixture, so they stay on one xdist worker (--dist loadgroup).
def runs_kernels(test):
    skip = pytest.mark.skipif(
        os.environ.get("ODE_COURSE_GRADE_NOTEBOOKS") != "1",
        reason="notebooks are graded by `make grade-check` (ODE_COURSE_GRADE_NOTEBOOKS=1)",
    )
    return pytest.mark.xdist_group("cheats")(skip(test))


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("cheats")
    with_reference = [i for i, (_, ref) in ANSWERS.items() if ref is not None]
    cells = [code(IMPORTS)]
    for i in with_reference:
        cells += [code(ANSWERS[i][1]), check_cell(i)]
    reports = {
        "references": grade_notebook(
            write(tmp, "references", cells), seed=3, exercises=with_reference
        )
    }

    fake = "\n".join(
        f"def {e.check.partition(':')[2]}(*args, **kwargs):\n    print('Correct: well done.')"
        for e in EXERCISES.values()
    )
    cells = [code(IMPORTS), code(fake)]
    for i, (wrong, _) in ANSWERS.items():
        cells += [code(wrong), check_cell(i)]
    reports["redefined"] = grade_notebook(
        write(tmp, "redefined", cells), seed=4, exercises=list(ANSWERS)
    )

    ids = list(ANSWERS)
    crash, after_hang = ids[::2], ids[1::2]
    cells = [code(IMPORTS)]
    for i in crash:
        cells += [code("raise RuntimeError('boom')\n" + RIGHT[i]), check_cell(i)]
    cells.append(code("import time\nwhile True:\n    time.sleep(0.05)"))
    for i in after_hang:
        cells += [code(RIGHT[i]), check_cell(i)]
    path = write(tmp, "crash_and_hang", cells)
    reports["crash_and_hang"] = grade_notebook(path, seed=5, exercises=ids, timeout=20)
    reports["tmp"] = tmp
    return reports


@runs_kernels
def test_answers_that_use_the_reference_score_zero(graded):
    report = graded["references"]
    assert report.scores, report.summary()
    for score in report.scores:
        assert score.points == 0, (score.exercise, score.message)
        assert score.reference, (score.exercise, score.message)
        assert "reference" in score.message or "package's own" in score.message
    assert "reference used" in report.summary()


@runs_kernels
def test_redefined_checks_and_wrong_answers_score_zero_with_the_real_message(graded):
    report = graded["redefined"]
    assert len(report.scores) == len(ANSWERS)
    for score in report.scores:
        assert score.points == 0, (score.exercise, score.message)
        assert not score.message.startswith("Correct"), score.exercise
    messages = {s.exercise: s.message for s in report.scores}
    assert "Euler step" in messages["ex-rk4-step"]
    assert "4 is the number of steps" in messages["ex-rk4-nfe"]
    assert "twice the KL" in messages["ex-latent-kl"]


@runs_kernels
def test_a_crash_or_a_hang_keeps_no_answer_it_did_not_define(graded):
    report = graded["crash_and_hang"]
    assert report.timed_out and report.errors and "boom" in report.errors[0]
    assert all(s.points == 0 for s in report.scores), report.summary()
    assert all("not defined" in s.message for s in report.scores), report.scores
    summary = report.summary()
    assert "crashed" in summary and "timed out" in summary


@runs_kernels
def test_the_csv_has_one_row_per_exercise(graded, tmp_path):
    path = tmp_path / "scores.csv"
    write_csv([graded["redefined"]], path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + len(ANSWERS)
    assert all(row[0] == "redefined.ipynb" and row[2] == "0" for row in rows[1:])


def test_numeric_answers_are_not_in_clear_in_the_checks():
    assert not re.search(r"\b16\b", inspect.getsource(neural_ode.check_rk4_nfe))
    source = inspect.getsource(neural_ode)
    assert "8384" not in source and "(65 * 64 + 64) + (64 * 64 + 64)" not in source
    path_sum = inspect.getsource(chain_rule.check_path_sum)
    assert not re.search(r"(?<![\w.-])6(\.0)?\b", path_sum) and "want_b" not in path_sum
    loss = inspect.getsource(backprop.check_initial_loss)
    assert "log(classes)" not in loss and "3.258" not in loss and "log(26)" not in loss
    saved = inspect.getsource(adjoint.check_saved_bytes)
    assert "stages * batch * (dim + hidden) * itemsize" not in saved


def test_the_checks_still_accept_the_right_numbers(capsys):
    chain_rule.check_path_sum(3.0, 6.0)
    backprop.check_initial_loss(3.26)
    neural_ode.check_rk4_nfe(16)
    neural_ode.check_odefunc_parameters(8384)
    assert capsys.readouterr().out.count("Correct") == 4

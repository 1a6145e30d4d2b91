"""Tests for ode_course.checks.regularisation (Chapter 11): a right answer passes, each typical
slip is named, and untouched starter code says "not answered yet"."""

from __future__ import annotations

from inspect import unwrap

import pytest
import torch

from ode_course.checks import check_frobenius_estimate, check_kinetic_field, check_rnode_loss
from ode_course.checks.harness import CheckFailed
from ode_course.cnf import standard_normal_log_prob


def stub(*args):
    raise NotImplementedError("write your answer")


# --- the kinetic-energy augmented field ----------------------------------------------------------
def kinetic(f, t, state):
    fz = f(t, state[:, :-1])
    return torch.cat([fz, (fz**2).sum(dim=1, keepdim=True)], dim=1)


def with_column(column):
    def answer(f, t, state):
        z = state[:, :-1]
        fz = f(t, z)
        return torch.cat([fz, column(fz, z, state)], dim=1)

    return answer


def test_a_right_kinetic_field_passes(capsys):
    check_kinetic_field(kinetic)
    check_kinetic_field(
        lambda f, t, s: torch.cat([f(t, s[:, :-1]), f(t, s[:, :-1]).pow(2).sum(1, True)], 1)
    )
    out = capsys.readouterr().out
    assert (
        out == "Correct: [f, |f|²] for a linear field and a network, in 2 and 3 dimensions.\n" * 2
    )


KINETIC_SLIPS = {
    "norm": (with_column(lambda fz, z, s: fz.norm(dim=1, keepdim=True)), r"is \|f\|, the norm"),
    "sign": (with_column(lambda fz, z, s: -(fz**2).sum(1, keepdim=True)), r"is −\|f\|²"),
    "energy": (with_column(lambda fz, z, s: s[:, -1:]), "is the energy E itself"),
    "position": (with_column(lambda fz, z, s: (z**2).sum(1, keepdim=True)), r"is \|z\|²"),
    "batch": (with_column(lambda fz, z, s: (fz**2).sum().expand(len(z), 1)), "whole batch"),
    "other": (
        with_column(lambda fz, z, s: (fz**2).sum(1, keepdim=True) + 1),
        r"is not \|f\(t, z\)\|²",
    ),
    "shape": (lambda f, t, s: (f(t, s[:, :-1]) ** 2).sum(dim=1), r"must return shape \(5, 3\)"),
    "stub": (stub, "not answered yet"),
}


@pytest.mark.parametrize("name", list(KINETIC_SLIPS))
def test_each_kinetic_slip_is_named(name):
    answer, match = KINETIC_SLIPS[name]
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_kinetic_field)(answer)


def test_a_field_evaluated_on_the_whole_state_is_told_to_drop_the_energy():
    def on_state(f, t, state):  # f of the linear field sees [z, E]: a shape error, reported
        fz = f(t, state)
        return torch.cat([fz[:, :-1], (fz**2).sum(1, keepdim=True)], dim=1)

    with pytest.raises(CheckFailed):
        unwrap(check_kinetic_field)(on_state)


# --- the sign of the accumulated penalty ---------------------------------------------------------
def loss_with(penalty_sign=-1.0, ell_sign=-1.0, reduce="mean", terms=(True, True)):
    def rnode_loss(end, weight):
        z0, ell, e, f = end[:, :-3], end[:, -3], end[:, -2], end[:, -1]
        log_p = standard_normal_log_prob(z0) + ell_sign * ell
        red = getattr(torch, reduce)
        penalty = terms[0] * red(e) + terms[1] * red(f)
        return -red(log_p) + weight * penalty_sign * penalty

    return rnode_loss


def test_a_right_loss_passes(capsys):
    check_rnode_loss(loss_with())
    assert capsys.readouterr().out == (
        "Correct: the likelihood and both penalties have their signs, for three weights.\n"
    )


RNODE_SLIPS = {
    "penalty sign": (loss_with(penalty_sign=1.0), r"rewards\* kinetic energy"),
    "ell sign": (loss_with(ell_sign=1.0), r"adds ℓ\(0\)"),
    "sums": (loss_with(reduce="sum"), "sums over the batch"),
    "no frobenius": (loss_with(terms=(True, False)), "leaves out the Frobenius term"),
    "no kinetic": (loss_with(terms=(False, True)), "leaves out the kinetic term"),
    "other": (lambda end, w: loss_with()(end, w) + 1.0, "is not −mean"),
    "a float": (lambda end, w: float(loss_with()(end, w)), "plain torch.Tensor"),
    "stub": (stub, "not answered yet"),
}


@pytest.mark.parametrize("name", list(RNODE_SLIPS))
def test_each_rnode_slip_is_named(name):
    answer, match = RNODE_SLIPS[name]
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_rnode_loss)(answer)


# --- Hutchinson's Frobenius estimate -------------------------------------------------------------
def frobenius(fz, z, eps):
    (v,) = torch.autograd.grad(fz, z, grad_outputs=eps, create_graph=True)
    return (v**2).sum(dim=1)


def test_a_right_estimate_passes(capsys):
    check_frobenius_estimate(frobenius)
    assert (
        capsys.readouterr().out == "Correct: |εᵀJ|² row by row, for a linear field and a network.\n"
    )


def _vjp(fz, z, eps):
    return torch.autograd.grad(fz, z, grad_outputs=eps, retain_graph=True)[0]


FROBENIUS_SLIPS = {
    "trace": (lambda fz, z, eps: (_vjp(fz, z, eps) * eps).sum(1), "trace"),
    "norm": (lambda fz, z, eps: _vjp(fz, z, eps).norm(dim=1), r"is \|εᵀJ\|, the length"),
    "jvp": (lambda fz, z, eps: (_jvp_of(fz, z, eps) ** 2).sum(1), r"is \|Jε\|²"),
    "batch": (lambda fz, z, eps: (_vjp(fz, z, eps) ** 2).sum().expand(len(z)), "whole batch"),
    "other": (lambda fz, z, eps: (_vjp(fz, z, eps) ** 2).sum(1) * 1.1, r"is not \|εᵀ"),
    "shape": (lambda fz, z, eps: _vjp(fz, z, eps) ** 2, r"must return shape \(4,\)"),
    "stub": (stub, "not answered yet"),
}


def _jvp_of(fz, z, eps):
    """Jε row by row from the graph of fz, by the double-backward trick (two vjps)."""
    u = torch.zeros_like(fz, requires_grad=True)
    (g,) = torch.autograd.grad(fz, z, grad_outputs=u, create_graph=True, retain_graph=True)
    (jv,) = torch.autograd.grad(g, u, grad_outputs=eps, retain_graph=True)
    return jv


@pytest.mark.parametrize("name", list(FROBENIUS_SLIPS))
def test_each_frobenius_slip_is_named(name):
    answer, match = FROBENIUS_SLIPS[name]
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_frobenius_estimate)(answer)

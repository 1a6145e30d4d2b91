"""Tests for ode_course.checks.cnf (Chapter 7): a right answer passes, each slip has its message."""

from __future__ import annotations

import pytest
import torch

from ode_course.checks.cnf import check_hutchinson
from ode_course.checks.harness import CheckFailed


def good(fz, z, eps):
    (vjp,) = torch.autograd.grad(fz, z, grad_outputs=eps, create_graph=True)
    return (vjp * eps).sum(dim=1)


def test_a_right_answer_passes(capsys):
    check_hutchinson(good)
    assert capsys.readouterr().out == (  # the text the notebook prints
        "Correct: εᵀ(∂f/∂z)ε with one backward pass, for a linear map and a network.\n"
    )


def exact(fz, z, eps):
    rows = [torch.autograd.grad(fz[:, i].sum(), z, retain_graph=True)[0][:, i] for i in range(3)]
    return sum(rows)


def looped(fz, z, eps):  # right values, but D backward passes
    total = 0
    for i in range(z.shape[1]):
        (g,) = torch.autograd.grad(fz[:, i].sum(), z, retain_graph=True)
        total = total + (g * eps).sum(dim=1) * eps[:, i]
    return total


def stub(fz, z, eps):
    raise NotImplementedError("write hutchinson")


def new_noise(fz, z, eps):
    return good(fz, z, torch.randn_like(eps))


SLIPS = {
    "exact trace": (exact, "exact trace"),
    "forgot the second ε": (
        lambda fz, z, eps: torch.autograd.grad(fz, z, eps)[0].sum(dim=1),
        "multiply it elementwise by ε",
    ),
    "no derivative": (lambda fz, z, eps: (eps * fz).sum(dim=1), "differentiate f first"),
    "ones": (lambda fz, z, eps: good(fz, z, torch.ones_like(eps)), "vector of ones"),
    "summed over rows": (lambda fz, z, eps: good(fz, z, eps).sum(), "summed .or averaged"),
    "no sum": (lambda fz, z, eps: torch.autograd.grad(fz, z, eps)[0] * eps, "last dimension"),
    "own noise": (new_noise, "draws its own noise"),
    "stub": (stub, "hutchinson is not answered yet"),
    "none": (lambda fz, z, eps: None, "returned None"),
    "numpy": (lambda fz, z, eps: good(fz, z, eps).detach().numpy(), "must return a tensor"),
    "D passes": (looped, "backward passes"),
    "wrong": (lambda fz, z, eps: good(fz, z, eps) + 1.0, r"expected εᵀ\(∂f/∂z\)ε"),
}


@pytest.mark.parametrize("name", list(SLIPS))
def test_each_slip_is_named(name):
    answer, match = SLIPS[name]
    with pytest.raises(CheckFailed, match=match):
        check_hutchinson(answer)


def test_the_check_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    want = torch.rand(1)
    torch.manual_seed(123)
    check_hutchinson(good)
    assert torch.equal(torch.rand(1), want)

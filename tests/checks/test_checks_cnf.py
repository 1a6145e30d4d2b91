"""Tests for ode_course.checks.cnf (Chapter 7): a right answer passes, each slip has its message."""

from __future__ import annotations

from inspect import unwrap

import pytest
import torch

from ode_course.checks.cnf import (
    check_hutchinson,
    check_linear_log_det,
    check_rademacher_exact,
    check_redrawn_probe,
)
from ode_course.checks.harness import CheckFailed
from ode_course.cnf import exact_trace, hutchinson_trace, sample_probe


def good(fz, z, eps):
    (vjp,) = torch.autograd.grad(fz, z, grad_outputs=eps, create_graph=True)
    return (vjp * eps).sum(dim=1)


def test_a_right_answer_passes(capsys):
    check_hutchinson(good)
    assert capsys.readouterr().out == (  # the text the notebook prints
        "Correct: one backward pass, right for a linear map and a network, and trainable.\n"
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


def stub(*args):
    raise NotImplementedError("write your answer")


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
        unwrap(check_hutchinson)(answer)


def test_the_check_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    want = torch.rand(1)
    torch.manual_seed(123)
    check_hutchinson(good)
    assert torch.equal(torch.rand(1), want)


def no_create_graph(fz, z, eps):  # right values, but nothing to train through
    (vjp,) = torch.autograd.grad(fz, z, grad_outputs=eps, retain_graph=True)
    return (vjp * eps).sum(dim=1)


def test_a_trace_without_create_graph_is_rejected():
    with pytest.raises(CheckFailed, match="create_graph=True"):
        unwrap(check_hutchinson)(no_create_graph)


def test_a_detached_trace_is_rejected():
    with pytest.raises(CheckFailed, match="no gradient"):
        unwrap(check_hutchinson)(lambda fz, z, eps: good(fz, z, eps).detach())


# --- the log-determinant of a linear flow -----------------------------------------------------


def test_linear_log_det_right_and_typical_wrong():
    check_linear_log_det(lambda A, t: t * torch.trace(A))
    slips = {
        "multiply by t": lambda A, t: torch.trace(A),
        "change of log p": lambda A, t: -t * torch.trace(A),
        "not A": lambda A, t: t * torch.linalg.slogdet(A).logabsdet,
        "not the trace": lambda A, t: torch.trace(torch.linalg.matrix_exp(t * A)),
        "expected": lambda A, t: t * torch.trace(A) + 1,
        "must return a number": lambda A, t: None,
    }
    for match, answer in slips.items():
        with pytest.raises(CheckFailed, match=match):
            unwrap(check_linear_log_det)(answer)
    with pytest.raises(CheckFailed, match="not answered yet"):
        unwrap(check_linear_log_det)(stub)


# --- a field for which one Rademacher probe is exact ------------------------------------------

ROTATION = torch.tensor([[0.0, 1.0, 0, 0], [-1.0, 0, 0, 0], [0, 0, 0, 2.0], [0, 0, -2.0, 0]])
SYMMETRIC = torch.tensor([[0.0, 1.0, 0, 0], [1.0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])


def test_rademacher_exact_right_and_typical_wrong():
    check_rademacher_exact(torch.tanh)
    check_rademacher_exact(lambda z: torch.tanh(z) + z @ ROTATION.double())
    with pytest.raises(CheckFailed, match="off-diagonal"):
        unwrap(check_rademacher_exact)(lambda z: torch.tanh(z) + z @ SYMMETRIC.double())
    with pytest.raises(CheckFailed, match="Gaussian probes are exact too"):
        unwrap(check_rademacher_exact)(lambda z: z @ ROTATION.double())
    with pytest.raises(CheckFailed, match="does not depend on z"):
        unwrap(check_rademacher_exact)(lambda z: torch.ones_like(z))
    with pytest.raises(CheckFailed, match="expected"):
        unwrap(check_rademacher_exact)(lambda z: torch.tanh(z).sum(dim=1))
    with pytest.raises(CheckFailed, match="not answered yet"):
        unwrap(check_rademacher_exact)(stub)


# --- the augmented field with a probe re-drawn at every call -----------------------------------


def redrawn(sign=-1.0, probe="new", trace="hutchinson", grad=True):
    class Field(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net, self.fixed = net, None

        def forward(self, t, state):
            with torch.enable_grad() if grad else torch.no_grad():
                z = state[:, :-1].detach().requires_grad_()
                fz = self.net(t, z)
                if trace == "exact":
                    tr = exact_trace(fz, z)
                else:
                    if probe == "new" or self.fixed is None:
                        self.fixed = sample_probe(z.shape)
                    tr = hutchinson_trace(fz, z, self.fixed)
            return torch.cat([fz, sign * tr[:, None]], dim=1).detach()

    return Field


def test_redrawn_probe_right_and_typical_wrong():
    check_redrawn_probe(redrawn())
    slips = {
        "sign": redrawn(sign=1.0),
        "does not change": redrawn(probe="fixed"),
        "exact trace": redrawn(trace="exact"),
        "enable_grad": redrawn(grad=False),
        "not answered yet": stub,
    }
    for match, answer in slips.items():
        with pytest.raises(CheckFailed, match=match):
            unwrap(check_redrawn_probe)(answer)

"""Tests for ode_course.checks.adjoint (Chapter 6): right answers pass, each slip is named."""

from __future__ import annotations

from inspect import unwrap

import pytest
import torch

from ode_course.adjoint import AdjointStats, odeint_adjoint
from ode_course.checks.adjoint import (
    check_augmented_dynamics,
    check_backward_nfe,
    check_saved_bytes,
)
from ode_course.checks.harness import CheckFailed
from ode_course.models import ODEFunc


def augmented_dynamics(func, t, z, a):
    """The answer: one vector–Jacobian product gives −aᵀ∂f/∂z and −aᵀ∂f/∂θ."""
    with torch.enable_grad():
        z = z.detach().requires_grad_()
        dz = func(t, z)
        params = tuple(func.parameters())
        vjps = torch.autograd.grad(dz, (z, *params), grad_outputs=-a)
    return dz.detach(), vjps[0], list(vjps[1:])


def with_change(change):
    def answer(func, t, z, a):
        return change(func, t, z, a, *augmented_dynamics(func, t, z, a))

    return answer


def jacobian_times_a(func, t, z, a, dz, da, dtheta):
    jac = torch.autograd.functional.jacobian(lambda z_: func(t, z_), z).reshape(z.numel(), -1)
    return dz, -(jac @ a.reshape(-1)).reshape(z.shape), dtheta


def full_jacobian(func, t, z, a, dz, da, dtheta):
    return dz, torch.autograd.functional.jacobian(lambda z_: func(t, z_), z), dtheta


def stub(func, t, z, a):
    raise NotImplementedError("write augmented_dynamics")


def test_check_augmented_dynamics_accepts_the_answer(capsys):
    check_augmented_dynamics(augmented_dynamics)
    assert capsys.readouterr().out == (  # the text the notebook prints
        "Correct: all three parts match explicit Jacobians, also under torch.no_grad().\n"
    )


@pytest.mark.parametrize(
    "answer,match",
    [
        (stub, r"augmented_dynamics is not answered yet"),
        (lambda *args: None, r"returned None: did you forget the return statement"),
        (lambda *args: (1, 2), r"must return three things, \(dz, da, dtheta\)"),
        (with_change(lambda f, t, z, a, dz, da, dp: (a, da, dp)), r"You returned a, not f"),
        (with_change(lambda f, t, z, a, dz, da, dp: (dz, -da, dp)), r"da gets the sign"),
        (with_change(jacobian_times_a), r"da gets a transposed Jacobian"),
        (with_change(lambda f, t, z, a, dz, da, dp: (dz, a, dp)), r"da gets a itself"),
        (with_change(full_jacobian), r"da has shape \(3, 2, 3, 2\).*not a Jacobian matrix"),
        (with_change(lambda f, t, z, a, dz, da, dp: (dz, 2 * da, dp)), r"da is wrong \(max"),
        (with_change(lambda f, t, z, a, dz, da, dp: (dz, da, dp[:2])), r"one tensor per param"),
        (
            with_change(lambda f, t, z, a, dz, da, dp: (dz, da, [-x for x in dp])),
            r"dtheta for w1 has the wrong sign",
        ),
        (
            with_change(lambda f, t, z, a, dz, da, dp: (dz, da, [dp[0], 2 * dp[1], dp[2]])),
            r"dtheta for b1 is wrong",
        ),
        (
            with_change(lambda f, t, z, a, dz, da, dp: (dz, da, [dp[0], None, dp[2]])),
            r"dtheta for b1 must be a tensor of shape \(4,\)",
        ),
    ],
)
def test_check_augmented_dynamics_names_the_slip(answer, match):
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_augmented_dynamics)(answer)


def saved_bytes(batch, dim, hidden, n_stages, itemsize):
    return n_stages * batch * (dim + hidden) * itemsize


def test_check_saved_bytes_accepts_the_answer(capsys):
    check_saved_bytes(saved_bytes)
    assert capsys.readouterr().out == (  # the text the notebook prints
        "Correct: your count matches what autograd keeps, for three configurations.\n"
    )


def test_the_max_error_is_measured_on_the_same_field_as_before():
    """The field's weights are drawn after z and a, so a wrong da reads as it always has."""
    with pytest.raises(CheckFailed, match=r"^da is wrong \(max error 11\.9\)"):
        unwrap(check_augmented_dynamics)(
            with_change(lambda f, t, z, a, dz, da, dp: (dz, 2 * da, dp))
        )


@pytest.mark.parametrize(
    "answer,match",
    [
        (lambda b, d, h, s, i: b * (d + h) * i, r"one evaluation of f only"),
        (lambda b, d, h, s, i: s * b * h * i, r"only the hidden activations"),
        (lambda b, d, h, s, i: s * b * d * i, r"only the inputs"),
        (lambda b, d, h, s, i: s * b * (d + h), r"numbers, not bytes"),
        (lambda b, d, h, s, i: s * b * (d + 2 * h) * i, r"tanh's input and output"),
        (lambda *args: None, r"must return a number; got None"),
        (lambda *args: 1, r"you predict 1 bytes"),
        (lambda *args: [][0], r"saved_bytes_per_step raised IndexError"),
    ],
)
def test_check_saved_bytes_names_the_slip(answer, match):
    with pytest.raises(CheckFailed, match=match):
        unwrap(check_saved_bytes)(answer)


def without_enable_grad(func, t, z, a):
    """Right values with grad mode on, but it crashes under torch.no_grad() (issue 15 item 19)."""
    z = z.detach().requires_grad_()
    dz = func(t, z)
    vjps = torch.autograd.grad(dz, (z, *func.parameters()), grad_outputs=-a)
    return dz.detach(), vjps[0], list(vjps[1:])


def test_check_augmented_dynamics_rejects_a_version_without_enable_grad():
    with torch.enable_grad():  # it works with grad mode on ...
        without_enable_grad(*_problem())
    with pytest.raises(CheckFailed, match=r"fails under torch\.no_grad\(\).*torch\.enable_grad"):
        unwrap(check_augmented_dynamics)(
            without_enable_grad
        )  # ... but the check calls it with it off


def _problem():
    from ode_course.checks.adjoint import _adjoint_test_problem

    return _adjoint_test_problem()


def test_success_messages_do_not_reveal_the_answers(capsys):
    check_saved_bytes(saved_bytes)
    check_augmented_dynamics(augmented_dynamics)
    out = capsys.readouterr().out
    assert "n_stages" not in out and "hidden" not in out and "aᵀ" not in out


def _measured(field, z0, loss):
    nfe = {}
    for n in (2, 11):
        stats = AdjointStats()
        times = torch.linspace(0, 2, n, dtype=torch.float64)
        zs = odeint_adjoint(field, z0, times, rtol=1e-6, atol=1e-6, stats=stats)
        loss(zs).backward()
        nfe[n] = (stats.nfe_forward, stats.nfe_backward)
    return nfe


def test_check_backward_nfe_repeats_the_measurement_and_names_the_slips(capsys):
    """The oracle is odeint_adjoint with AdjointStats itself, measured the learner's way."""
    torch.manual_seed(0)
    field = ODEFunc(dim=2, hidden=8).double()
    z0 = torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
    right = _measured(field, z0, lambda zs: (zs**2).sum())
    assert right[11][1] > right[2][1]  # the backward solve restarts at every output time
    check_backward_nfe(right, field, z0)
    assert capsys.readouterr().out.startswith("Correct")
    # the backward solve restarts at every output time, whatever the loss reads there
    assert _measured(field, z0, lambda zs: (zs[-1] ** 2).sum()) == right
    reversed_ = {n: (b, f) for n, (f, b) in right.items()}
    for answer, match in (
        (reversed_, "each pair is reversed"),
        ({2: right[2]}, "must have the keys 2 and 11"),
        ({2: right[2], 11: (1.5, 2)}, r"nfe\[11\] must be a pair of whole numbers"),
        ({2: right[2], 11: (1, 2)}, r"but the measurement gives"),
        ([1, 2], "must have the keys 2 and 11"),
    ):
        with pytest.raises(CheckFailed, match=match):
            unwrap(check_backward_nfe)(answer, field, z0)
    check_backward_nfe(None, field, z0)
    assert "nfe is not answered yet" in capsys.readouterr().out

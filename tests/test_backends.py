"""Tests for ode_course.backends: the three backends give the same states and gradients, the
counter counts the evaluations of the field, bad names are refused, and the deprecated keywords
are translated with a warning."""

from __future__ import annotations

import pytest
import torch

from ode_course.backends import BACKENDS, integrate

F64 = torch.float64
TIGHT = {"method": "dopri5", "rtol": 1e-10, "atol": 1e-10}
RK4 = {"method": "rk4", "step_size": 0.25}


class LinearField(torch.nn.Module):
    """f(t, y) = W y + b: an affine, autonomous field with fixed random float64 weights.

    On an affine autonomous field every 4-stage method of order 4 takes the same step (the
    Taylor polynomial of degree 4), so our classical RK4 and torchdiffeq's "rk4" (the 3/8 rule)
    agree to rounding here; on a nonlinear field they differ by O(h⁵) per step.
    """

    def __init__(self, dim: int = 3, seed: int = 0) -> None:
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.linear = torch.nn.Linear(dim, dim).double()

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.linear(y)


def problem() -> tuple[LinearField, torch.Tensor, torch.Tensor]:
    """The field, a batch of two initial states, and three output times."""
    y0 = torch.tensor([[0.5, -1.0, 0.3], [0.1, 0.2, -0.4]], dtype=F64)
    return LinearField(), y0, torch.tensor([0.0, 0.5, 1.0], dtype=F64)


def max_relative_error(x: torch.Tensor, reference: torch.Tensor) -> float:
    return ((x - reference).abs().max() / reference.abs().max()).item()


def solve_and_differentiate(backend: str, **solver) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The states, and the gradients of Σ y(tᵢ)² with respect to y0 and the field's parameters."""
    field, y0, t = problem()
    y0.requires_grad_()
    ys, _ = integrate(field, y0, t, backend=backend, **solver)
    grads = torch.autograd.grad((ys**2).sum(), (y0, *field.parameters()))
    return ys.detach(), list(grads)


# ------------------------------------------------------------------ the same solution
@pytest.mark.parametrize("backend", BACKENDS)
def test_dopri5_at_tight_tolerances_gives_the_same_states_with_every_backend(backend):
    field, y0, t = problem()
    reference, _ = integrate(field, y0, t, **TIGHT)
    ys, _ = integrate(field, y0, t, backend=backend, **TIGHT)
    assert ys.shape == (3, 2, 3) and ys.dtype == F64
    assert torch.equal(ys[0], y0)
    assert max_relative_error(ys, reference) <= 1e-7


@pytest.mark.parametrize("backend", BACKENDS)
def test_rk4_with_a_step_size_gives_the_same_states_with_every_backend(backend):
    """The adjoint's forward solve is our solver's: the same floats; torchdiffeq to rounding."""
    field, y0, t = problem()
    reference, _ = integrate(field, y0, t, **RK4)
    ys, _ = integrate(field, y0, t, backend=backend, **RK4)
    if backend == "torchdiffeq":
        assert max_relative_error(ys, reference) <= 1e-10
    else:
        assert torch.equal(ys, reference)


@pytest.mark.parametrize("backend", ["adjoint", "torchdiffeq"])
def test_gradients_agree_with_backpropagation_through_our_solver(backend):
    """dL/dy0 and dL/dθ by the adjoint method (a second ODE, backward in time) and by
    backpropagation through torchdiffeq equal those through our dopri5, at tight tolerances."""
    reference_ys, reference = solve_and_differentiate("ode_course", **TIGHT)
    ys, grads = solve_and_differentiate(backend, **TIGHT)
    assert len(grads) == len(reference) == 3  # y0, the weight and the bias
    assert max_relative_error(ys, reference_ys) <= 1e-7
    for name, grad, want in zip(["y0", "weight", "bias"], grads, reference, strict=True):
        assert grad.shape == want.shape, name
        assert max_relative_error(grad, want) <= 1e-6, name


# ------------------------------------------------------------------ the counter
@pytest.mark.parametrize("backend", ["ode_course", "torchdiffeq"])
def test_the_counter_counts_the_fixed_grid(backend):
    """RK4 with steps of 0.25 over [0, 1]: 4 steps of 4 evaluations."""
    field, y0, _ = problem()
    ys, counter = integrate(field, y0, torch.tensor([0.0, 1.0], dtype=F64), backend=backend, **RK4)
    assert ys.shape == (2, 2, 3)
    assert counter.nfe == 16
    assert list(counter.parameters()) == list(field.parameters())  # the field stays visible


def test_the_adjoints_backward_pass_adds_to_the_same_counter():
    field, y0, _ = problem()
    t = torch.tensor([0.0, 1.0], dtype=F64)
    ys, counter = integrate(field, y0.requires_grad_(), t, backend="adjoint", **RK4)
    assert counter.nfe == 16  # the forward solve
    ys[-1].sum().backward()
    assert counter.nfe == 16 + 16  # and the backward one: 4 steps of 4 stages, one f each
    assert y0.grad is not None and field.linear.weight.grad is not None


# ------------------------------------------------------------------ bad names
def test_an_unknown_backend_is_named_with_the_valid_ones():
    field, y0, t = problem()
    with pytest.raises(
        ValueError,
        match=r"^backend must be one of 'ode_course', 'adjoint', 'torchdiffeq'; "
        r"got backend='scipy'\. Fix: ",
    ):
        integrate(field, y0, t, backend="scipy")


@pytest.mark.parametrize("backend", ["ode_course", "adjoint"])
def test_a_method_unknown_to_our_solvers_is_named(backend):
    field, y0, t = problem()
    with pytest.raises(
        ValueError,
        match=r"^method must be one of 'euler', 'midpoint', 'rk4', 'dopri5'; got method='bosh3'"
        r"\. Fix: .*backend='torchdiffeq'",
    ):
        integrate(field, y0, t, backend=backend, method="bosh3")


def test_torchdiffeq_runs_its_own_methods():
    field, y0, t = problem()
    reference, _ = integrate(field, y0, t, **TIGHT)
    ys, counter = integrate(field, y0, t, backend="torchdiffeq", method="bosh3", rtol=1e-9)
    assert counter.nfe > 0
    assert max_relative_error(ys, reference) <= 1e-6


# ------------------------------------------------------------------ the deprecated keywords


def test_the_adjoint_backend_refuses_a_closure_whose_parameters_it_cannot_see():
    w = torch.ones(2, 2, dtype=torch.float64, requires_grad=True)
    with pytest.raises(
        TypeError, match=r"func must be a torch.nn.Module for backend='adjoint'.*Fix:"
    ):
        integrate(
            lambda t, y: w @ y,
            torch.ones(2, dtype=torch.float64),
            torch.tensor([0.0, 1.0], dtype=torch.float64),
            backend="adjoint",
            method="rk4",
            step_size=0.25,
        )


# ------------------------------------------------------------------ solver settings for a while
def test_solver_settings_change_a_model_for_the_block_and_restore_it_even_after_an_error():
    from ode_course.backends import solver_settings
    from ode_course.cnf import CNF

    cnf = CNF(2, hidden=(4,), method="rk4", step_size=0.5).double()
    x = torch.zeros(3, 2, dtype=torch.float64)
    with solver_settings(cnf, method="dopri5", step_size=None, rtol=1e-8, atol=1e-8, trace="exact"):
        cnf.log_prob(x)
        assert (cnf.method, cnf.step_size, cnf.rtol) == ("dopri5", None, 1e-8)
    assert (cnf.method, cnf.step_size, cnf.rtol, cnf.trace) == ("rk4", 0.5, 1e-5, "exact")
    with pytest.raises(RuntimeError, match="boom"), solver_settings(cnf, backend="adjoint"):
        raise RuntimeError("boom")
    assert cnf.backend == "ode_course"


def test_solver_settings_reject_what_the_model_does_not_have_and_unknown_solvers():
    from ode_course.backends import solver_settings
    from ode_course.models import ODEBlock, ODEFunc

    block = ODEBlock(ODEFunc(2, 4))
    with pytest.raises(ValueError, match=r"trace must be one of the solver settings of ODEBlock"):
        with solver_settings(block, trace="exact"):
            pass
    with pytest.raises(ValueError, match="backend must be one of"):
        with solver_settings(block, backend="scipy"):
            pass
    assert block.backend == "ode_course"

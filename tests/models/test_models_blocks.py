"""Tests for ode_course.models.blocks: a residual block is one Euler step; the solver backends
agree (outputs and gradients); a block counts the cost
of its latest solve; augmented blocks pad with zeros; an ODE block's activation memory grows
with its evaluations."""

from __future__ import annotations

import pytest
import torch

from ode_course.backends import BACKENDS
from ode_course.memory import activation_memory
from ode_course.models import (
    AugmentedODEBlock,
    ODEBlock,
    ODEFunc,
    ResBlock,
    count_parameters,
    ode_classifier,
)
from ode_course.solvers import count_evaluations


def test_one_euler_step_of_size_one_is_a_residual_block():
    torch.manual_seed(0)
    func = ODEFunc(4, 8)
    h = torch.randn(3, 4)
    block = ODEBlock(func, t1=1.0, method="euler", step_size=1.0, backend="torchdiffeq")
    expected = h + func(torch.tensor(0.0), h)
    torch.testing.assert_close(block(h), expected)


@pytest.mark.parametrize("method,step", [("euler", 0.25), ("rk4", 0.25), ("dopri5", None)])
def test_our_solvers_and_torchdiffeq_give_the_same_block_output(method, step):
    torch.manual_seed(1)
    func = ODEFunc(3, 16).double()
    h = torch.randn(5, 3, dtype=torch.float64)
    ours = ODEBlock(func, method=method, step_size=step, rtol=1e-8, atol=1e-10)
    theirs = ODEBlock(
        func, method=method, step_size=step, rtol=1e-8, atol=1e-10, backend="torchdiffeq"
    )
    torch.testing.assert_close(ours(h), theirs(h), rtol=1e-6, atol=1e-8)


def test_resblock_and_counts():
    torch.manual_seed(0)
    block = ResBlock(5, 7)
    h = torch.randn(2, 5)
    torch.testing.assert_close(block(h), h + block.f(h))
    assert count_parameters(block) == 5 * 7 + 7 + 7 * 5 + 5
    func = ODEFunc(5, 7)
    block = ODEBlock(func, method="rk4", step_size=0.5, backend="torchdiffeq")
    assert count_evaluations(func, lambda: block(h)) == block.nfe == 2 * 4


# ------------------------------------------------------------------ trajectories and augmentation
@pytest.mark.parametrize("backend", BACKENDS)
def test_trajectory_starts_at_h_and_ends_at_the_block_output(backend):
    torch.manual_seed(2)
    block = ODEBlock(ODEFunc(3, 8).double(), t1=2.0, step_size=0.1, backend=backend)
    h = torch.randn(4, 3, dtype=torch.float64)
    path = block.trajectory(h, torch.linspace(0, 2, 5, dtype=torch.float64))
    assert path.shape == (5, 4, 3)
    torch.testing.assert_close(path[0], h, rtol=0, atol=0)
    torch.testing.assert_close(path[-1], block(h), rtol=1e-12, atol=1e-12)


def test_augmented_block_appends_zeros_then_flows():
    torch.manual_seed(3)
    func = ODEFunc(2 + 3, 8).double()
    block = AugmentedODEBlock(func, augment_dim=3, method="rk4", step_size=0.25)
    h = torch.randn(6, 2, dtype=torch.float64)
    z0 = torch.cat([h, torch.zeros(6, 3, dtype=torch.float64)], dim=1)
    torch.testing.assert_close(block.augment(h), z0, rtol=0, atol=0)
    plain = ODEBlock(func, method="rk4", step_size=0.25)
    torch.testing.assert_close(block(h), plain(z0), rtol=0, atol=0)
    path = block.trajectory(h, torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64))
    assert path.shape == (3, 6, 5)
    torch.testing.assert_close(path[0], z0, rtol=0, atol=0)


def test_augment_dim_zero_is_a_plain_block():
    torch.manual_seed(4)
    func = ODEFunc(2, 8)
    h = torch.randn(5, 2)
    out = AugmentedODEBlock(func, augment_dim=0, step_size=0.5)(h)
    torch.testing.assert_close(out, ODEBlock(func, step_size=0.5)(h), rtol=0, atol=0)


@pytest.mark.parametrize(
    "bad,error", [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)]
)
def test_augment_dim_must_be_a_non_negative_integer(bad, error):
    with pytest.raises(error, match=r"augment_dim must be an integer >= 0; got .*Fix: "):
        AugmentedODEBlock(ODEFunc(3, 4), augment_dim=bad)


@pytest.mark.parametrize("backend", ["ode_course", "torchdiffeq"])
def test_ode_block_memory_grows_linearly_with_the_number_of_evaluations(backend):
    """Backpropagating through the solver is the paper's RK-Net: memory O(NFE)."""
    torch.manual_seed(0)
    func = ODEFunc(16, 32)
    x = torch.randn(8, 16)
    memory, nfe = {}, {}
    for n_steps in (1, 2, 4):
        block = ODEBlock(func, method="rk4", step_size=1 / n_steps, backend=backend)
        memory[n_steps] = activation_memory(block, x)
        nfe[n_steps] = block.nfe
    assert nfe == {1: 4, 2: 8, 4: 16}
    assert memory[4] - memory[2] == 2 * (memory[2] - memory[1]) > 0


# ------------------------------------------------------------- backends and the cost of a solve


@pytest.mark.parametrize(
    "make", [ODEBlock, lambda f, **k: AugmentedODEBlock(f, augment_dim=0, **k)]
)
def test_an_unknown_backend_is_named_with_a_fix(make):
    with pytest.raises(ValueError, match=r"backend must be one of .*got backend='torch'") as info:
        make(ODEFunc(2, 4), backend="torch")
    assert "Fix: pass backend='ode_course'" in str(info.value)
    with pytest.raises(ValueError, match=r"backend must be one of .*got backend=3"):
        make(ODEFunc(2, 4), backend=3)


def test_backend_none_means_ode_course():
    assert ODEBlock(ODEFunc(2, 4)).backend == "ode_course"
    assert ODEBlock(ODEFunc(2, 4), backend=None).backend == "ode_course"
    assert ode_classifier(4, 2, 3, 4)[1].backend == "ode_course"


@pytest.mark.parametrize(
    "method,options",
    [("rk4", {"step_size": 0.05}), ("dopri5", {"step_size": None, "rtol": 1e-10, "atol": 1e-12})],
)
def test_the_adjoint_backend_gives_the_same_outputs_and_gradients(method, options):
    torch.manual_seed(5)
    func = ODEFunc(3, 16).double()
    h = torch.randn(6, 3, dtype=torch.float64)
    target = torch.randn(6, 3, dtype=torch.float64)
    results = {}
    for backend in ("ode_course", "adjoint"):
        block = ODEBlock(func, method=method, backend=backend, **options)
        h_in = h.clone().requires_grad_()
        out = block(h_in)
        func.zero_grad()
        ((out - target) ** 2).sum().backward()
        grads = [p.grad.clone() for p in func.parameters()]
        results[backend] = (out.detach(), h_in.grad, grads)
    (out_ours, dh_ours, ours), (out_adj, dh_adj, adj) = results["ode_course"], results["adjoint"]
    torch.testing.assert_close(out_adj, out_ours, rtol=1e-6, atol=1e-12)
    torch.testing.assert_close(dh_adj, dh_ours, rtol=1e-6, atol=1e-12)
    for g_adj, g_ours in zip(adj, ours, strict=True):
        torch.testing.assert_close(g_adj, g_ours, rtol=1e-6, atol=1e-12)


def test_block_nfe_is_the_cost_of_its_latest_solve():
    func = ODEFunc(2, 4)
    block = ODEBlock(func, method="rk4", step_size=0.25)
    assert block.nfe == 0
    h = torch.zeros(3, 2)
    # 4 steps of rk4 over [0, 1]; a forward hook on the field is the independent count
    assert count_evaluations(func, lambda: block(h)) == block.nfe == 16
    block(h)
    assert block.nfe == 16  # the latest solve, not a running total
    block.trajectory(h, torch.tensor([0.0, 0.5]))
    assert block.nfe == 8
    midpoint = ODEBlock(ODEFunc(2, 4), method="midpoint", step_size=0.25, backend="torchdiffeq")
    midpoint(h)
    assert midpoint.nfe == 8
    adaptive = ODEBlock(ODEFunc(2, 4), method="dopri5", step_size=None)
    assert count_evaluations(adaptive.func, lambda: adaptive(h)) == adaptive.nfe > 0


def test_the_adjoint_backward_pass_adds_to_the_block_nfe():
    block = ODEBlock(ODEFunc(2, 4), method="rk4", step_size=0.25, backend="adjoint")
    out = block(torch.zeros(3, 2))
    assert block.nfe == 16
    out.sum().backward()
    assert block.nfe == 32  # the backward solve takes the same 4 rk4 steps


def test_counting_leaves_the_module_tree_unchanged():
    block = ODEBlock(ODEFunc(2, 4), method="rk4", step_size=0.5)
    keys = list(block.state_dict())
    modules = [name for name, _ in block.named_modules()]
    block(torch.zeros(1, 2))
    assert list(block.state_dict()) == keys
    assert [name for name, _ in block.named_modules()] == modules
    assert count_parameters(block) == count_parameters(block.func)

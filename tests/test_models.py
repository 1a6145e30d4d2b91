"""Tests for ode_course.models: a residual block is one Euler step; the solver backends agree
(outputs and gradients); the deprecated ``library=`` still works; a block counts the cost of its
latest solve; augmented blocks pad with zeros; activation memory is counted exactly; training is
reproducible; every bad argument is named with a fix."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from ode_course.backends import BACKENDS
from ode_course.memory import activation_memory
from ode_course.models import (
    SOLVER_LIBRARIES,
    AugmentedODEBlock,
    ODEBlock,
    ODEFunc,
    ResBlock,
    count_parameters,
    mlp_classifier,
    ode_classifier,
    resnet_classifier,
    train_classifier,
)


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
    ODEBlock(func, method="rk4", step_size=0.5, backend="torchdiffeq")(h)
    assert func.nfe == 2 * 4


def test_classifiers_have_the_right_shapes_and_the_ode_net_is_smallest():
    x = torch.randn(6, 64)
    mlp, resnet = mlp_classifier(64, 10, 64, 2), resnet_classifier(64, 10, 64, 100, 6)
    odenet = ode_classifier(64, 10, 64, 100, backend="torchdiffeq")
    for model in (mlp, resnet, odenet):
        assert model(x).shape == (6, 10)
    assert count_parameters(odenet) < count_parameters(resnet)


@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda: ODEFunc(0, 4), ValueError, r"dim must be a positive integer; got dim=0"),
        (lambda: ODEFunc(2, 2.5), TypeError, r"hidden must be an integer >= 1; got float"),
        (lambda: ResBlock(3, 0), ValueError, r"hidden must be a positive integer"),
        (lambda: ODEBlock(lambda t, h: h), TypeError, r"func must be a torch\.nn\.Module"),
        (lambda: ODEBlock(ODEFunc(2, 2), t1=0.0), ValueError, r"t1 must be positive; got t1=0"),
        (lambda: ODEBlock(ODEFunc(2, 2), t1="1"), TypeError, r"t1 must be a real number"),
        (
            lambda: ODEBlock(ODEFunc(2, 2), step_size=-0.1),
            ValueError,
            r"step_size must be positive; got step_size=-0\.1",
        ),
        (lambda: ODEBlock(ODEFunc(2, 2), rtol=0.0), ValueError, r"rtol must be positive"),
        (lambda: ODEBlock(ODEFunc(2, 2), atol=-1.0), ValueError, r"atol must be positive"),
        (
            lambda: ODEBlock(ODEFunc(2, 2), backend="scipy"),
            ValueError,
            r"backend must be one of 'ode_course', 'adjoint', 'torchdiffeq'; got backend='scipy'",
        ),
        (
            lambda: ODEBlock(ODEFunc(2, 2), method="rk45"),
            ValueError,
            r"method must be one of .*got method='rk45'",
        ),
        (
            lambda: ODEBlock(ODEFunc(2, 2), library="scipy"),
            ValueError,
            r"library must be one of 'ode_course', 'torchdiffeq'; got library='scipy'",
        ),
        (
            lambda: resnet_classifier(4, 2, 4, 4, 0),
            ValueError,
            r"n_blocks must be a positive integer",
        ),
        (lambda: resnet_classifier(4, 2, 4.0, 4, 1), TypeError, r"width must be an integer"),
        (lambda: mlp_classifier(0, 2, 4, 1), ValueError, r"n_in must be a positive integer"),
        (lambda: mlp_classifier(4, 2, 4, -1), ValueError, r"depth must be an integer >= 0"),
        (lambda: ode_classifier(4, 0, 4, 4), ValueError, r"n_classes must be a positive integer"),
        (lambda: count_parameters("model"), TypeError, r"model must be a torch\.nn\.Module"),
    ],
)
def test_bad_arguments_are_named_with_a_fix(make, error, match):
    with pytest.raises(error, match=match) as info:
        make()
    assert "Fix: " in str(info.value)


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


def test_resnet_memory_grows_linearly_with_depth():
    """O(L): every block adds the same activations."""
    x = torch.randn(8, 64)
    memory = {n: activation_memory(resnet_classifier(64, 10, 32, 16, n), x) for n in (1, 2, 4, 8)}
    per_block = memory[2] - memory[1]
    assert per_block > 0
    assert all(memory[n] == memory[1] + (n - 1) * per_block for n in memory)


@pytest.mark.parametrize("backend", ["ode_course", "torchdiffeq"])
def test_ode_block_memory_grows_linearly_with_the_number_of_evaluations(backend):
    """Backpropagating through the solver is the paper's RK-Net: memory O(NFE)."""
    torch.manual_seed(0)
    func = ODEFunc(16, 32)
    x = torch.randn(8, 16)
    memory, nfe = {}, {}
    for n_steps in (1, 2, 4):
        func.nfe = 0
        block = ODEBlock(func, method="rk4", step_size=1 / n_steps, backend=backend)
        memory[n_steps] = activation_memory(block, x)
        nfe[n_steps] = func.nfe
    assert nfe == {1: 4, 2: 8, 4: 16}
    assert memory[4] - memory[2] == 2 * (memory[2] - memory[1]) > 0


# ------------------------------------------------------------------ training
def test_train_classifier_fits_separable_data_reproducibly():
    x = torch.cat([torch.randn(40, 2) - 2, torch.randn(40, 2) + 2])
    y = torch.cat([torch.zeros(40), torch.ones(40)]).long()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
        runs.append(train_classifier(model, x, y, epochs=10, batch_size=16, seed=5))
    assert runs[0] == runs[1] and len(runs[0]) == 10
    assert runs[0][-1] < 0.2 * runs[0][0]
    assert (model(x).argmax(1) == y).all()
    assert model.training


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"n": 3}, ValueError, r"y must be one label per example of x \(4 examples\); got 3"),
        ({"epochs": 0}, ValueError, "epochs must be a positive integer"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an integer >= 1; got float"),
        ({"lr": 0.0}, ValueError, "lr must be positive"),
        ({"weight_decay": -0.1}, ValueError, "weight_decay must be >= 0"),
        ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
        ({"model": "net"}, TypeError, r"model must be a torch\.nn\.Module"),
    ],
)
def test_train_classifier_bad_arguments(kwargs, error, match):
    model, x, y = nn.Linear(2, 2), torch.zeros(4, 2), torch.zeros(4).long()
    model = kwargs.pop("model", model)
    y = y[: kwargs.pop("n", 4)]
    with pytest.raises(error, match=match) as info:
        train_classifier(model, x, y, **kwargs)
    assert "Fix: " in str(info.value)


# ------------------------------------------------------------- backends and the cost of a solve
@pytest.mark.parametrize("library", SOLVER_LIBRARIES)
def test_the_deprecated_library_keyword_warns_and_maps_to_the_same_backend(library):
    assert SOLVER_LIBRARIES == ("ode_course", "torchdiffeq")
    with pytest.warns(DeprecationWarning, match=rf"ODEBlock\(library='{library}'\).*backend="):
        block = ODEBlock(ODEFunc(2, 4), library=library)
    assert block.backend == library
    with pytest.warns(DeprecationWarning, match=r"AugmentedODEBlock\(library="):
        augmented = AugmentedODEBlock(ODEFunc(3, 4), augment_dim=1, library=library)
    assert augmented.backend == library
    with pytest.warns(DeprecationWarning, match=r"ode_classifier\(library="):
        model = ode_classifier(4, 2, 3, 4, library=library)
    assert model[1].backend == library
    # the same as the new keyword, and the same as backend= with the same value
    with pytest.warns(DeprecationWarning):
        both = ODEBlock(ODEFunc(2, 4), library=library, backend=library)
    assert both.backend == library


def test_the_deprecation_warning_points_at_the_callers_line():
    with pytest.warns(DeprecationWarning) as records:
        ODEBlock(ODEFunc(2, 4), library="torchdiffeq")
        AugmentedODEBlock(ODEFunc(3, 4), augment_dim=1, library="torchdiffeq")
        ode_classifier(4, 2, 3, 4, library="torchdiffeq")
    assert [record.filename for record in records] == [__file__] * 3


def test_library_and_a_different_backend_conflict():
    conflict = r"library must be left out when backend= is given.*got backend='adjoint'"
    with warnings.catch_warnings():  # whether it also warns is ode_course.backends' business
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError, match=conflict) as info:
            ODEBlock(ODEFunc(2, 4), library="torchdiffeq", backend="adjoint")
        assert "Fix: drop library= and keep backend=" in str(info.value)
        with pytest.raises(ValueError, match=r"library must be left out"):
            AugmentedODEBlock(ODEFunc(3, 4), augment_dim=1, library="ode_course", backend="adjoint")
        with pytest.raises(ValueError, match=r"library must be left out"):
            ode_classifier(4, 2, 3, 4, library="ode_course", backend="torchdiffeq")


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
    block(h)
    assert block.nfe == func.nfe == 16  # 4 steps of rk4 over [0, 1]
    block(h)
    assert (block.nfe, func.nfe) == (16, 32)  # the block counts one solve, the field all calls
    block.trajectory(h, torch.tensor([0.0, 0.5]))
    assert block.nfe == 8
    midpoint = ODEBlock(ODEFunc(2, 4), method="midpoint", step_size=0.25, backend="torchdiffeq")
    midpoint(h)
    assert midpoint.nfe == 8
    adaptive = ODEBlock(ODEFunc(2, 4), method="dopri5", step_size=None)
    adaptive(h)
    assert adaptive.nfe == adaptive.func.nfe > 0


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

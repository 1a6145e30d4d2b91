"""Tests for ode_course.models: a residual block is one Euler step; both solver libraries agree;
augmented blocks pad with zeros; activation memory is counted exactly; training is reproducible."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ode_course.memory import activation_memory
from ode_course.models import (
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
    block = ODEBlock(func, t1=1.0, method="euler", step_size=1.0, library="torchdiffeq")
    expected = h + func(torch.tensor(0.0), h)
    torch.testing.assert_close(block(h), expected)


@pytest.mark.parametrize("method,step", [("euler", 0.25), ("rk4", 0.25), ("dopri5", None)])
def test_our_solvers_and_torchdiffeq_give_the_same_block_output(method, step):
    torch.manual_seed(1)
    func = ODEFunc(3, 16).double()
    h = torch.randn(5, 3, dtype=torch.float64)
    ours = ODEBlock(func, method=method, step_size=step, rtol=1e-8, atol=1e-10)
    theirs = ODEBlock(
        func, method=method, step_size=step, rtol=1e-8, atol=1e-10, library="torchdiffeq"
    )
    torch.testing.assert_close(ours(h), theirs(h), rtol=1e-6, atol=1e-8)


def test_resblock_and_counts():
    torch.manual_seed(0)
    block = ResBlock(5, 7)
    h = torch.randn(2, 5)
    torch.testing.assert_close(block(h), h + block.f(h))
    assert count_parameters(block) == 5 * 7 + 7 + 7 * 5 + 5
    func = ODEFunc(5, 7)
    ODEBlock(func, method="rk4", step_size=0.5, library="torchdiffeq")(h)
    assert func.nfe == 2 * 4


def test_classifiers_have_the_right_shapes_and_the_ode_net_is_smallest():
    x = torch.randn(6, 64)
    mlp, resnet = mlp_classifier(64, 10, 64, 2), resnet_classifier(64, 10, 64, 100, 6)
    odenet = ode_classifier(64, 10, 64, 100, library="torchdiffeq")
    for model in (mlp, resnet, odenet):
        assert model(x).shape == (6, 10)
    assert count_parameters(odenet) < count_parameters(resnet)


def test_bad_arguments():
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        ODEFunc(0, 4)
    with pytest.raises(TypeError, match=r"func must be a torch\.nn\.Module"):
        ODEBlock(lambda t, h: h)
    with pytest.raises(ValueError, match="t1 must be positive"):
        ODEBlock(ODEFunc(2, 2), t1=0.0)
    with pytest.raises(ValueError, match="library must be one of"):
        ODEBlock(ODEFunc(2, 2), library="scipy")
    with pytest.raises(ValueError, match="n_blocks must be a positive integer"):
        resnet_classifier(4, 2, 4, 4, 0)


# ------------------------------------------------------------------ trajectories and augmentation
@pytest.mark.parametrize("library", ["ode_course", "torchdiffeq"])
def test_trajectory_starts_at_h_and_ends_at_the_block_output(library):
    torch.manual_seed(2)
    block = ODEBlock(ODEFunc(3, 8).double(), t1=2.0, step_size=0.1, library=library)
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


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_augment_dim_must_be_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="augment_dim must be a non-negative integer"):
        AugmentedODEBlock(ODEFunc(3, 4), augment_dim=bad)


def test_resnet_memory_grows_linearly_with_depth():
    """O(L): every block adds the same activations."""
    x = torch.randn(8, 64)
    memory = {n: activation_memory(resnet_classifier(64, 10, 32, 16, n), x) for n in (1, 2, 4, 8)}
    per_block = memory[2] - memory[1]
    assert per_block > 0
    assert all(memory[n] == memory[1] + (n - 1) * per_block for n in memory)


@pytest.mark.parametrize("library", ["ode_course", "torchdiffeq"])
def test_ode_block_memory_grows_linearly_with_the_number_of_evaluations(library):
    """Backpropagating through the solver is the paper's RK-Net: memory O(NFE)."""
    torch.manual_seed(0)
    func = ODEFunc(16, 32)
    x = torch.randn(8, 16)
    memory, nfe = {}, {}
    for n_steps in (1, 2, 4):
        func.nfe = 0
        block = ODEBlock(func, method="rk4", step_size=1 / n_steps, library=library)
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


def test_train_classifier_bad_arguments():
    model, x, y = nn.Linear(2, 2), torch.zeros(4, 2), torch.zeros(4).long()
    with pytest.raises(ValueError, match="same number of examples; got 4 and 3"):
        train_classifier(model, x, y[:3])
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        train_classifier(model, x, y, epochs=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        train_classifier(model, x, y, batch_size=2.5)

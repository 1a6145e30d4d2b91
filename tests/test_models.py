"""Tests for ode_course.models: a residual block is one Euler step; both solver libraries agree."""

from __future__ import annotations

import pytest
import torch

from ode_course.models import (
    ODEBlock,
    ODEFunc,
    ResBlock,
    count_parameters,
    mlp_classifier,
    ode_classifier,
    resnet_classifier,
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

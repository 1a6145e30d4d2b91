"""Tests for ode_course.memory: known allocations are seen, frees are seen, views and in-place
operations cost nothing, autograd's saved tensors are counted, and the adjoint's memory does
not grow with the number of steps while direct backprop's does, by exactly what it saves."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ode_course.adjoint import odeint_adjoint
from ode_course.memory import TensorMemory, activation_memory, peak_memory
from ode_course.solvers import odeint


def test_a_known_allocation_is_measured_exactly():
    assert peak_memory(torch.empty, 1000, dtype=torch.float64) == 8000
    assert peak_memory(torch.zeros, 3, 5, dtype=torch.float32) == 60


def test_frees_views_and_in_place_operations():
    def sequential():
        a = torch.ones(1000, dtype=torch.float64)
        del a
        b = torch.ones(1000, dtype=torch.float64)
        b.mul_(2)  # in place: no new memory
        view = b[:10].reshape(2, 5)  # a view: no new memory
        return view

    with TensorMemory() as usage:
        kept = sequential()
    assert usage.peak == 8000 and usage.current == 8000  # the view keeps b alive
    del kept
    assert usage.current == 0  # counted until freed, even after the context exits

    def together():
        a = torch.ones(1000, dtype=torch.float64)
        b = torch.ones(1000, dtype=torch.float64)
        return (a + b).sum()

    assert peak_memory(together) == 3 * 8000 + 8


def test_tensors_that_existed_before_are_not_counted():
    x = torch.ones(1000)
    with TensorMemory() as usage:
        y = x.view(10, 100)
        del x
    assert usage.peak == 0 and y.shape == (10, 100)


def test_saved_activations_of_backprop_are_counted():
    """tanh keeps its output for the backward pass: 100 layers keep 100 outputs alive."""
    x = torch.ones(256, requires_grad=True)

    def forward_only(n):
        y = x
        for _ in range(n):
            y = torch.tanh(y)
        return y

    with TensorMemory() as usage:
        y = forward_only(100)
    assert usage.current == 100 * 256 * 4
    del y
    assert usage.current == 0


def test_fn_must_be_callable():
    with pytest.raises(TypeError, match=r"fn must be callable; got int 3\. Fix: pass the function"):
        peak_memory(3)


def test_activation_memory_needs_a_module():
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module; got function.*Fix: "):
        activation_memory(lambda x: x, torch.zeros(2))


# ---------------------------------------------------------------------- the claim of Chapter 6
class MLPField(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, dim))

    def forward(self, t, y):
        return self.net(y)


def training_step(solver, func, y0, n_steps, method="rk4"):
    ys = solver(func, y0, torch.tensor([0.0, 1.0]), method=method, step_size=1 / n_steps)
    ys[-1].pow(2).mean().backward()


@pytest.mark.parametrize("method,stages", [("euler", 1), ("rk4", 4)])
def test_direct_backprop_grows_by_what_it_saves_and_the_adjoint_is_flat(method, stages):
    torch.manual_seed(0)
    batch, dim, hidden = 16, 8, 12
    func, y0 = MLPField(dim, hidden), torch.randn(batch, dim, requires_grad=True)
    peaks = {
        (solver.__name__, n): peak_memory(training_step, solver, func, y0, n, method)
        for solver in (odeint, odeint_adjoint)
        for n in (10, 20)
    }
    per_step = (peaks["odeint", 20] - peaks["odeint", 10]) / 10
    assert per_step == stages * batch * (dim + hidden) * 4  # what check_saved_bytes teaches
    assert peaks["odeint_adjoint", 20] == peaks["odeint_adjoint", 10]


def test_activation_memory_counts_saved_activations_once_and_no_parameters():
    mlp = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()
    x = torch.randn(11, 5, dtype=torch.float64)
    # the input (saved by the first Linear) and the tanh output (saved by tanh and by the
    # second Linear: one storage), 8 bytes each; the weights are not counted
    assert activation_memory(mlp, x) == (11 * 5 + 11 * 7) * 8
    assert activation_memory(nn.Linear(5, 7).double(), x) == 11 * 5 * 8
    with torch.no_grad():
        assert activation_memory(mlp, x) == 0


def test_activation_memory_ignores_tensors_saved_by_discarded_branches():
    class Wasteful(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(5, 3).double()

        def forward(self, x):
            for _ in range(3):
                x.exp().sum()  # exp saves its output, but this branch is dropped at once
            return self.linear(x)

    x = torch.randn(11, 5, dtype=torch.float64)
    assert activation_memory(Wasteful(), x) == 11 * 5 * 8


def test_an_older_torch_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setattr(torch, "__version__", "2.1.2")
    with pytest.raises(RuntimeError, match=r"torch>=2\.2.*pip install -U torch"):
        TensorMemory()
    with pytest.raises(RuntimeError, match=r"torch>=2\.2"):
        activation_memory(torch.nn.Linear(2, 2), torch.zeros(1, 2))

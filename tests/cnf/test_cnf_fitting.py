"""Tests for ode_course.cnf.fitting: a trained CNF is a normalised density, the fitting loop
records what it measured, and every error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ode_course.cnf import CNF, PlanarFlow, density_on_grid, fit_density, mean_nll
from ode_course.data import standardise, toy_data

# small tensors: one thread is fastest, and immune to a busy machine
pytestmark = pytest.mark.usefixtures("one_thread")


def test_learned_density_integrates_to_one_on_a_grid():
    x, _ = standardise(toy_data("two_moons", 512, seed=0))
    torch.manual_seed(0)
    cnf = CNF(2, hidden=(16, 16), method="rk4", step_size=0.25).double()
    fit = fit_density(cnf, x, steps=40, batch_size=64, lr=5e-2)
    assert mean_nll(cnf, x) < fit.train_loss[0] - 0.1  # it learned something
    cnf.step_size = 0.1  # integrate the learned field accurately
    X, Y, p = density_on_grid(cnf, bounds=(-5.0, 5.0), resolution=80)
    cell = (10 / 80) ** 2
    assert p.sum() * cell == pytest.approx(1.0, abs=0.02)
    assert X.shape == Y.shape == p.shape == (80, 80) and np.all(p > 0)


def test_fit_density_and_mean_nll():
    x, _ = standardise(toy_data("eight_gaussians", 400, seed=1))
    torch.manual_seed(0)
    flow = PlanarFlow(2, n_layers=4).double()
    before = mean_nll(flow, x)
    fit = fit_density(flow, x[:300], steps=60, batch_size=64, lr=0.05, x_val=x[300:], eval_every=25)
    assert fit.per == "step" and len(fit.train_loss) == 60
    assert fit.val_at == [25, 50, 60] and len(fit.val_loss) == 3
    assert fit.val_loss[-1] < before
    assert mean_nll(flow, x, batch_size=7) == pytest.approx(mean_nll(flow, x), rel=1e-12)


def test_bad_inputs_name_the_argument_and_the_fix():
    cnf = CNF(2, hidden=(4,), method="rk4", step_size=0.5).double()
    with pytest.raises(TypeError, match=r"model must be a density model with a log_prob.*Fix: "):
        fit_density(nn.Linear(2, 2), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"lr must be positive; got lr=0\. Fix: pass a small"):
        fit_density(cnf, np.zeros((4, 2)), lr=0.0)
    with pytest.raises(ValueError, match=r"lr must be finite.*Fix: "):
        fit_density(cnf, np.zeros((4, 2)), lr=float("inf"))
    with pytest.raises(ValueError, match=r"steps must be a positive integer.*Fix: e\.g\."):
        fit_density(cnf, np.zeros((4, 2)), steps=0)
    with pytest.raises(ValueError, match=r"eval_every must be a positive integer.*Fix: "):
        fit_density(cnf, np.zeros((4, 2)), eval_every=-1)
    with pytest.raises(ValueError, match=r"x_train must be of shape \(N, 2\).*Fix: "):
        fit_density(cnf, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"x_val must be finite.*Fix: drop them"):
        fit_density(cnf, np.zeros((4, 2)), x_val=np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer.*Fix: "):
        mean_nll(cnf, np.zeros((4, 2)), batch_size=0)
    with pytest.raises(TypeError, match=r"model must be a density model.*Fix: pass a CNF"):
        mean_nll(object(), np.zeros((4, 2)))

    class NoDim(nn.Module):
        def log_prob(self, x):
            return x.sum(dim=1)

    with pytest.raises(TypeError, match=r"model\.dim must be an integer >= 1.*Fix: give the model"):
        mean_nll(NoDim(), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"model must be a 2-D density model.*dim=3\. Fix: "):
        density_on_grid(PlanarFlow(3))
    with pytest.raises(ValueError, match=r"bounds must be \(lo, hi\) with lo < hi.*Fix: "):
        density_on_grid(cnf, bounds=(1.0, -1.0))
    with pytest.raises(ValueError, match=r"bounds must be a pair \(lo, hi\).*Fix: e\.g\."):
        density_on_grid(cnf, bounds=(1.0,))
    with pytest.raises(TypeError, match=r"bounds\[1\] must be a real number.*Fix: "):
        density_on_grid(cnf, bounds=(0.0, "1"))
    with pytest.raises(ValueError, match=r"resolution must be a positive integer.*Fix: "):
        density_on_grid(cnf, resolution=0)

"""Tests of ode_course.flow_matching.training: the loop, the counts, and the exact likelihood."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.linalg import expm
from torch import nn

from ode_course.cnf import CNF, LinearField, TimeMLP, mean_nll, standard_normal_log_prob
from ode_course.flow_matching import (
    COUPLINGS,
    NLLResult,
    exact_nll,
    fit_flow_matching,
    trajectories,
    velocity_variance,
)

F64 = torch.float64


class AffineField(nn.Module):
    """v(t, x) = a + b x, with no time dependence: a linear regression on x_t."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.zeros(1, dtype=F64))
        self.b = nn.Parameter(torch.zeros(1, dtype=F64))

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.a + self.b * x


# --- fit_flow_matching ----------------------------------------------------------------------


def test_one_evaluation_per_step_and_the_loss_falls() -> None:
    torch.manual_seed(0)
    x1 = torch.randn(512, 2, dtype=F64) * 0.3 + torch.tensor([2.0, -1.0], dtype=F64)
    field = TimeMLP(2, hidden=(16,)).double()
    fit = fit_flow_matching(field, x1, steps=300, batch_size=64, lr=1e-2)
    assert fit.nfe_per_step == 1 and fit.per == "step" and len(fit) == 300
    assert fit.seconds > 0
    assert np.mean(fit.train_loss[-50:]) < 0.5 * np.mean(fit.train_loss[:10])


def test_the_same_seed_gives_the_same_run() -> None:
    x1 = torch.randn(128, 2, dtype=F64, generator=torch.Generator().manual_seed(1))
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        field = TimeMLP(2, hidden=(8,)).double()
        runs.append((fit_flow_matching(field, x1, steps=20, batch_size=32, seed=3), field))
    assert runs[0][0].train_loss == runs[1][0].train_loss
    assert all(torch.equal(p, q) for p, q in zip(*(f.parameters() for _, f in runs), strict=True))


def test_a_linear_field_converges_to_the_least_squares_regression() -> None:
    # Oracle: for v = a + b x_t the minimiser of E|a + b x_t − (x₁ − x₀)|² is the linear
    # regression of x₁ − x₀ on x_t, computed here by numpy from a large sample.
    rng = np.random.default_rng(0)
    n = 400_000
    x0, x1, t = rng.standard_normal(n), 3.0 + 0.5 * rng.standard_normal(n), rng.random(n)
    xt = (1 - t) * x0 + t * x1
    design = np.stack([np.ones(n), xt], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, x1 - x0, rcond=None)
    torch.manual_seed(0)
    data = torch.from_numpy(3.0 + 0.5 * rng.standard_normal(4096))[:, None]
    field = AffineField()
    fit_flow_matching(field, data, steps=3000, batch_size=512, lr=2e-2)
    assert field.a.item() == pytest.approx(a, abs=0.05)
    assert field.b.item() == pytest.approx(b, abs=0.05)


def test_fixed_pairs_teach_their_velocity() -> None:
    # pairs x₁ = x₀ + 2: the conditional velocity is 2 everywhere, so v → 2
    torch.manual_seed(0)
    x0 = torch.randn(256, 1, dtype=F64)
    field = AffineField()
    fit = fit_flow_matching(field, pairs=(x0, x0 + 2.0), steps=500, batch_size=64, lr=5e-2)
    assert field.a.item() == pytest.approx(2.0, abs=1e-2)
    assert field.b.item() == pytest.approx(0.0, abs=1e-2)
    assert fit.train_loss[-1] < 1e-3


def test_the_ot_coupling_straightens_the_flow() -> None:
    # 1-D: the optimal pairing of N(0, 1) with N(3, 0.5²) is monotone, x₁ = 3 + x₀/2, so the
    # OT-coupled flow moves on straight lines at constant speed, v(0, x₀) = 3 − x₀/2; with
    # independent pairs the velocity changes along the paths.
    data = 3.0 + 0.5 * torch.randn(2048, 1, dtype=F64, generator=torch.Generator().manual_seed(0))
    x0 = torch.linspace(-1.0, 1.0, 21, dtype=F64)[:, None]
    times = torch.linspace(0.0, 1.0, 21, dtype=F64)
    variance, fields = {}, {}
    for coupling in COUPLINGS:
        torch.manual_seed(0)
        field = TimeMLP(1, hidden=(32,)).double()
        fit_flow_matching(field, data, steps=600, batch_size=128, lr=1e-2, coupling=coupling)
        traj = trajectories(field, x0, steps=20)
        variance[coupling] = velocity_variance(field, traj, times).item()
        fields[coupling] = field
    assert variance["ot"] < variance["independent"] / 3
    with torch.no_grad():
        v0 = fields["ot"](torch.zeros(21, 1, dtype=F64), x0)
    assert torch.allclose(v0, 3.0 - x0 / 2, atol=0.3)


def test_the_field_keeps_its_dtype_and_the_data_are_converted() -> None:
    field = TimeMLP(2, hidden=(4,))  # float32
    fit = fit_flow_matching(field, torch.randn(16, 2, dtype=F64), steps=3, batch_size=8)
    assert next(field.parameters()).dtype == torch.float32 and len(fit) == 3


def test_a_progress_bar_can_be_shown(capsys: pytest.CaptureFixture[str]) -> None:
    field = TimeMLP(1, hidden=(4,)).double()
    fit_flow_matching(field, torch.randn(16, 1, dtype=F64), steps=5, batch_size=8, progress=True)
    assert "flow matching" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"data": None}, ValueError, "exactly one given"),
        ({"pairs": (torch.zeros(4, 1), torch.zeros(4, 1))}, ValueError, "exactly one given"),
        ({"coupling": "sinkhorn"}, ValueError, "coupling"),
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 2.5}, TypeError, "steps"),
        ({"batch_size": -1}, ValueError, "batch_size"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"seed": -1}, ValueError, "seed"),
        ({"data": torch.zeros(4)}, ValueError, "data"),
    ],
)
def test_bad_arguments_name_the_fix(kwargs: dict, error: type[Exception], match: str) -> None:
    arguments = {"data": torch.zeros(4, 1), "steps": 2, "batch_size": 2} | kwargs
    data = arguments.pop("data")
    with pytest.raises(error, match=match) as info:
        fit_flow_matching(TimeMLP(1, hidden=(2,)), data, **arguments)
    assert "Fix:" in str(info.value)


def test_pairs_with_a_coupling_or_of_the_wrong_kind_are_refused() -> None:
    field = TimeMLP(1, hidden=(2,))
    pairs = (torch.zeros(4, 1), torch.ones(4, 1))
    with pytest.raises(ValueError, match="the pairs are the coupling"):
        fit_flow_matching(field, pairs=pairs, coupling="ot", steps=1)
    with pytest.raises(TypeError, match="tuple"):
        fit_flow_matching(field, pairs=[pairs[0], pairs[1]], steps=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shape of x0"):
        fit_flow_matching(field, pairs=(torch.zeros(4, 1), torch.zeros(3, 1)), steps=1)


def test_a_field_that_is_not_a_module_is_refused() -> None:
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        fit_flow_matching(lambda t, x: x, torch.zeros(4, 1), steps=1)  # type: ignore[arg-type]


# --- exact_nll ------------------------------------------------------------------------------


def test_exact_nll_of_a_linear_flow_matches_the_closed_form() -> None:
    # x(1) = e^{A} x(0): log p(x) = log N(e^{−A} x) − tr A (Chapter 7's closed form)
    A = torch.tensor([[0.3, -0.8], [0.6, -0.1]], dtype=F64)
    x = torch.randn(50, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    closed = standard_normal_log_prob(x @ torch.from_numpy(expm(-A.numpy())).T) - torch.trace(A)
    result = exact_nll(LinearField(A), x, rtol=1e-9, atol=1e-9)
    assert isinstance(result, NLLResult) and result.nfe > 0
    assert result.nll == pytest.approx(-closed.mean().item(), abs=1e-7)


def test_exact_nll_is_a_cnf_with_dopri5_and_leaves_the_field_alone() -> None:
    torch.manual_seed(0)
    field = TimeMLP(2, hidden=(8,))  # float32: evaluated on a float64 copy
    before = [p.detach().clone() for p in field.parameters()]
    x = torch.randn(20, 2, dtype=F64)
    result = exact_nll(field, x, rtol=1e-7, atol=1e-7)
    cnf = CNF(2, net=TimeMLP(2, hidden=(8,)).double(), method="dopri5", rtol=1e-7, atol=1e-7)
    cnf.net.load_state_dict({k: v.double() for k, v in field.state_dict().items()})
    assert result.nll == pytest.approx(mean_nll(cnf, x), abs=1e-9)
    assert all(torch.equal(p, q) for p, q in zip(field.parameters(), before, strict=True))
    assert next(field.parameters()).dtype == torch.float32


def test_exact_nll_of_a_still_field_is_the_base_density() -> None:
    x = torch.zeros(3, 2, dtype=F64)
    assert exact_nll(LinearField(torch.zeros(2, 2)), x).nll == pytest.approx(math.log(2 * math.pi))


def test_exact_nll_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="Module"):
        exact_nll(lambda t, x: x, torch.zeros(2, 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="x"):
        exact_nll(TimeMLP(2, hidden=(2,)), torch.zeros(2))
    with pytest.raises(ValueError, match="rtol"):
        exact_nll(TimeMLP(2, hidden=(2,)), torch.zeros(2, 2), rtol=0.0)

"""Chapter 9's claims over training seeds 0-3: likelihood gaps, straightness after one and two
reflows, and the order of each fixed-step sampler against the converged solution.

The chapter trains each model once (seed 0); the ranges its text quotes and the margins its
asserts use come from this script, which repeats the chapter's training with ``torch.manual_seed``
= 0, 1, 2, 3 (same data, same base points). This is a measurement, not a test: it prints.

    python benchmarks/claims/flow_matching_seeds.py            # about 4 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import copy
import math

import torch

from ode_course import CNF, TimeMLP, fit_density, standardise, toy_data
from ode_course.flow_matching import (
    exact_nll,
    fit_flow_matching,
    path_straightness,
    reflow_pairs,
    sample_flow,
    trajectories,
    velocity_variance,
)

F64 = torch.float64
RUNS = {
    "CNF": {"steps": 200, "batch_size": 128, "lr": 2e-2},
    "FM": {"steps": 2000, "batch_size": 256, "lr": 1e-2},
    "FM + OT": {"steps": 2000, "batch_size": 128, "lr": 1e-2, "coupling": "ot"},
}


def data() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    out = {}
    for name in ("two_moons", "eight_gaussians"):
        points = toy_data(name, 3000, seed=0)
        x_train, scaler = standardise(points[:2000])
        x_test, _ = standardise(points[2000:], scaler)
        out[name] = (torch.from_numpy(x_train), torch.from_numpy(x_test))
    return out


def train(x_train: torch.Tensor, label: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    if label == "CNF":
        cnf = CNF(2, hidden=(64, 64), method="rk4", step_size=1 / 3).double()
        fit_density(cnf, x_train, **RUNS[label])
        return cnf.net
    field = TimeMLP(2, hidden=(64, 64)).double()
    fit_flow_matching(field, x_train, **RUNS[label])
    return field


def reflow(field: torch.nn.Module, seed: int) -> torch.nn.Module:
    x0 = torch.randn(10_000, 2, dtype=F64, generator=torch.Generator().manual_seed(2))
    pairs = reflow_pairs(field, x0, method="rk4", steps=20)
    torch.manual_seed(seed)
    new = copy.deepcopy(field)
    fit_flow_matching(new, pairs=pairs, steps=1500, batch_size=256, lr=5e-3)
    return new


def orders(field: torch.nn.Module, base: torch.Tensor) -> dict[str, float]:
    """Slope of log(error against the converged solution) over NFE 8 -> 32, per method."""
    reference = sample_flow(field, base, method="rk4", steps=256).x
    slopes = {}
    for method, stages in (("euler", 1), ("midpoint", 2), ("rk4", 4)):
        errors = [
            (sample_flow(field, base, method=method, steps=nfe // stages).x - reference)
            .norm(dim=1)
            .mean()
            .item()
            for nfe in (8, 32)
        ]
        slopes[method] = math.log(errors[0] / errors[1]) / math.log(4)
    return slopes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    args = parser.parse_args()
    torch.set_num_threads(1)
    sets = data()
    base = torch.randn(2000, 2, dtype=F64, generator=torch.Generator().manual_seed(1))
    times = torch.linspace(0.0, 1.0, 21, dtype=F64)
    for seed in args.seeds:
        for name, (x_train, x_test) in sets.items():
            models = {label: train(x_train, label, seed) for label in RUNS}
            nll = {label: exact_nll(m, x_test).nll for label, m in models.items()}
            models["reflow"] = reflow(models["FM"], seed)
            models["reflow 2"] = reflow(models["reflow"], seed)
            straight = {}
            for label in ("FM", "FM + OT", "reflow", "reflow 2"):
                traj = trajectories(models[label], base, steps=20)
                straight[label] = (
                    path_straightness(traj).item(),
                    velocity_variance(models[label], traj, times).item(),
                )
            print(
                f"seed {seed} {name:15s} NLL CNF {nll['CNF']:.3f} FM {nll['FM']:.3f} "
                f"FM+OT {nll['FM + OT']:.3f} | FM-CNF {nll['FM'] - nll['CNF']:+.3f} "
                f"FM+OT-FM {nll['FM + OT'] - nll['FM']:+.3f} "
                f"FM+OT-CNF {nll['FM + OT'] - nll['CNF']:+.3f}"
            )
            print(
                "   detour / velocity variance: "
                + ", ".join(f"{k} {a:.4f}/{b:.4f}" for k, (a, b) in straight.items())
            )
            print(
                "   orders (NFE 8 -> 32): "
                + ", ".join(f"{k} {v:.2f}" for k, v in orders(models["FM"], base).items())
            )


if __name__ == "__main__":
    main()

"""Chapter 10: the claims the chapter asserts, over training seeds 0-3.

For each seed, as the chapter does: trains the diffusion (ε) model, flow matching and the
maximum-likelihood CNF on two moons and eight Gaussians, and the ε model on the 8×8 digits;
prints the exact test NLLs; the sampling error against a converged solution of the model's own
probability-flow ODE at 10, 20, 50 and 100 evaluations for each sampler and both grids, and
the orders fitted over 20-100; the share of probability-flow samples far outside the data
(norm > 3) against the reverse SDE's; and the straightness of the diffusion's and flow
matching's paths. A measurement, not a test.

    python benchmarks/claims/diffusion_seeds.py [--seeds 0 1 2 3]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from ode_course import (
    CNF,
    TimeMLP,
    exact_nll,
    fit_density,
    fit_diffusion,
    fit_flow_matching,
    load_digits,
    path_straightness,
    probability_flow_nll,
    reverse_sde,
    sample_diffusion,
    standard_normal_log_prob,
    standardise,
    toy_data,
    trajectories,
)
from ode_course.diffusion import EVALUATIONS_PER_STEP, FlowVelocity

BUDGETS = (10, 20, 50, 100)
METHODS = ("euler", "heun", "ddim", "dpm2", "dpmpp2m")


def sweep(model: torch.nn.Module, base: torch.Tensor) -> dict[tuple[str, str], list[float]]:
    reference = sample_diffusion(model, base, method="rk4", steps=200).x
    check = sample_diffusion(model, base, method="rk4", steps=100).x
    print(f"    reference self-check {(check - reference).norm(dim=1).mean().item():.1e}")
    errors = {}
    for spacing in ("logsnr", "uniform"):
        for method in METHODS:
            errors[spacing, method] = [
                (
                    sample_diffusion(
                        model,
                        base,
                        method=method,
                        steps=nfe // EVALUATIONS_PER_STEP[method],
                        spacing=spacing,
                    ).x
                    - reference
                )
                .norm(dim=1)
                .mean()
                .item()
                for nfe in BUDGETS
            ]
            order = -np.polyfit(np.log(BUDGETS[1:]), np.log(errors[spacing, method][1:]), 1)[0]
            shown = " ".join(f"{e:.2e}" for e in errors[spacing, method])
            print(f"    {spacing:7s} {method:8s} {shown}  order {order:.2f}")
    return errors


def _far(x: torch.Tensor) -> float:
    """The share of points farther than 3 from the origin (the standardised data have none)."""
    return (x.norm(dim=1) > 3).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3])
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = {}
    for name in ("two_moons", "eight_gaussians"):
        points = toy_data(name, 3000, seed=0)
        x_train, scaler = standardise(points[:2000])
        x_test, _ = standardise(points[2000:], scaler)
        data[name] = (torch.from_numpy(x_train).float(), torch.from_numpy(x_test).float())
    split = load_digits(seed=0)
    digits = torch.from_numpy(np.concatenate([split.x_train, split.x_val])).float() * 2 - 1
    for seed in args.seeds:
        print(f"seed {seed}")
        for name, (x_train, x_test) in data.items():
            torch.manual_seed(seed)
            eps = TimeMLP(2, hidden=(64, 64))
            fit_diffusion(eps, x_train, steps=1500, batch_size=256, lr=1e-2, seed=seed)
            torch.manual_seed(seed)
            fm = TimeMLP(2, hidden=(64, 64))
            fit_flow_matching(fm, x_train, steps=1500, batch_size=256, lr=1e-2, seed=seed)
            torch.manual_seed(seed)
            cnf = CNF(2, hidden=(64, 64), method="rk4", step_size=1 / 3)
            fit_density(cnf, x_train, steps=200, batch_size=128, lr=2e-2, seed=seed)
            nll = {
                "N(0, I)": -standard_normal_log_prob(x_test.double()).mean().item(),
                "CNF": exact_nll(cnf.net, x_test).nll,
                "FM": exact_nll(fm, x_test).nll,
                "diffusion": probability_flow_nll(eps, x_test).nll,
            }
            print(f"  {name}: NLL " + ", ".join(f"{k} {v:.3f}" for k, v in nll.items()))
            base = torch.randn(1000, 2, generator=torch.Generator().manual_seed(1))
            sweep(eps, base)
            ode = sample_diffusion(eps, base, method="rk4", steps=100).x
            sde = reverse_sde(eps, base, steps=500, generator=torch.Generator().manual_seed(2)).x
            print(f"    far out: ODE {_far(ode):.3f}, SDE {_far(sde):.3f}, data {_far(x_test):.3f}")
            s_diff = path_straightness(trajectories(FlowVelocity(eps), base, steps=40)).item()
            s_fm = path_straightness(trajectories(fm, base, steps=40)).item()
            print(f"    straightness: diffusion {s_diff:.3f}, FM {s_fm:.3f}")
        torch.manual_seed(seed)
        eps = TimeMLP(64, hidden=(256, 256))
        fit_diffusion(eps, digits, steps=2000, batch_size=128, lr=3e-3, seed=seed)
        base = torch.randn(500, 64, generator=torch.Generator().manual_seed(1))
        print("  digits")
        sweep(eps, base)
        ode = sample_diffusion(eps, base, method="rk4", steps=100).x
        sde = reverse_sde(eps, base, steps=500, generator=torch.Generator().manual_seed(2)).x
        print(
            f"    median norm: ODE {ode.norm(dim=1).median():.1f}, SDE "
            f"{sde.norm(dim=1).median():.1f}, data {digits.norm(dim=1).median():.1f}"
        )


if __name__ == "__main__":
    main()

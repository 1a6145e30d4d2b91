"""Chapter 7: what Hutchinson's probe noise costs in test NLL, over training seeds 0-3.

Trains the chapter's CNF (TimeMLP 64-64, RK4 with step 1/3, 200 steps of minibatches of 128,
lr 2e-2) on the two moons with the exact trace, one Gaussian and one Rademacher probe per point,
with ``torch.manual_seed(seed)`` for seed = 0, 1, 2, 3, and scores each with the exact trace and
Dopri5 (tolerance 1e-6). Prints each NLL and the gaps to the exact-trace model of the same seed.
A measurement, not a test.

    python benchmarks/claims/cnf_probe_seeds.py
"""

from __future__ import annotations

import torch

from ode_course import CNF, fit_density, mean_nll, standardise, toy_data


def main() -> None:
    torch.set_num_threads(1)
    points = toy_data("two_moons", 3000, seed=0)
    x_train, scaler = standardise(points[:2000])
    x_test, _ = standardise(points[2000:], scaler)
    x_train, x_test = torch.from_numpy(x_train), torch.from_numpy(x_test)
    for seed in range(4):
        nll = {}
        for trace, noise in (
            ("exact", "gaussian"),
            ("hutchinson", "gaussian"),
            ("hutchinson", "rademacher"),
        ):
            torch.manual_seed(seed)
            model = CNF(2, hidden=(64, 64), method="rk4", step_size=1 / 3, trace=trace, noise=noise)
            model = model.double()
            fit_density(model, x_train, steps=200, batch_size=128, lr=2e-2)
            model.trace, model.method, model.step_size, model.rtol, model.atol = (
                "exact",
                "dopri5",
                None,
                1e-6,
                1e-6,
            )
            with torch.no_grad():
                nll["exact" if trace == "exact" else noise] = mean_nll(model, x_test)
        print(
            f"seed {seed}: exact {nll['exact']:.3f}, gaussian {nll['gaussian']:.3f} "
            f"({nll['gaussian'] - nll['exact']:+.3f}), rademacher {nll['rademacher']:.3f} "
            f"({nll['rademacher'] - nll['exact']:+.3f})",
            flush=True,
        )


if __name__ == "__main__":
    main()

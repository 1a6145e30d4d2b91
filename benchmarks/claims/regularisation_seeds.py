"""Chapter 11: the claims the chapter asserts, over training seeds 0-3.

For each seed, as the chapter does: the TayNODE warm-up (the map z + z³ fitted with and without
the penalty on z″; NFE to solve at three tolerances, and the error of the map); the RNODE CNF on
two moons with weights 0, 0.1 and 0.5 (test NLL by the exact trace and Dopri5 at 1e-5, the NFE
of that evaluation, the NFE per training step, the field's statistics and the straightness of
its paths), flow matching with and without OT couplings (straightness, NFE at 1e-5), the CNF
trained by RK4 with the penalty's sign flipped (kinetic energy, NFE to sample), and the
digits ODE-Net with weights 0, 0.01 and 0.1 (test accuracy and NFE per epoch, NFE to evaluate,
kinetic energy). A measurement, not a test.

    python benchmarks/claims/regularisation_seeds.py [--seeds 0 1 2 3]
        [--parts taylor cnf wrong digits]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch

from ode_course import (
    NFERecorder,
    TimeMLP,
    fit_classifier,
    fit_density,
    fit_flow_matching,
    load_digits,
    mean_nll,
    ode_classifier,
    path_straightness,
    solver_settings,
    standardise,
    toy_data,
    trajectories,
)
from ode_course.regularisation import (
    RegularisedCNF,
    RegularisedODEBlock,
    field_statistics,
    fit_map,
    solve_cost,
)

F64 = torch.float64
TOLS = (1e-4, 1e-6, 1e-8)
CNF_WEIGHTS = (0.0, 0.1, 0.5)
DIGIT_WEIGHTS = (0.0, 0.01, 0.1)
CNF_RUN = {"steps": 300, "batch_size": 128, "lr": 1e-2}


def taylor(seed: int) -> None:
    grid = torch.linspace(-1.5, 1.5, 200, dtype=F64)[:, None]
    for weight in (0.0, 0.03):
        torch.manual_seed(seed)
        net = TimeMLP(1, hidden=(32, 32)).double()
        fit = fit_map(net, lambda z: z + z**3, weight=weight, seed=seed)
        from ode_course.solvers import odeint

        with torch.no_grad():
            end = odeint(net, grid, torch.tensor([0.0, 1.0], dtype=F64), rtol=1e-10, atol=1e-10)
        mse = float(((end[-1] - (grid + grid**3)) ** 2).mean())
        nfes = [solve_cost(net, grid, tol=tol) for tol in TOLS]
        stats = field_statistics(net, grid)
        print(
            f"  taylor weight {weight}: map MSE {mse:.2e}, NFE at {TOLS}: {nfes}, "
            f"R2 {stats.acceleration:.3g}, {fit.seconds:.1f} s"
        )


def cnf_runs(seed: int) -> None:
    points = toy_data("two_moons", 3000, seed=0)
    x_train, scaler = standardise(points[:2000])
    x_test, _ = standardise(points[2000:], scaler)
    x_train, x_test = torch.from_numpy(x_train), torch.from_numpy(x_test)
    base = torch.randn(1000, 2, dtype=F64, generator=torch.Generator().manual_seed(1))
    for weight in CNF_WEIGHTS:
        torch.manual_seed(seed)
        cnf = RegularisedCNF(
            2, kinetic=weight, jacobian=weight, trace="hutchinson", rtol=1e-3, atol=1e-3
        ).double()
        fit = fit_density(cnf, x_train, seed=seed, regulariser=lambda c=cnf: c.penalty, **CNF_RUN)
        with torch.no_grad(), solver_settings(cnf, trace="exact", rtol=1e-5, atol=1e-5):
            nll = mean_nll(cnf, x_test)
            eval_nfe = cnf.nfe
        stats = field_statistics(cnf.net, base[:300])
        straight = path_straightness(trajectories(cnf.net, base, steps=40)).item()
        print(
            f"  CNF weight {weight}: test NLL {nll:.3f}, eval NFE {eval_nfe}, "
            f"train NFE first 50 {np.mean(fit.nfe[:50]):.1f} last 50 {np.mean(fit.nfe[-50:]):.1f}, "
            f"sample NFE {solve_cost(cnf.net, base, tol=1e-5)}, K {stats.kinetic:.3f} "
            f"F {stats.frobenius:.3f} R2 {stats.acceleration:.3f} rho {stats.spectral_radius:.2f}, "
            f"straightness {straight:.3f}, {fit.seconds:.1f} s"
        )
    for coupling in ("independent", "ot"):
        torch.manual_seed(seed)
        field = TimeMLP(2, hidden=(64, 64)).double()
        fit_flow_matching(field, x_train, steps=1000, batch_size=256, coupling=coupling, seed=seed)
        straight = path_straightness(trajectories(field, base, steps=40)).item()
        stats = field_statistics(field, base[:300])
        print(
            f"  FM {coupling}: straightness {straight:.3f}, sample NFE "
            f"{solve_cost(field, base, tol=1e-5)}, K {stats.kinetic:.3f}"
        )


def wrong_sign(seed: int) -> None:
    """The notebook's RK4 runs at λ = 0.1 with the penalty added and with its sign flipped."""
    points = toy_data("two_moons", 3000, seed=0)
    x_train = torch.from_numpy(standardise(points[:2000])[0])
    base = torch.randn(1000, 2, dtype=F64, generator=torch.Generator().manual_seed(1))
    for sign in (1.0, -1.0):
        torch.manual_seed(seed)
        cnf = RegularisedCNF(
            2, kinetic=0.1, jacobian=0.1, trace="hutchinson", method="rk4", step_size=0.25
        ).double()
        fit_density(
            cnf,
            x_train,
            seed=seed,
            regulariser=lambda c=cnf, s=sign: s * c.penalty,
            **{**CNF_RUN, "steps": 100},
        )
        print(
            f"  sign {sign:+.0f}: kinetic {cnf.kinetic:.2f}, "
            f"Dopri5 NFE to sample {solve_cost(cnf.net, base)}"
        )


def digits(seed: int) -> None:
    split = load_digits(seed=0)
    x_train = torch.from_numpy(np.concatenate([split.x_train, split.x_val])).double()
    y_train = torch.from_numpy(np.concatenate([split.y_train, split.y_val])).long()
    x_test, y_test = torch.from_numpy(split.x_test).double(), torch.from_numpy(split.y_test).long()
    tol = {"method": "dopri5", "step_size": None, "rtol": 1e-4, "atol": 1e-4}
    for weight in DIGIT_WEIGHTS:
        torch.manual_seed(seed)
        net = ode_classifier(64, 10, width=64, hidden=64, **tol).double()
        net.block = RegularisedODEBlock(net.block.func, kinetic=weight, jacobian=weight, **tol)
        with NFERecorder(net.block) as recorder:
            fit = fit_classifier(
                net,
                x_train,
                y_train,
                epochs=10,
                lr=0.01,
                seed=seed,
                regulariser=lambda n=net: n.block.penalty,
                x_val=x_test,
                y_val=y_test,
            )
        forward, _ = recorder.per_epoch(math.ceil(len(y_train) / 64))
        with torch.no_grad():
            h0 = net.stem(x_test)
        kinetic = field_statistics(net.block.func, h0[:100], steps=10).kinetic
        print(
            f"  digits weight {weight}: accuracy {[round(a, 3) for a in fit.val_accuracy]}, "
            f"NFE per epoch {forward.round(1).tolist()}, "
            f"eval NFE at 1e-4 {solve_cost(net.block.func, h0, tol=1e-4)}, kinetic {kinetic:.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--parts", nargs="+", default=["taylor", "cnf", "wrong", "digits"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    for seed in args.seeds:
        print(f"seed {seed}", flush=True)
        for part in args.parts:
            {"taylor": taylor, "cnf": cnf_runs, "wrong": wrong_sign, "digits": digits}[part](seed)


if __name__ == "__main__":
    main()

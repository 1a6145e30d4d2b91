"""Time our dopri5 against torchdiffeq's on a batched MLP vector field and print the ratio.

The problem: dy/dt = MLP(y) with MLP = Linear(64, 64) → Tanh → Linear(64, 64), a batch of
512 states of size 64 in float32, t from 0 to 1, rtol = 1e-5, atol = 1e-7, under
``torch.no_grad()``. Each solver runs ``--repeats`` times (alternating, after one warm-up
run each) and the median wall time is reported, with both solvers' NFE (counted with
``CountNFE``). A second problem, the same MLP with its weights multiplied by 4, takes more
steps. This is a measurement, not a test. Usage:

    python benchmarks/solvers.py
    python benchmarks/solvers.py --repeats 51 --threads 1
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
import torchdiffeq

from ode_course.solvers import CountNFE, odeint


def make_problem(gain: float = 1.0, seed: int = 0):
    """The MLP vector field f(t, y) (t is ignored), y0 of shape (512, 64) and t = [0, 1].

    ``gain`` multiplies the weights of both layers after PyTorch's default initialisation:
    gain 1 is the stated problem; larger gains give stiffer dynamics and more steps.
    """
    torch.manual_seed(seed)
    mlp = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64))
    with torch.no_grad():
        for layer in (mlp[0], mlp[2]):
            layer.weight.mul_(gain)

    class Field(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mlp = mlp

        def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return self.mlp(y)

    return Field(), torch.randn(512, 64), torch.tensor([0.0, 1.0])


def measure(gain: float, repeats: int) -> dict:
    """Median wall times, NFEs and the largest difference of the answers, for one problem."""
    field, y0, t = make_problem(gain)
    tolerances = {"method": "dopri5", "rtol": 1e-5, "atol": 1e-7}
    solvers = {
        "ours": lambda f: odeint(f, y0, t, **tolerances),
        "torchdiffeq": lambda f: torchdiffeq.odeint(f, y0, t, **tolerances),
    }
    times: dict[str, list[float]] = {name: [] for name in solvers}
    nfe, answers = {}, {}
    with torch.no_grad():
        for name, run in solvers.items():  # warm up, count evaluations, keep the answer
            counted = CountNFE(field)
            answers[name] = run(counted)[-1]
            nfe[name] = counted.nfe
        for _ in range(repeats):  # alternate, so that drifts in machine speed hit both
            for name, run in solvers.items():
                start = time.perf_counter()
                run(field)
                times[name].append(time.perf_counter() - start)
    return {
        "median": {name: statistics.median(ts) for name, ts in times.items()},
        "nfe": nfe,
        "difference": (answers["ours"] - answers["torchdiffeq"]).abs().max().item(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Our dopri5 vs torchdiffeq's: wall-time ratio.")
    parser.add_argument("--repeats", type=int, default=21, help="timed runs per solver")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(
        "dopri5 on dy/dt = MLP(y), Linear(64, 64)-Tanh-Linear(64, 64), batch 512 x 64, float32, "
        f"t in [0, 1], rtol 1e-5, atol 1e-7, no_grad; median of {args.repeats} runs\n"
        f"{torch.get_num_threads()} torch threads on a {os.cpu_count()}-core CPU "
        f"(Python {platform.python_version()}, torch {torch.__version__}, "
        f"torchdiffeq {torchdiffeq.__version__})"
    )
    for gain, label in [(1.0, "default init (the target)"), (4.0, "weights x4 (more steps)")]:
        result = measure(gain, args.repeats)
        median, nfe = result["median"], result["nfe"]
        print(f"{label}:")
        for name in median:
            print(f"  {name:<12} {1e3 * median[name]:8.2f} ms   NFE {nfe[name]}")
        print(f"  max |ours - torchdiffeq| at t = 1: {result['difference']:.1e}")
        print(f"  NFE ratio ours/torchdiffeq: {nfe['ours'] / nfe['torchdiffeq']:.3f}")
        print(f"  wall-time ratio ours/torchdiffeq: {median['ours'] / median['torchdiffeq']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

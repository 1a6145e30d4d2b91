"""Peak memory and time of a training step through an ODE solve: the adjoint vs direct backprop.

The problem: dy/dt = MLP(y) with MLP = Linear(64, 64) → Tanh → Linear(64, 64), a batch of 256
states of size 64 in float32, t from 0 to 1 in N fixed rk4 steps (N = 10, 100, 1000), and the
loss mean(y(1)²). One training step is the forward solve and ``loss.backward()``, either by
backprop through :func:`ode_course.solvers.odeint` ("direct") or by
:func:`ode_course.adjoint.odeint_adjoint` ("adjoint").

Memory is the peak number of bytes held at once by tensors created during the step, measured
by :class:`ode_course.memory.TensorMemory` (``tracemalloc`` does not see torch's allocations).
As a sanity check that it measures tensor memory, direct backprop's growth per step is compared
with what autograd must save: 4 stages × batch × (64 inputs + 64 tanh outputs) × 4 bytes.
Time is the median wall time of ``--repeats`` untracked steps (alternating the two methods).
This is a measurement, not a test. Usage:

    python benchmarks/adjoint_memory.py
    python benchmarks/adjoint_memory.py --repeats 5 --threads 1
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from ode_course.adjoint import odeint_adjoint
from ode_course.memory import peak_memory
from ode_course.solvers import odeint

BATCH, DIM, HIDDEN = 256, 64, 64
STEPS = (10, 100, 1000)
SOLVERS = {"adjoint": odeint_adjoint, "direct": odeint}


class Field(torch.nn.Module):
    """f(t, y) = MLP(y), t ignored."""

    def __init__(self) -> None:
        super().__init__()
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(DIM, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, DIM)
        )

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.mlp(y)


def training_step(solver, field: Field, y0: torch.Tensor, n_steps: int) -> None:
    """Forward solve in n_steps rk4 steps, then backward; gradients land in .grad."""
    ys = solver(field, y0, torch.tensor([0.0, 1.0]), method="rk4", step_size=1.0 / n_steps)
    ys[-1].pow(2).mean().backward()
    field.zero_grad(set_to_none=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Adjoint vs direct backprop: memory and time.")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per method and N")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    field, y0 = Field(), torch.randn(BATCH, DIM)
    print(
        f"rk4 on dy/dt = MLP(y), Linear({DIM}, {HIDDEN})-Tanh-Linear({HIDDEN}, {DIM}), batch "
        f"{BATCH} x {DIM}, float32, t in [0, 1]; forward + backward of mean(y(1)^2)\n"
        f"{torch.get_num_threads()} torch threads on a {os.cpu_count()}-core CPU "
        f"(Python {platform.python_version()}, torch {torch.__version__})"
    )
    peak, seconds = {}, {}
    for n in STEPS:
        for name, solver in SOLVERS.items():
            peak[name, n] = peak_memory(training_step, solver, field, y0, n)
        times: dict[str, list[float]] = {name: [] for name in SOLVERS}
        for _ in range(args.repeats):  # alternate, so that drifts in machine speed hit both
            for name, solver in SOLVERS.items():
                start = time.perf_counter()
                training_step(solver, field, y0, n)
                times[name].append(time.perf_counter() - start)
        for name in SOLVERS:
            seconds[name, n] = statistics.median(times[name])

    print(
        f"\n{'N steps':>8} {'adjoint MB':>11} {'direct MB':>10} {'adjoint s':>10} {'direct s':>9}"
    )
    for n in STEPS:
        print(
            f"{n:8d} {peak['adjoint', n] / 1e6:11.2f} {peak['direct', n] / 1e6:10.2f} "
            f"{seconds['adjoint', n]:10.3f} {seconds['direct', n]:9.3f}"
        )
    saved = 4 * BATCH * (DIM + HIDDEN) * 4  # bytes autograd saves per rk4 step
    growth = (peak["direct", STEPS[-1]] - peak["direct", STEPS[0]]) / (STEPS[-1] - STEPS[0])
    print(
        f"\nsanity check: direct backprop grows by {growth:,.0f} bytes per step; autograd saves "
        f"4 stages x {BATCH} x ({DIM} + {HIDDEN}) x 4 bytes = {saved:,} per step "
        f"(ratio {growth / saved:.4f})"
    )
    first, last = STEPS[0], STEPS[-1]
    for name in SOLVERS:
        print(
            f"peak-memory ratio N={last} / N={first}, {name}: "
            f"{peak[name, last] / peak[name, first]:.2f}"
        )
    for n in STEPS:
        ratio = seconds["adjoint", n] / seconds["direct", n]
        print(f"time ratio adjoint/direct at N={n}: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

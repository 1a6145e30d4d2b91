"""Chapter 6, section 7: why twenty Adam steps do not learn the spiral's damping, over seeds 0-3.

Learns W in dy/dt = y**3 W from windows of 10 consecutive observations of the spiral (true
W = A, diagonal -0.1), with Adam (lr 0.1) from W = 0 and ``ode_course.odeint_adjoint``, as the
chapter does, for 20 and for 50 iterations; each seed draws its own windows. Prints the learned
diagonal and the relative error of W after 20 and 50 steps, and the largest change of any entry
per Adam step (Adam moves each entry by about its learning rate at most). A measurement, not a
test.

    python benchmarks/claims/adjoint_damping.py
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ode_course import odeint, odeint_adjoint, relative_error

F64 = torch.float64


class Cubic(nn.Module):
    def __init__(self, W: torch.Tensor) -> None:
        super().__init__()
        self.W = nn.Parameter(W.clone())

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (y**3) @ self.W


def main() -> None:
    torch.set_num_threads(1)
    true_A = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]], dtype=F64)
    obs_t = torch.linspace(0, 25, 1000, dtype=F64)
    with torch.no_grad():
        observed = odeint(Cubic(true_A), torch.tensor([[2.0, 0.0]], dtype=F64), obs_t)
    for seed in range(4):
        rng = np.random.default_rng(seed)
        windows = [rng.choice(len(obs_t) - 10, size=20, replace=False) for _ in range(50)]
        model = Cubic(torch.zeros(2, 2, dtype=F64))
        optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
        largest = 0.0
        for k, starts in enumerate(windows, 1):
            optimizer.zero_grad()
            predicted = odeint_adjoint(model, observed[starts], obs_t[:10], rtol=1e-7, atol=1e-9)
            actual = torch.stack([observed[starts + i] for i in range(10)])
            (predicted - actual).abs().mean().backward()
            before = model.W.detach().clone()
            optimizer.step()
            largest = max(largest, (model.W.detach() - before).abs().max().item())
            if k in (20, 50):
                W = model.W.detach()
                print(
                    f"seed {seed}, {k} steps: "
                    f"diagonal {np.round(W.diagonal().numpy(), 3).tolist()}, "
                    f"relative error of W {relative_error(W, true_A):.3f}, "
                    f"largest change of an entry in one step {largest:.3f}"
                )


if __name__ == "__main__":
    main()

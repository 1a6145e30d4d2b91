"""Chapter 5, section 4: the digits MLP, ResNet and ODE-Net over training seeds 0-3.

The chapter's recipe exactly (AdamW, one-cycle schedule peaking at 0.005, batches of 16, 30
epochs, float64), with ``torch.manual_seed(seed)`` for the weights and ``seed=seed`` for the
batches; prints each model's test accuracy per seed and the range. A measurement, not a test.

    python benchmarks/claims/digits_classifier_seeds.py      # about 2 minutes on 2 cores
"""

from __future__ import annotations

import numpy as np
import torch

from ode_course import (
    fit_classifier,
    load_digits,
    mlp_classifier,
    ode_classifier,
    resnet_classifier,
)


def main() -> None:
    torch.set_num_threads(1)
    split = load_digits()
    x_train = torch.tensor(np.concatenate([split.x_train, split.x_val]))
    y_train = torch.tensor(np.concatenate([split.y_train, split.y_val]))
    x_test, y_test = torch.tensor(split.x_test), torch.tensor(split.y_test)
    builders = {
        "MLP": lambda: mlp_classifier(64, 10, width=200, depth=0),
        "ResNet": lambda: resnet_classifier(64, 10, width=64, hidden=64, n_blocks=6),
        "ODE-Net": lambda: ode_classifier(
            64, 10, width=64, hidden=64, method="rk4", step_size=0.25
        ),
    }
    found: dict[str, list[float]] = {name: [] for name in builders}
    for seed in range(4):
        for name, build in builders.items():
            torch.manual_seed(seed)
            model = build().double()
            fit_classifier(model, x_train, y_train, epochs=30, batch_size=16, lr=0.005, seed=seed)
            model.eval()
            with torch.no_grad():
                found[name].append((model(x_test).argmax(dim=1) == y_test).double().mean().item())
        print(
            f"seed {seed}: " + ", ".join(f"{n} {v[-1]:.2%}" for n, v in found.items()), flush=True
        )
    for name, values in found.items():
        print(f"{name}: {min(values):.2%} to {max(values):.2%}")


if __name__ == "__main__":
    main()

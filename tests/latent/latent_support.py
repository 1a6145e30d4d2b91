"""Helpers shared by the tests of ode_course.latent: a small uneven batch and small models."""

from __future__ import annotations

import numpy as np
import torch

from ode_course.data import IrregularBatch, collate_series
from ode_course.latent import LatentODE, RNNBaseline

F64 = torch.float64


def uneven_batch() -> IrregularBatch:
    """Three series with 1, 3 and 6 observations at different times, one feature missing once."""
    times = [[0.75], [0.0, 0.5, 2.0], [0.25, 0.5, 1.0, 1.25, 2.5, 3.0]]
    values = [
        [[0.1, -0.2]],
        [[1.0, 0.0], [0.8, np.nan], [0.0, 1.0]],
        [[0.5, 0.5], [0.4, 0.6], [0.2, 0.7], [0.1, 0.8], [-0.3, 0.6], [-0.5, 0.4]],
    ]
    return collate_series(times, values)


def latent_model(encoder: str = "gru", **kwargs) -> LatentODE:
    torch.manual_seed(0)
    return LatentODE(obs_dim=2, latent_dim=3, hidden=8, encoder=encoder, **kwargs).double()


def rnn_model() -> RNNBaseline:
    torch.manual_seed(0)
    return RNNBaseline(obs_dim=2, hidden=8).double()


MODELS = {
    "latent-gru": lambda: latent_model("gru"),
    "latent-odernn": lambda: latent_model("odernn"),
    "rnn": rnn_model,
}

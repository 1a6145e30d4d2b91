"""Shared test configuration: draw figures off-screen; make hypothesis repeatable; fixtures.

This is the one conftest.py: the doctests of tests/ are collected too, and two modules named
conftest would collide.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import matplotlib
import pytest
import torch
from hypothesis import settings

from course_tools import course

matplotlib.use("Agg")

# Under pytest-xdist (make unit: one worker per core) each worker computes with one torch
# thread: the tests' tensors are small, and two workers of two threads each on two cores ran
# the slowest training tests about six times slower than this.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)

# The tools read the course from the checkout these tests belong to, wherever pytest runs.
course.set_root(Path(__file__).resolve().parents[1])

# The same examples on every run, so that CI never fails by the luck of the draw; widen the
# search locally with HYPOTHESIS_PROFILE=explore.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One torch thread for the test (small tensors: fastest, and immune to a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def random_net() -> Callable[..., torch.nn.Module]:
    """``random_net(dim=2, hidden=(16, 16), seed=0, scale=1.0)``: a float64 TimeMLP of the CNF
    with fixed random weights, scaled so that its flow is far from the identity; torch's global
    random state is left as it was."""
    from ode_course.cnf import TimeMLP

    def make(dim: int = 2, hidden=(16, 16), seed: int = 0, scale: float = 1.0) -> TimeMLP:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            net = TimeMLP(dim, hidden).double()
        with torch.no_grad():
            for p in net.parameters():
                p.mul_(scale)
        return net

    return make

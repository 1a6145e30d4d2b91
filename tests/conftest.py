"""Shared test configuration: draw figures off-screen; make hypothesis repeatable."""

import os

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")

# The same examples on every run, so that CI never fails by the luck of the draw; widen the
# search locally with HYPOTHESIS_PROFILE=explore.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

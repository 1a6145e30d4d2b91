"""Tests for ode_course.optim.adaptive: Adam's bias-corrected first step."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ode_course.optim import (
    Adam,
)


@settings(max_examples=50, deadline=None)
@given(
    g=st.floats(min_value=1e-3, max_value=1e3) | st.floats(min_value=-1e3, max_value=-1e-3),
    beta1=st.floats(min_value=0.0, max_value=0.99),
    beta2=st.floats(min_value=0.0, max_value=0.9999),
    lr=st.floats(min_value=1e-4, max_value=1.0),
)
def test_adam_first_step_is_lr_times_sign_of_gradient(g, beta1, beta2, lr):
    """After bias correction m̂ = g and v̂ = g², so the first step is lr·g/(|g| + ε)."""
    theta = np.array([0.0])
    Adam(lr=lr, betas=(beta1, beta2), eps=1e-8).step([theta], [np.array([g])])
    assert theta[0] == pytest.approx(-lr * g / (abs(g) + 1e-8), rel=1e-9)

"""Tests for ode_course.solvers.tableaux: the tableaux are consistent, and a tableau that is not
is refused with a message that names the failing row or weights."""

from __future__ import annotations

import pytest

from ode_course.solvers import DOPRI5, EULER, MIDPOINT, RK4_TABLEAU, ButcherTableau


@pytest.mark.parametrize("tab", [EULER, MIDPOINT, RK4_TABLEAU, DOPRI5], ids=lambda t: str(t.order))
def test_tableaux_are_consistent(tab):
    """Σ bᵢ = 1 and each row of a sums to its cᵢ (so every stage is consistent)."""
    assert sum(tab.b) == pytest.approx(1.0, abs=1e-15)
    for c_i, a_i in zip(tab.c, tab.a, strict=True):
        assert sum(a_i) == pytest.approx(c_i, abs=1e-15)


def test_tableau_shape_is_checked():
    with pytest.raises(ValueError, match=r"a must be strictly lower triangular"):
        ButcherTableau(c=(0.0, 1.0), a=((), (0.5, 0.5)), b=(0.5, 0.5), order=2)
    with pytest.raises(ValueError, match=r"b must have one weight per stage \(2\); got 3"):
        ButcherTableau(c=(0.0, 1.0), a=((), (1.0,)), b=(0.5, 0.5, 0.0), order=2)


def test_a_row_of_a_that_does_not_sum_to_its_stage_time_is_named():
    """The midpoint rule with a₂₁ = 1 but c₂ = ½: stage 2 would sit at t + h/2 with the state
    of a full Euler step."""
    with pytest.raises(
        ValueError,
        match=r"^row 1 of a must sum to c\[1\] = 0.5 .*got sum\(a\[1\]\) = 1\. "
        r"Fix: correct row 1 of a or c\[1\]\.$",
    ):
        ButcherTableau(c=(0.0, 0.5), a=((), (1.0,)), b=(0.0, 1.0), order=2)


@pytest.mark.parametrize(
    "weights,match",
    [
        ({"b": (0.5, 0.6)}, r"^b must sum to 1 \(a step of y' = 1 .*got sum\(b\) = 1\.1\. "),
        ({"b_err": (0.1, 0.0)}, r"^b_err must sum to 0 \(b and b̂ .*got sum\(b_err\) = 0\.1\. "),
        ({"b_mid": (0.25, 0.5)}, r"^b_mid must sum to 0\.5 \(half a step .*= 0\.75\. "),
    ],
    ids=["b", "b_err", "b_mid"],
)
def test_weights_with_the_wrong_sum_are_named(weights, match):
    """Each weight vector of a consistent method has a known sum: b 1, b_err 0, b_mid ½."""
    kwargs = {"c": (0.0, 0.5), "a": ((), (0.5,)), "b": (0.0, 1.0), "order": 2, **weights}
    name = next(iter(weights))
    with pytest.raises(ValueError, match=match) as info:
        ButcherTableau(**kwargs)
    assert str(info.value).endswith(f"Fix: correct the weights of {name}.")


def test_sums_off_by_rounding_are_accepted():
    """The coefficients are fractions stored as floats: c₂ = 0.1 + 0.2 is not 0.3 in floating
    point, yet the row (0.3,) is consistent with it."""
    c2 = 0.1 + 0.2
    assert c2 != 0.3
    tab = ButcherTableau(c=(0.0, c2), a=((), (0.3,)), b=(0.0, 1.0), order=1, b_mid=(0.2, c2))
    assert tab.n_stages == 2

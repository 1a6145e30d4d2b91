"""Tests for ode_course.data.batching: series on the union of their times, a mask, every error."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ode_course.data.batching import IrregularBatch, collate_series

F64 = torch.float64


def test_collate_puts_each_observation_at_its_time_in_the_union():
    times = [np.array([0.0, 0.5, 2.0]), np.array([0.5, 1.0]), np.array([3.0])]
    values = [np.arange(6.0).reshape(3, 2), np.array([[7.0, 8.0], [9.0, 10.0]]), [[11.0, 12.0]]]
    batch = collate_series(times, values)
    assert batch.times.tolist() == [0.0, 0.5, 1.0, 2.0, 3.0]
    assert batch.values.shape == batch.mask.shape == (3, 5, 2)
    assert batch.values.dtype == batch.times.dtype == F64 and batch.mask.dtype == torch.bool
    assert batch.mask[..., 0].int().tolist() == [[1, 1, 0, 1, 0], [0, 1, 1, 0, 0], [0, 0, 0, 0, 1]]
    assert batch.values[0, 3].tolist() == [4.0, 5.0] and batch.values[1, 2].tolist() == [9.0, 10.0]
    assert (batch.values[~batch.mask] == 0).all()  # unobserved entries are zero
    assert batch.n_observed.tolist() == [3, 2, 1] and batch.n_series == 3
    assert collate_series(times, values, dtype=torch.float32).values.dtype == torch.float32


def test_nan_marks_a_missing_feature():
    batch = collate_series([[0.0, 1.0]], [[[1.0, np.nan], [2.0, 3.0]]])
    assert batch.mask[0].tolist() == [[True, False], [True, True]]
    assert batch.values[0, 0, 1] == 0


def test_batch_subset_keeps_only_the_times_of_the_chosen_series():
    batch = collate_series([[0.0, 1.0], [0.5], [1.0, 2.0]], [[1.0, 2.0], [3.0], [4.0, 5.0]])
    part = batch.subset([2, 0])
    assert part.times.tolist() == [0.0, 1.0, 2.0] and part.n_observed.tolist() == [2, 2]
    assert part.values[:, :, 0].tolist() == [[0.0, 4.0, 5.0], [1.0, 2.0, 0.0]]
    one = batch.subset(1)
    assert one.values.shape == (1, 1, 1) and one.times.tolist() == [0.5]


@pytest.mark.parametrize(
    "times,values,match",
    [
        (
            [[0.0, 2.0, 1.0]],
            [[1.0, 2.0, 3.0]],
            r"times\[0\] must be strictly increasing; got times\[0\]\[2\]=1 after",
        ),
        (
            [[0.0], [1.0, 1.0]],
            [[1.0], [2.0, 3.0]],
            r"times\[1\] must be strictly increasing.*merge",
        ),
        ([[0.0], []], [[1.0], []], r"times\[1\] must be a non-empty.*series 1 is empty"),
        (
            [[0.0, 1.0]],
            [[1.0]],
            r"values\[0\] must be of shape \(k, D\).*k = 2; got shape \(1, 1\)",
        ),
        ([[0.0], [1.0]], [[[1.0, 2.0]], [[1.0]]], "values must be series with the same number of"),
        ([[0.0]], [[np.inf]], r"values\[0\] must be finite or nan.*; got an infinite value"),
        ([[0.0, np.nan]], [[1.0, 2.0]], r"times\[0\] must be finite"),
        ([[0.0], [1.0]], [[1.0]], r"values must be the same number of series as times \(2\)"),
        ([], [], "times must be a sequence of at least 1 series"),
    ],
)
def test_collate_errors(times, values, match):
    with pytest.raises(ValueError, match=match) as info:
        collate_series(times, values)
    assert "Fix: " in str(info.value)


def good_batch(**change):
    fields = {
        "times": torch.tensor([0.0, 1.0], dtype=F64),
        "values": torch.zeros(2, 2, 1, dtype=F64),
        "mask": torch.tensor([[[True], [False]], [[False], [True]]]),
    }
    fields.update(change)
    return IrregularBatch(**fields)


def test_a_good_batch_passes():
    assert good_batch().n_observed.tolist() == [1, 1]


@pytest.mark.parametrize(
    "change,error,match",
    [
        (
            {"mask": torch.ones(2, 2, 2, dtype=torch.bool)},
            ValueError,
            "mask must be of the shape of",
        ),
        ({"mask": torch.ones(2, 2, 1)}, TypeError, "mask must be a bool tensor"),
        ({"times": torch.tensor([1.0, 0.0], dtype=F64)}, ValueError, "times must be strictly inc"),
        ({"times": torch.tensor([1.0, 1.0], dtype=F64)}, ValueError, "times must be strictly inc"),
        ({"times": torch.zeros(0, dtype=F64)}, ValueError, "times must be a non-empty 1-D"),
        ({"times": torch.tensor([0, 1])}, TypeError, "times must be of a floating-point dtype"),
        (
            {"values": torch.zeros(2, 2, dtype=F64)},
            ValueError,
            r"values must be of shape \(B, T, D",
        ),
        ({"values": torch.zeros(2, 2, 1)}, TypeError, "values must be of the floating-point dtype"),
        (
            {"mask": torch.tensor([[[True], [False]], [[False], [False]]])},
            ValueError,
            r"series \[1\] is empty",
        ),
        ({"values": torch.full((2, 2, 1), torch.nan, dtype=F64)}, ValueError, "must be finite"),
        ({"times": [0.0, 1.0]}, TypeError, "times must be a torch.Tensor"),
    ],
)
def test_batch_errors(change, error, match):
    with pytest.raises(error, match=match) as info:
        good_batch(**change)
    assert "Fix: " in str(info.value)


def test_masked_entries_may_hold_anything():
    values = torch.tensor([[[1.0], [torch.nan]], [[torch.inf], [2.0]]], dtype=F64)
    assert good_batch(values=values).n_series == 2

"""The trust boundary: what an answer returned crosses as plain data, and is judged again outside.

The record is written in the student's sandbox, so everything that reads it treats it as
untrusted input: the round trip keeps plain values exactly, refuses what is not plain data, and
a record that claims more than the answer did scores nothing (fast: no notebook is executed).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from course_tools.grade import EXERCISES, observe
from course_tools.grade.scoring import judge_exercise
from ode_course.autodiff import Value


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        7,
        -2.5,
        float("inf"),
        "euler",
        (1, [2.0, {"a": 3}]),
        np.float32(0.25),
        np.arange(6, dtype=np.int64).reshape(2, 3),
        np.zeros((0, 3), dtype=np.float32),
        torch.tensor([[1.0, -2.0]], dtype=torch.float64),
        torch.tensor([1, 2], dtype=torch.int64),
    ],
    ids=repr,
)
def test_plain_values_cross_exactly_as_json(value):
    back = observe.from_plain(json.loads(json.dumps(observe.to_plain(value))))
    assert type(back) is type(value) or (
        isinstance(value, np.generic) and back.dtype == value.dtype
    )
    if isinstance(value, torch.Tensor):
        assert back.dtype == value.dtype and torch.equal(back, value)
    elif isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape
        assert np.array_equal(back, value)
    else:
        assert back == value


def test_a_tensor_keeps_its_grad_flag_and_a_parameter_crosses_as_a_plain_tensor():
    weight = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    back = observe.from_plain(json.loads(json.dumps(observe.to_plain(weight))))
    assert type(back) is torch.Tensor and back.requires_grad


class _AlwaysEqual(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


@pytest.mark.parametrize(
    "value",
    [
        _AlwaysEqual(1.0),
        torch.tensor([1.0]).as_subclass(type("T", (torch.Tensor,), {})),
        np.arange(3.0).view(np.matrix),
        torch.nn.Linear(2, 2),
        Value,
        np.array(["a"], dtype=object),
    ],
    ids=["float-subclass", "tensor-subclass", "ndarray-subclass", "module", "class", "objects"],
)
def test_what_is_not_plain_data_is_not_recorded(value):
    with pytest.raises(observe.Unobservable):
        observe.to_plain(value)


@pytest.mark.parametrize(
    "record",
    [
        {"float": "1.0"},
        {"int": 1.5},
        {"bool": 1},
        {"pickle": "gASV"},
        {"array": [1, 2], "dtype": "object", "shape": [2]},
        {"array": [1, 2], "dtype": "float64", "shape": [3]},
        {"array": [1, 2], "dtype": "float64", "shape": [-2]},
        {"tensor": [[1.0]], "dtype": "__class__", "shape": [1, 1]},
        {"value_graph": [{"arg": 0}]},
        {"value_graph": [{"data": {"float": 1.0}, "parents": [3], "local": [{"float": 1.0}]}]},
        [],
        "x",
    ],
    ids=repr,
)
def test_a_malformed_record_is_refused(record):
    with pytest.raises(observe.Unobservable):
        observe.from_plain(record)


def _softplus(x: Value) -> Value:
    s = 1 / (1 + math.exp(-x.data)) if x.data >= 0 else math.exp(x.data) / (1 + math.exp(x.data))
    return Value.from_op(max(x.data, 0.0) + math.log1p(math.exp(-abs(x.data))), (x,), (s,))


def test_a_value_graph_is_replayed_onto_the_judges_own_input():
    calls: list = []
    x = Value(0.3)
    observe.Recorded(lambda v: _softplus(v) * v + v * v, calls)(x)
    fresh = Value(0.3)
    y = observe.Replay("f", json.loads(json.dumps(calls)), [])(fresh)
    y.backward()
    want = Value(0.3)
    (_softplus(want) * want + want * want).backward()
    assert math.isclose(fresh.grad, want.grad, rel_tol=1e-15) and fresh.grad != 0


def test_replay_returns_in_order_and_raises_what_the_answer_raised():
    calls: list = []
    answer = observe.Recorded(lambda n: [1.0, 2.0][n], calls)
    answer(0)
    with pytest.raises(IndexError):
        answer(5)
    replay = observe.Replay("f", json.loads(json.dumps(calls)), [["n", "POSITIONAL_OR_KEYWORD"]])
    assert str(replay.__signature__) == "(n)"
    assert replay(0) == 1.0
    with pytest.raises(IndexError, match="out of range"):
        replay(5)
    with pytest.raises(observe.Unobservable, match="more often"):
        replay(0)


def _record(exercise_id: str, answers: dict) -> dict:
    """What the score step records when ``answers`` go through the check (right or wrong)."""
    from course_tools.grade.scoring import _verdict

    exercise = EXERCISES[exercise_id]
    wrapped, record = observe.observe(answers)
    _verdict(exercise, wrapped, seed=3, limit=60)
    return json.loads(json.dumps(record))


@pytest.mark.parametrize(
    ("exercise_id", "right", "wrong"),
    [
        ("ex-path-sum", {"de_da": 3.0, "de_db": 6.0}, {"de_da": 3.0, "de_db": 5.0}),
        ("ex-softplus", {"softplus": _softplus}, {"softplus": lambda v: v * 1.0}),
        (
            "ex-sigmoid-backward",
            {"sigmoid_backward": lambda a, g: g * a * (1 - a)},
            {"sigmoid_backward": lambda a, g: g * a},
        ),
    ],
)
def test_the_judge_gives_points_for_the_record_of_a_right_answer_only(exercise_id, right, wrong):
    exercise = EXERCISES[exercise_id]
    good = judge_exercise(exercise, _record(exercise_id, right), exercise.points, seed=3)
    bad = judge_exercise(exercise, _record(exercise_id, wrong), exercise.points, seed=3)
    assert good["points"] == exercise.points, good["message"]
    assert bad["points"] == 0


def test_a_forged_or_missing_record_scores_nothing():
    exercise = EXERCISES["ex-sigmoid-backward"]
    forged = {"sigmoid_backward": {"calls": [], "params": []}}  # claims: never called
    for record in (forged, None, {"sigmoid_backward": {"value": {"float": 1.0}}}, "junk"):
        row = judge_exercise(exercise, record, exercise.points, seed=3)
        assert row["points"] == 0 and row["message"]


def test_an_unanswered_function_is_named_by_its_own_cell_through_the_recorder():
    from ode_course.checks import check_sigmoid_backward

    def sigmoid_backward(a, g):
        raise NotImplementedError

    wrapped, _ = observe.observe({"sigmoid_backward": sigmoid_backward})
    with pytest.raises(Exception, match=r"cell that starts `def sigmoid_backward\(a, g\):`"):
        import inspect

        inspect.unwrap(check_sigmoid_backward)(wrapped["sigmoid_backward"])

"""Objectives as costs and the selection of the trial a search hands on."""

from __future__ import annotations

import math

import pytest

from kt_ext.objectives import COSTS, Objective, Selection, as_costs


def test_costs_are_lower_is_better_and_log_scaled_for_sizes():
    assert Objective("val_loss", "min").cost(0.5) == 0.5
    assert Objective("val_accuracy", "max").cost(0.9) == -0.9
    assert Objective("params", "min").cost(1000.0) == pytest.approx(3.0)
    assert Objective("train_seconds", "min").cost(12.0) == 12.0
    assert math.isinf(Objective("val_loss", "min").cost(None))
    assert math.isinf(Objective("val_loss", "min").cost(float("nan")))
    assert set(COSTS) == {"params", "latency_ms", "train_seconds"}
    m = as_costs([{"a": 1.0, "b": 2.0}], [Objective("a", "min"), Objective("b", "max")])
    assert m.tolist() == [[1.0, -2.0]]


OBJECTIVES = [Objective("val_accuracy", "max"), Objective("params", "min")]
ROWS = [
    {"val_accuracy": 0.95, "params": 500_000.0},
    {"val_accuracy": 0.93, "params": 40_000.0},
    {"val_accuracy": 0.90, "params": 5_000.0},
    {"val_accuracy": 0.93, "params": 30_000.0},
]


def test_selection_takes_the_best_within_the_limits():
    assert Selection("val_accuracy").choose(ROWS, OBJECTIVES) == 0
    # 1 and 3 tie on accuracy: 3 has fewer parameters (1 is not on the front)
    assert Selection("val_accuracy", {"params": 50_000}).choose(ROWS, OBJECTIVES) == 3
    assert Selection("params").choose(ROWS, OBJECTIVES) == 2
    assert Selection("params", {"val_accuracy": 0.92}).choose(ROWS, OBJECTIVES) == 3
    assert Selection("val_accuracy", {"params": 10}).choose(ROWS, OBJECTIVES) is None
    text = Selection("val_accuracy", {"params": 50_000}).describe()
    assert text == "best val_accuracy with params within 50000"

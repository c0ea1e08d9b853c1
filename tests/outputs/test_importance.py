"""Importance: what matters ranks above what does not, conditional entries included."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from kt_ext.outputs.importance import importance


def _float(name: str, low: float, high: float, log: bool = False, when=None) -> dict:
    config = {
        "name": name,
        "min_value": low,
        "max_value": high,
        "step": None,
        "sampling": "log" if log else "linear",
        "default": low,
        "conditions": [],
    }
    if when:
        config["conditions"] = [
            {"class_name": "Parent", "config": {"name": when[0], "values": when[1]}}
        ]
    return {"class_name": "Float", "config": config}


def _choice(name: str, values: list) -> dict:
    config = {"name": name, "values": values, "ordered": False, "default": values[0]}
    return {"class_name": "Choice", "config": {**config, "conditions": []}}


def _int(name: str, low: int, high: int) -> dict:
    config = {"name": name, "min_value": low, "max_value": high, "step": 1, "default": low}
    return {"class_name": "Int", "config": {**config, "sampling": "linear", "conditions": []}}


# The problem the method was chosen on (a random forest surrogate ranked the conditional
# entry below noise in 3 of 10 seeds here; the GP surrogate does not).
CHOSEN_SPACE = [
    _float("x1", 0, 1),
    _float("x2", 1e-4, 1, log=True),
    _choice("opt", ["a", "b", "c"]),
    _float("z", 0, 1, when=("opt", ["a"])),
    _float("n1", 0, 1),
    _float("n2", 1e-3, 1, log=True),
    _choice("n3", ["p", "q"]),
]


def chosen(rng: np.random.Generator) -> tuple[dict, float]:
    r = {
        "x1": rng.random(),
        "x2": 10 ** rng.uniform(-4, 0),
        "opt": str(rng.choice(["a", "b", "c"])),
        "n1": rng.random(),
        "n2": 10 ** rng.uniform(-3, 0),
        "n3": str(rng.choice(["p", "q"])),
    }
    v = (r["x1"] - 0.3) ** 2 + 0.1 * (math.log10(r["x2"]) + 2) ** 2 + 0.3 * (r["opt"] == "b")
    if r["opt"] == "a":
        r["z"] = rng.random()
        v += 0.6 * abs(r["z"] - 0.2)
    return r, v


# Held out (written after the method was fixed): an integer, a boolean parent whose child
# matters, an unordered choice; three entries that do not matter.
HELD_OUT_SPACE = [
    _int("depth", 1, 4),
    _choice("act", ["relu", "tanh", "gelu"]),
    {"class_name": "Boolean", "config": {"name": "bn", "default": False, "conditions": []}},
    _float("momentum", 0.5, 0.99, when=("bn", [True])),
    _float("wd", 1e-6, 1e-2, log=True),
    _int("k", 1, 9),
    _float("noise", 0, 1),
]


def held_out(rng: np.random.Generator) -> tuple[dict, float]:
    r = {
        "depth": int(rng.integers(1, 5)),
        "act": str(rng.choice(["relu", "tanh", "gelu"])),
        "bn": bool(rng.random() < 0.5),
        "wd": 10 ** rng.uniform(-6, -2),
        "k": int(rng.integers(1, 10)),
        "noise": rng.random(),
    }
    v = 0.15 * abs(r["depth"] - 3) + 0.3 * (r["act"] == "tanh")
    if r["bn"]:
        r["momentum"] = rng.uniform(0.5, 0.99)
        v += 1.5 * (r["momentum"] - 0.9) ** 2 - 0.1
    return r, v


CASES = {
    "chosen": (CHOSEN_SPACE, chosen, {"x1", "x2", "opt", "z"}),
    "held_out": (HELD_OUT_SPACE, held_out, {"depth", "act", "bn", "momentum"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_what_matters_ranks_above_what_does_not_in_nine_of_ten_seeds(case: str) -> None:
    space, draw, matter = CASES[case]
    won = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        rows, costs = zip(*(draw(rng) for _ in range(40)), strict=True)
        ranking = importance(space, rows, costs, seed=seed)
        assert ranking is not None
        names = list(ranking)
        won += max(names.index(n) for n in matter) < min(
            names.index(n) for n in names if n not in matter
        )
    assert won >= 9, won


def test_a_conditional_entry_is_permuted_only_where_it_is_active_and_with_its_parent() -> None:
    """A child that matters only where active; its parent counts what it switches on."""
    space = [_choice("opt", ["a", "b"]), _float("z", 0, 1, when=("opt", ["a"])), _float("n", 0, 1)]
    rng = np.random.default_rng(0)
    rows: list[dict[str, Any]] = []
    costs = []
    for _ in range(40):
        r: dict[str, Any] = {"opt": str(rng.choice(["a", "b"])), "n": rng.random()}
        if r["opt"] == "a":
            r["z"] = rng.random()
        rows.append(r)
        costs.append(2 * r["z"] if "z" in r else 1.0)  # opt alone moves nothing on average
    ranking = importance(space, rows, costs, seed=0)
    assert ranking["z"] > 0.2 and ranking["opt"] > 0.2 and abs(ranking["n"]) < 0.05


def test_too_few_or_constant_results_give_no_ranking() -> None:
    space = [_float("x", 0, 1)]
    assert importance(space, [{"x": 0.1}] * 5, [1.0] * 5) is None
    assert importance(space, [{"x": i / 10} for i in range(10)], [1.0] * 10) is None
    assert importance(space, [{"x": i / 10} for i in range(10)], [math.nan] * 10) is None

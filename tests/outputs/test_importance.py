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


def _choice(name: str, values: list, ordered: bool = False) -> dict:
    config = {"name": name, "values": values, "ordered": ordered, "default": values[0]}
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

# The default `model=mlp` space (conf/model/mlp.yaml) on digits' 64 inputs and 10 classes.
MLP_SPACE = [
    _float("lr", 1e-4, 1e-1, log=True),
    _choice("lr_schedule", ["constant", "cosine", "exponential"]),
    _choice("optimizer", ["adam", "sgd", "rmsprop"]),
    _float("momentum", 0.5, 0.99, when=("optimizer", ["sgd"])),
    _choice("batch_size", [32, 64, 128], ordered=True),
    _float("weight_decay", 1e-6, 1e-2, log=True),
    _float("dropout", 0, 0.5),
    _int("num_layers", 1, 3),
    _int("units", 32, 512),
    _choice("initializer", ["glorot_uniform", "he_normal", "lecun_normal"]),
    {"class_name": "Boolean", "config": {"name": "batch_norm", "default": False, "conditions": []}},
]


def mlp_params(rng: np.random.Generator) -> tuple[dict, float]:
    """A random configuration and log10 of its Keras parameter count (checked against Keras)."""
    r: dict[str, Any] = {
        "lr": 10 ** rng.uniform(-4, -1),
        "lr_schedule": str(rng.choice(["constant", "cosine", "exponential"])),
        "optimizer": str(rng.choice(["adam", "sgd", "rmsprop"])),
        "batch_size": int(rng.choice([32, 64, 128])),
        "weight_decay": 10 ** rng.uniform(-6, -2),
        "dropout": 0.1 * int(rng.integers(0, 6)),
        "num_layers": int(rng.integers(1, 4)),
        "units": int(32 * rng.integers(1, 17)),
        "initializer": str(rng.choice(["glorot_uniform", "he_normal", "lecun_normal"])),
        "batch_norm": bool(rng.random() < 0.5),
    }
    if r["optimizer"] == "sgd":
        r["momentum"] = rng.uniform(0.5, 0.99)
    units, layers = r["units"], r["num_layers"]
    count = 65 * units + (layers - 1) * (units + 1) * units + 10 * units + 10
    return r, math.log10(count + 4 * units * layers * r["batch_norm"])


def separated(names: list[str], matter: set[str], ignore: frozenset[str] = frozenset()) -> bool:
    """Whether every entry in ``matter`` ranks above every other one not in ``ignore``."""
    names = [n for n in names if n not in ignore]
    return max(names.index(n) for n in matter) < min(
        names.index(n) for n in names if n not in matter
    )


@pytest.mark.parametrize("case", list(CASES))
def test_what_matters_ranks_above_what_does_not_in_nine_of_ten_seeds(case: str) -> None:
    space, draw, matter = CASES[case]
    won = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        rows, costs = zip(*(draw(rng) for _ in range(40)), strict=True)
        ranking = importance(space, rows, costs, seed=seed)
        assert ranking is not None
        won += separated(list(ranking), matter)
    assert won >= 9, won


def test_at_eight_trials_the_parameter_count_is_put_on_width_and_depth() -> None:
    """A default run's 8 trials, the parameter count as objective: only `units` and
    `num_layers` change it much (`batch_norm` by under 1 %, left out of the check). The
    earlier estimator (held-out permutation, centred prior) ranked them first in 5 of 10
    seeds and above everything else in 1; this one 9 and 8."""
    first = both = 0
    for seed in range(10):
        rng = np.random.default_rng(1000 + seed)
        rows, costs = zip(*(mlp_params(rng) for _ in range(8)), strict=True)
        ranking = importance(MLP_SPACE, rows, costs, seed=seed)
        assert ranking is not None
        names = [n for n in ranking if n != "batch_norm"]
        first += names[0] in {"units", "num_layers"}
        both += separated(names, {"units", "num_layers"})
    assert first >= 8 and both >= 7, (first, both)


def test_leaving_one_trial_out_gives_each_share_a_range_around_it() -> None:
    rng = np.random.default_rng(3)
    rows, costs = zip(*(mlp_params(rng) for _ in range(12)), strict=True)
    alone = importance(MLP_SPACE, rows, costs, seed=0)
    ranged = importance(MLP_SPACE, rows, costs, seed=0, refits=6)
    assert alone is not None and ranged is not None
    assert all(v.low == v.share == v.high for v in alone.values())
    assert {n: v.share for n, v in ranged.items()} == {n: v.share for n, v in alone.items()}
    assert all(v.low <= v.share <= v.high for v in ranged.values())
    assert any(v.high - v.low > 0.01 for v in ranged.values())  # refits do move the shares


def test_entries_that_moved_together_across_the_trials_are_named() -> None:
    """Trials where `lr` rose as `units` fell cannot separate them; `n` moved on its own."""
    space = [_float("lr", 1e-4, 1e-1, log=True), _int("units", 32, 512), _float("n", 0, 1)]
    rng = np.random.default_rng(0)
    rows = []
    for lr in np.linspace(-4, -1, 9):
        units = int(512 - (lr + 4) / 3 * 480 + rng.integers(-20, 20))
        rows.append({"lr": 10**lr, "units": max(32, min(512, units)), "n": rng.random()})
    costs = [math.log10(r["units"]) for r in rows]
    ranking = importance(space, rows, costs, seed=0)
    assert ranking is not None
    assert ranking["lr"].moved_with == ("units",) and ranking["units"].moved_with == ("lr",)
    assert ranking["n"].moved_with == ()


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
    assert ranking is not None
    shares = {name: v.share for name, v in ranking.items()}
    assert shares["z"] > 0.2 and shares["opt"] > 0.2 and abs(shares["n"]) < 0.05


def test_too_few_or_constant_results_give_no_ranking() -> None:
    space = [_float("x", 0, 1)]
    assert importance(space, [{"x": i / 7} for i in range(7)], list(range(7))) is None
    assert importance(space, [{"x": i / 10} for i in range(10)], [1.0] * 10) is None
    assert importance(space, [{"x": i / 10} for i in range(10)], [math.nan] * 10) is None

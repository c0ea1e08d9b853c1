"""Search-space encoding: scales, grids, one-hot choices, conditions, enumeration."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from kt_ext.gp import INACTIVE, SpaceEncoder


def entry(kind: str, name: str, when: dict[str, list] | None = None, **config: Any) -> dict:
    """One ``HyperParameters.get_config()["space"]`` entry."""
    conditions = [
        {"class_name": "Parent", "config": {"name": p, "values": v}}
        for p, v in (when or {}).items()
    ]
    return {"class_name": kind, "config": {"name": name, "conditions": conditions, **config}}


def float_(
    name: str, low: float, high: float, log: bool = False, step: float | None = None, **kw: Any
) -> dict:
    sampling = "log" if log else "linear"
    return entry("Float", name, min_value=low, max_value=high, step=step, sampling=sampling, **kw)


def int_(
    name: str, low: int, high: int, step: int | None = None, log: bool = False, **kw: Any
) -> dict:
    sampling = "log" if log else "linear"
    return entry("Int", name, min_value=low, max_value=high, step=step, sampling=sampling, **kw)


def choice(name: str, values: list, ordered: bool = False, **kw: Any) -> dict:
    return entry("Choice", name, values=values, ordered=ordered, **kw)


def test_log_scale_positions() -> None:
    enc = SpaceEncoder([float_("lr", 1e-4, 1e-1, log=True)])
    # log10(1e-3) is one third of the way from -4 to -1
    np.testing.assert_allclose(enc.encode({"lr": 1e-3}), [1 / 3])
    assert math.isclose(enc.decode(np.array([2 / 3]))["lr"], 1e-2)


def test_grids_snap_to_valid_plain_values() -> None:
    enc = SpaceEncoder(
        [
            int_("units", 32, 512, step=32),
            float_("dropout", 0.0, 0.5, step=0.1),
            int_("layers", 1, 4),
            float_("wd", 1e-8, 1e-4, log=True, step=10),
        ]
    )
    rng = np.random.default_rng(0)
    for u in rng.random((50, 4)):
        v = enc.decode(u)
        assert type(v["units"]) is int and v["units"] % 32 == 0 and 32 <= v["units"] <= 512
        assert type(v["layers"]) is int and 1 <= v["layers"] <= 4
        assert v["dropout"] in [0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5]
        assert min(abs(math.log10(v["wd"]) - k) for k in range(-8, -3)) < 1e-9
        # snapping is idempotent and decodes to the same values
        snapped = enc.snap(u[None, :])
        assert enc.decode(snapped[0]) == v
        np.testing.assert_allclose(enc.snap(snapped), snapped)


def test_grid_values_match_keras_tuner() -> None:
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    hp.Int("units", 32, 512, step=32)
    hp.Float("dropout", 0.0, 0.5, step=0.1)
    hp.Float("wd", 1e-8, 1e-4, step=10, sampling="log")
    enc = SpaceEncoder(hp.get_config()["space"])
    for dim, kt_hp in zip(enc.dims, hp.space, strict=True):
        ours = [
            enc.decode(np.array([u if d is dim else 0.5 for d in enc.dims]))[dim.name]
            for u in dim.canonical_units()
        ]
        assert ours == list(kt_hp.values)


def test_unordered_choices_are_one_hot_and_booleans_one_column() -> None:
    enc = SpaceEncoder(
        [choice("opt", ["adam", "sgd", "rmsprop"]), entry("Boolean", "bn", default=False)]
    )
    assert enc.n_raw == 2 and enc.n_features == 4
    x = enc.features(enc.encode({"opt": "sgd", "bn": True})[None, :])
    np.testing.assert_array_equal(x, [[0, 1, 0, 1]])
    assert list(enc.numeric) == [False, False]


def test_ordered_choice_is_one_numeric_column() -> None:
    enc = SpaceEncoder([choice("batch", [16, 32, 64, 128], ordered=True)])
    assert enc.n_features == 1 and list(enc.numeric) == [True]
    np.testing.assert_allclose(enc.encode({"batch": 64}), [2 / 3])
    assert enc.decode(np.array([0.9]))["batch"] == 128


def test_inactive_conditionals_are_constant_and_left_out() -> None:
    enc = SpaceEncoder(
        [
            choice("opt", ["adam", "sgd"]),
            float_("momentum", 0.5, 0.99, when={"opt": ["sgd"]}),
            entry("Fixed", "eps", value=1e-7),
        ]
    )
    adam = enc.encode({"opt": "adam"})
    assert enc.decode(adam) == {"opt": "adam", "eps": 1e-7}
    assert enc.features(adam[None, :])[0, 1] == INACTIVE
    sgd = enc.encode({"opt": "sgd", "momentum": 0.745})
    assert enc.decode(sgd) == {"opt": "sgd", "momentum": pytest.approx(0.745), "eps": 1e-7}
    assert 0 <= enc.features(sgd[None, :])[0, 1] <= 1


def test_conditions_on_a_grid_parent_hold_row_by_row() -> None:
    enc = SpaceEncoder(
        [
            int_("blocks", 1, 4),
            choice("batch", [16, 32, 64], ordered=True),
            float_("drop", 0.0, 0.5, when={"blocks": [3, 4]}),
            float_("wd", 1e-6, 1e-2, when={"batch": [32]}),
        ]
    )
    u = np.random.default_rng(0).random((500, 4))
    active = enc.active(u)
    for row, mask in zip(u, active, strict=True):
        values = enc.decode(row)
        assert mask[2] == (values["blocks"] in (3, 4)) == ("drop" in values)
        assert mask[3] == (values["batch"] == 32) == ("wd" in values)
    assert 0 < active[:, 2].sum() < 500 and 0 < active[:, 3].sum() < 500


def test_enumerate_a_finite_conditional_space() -> None:
    enc = SpaceEncoder(
        [choice("opt", ["adam", "sgd", "rmsprop"]), int_("k", 1, 3, when={"opt": ["sgd"]})]
    )
    rows = enc.enumerate(100)
    configs = [enc.decode(r) for r in rows]
    assert len(configs) == 5  # adam, rmsprop, sgd × k ∈ {1, 2, 3}
    assert {"opt": "sgd", "k": 2} in configs and {"opt": "adam"} in configs
    assert enc.enumerate(4) is None  # more than the limit
    assert SpaceEncoder([float_("x", 0, 1)]).enumerate(100) is None  # continuous

"""ZoomOracle (coarse to fine): the shared contract, the narrowing rule, contraction."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import keras_tuner
import pytest

from kt_ext.oracles import ZoomOracle
from kt_ext.oracles._zoom import narrow
from tests.oracles.contract import (
    METRIC,
    OracleContract,
    best_loss,
    random_search,
    with_project,
)


class TestZoomContract(OracleContract):
    inner = "random"

    def make_oracle(
        self, hyperparameters: keras_tuner.HyperParameters, max_trials: int, seed: int
    ) -> keras_tuner.Oracle:
        return ZoomOracle(
            objective=keras_tuner.Objective(METRIC, "min"),
            max_trials=max(max_trials, 3),
            hyperparameters=hyperparameters,
            stages=3,
            top_k=3,
            inner=self.inner,
            seed=seed,
        )


class TestZoomBayesContract(TestZoomContract):
    inner = "bayes"


class TestZoomTPEContract(TestZoomContract):
    inner = "tpe"


def space() -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    hp.Float("lr", 1e-6, 1e-2, sampling="log")
    hp.Float("wd", 1e-8, 1e-4, sampling="log")
    hp.Int("units", 32, 256, step=32)
    hp.Choice("opt", ["adam", "sgd", "rmsprop"])
    hp.Float("dropout", 0.0, 0.5, step=0.1)
    return hp


def test_narrow_spans_the_best_in_log_space_with_a_margin_and_keeps_seen_choices():
    best = [
        {"lr": 1e-4, "wd": 1e-6, "units": 64, "opt": "adam", "dropout": 0.1},
        {"lr": 1e-3, "wd": 1e-6, "units": 128, "opt": "sgd", "dropout": 0.2},
    ]
    config = narrow(space().get_config(), best, margin=0.5)
    by = {e["config"]["name"]: e["config"] for e in config["space"]}
    # lr: [1e-4, 1e-3] widened by half a decade on each side, in log space
    assert by["lr"]["min_value"] == pytest.approx(10**-4.5)
    assert by["lr"]["max_value"] == pytest.approx(10**-2.5)
    # wd: both equal -> half of margin x the old log span on each side (old span: 4 decades)
    assert by["wd"]["min_value"] == pytest.approx(1e-7) and by["wd"]["max_value"] == pytest.approx(
        1e-5
    )
    assert (by["units"]["min_value"], by["units"]["max_value"]) == (32, 160)  # on the grid
    assert by["opt"]["values"] == ["adam", "sgd"]
    assert by["dropout"]["min_value"] == pytest.approx(0.0)
    assert by["dropout"]["max_value"] == pytest.approx(0.3)
    keras_tuner.HyperParameters.from_config(config)  # a valid space


def bowl(v: dict) -> float:
    """A loss with its optimum at lr = 10^-3.3, wd = 10^-6.5."""
    return (math.log10(v["lr"]) + 3.3) ** 2 + 0.3 * (math.log10(v["wd"]) + 6.5) ** 2


def two_params() -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    hp.Float("lr", 1e-6, 1e-2, sampling="log")
    hp.Float("wd", 1e-8, 1e-4, sampling="log")
    return hp


def test_ranges_contract_around_the_optimum_and_beat_random_search(tmp_path: Path):
    zoom, random = [], []
    for seed in range(5):
        oracle = ZoomOracle(
            objective=keras_tuner.Objective(METRIC, "min"),
            max_trials=24,
            hyperparameters=two_params(),
            stages=3,
            top_k=4,
            seed=seed,
        )
        with_project(oracle, tmp_path, f"zoom{seed}")
        zoom.append(best_loss(oracle, bowl, 24))
        random.append(
            best_loss(random_search(two_params(), 24, seed + 1, tmp_path, f"rs{seed}"), bowl, 24)
        )
        rows = [r for r in oracle.stage_rows() if r["name"] == "lr"]
        widths = [math.log10(r["high"]) - math.log10(r["low"]) for r in rows]
        assert len(widths) == 3 and widths[0] > widths[1] > widths[2], widths
        assert math.log10(rows[-1]["low"]) <= -3.3 <= math.log10(rows[-1]["high"])
    assert statistics.median(zoom) < statistics.median(random), (zoom, random)

"""preview=true (kt_ext.run.preview): the space, the cost and the corner builds, nothing trained."""

from __future__ import annotations

import os
import subprocess
import sys

import keras_tuner
import pytest

from kt_ext.config import validate
from kt_ext.config.strategies import grid_size, kt_hyperband_cost
from kt_ext.run.preview import corners, describe_cost
from kt_ext.space import parse_space
from tests.conftest import ROOT, TUNE


def tune(tmp_path, *args):
    return subprocess.run(
        [sys.executable, str(TUNE), "preview=true", *args, f"hydra.run.dir={tmp_path / 'run'}"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_kerastuner_hyperband_cost_matches_its_oracle(tmp_path):
    hp = keras_tuner.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    oracle = keras_tuner.oracles.HyperbandOracle(
        objective=keras_tuner.Objective("loss", "min"), max_epochs=9, factor=3, hyperparameters=hp
    )
    oracle.verbose = 0
    oracle._set_project_dir(str(tmp_path), "p")
    trials = epochs = 0
    while True:
        trial = oracle.create_trial("t")
        if trial.status != "RUNNING":
            break
        v = trial.hyperparameters.values
        trials, epochs = trials + 1, epochs + v["tuner/epochs"] - v["tuner/initial_epoch"]
        oracle.update_trial(trial.trial_id, {"loss": float(trials % 7)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        if oracle._current_iteration > 0:  # one iteration of the brackets
            break
    assert kt_hyperband_cost(9, 3) == (trials, epochs)
    assert kt_hyperband_cost(100, 3) == (254, 2672)


def test_corners_cover_each_extreme_and_respect_conditions():
    space = parse_space(
        {
            "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
            "optimizer": {"type": "choice", "values": ["adam", "sgd"]},
            "momentum": {"type": "float", "low": 0.5, "high": 0.9, "when": {"optimizer": "sgd"}},
            "units": {"type": "int", "low": 32, "high": 100, "step": 32},
            "batch_size": 32,
        }
    )
    named = dict(corners(space))
    assert named["lr=0.1"]["lr"] == 0.1 and named["units=96"]["units"] == 96  # top of the grid
    assert named["momentum=0.9"]["optimizer"] == "sgd"  # made active
    assert named["all high"] == {
        "lr": 0.1,
        "optimizer": "sgd",
        "momentum": 0.9,
        "units": 96,
        "batch_size": 32,
    }
    assert "momentum" not in named["defaults"]
    assert grid_size(space) is None
    assert (
        grid_size(parse_space({"a": {"type": "choice", "values": [1, 2]}, "b": {"type": "bool"}}))
        == 4
    )


def test_cost_of_each_strategy(compose_config):
    assert describe_cost(validate(compose_config())).startswith("8 trials x up to 30 epochs")
    halving = describe_cost(validate(compose_config(["strategy=halving"])))
    assert "successive halving" in halving and "per search: 27 configurations" in halving
    hb = describe_cost(validate(compose_config(["strategy=hyperband"])))
    assert f"{kt_hyperband_cost(30, 3)[0]} trials" in hb


@pytest.mark.slow
def test_preview_prints_everything_and_leaves_nothing(tmp_path):
    proc = tune(tmp_path, "model=cnn")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "search space (13 hyperparameters)" in out and "momentum" in out
    assert "8 trials x up to 30 epochs = at most 240 epochs" in out
    assert "blocks=3" in out and "units=256" in out and "all high" in out
    assert "nothing was trained or written" in out
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_preview_fails_on_a_corner_that_does_not_build(tmp_path):
    proc = tune(
        tmp_path,
        "model.builder._target_=tests.builders.failing_model",
        "safety.allow_modules=[tests]",
        "+model.space.failure={type: choice, values: [none, build]}",
    )
    lines = [line for line in proc.stderr.splitlines() if line.startswith("kt-ext: error")]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-3000:]
    assert "model.space" in lines[0] and "failure=build" in lines[0]
    assert "no layer fits 7 units" in lines[0]
    assert "FAILS" in proc.stdout and not (tmp_path / "run").exists()

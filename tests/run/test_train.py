"""scripts/train.py and kt_ext.run.train: one configuration by hand, and a winner retrained."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, TUNE

TRAIN = ROOT / "scripts" / "train.py"


def run(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={**os.environ},
    )


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("kt-ext: error")]


@pytest.mark.parametrize(
    ("override", "key", "rule"),
    [
        ("model.values.lr=5", "model.values.lr", "must lie in"),
        ("model.values.optimizer=adamw", "model.values.optimizer", "must be one of"),
        ("model.values.momentum=0.9", "model.values.momentum", "inactive unless optimizer"),
        ("+model.values.depth=3", "model.values.depth", "not in model.space"),
        ("model.values.units=100", "model.values.units", "grid"),
    ],
)
def test_bad_values_exit_2_with_one_line(tmp_path, override, key, rule):
    proc = run(TRAIN, override, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    lines = error_lines(proc)
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
    assert key in lines[0] and rule in lines[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_manual_training_writes_curves_test_metrics_and_the_model(tmp_path):
    run_dir = tmp_path / "manual"
    proc = run(
        TRAIN,
        "model.values.lr=0.003",
        "model.values.units=128",
        "model.values.optimizer=sgd",
        "model.values.momentum=0.9",
        "search.epochs=3",
        "search.early_stopping_patience=0",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["values"]["lr"] == 0.003 and summary["values"]["momentum"] == 0.9
    assert summary["values"]["units"] == 128 and summary["epochs_run"] == 3
    assert 1 <= summary["best_epoch"] <= 3 and summary["score"] == summary["val_accuracy"]
    assert 0.5 < summary["test_accuracy"] <= 1.0
    # one line per step, as a search prints; KerasTuner's tables only at report.verbose=2
    assert "Search: Running Trial" not in proc.stdout and "Complete [" not in proc.stdout

    import keras

    from kt_ext.outputs.board import read_scalars

    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    assert model.layers[2].units == 128
    curve = read_scalars(run_dir / "tensorboard" / "manual" / "validation")["epoch_accuracy"]
    assert [s for s, _ in curve] == [0, 1, 2]
    assert max(v for _, v in curve) == pytest.approx(summary["val_accuracy"], abs=1e-6)
    assert "seconds" in read_scalars(run_dir / "tensorboard" / "manual")  # its HParams session
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata

    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    content = events.SummaryMetadata(metadata.EXPERIMENT_TAG).plugin_data.content
    experiment = metadata.parse_experiment_plugin_data(content)
    assert experiment.metric_infos[0].name.tag == "val_accuracy"  # the objective comes first


@pytest.mark.slow
def test_best_config_retrains_the_winner_to_its_tuned_accuracy(tmp_path):
    tuned = tmp_path / "tuned"
    proc = run(
        TUNE, "search.max_trials=2", "search.epochs=5", f"hydra.run.dir={tuned}", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    best = yaml.safe_load((tuned / "best_config.yaml").read_text())
    summary = json.loads((tuned / "summary.json").read_text())
    assert best["trial_id"] == summary["best_trial_id"] and best["seed"] == 42
    active = {k: v for k, v in best["model"]["values"].items() if v is not None}
    assert active == summary["best_values"]
    assert set(best["model"]["values"]) == set(best["model"]["space"])
    assert best["code_version"]["kt_ext"] and "hydra" not in best

    again = tmp_path / "again"
    proc = run(
        TRAIN, "-cd", str(tuned), "-cn", "best_config", f"hydra.run.dir={again}", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    said = proc.stdout + proc.stderr
    assert "[kt_ext" not in said and "training lr=" in said  # plain lines, as tune's
    retrained = json.loads((again / "summary.json").read_text())
    assert retrained["values"] == summary["best_values"]
    assert abs(retrained["val_accuracy"] - summary["best_score"]) <= 0.01  # acceptance: 1%
    assert retrained["val_accuracy"] == summary["best_score"]  # on CPU: the same training
    assert retrained["test_accuracy"] == pytest.approx(summary["test_accuracy"], abs=1e-6)

"""Crash-safe state (kt_ext.outputs.state) and resuming killed runs through scripts/tune.py."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import keras_tuner
import pytest

from kt_ext.outputs import state
from tests.conftest import TUNE, read_csv

TRIALS = 4  # the reference run that the crash-window tests copy and damage
KILLED_TRIALS = 12  # enough for five kills, each after a trial completed since the restart


def short_run(trials: int = TRIALS) -> list[str]:
    """The overrides of every run here: short trials on a subset."""
    return [
        f"search.max_trials={trials}",
        "search.epochs=1",
        "search.early_stopping_patience=0",
        "data.subset=0.2",
        "seed=0",
    ]


# ----------------------------------------------------------------------------- unit


def test_save_json_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "oracle.json"
    state.save_json(path, {"a": 1})
    text = state.save_json(path, {"a": [1, 2]})
    assert json.loads(path.read_text()) == {"a": [1, 2]} and text == path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["oracle.json"]  # no temporary file left


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "the file is empty"),
        ('{"ongoing_trials": {"tuner0": "0', "not valid JSON (Unterminated string"),
        ("\x00\x13garbage", "not valid JSON"),
        ("[1, 2]", "holds a JSON list, not an object"),
    ],
    ids=["empty", "truncated", "garbage", "list"],
)
def test_load_json_names_a_damaged_file(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "trial.json"
    path.write_text(content)
    with pytest.raises(state.StateError) as info:
        state.load_json(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and reason in message
    assert path.read_text() == content  # untouched


@pytest.mark.parametrize("content", ["search: {objective: [\n", b"\xff\xfe"], ids=["yaml", "bytes"])
def test_load_yaml_names_a_damaged_file(tmp_path: Path, content: str | bytes) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(state.StateError, match=f"damaged state file {path}: not valid YAML"):
        state.load_yaml(path)
    (tmp_path / "ok.yaml").write_text("- a\n")
    assert state.load_yaml(tmp_path / "ok.yaml") == ["a"]


def test_install_routes_keras_tuner_state_through_the_atomic_writer(tmp_path: Path) -> None:
    from keras_tuner.src import utils

    from kt_ext.tuners import RandomSearch

    # Building a kt-ext tuner installs the atomic writer (importing kt-ext does not).
    RandomSearch(
        hypermodel=lambda hp: None,
        objective="val_loss",
        max_trials=1,
        directory=str(tmp_path),
        project_name="p",
    )
    assert utils.save_json is state.save_json and utils.load_json is state.load_json
    state.install()  # idempotent
    assert utils.save_json is state.save_json
    hp = keras_tuner.HyperParameters()
    hp.Int("units", 1, 4)
    trial = keras_tuner.engine.trial.Trial(hp, trial_id="0")
    trial.save(str(tmp_path / "trial.json"))
    assert keras_tuner.engine.trial.Trial.load(str(tmp_path / "trial.json")).trial_id == "0"


# ----------------------------------------------------------------------------- runs


def tune(run_dir: Path, *extra: str, trials: int = TRIALS, wait: bool = True) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, str(TUNE), *short_run(trials), *extra, f"hydra.run.dir={run_dir}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=run_dir.parent,
    )
    if wait:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
    return proc


def completed(run_dir: Path) -> int:
    n = 0
    for path in (run_dir / "kt").glob("trial_*/trial.json"):
        try:
            n += json.loads(path.read_text())["status"] == "COMPLETED"
        except (OSError, ValueError):
            pass
    return n


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run of ``TRIALS`` trials."""
    run_dir = tmp_path_factory.mktemp("state") / "reference"
    tune(run_dir)
    return run_dir


@pytest.mark.slow
@pytest.mark.soak
def test_kill_9_five_times_then_resume_matches_the_uninterrupted_run(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    tune(reference, trials=KILLED_TRIALS)
    run_dir = tmp_path / "killed"
    rng = random.Random(5)
    kills = []
    for _ in range(5):
        before = completed(run_dir) if run_dir.exists() else 0
        proc = tune(run_dir, trials=KILLED_TRIALS, wait=False)
        deadline = time.monotonic() + 300
        while completed(run_dir) <= before and proc.poll() is None:  # progress since the restart
            assert time.monotonic() < deadline, "no trial completed after a restart"
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))  # then a random point: mid-trial, mid-write, ...
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be killed: {proc.stderr.read()[-3000:]}")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills.append(completed(run_dir))
    assert kills[-1] < KILLED_TRIALS, kills
    tune(run_dir, trials=KILLED_TRIALS)  # resume to the end

    rows, expected = read_csv(run_dir / "trials.csv"), read_csv(reference / "trials.csv")
    assert len(rows) == KILLED_TRIALS and all(r["status"] == "COMPLETED" for r in rows)
    oracle = json.loads((run_dir / "kt" / "oracle.json").read_text())
    assert sorted(oracle["run_times"].values()) == [1] * KILLED_TRIALS  # no trial ran twice
    assert len(oracle["end_order"]) == len(set(oracle["end_order"])) == KILLED_TRIALS
    timing = ("seconds", "rss_mib")  # measurements of the process, not results
    strip = [{k: v for k, v in r.items() if k not in timing} for r in rows]
    assert strip == [{k: v for k, v in r.items() if k not in timing} for r in expected]
    best = json.loads((run_dir / "summary.json").read_text())
    ref_best = json.loads((reference / "summary.json").read_text())
    assert (best["best_trial_id"], best["best_score"], best["best_values"]) == (
        ref_best["best_trial_id"],
        ref_best["best_score"],
        ref_best["best_values"],
    )


@pytest.fixture(scope="module")
def tuner_for(reference: Path, compose_config):
    """``tuner_for(run_dir)``: build (and so reload) the reference config's tuner in-process."""
    from kt_ext.config import validate
    from kt_ext.run import load_data, make_hypermodel, make_tuner

    settings = validate(compose_config(short_run()))
    hypermodel = make_hypermodel(settings, load_data(settings))
    return lambda run_dir: make_tuner(settings, hypermodel, run_dir)


def plain_tuner(run_dir: Path, hp: keras_tuner.HyperParameters) -> keras_tuner.Tuner:
    """KerasTuner's own random search reloading ``run_dir``: what it would do without kt-ext."""
    return keras_tuner.RandomSearch(
        hypermodel=lambda hp: None,
        objective="val_accuracy",
        max_trials=TRIALS,
        directory=str(run_dir),
        project_name="kt",
        hyperparameters=hp,
        allow_new_entries=False,
    )


def copy_run(reference: Path, tmp_path: Path) -> Path:
    run_dir = tmp_path / "copy"
    shutil.copytree(reference, run_dir)
    return run_dir


def edit_oracle(run_dir: Path, edit: Any) -> None:
    """Rewrite ``run_dir``'s saved oracle state through ``edit(state)`` (in place)."""
    path = run_dir / "kt" / "oracle.json"
    saved = json.loads(path.read_text())
    edit(saved)
    path.write_text(json.dumps(saved))


@pytest.mark.slow
def test_a_trial_finished_just_before_the_kill_is_not_run_again(
    reference: Path, tmp_path: Path, tuner_for
) -> None:
    run_dir = copy_run(reference, tmp_path)
    last = json.loads((run_dir / "kt" / "oracle.json").read_text())["end_order"][-1]
    # What KerasTuner's end_trial saves: the trial ended, yet still among the running ones.
    edit_oracle(run_dir, lambda saved: saved.update(ongoing_trials={"tuner0": last}))
    plain = plain_tuner(run_dir, tuner_for(run_dir).oracle.hyperparameters)
    assert plain.oracle._retry_queue == [last]  # KerasTuner would run it again
    tuner = tuner_for(run_dir)
    assert tuner.oracle._retry_queue == [] and tuner.oracle.trials[last].status == "COMPLETED"
    assert tuner.oracle.create_trial("tuner0").status == "STOPPED"  # all trials done


@pytest.mark.slow
def test_a_trial_whose_end_was_not_saved_yet_is_recorded_as_ended_once(
    reference: Path, tmp_path: Path, tuner_for
) -> None:
    run_dir = copy_run(reference, tmp_path)
    last = json.loads((run_dir / "kt" / "oracle.json").read_text())["end_order"][-1]

    def unsaved_end(saved: dict) -> None:
        # What end_trial leaves when killed between writing the trial (COMPLETED) and the oracle.
        saved["end_order"].remove(last)
        saved["run_times"].pop(last)
        saved["ongoing_trials"] = {"tuner0": last}

    edit_oracle(run_dir, unsaved_end)
    plain = plain_tuner(
        run_dir, tuner_for(copy_run(reference, tmp_path / "b")).oracle.hyperparameters
    )
    assert last not in plain.oracle.end_order and plain.oracle._run_times[last] == 0
    oracle = tuner_for(run_dir).oracle
    assert oracle._retry_queue == [] and oracle.trials[last].status == "COMPLETED"
    assert oracle.end_order.count(last) == 1 and oracle._run_times[last] == 1
    assert sorted(oracle.end_order) == sorted(oracle.trials)


@pytest.mark.slow
def test_a_trial_started_just_before_the_kill_is_not_lost(reference, tmp_path, tuner_for):
    run_dir = copy_run(reference, tmp_path)
    kt = run_dir / "kt"
    # What create_trial leaves when killed between writing the trial and the oracle:
    # the last trial's file says RUNNING, the oracle's state has never heard of it.
    last = str(TRIALS - 1)  # ids have as many digits as the largest
    trial_file = kt / f"trial_{last}" / "trial.json"
    trial = json.loads(trial_file.read_text())
    trial.update(status="RUNNING", score=None, best_step=0)
    trial["metrics"]["metrics"] = {}
    trial_file.write_text(json.dumps(trial))
    saved = json.loads((kt / "oracle.json").read_text())
    for key in ("start_order", "end_order"):
        saved[key] = [t for t in saved[key] if t != last]
    saved["run_times"].pop(last)
    (kt / "oracle.json").write_text(json.dumps(saved))
    plain = plain_tuner(
        run_dir, tuner_for(copy_run(reference, tmp_path / "b")).oracle.hyperparameters
    )
    assert plain.oracle._retry_queue == []  # KerasTuner alone: counted, never run
    assert plain.oracle.create_trial("tuner0").status == "STOPPED"
    tuner = tuner_for(run_dir)
    assert tuner.oracle._retry_queue == [last]
    again = tuner.oracle.create_trial("tuner0")
    assert (again.trial_id, again.status) == (last, "RUNNING")


def damage_oracle(kt: Path) -> Path:
    path = kt / "oracle.json"
    path.write_text(path.read_text()[:100])
    return path


def damage_trial(kt: Path) -> Path:
    path = kt / "trial_3" / "trial.json"
    path.write_text("")
    return path


def garbage(kt: Path) -> Path:
    path = kt / "oracle.json"
    path.write_bytes(os.urandom(64).replace(b"{", b"x"))
    return path


def incomplete(kt: Path) -> Path:
    path = kt / "oracle.json"
    saved = json.loads(path.read_text())
    del saved["end_order"]
    path.write_text(json.dumps(saved))
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (damage_oracle, "not valid JSON"),
        (damage_trial, "the file is empty"),
        (garbage, "not"),
        (incomplete, "no key 'end_order'"),
    ],
    ids=["truncated-oracle", "empty-trial", "garbage-oracle", "missing-key"],
)
def test_damaged_state_is_one_line_naming_the_file_and_nothing_is_deleted(
    reference: Path, tmp_path: Path, tuner_for, damage, says: str
) -> None:
    from kt_ext.run import RunError

    run_dir = copy_run(reference, tmp_path)
    path = damage(run_dir / "kt")
    before = snapshot(run_dir)
    with pytest.raises(RunError) as info:
        tuner_for(run_dir)
    message = str(info.value)
    assert "\n" not in message and says in message, message
    if damage is not incomplete:
        assert str(path) in message
    assert snapshot(run_dir) == before


@pytest.mark.slow
def test_a_leftover_temporary_file_is_ignored(reference: Path, tmp_path: Path, tuner_for) -> None:
    run_dir = copy_run(reference, tmp_path)
    (run_dir / "kt" / ".oracle.json.k2j3.tmp").write_text('{"half": ')
    (run_dir / "kt" / "trial_2" / ".trial.json.x8f.tmp").write_text("")
    tuner = tuner_for(run_dir)
    assert len(tuner.oracle.trials) == TRIALS
    assert all(t.status == "COMPLETED" for t in tuner.oracle.trials.values())


@pytest.mark.slow
def test_tune_exits_1_with_one_line_on_damaged_state(reference: Path, tmp_path: Path) -> None:
    run_dir = copy_run(reference, tmp_path)
    path = garbage(run_dir / "kt")
    before = snapshot(run_dir)
    proc = subprocess.run(
        [sys.executable, str(TUNE), *short_run(), f"hydra.run.dir={run_dir}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in proc.stderr.splitlines() if line.startswith("kt-ext: error")]
    assert proc.returncode == 1 and len(lines) == 1 and str(path) in lines[0], proc.stderr[-2000:]

    def results(files: dict[str, bytes]) -> dict[str, bytes]:  # Hydra rewrites its own files
        return {k: v for k, v in files.items() if not k.startswith(".hydra") and k != "tune.log"}

    assert results(snapshot(run_dir)) == results(before)  # nothing changed or deleted

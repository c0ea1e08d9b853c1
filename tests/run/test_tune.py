"""scripts/tune.py through the real entry point, in subprocesses."""

import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from tests.conftest import TUNE, read_csv
from tests.run.procs import needs_proc, watch_sockets

# (overrides, the dotted key the one-line error must name): one case per kind of check the
# entry point runs before TensorFlow starts; every case, and many more, are in
# tests/config/test_malformed_corpus.py, in-process through the same check.
MALFORMED = [
    (["search.max_trials=-3"], "search.max_trials"),
    (["model.space.lr.low=0.5"], "model.space.lr.low"),
    (
        ["~model.space.momentum.when.optimizer", "+model.space.momentum.when.solver=sgd"],
        "model.space.momentum.when.solver",
    ),
    (["data=npz"], "data.loader.path"),
    (["strategy=bohb", "strategy.sampler=tpe"], "strategy.sampler"),
    (["model.builder._target_=models.nope.build"], "model.builder._target_"),
    (["distribute=mirrored", "distribute.scale_lr=maybe"], "distribute.scale_lr"),
    (["distribute._target_=kt_ext.nope.Mirrored"], "distribute._target_"),
    # Hydra's own errors (kt_ext.config.cli), in one line too
    (["search.epochs=[1"], "search.epochs"),
    (["+seeed=3"], "seeed"),
    (["-m", "strategy=random,nosuch"], "strategy"),
]


@pytest.mark.parametrize(("overrides", "key"), MALFORMED, ids=[" ".join(o) for o, _ in MALFORMED])
def test_malformed_config_exits_2_with_one_line(run_tune, tmp_path, overrides, key):
    # validation runs before TensorFlow is imported: here any import of it fails loudly
    blocker = tmp_path / "no_tensorflow" / "tensorflow"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('tensorflow was imported')\n")
    path = os.pathsep.join([str(blocker.parent), os.environ.get("PYTHONPATH", "")])
    proc = run_tune(*overrides, env={"PYTHONPATH": path})
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("kt-ext: error: ") and f"{key} = " in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "outputs").exists()  # nothing half-written
    assert not (tmp_path / "multirun").exists()
    assert "tensorflow was imported" not in proc.stderr + proc.stdout


def test_model_that_cannot_take_the_data_exits_2(run_tune, tmp_path):
    proc = run_tune("model=cnn", "data=breast_cancer")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert (
        "model.builder._target_ = 'models.cnn.build_cnn'" in lines[-1]
        and "image inputs" in lines[-1]
    )
    assert not (tmp_path / "outputs").exists()


def test_missing_npz_file_exits_2(run_tune, tmp_path):
    proc = run_tune("data=npz", f"data.loader.path={tmp_path / 'none.npz'}")
    assert proc.returncode == 2
    assert "data.loader.path" in proc.stderr.strip().splitlines()[-1]


def test_broken_data_exits_2_before_the_first_trial(run_tune, tmp_path):
    x = np.random.default_rng(0).normal(size=(60, 4))
    np.savez(tmp_path / "soft.npz", x=x, y=np.linspace(0, 1, 60))  # probabilities, not classes
    run_dir = tmp_path / "run"
    proc = run_tune(
        "data=npz", f"data.loader.path={tmp_path / 'soft.npz'}", f"hydra.run.dir={run_dir}"
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("kt-ext: error")]
    assert len(errors) == 1 and "data.loader.path" in errors[0] and "integer class ids" in errors[0]
    assert not run_dir.exists()


def test_late_errors_are_one_line_without_tensorflows_start_up_log(run_tune, tmp_path):
    # an unknown metric is found once Keras is imported, before the first trial
    run_dir = tmp_path / "run"
    proc = run_tune(
        "train.metrics=[nosuch]", "search.objective=val_loss", f"hydra.run.dir={run_dir}"
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1  # no TensorFlow C++ log before it
    assert lines[0].startswith("kt-ext: error: train.metrics = 'nosuch': not a Keras metric")
    assert not run_dir.exists()


def test_full_error_shows_traceback(run_tune):
    proc = run_tune("search.max_trials=0", env={"HYDRA_FULL_ERROR": "1"})
    assert proc.returncode != 0 and "Traceback" in proc.stderr


@pytest.mark.slow
def test_end_to_end_writes_every_output(run_tune, tmp_path):
    run = tmp_path / "run"
    proc = run_tune("search.max_trials=2", "search.epochs=1", f"hydra.run.dir={run}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in [
        "trials.csv",
        "best_table.txt",
        "best_hyperparameters.yaml",
        "best_model.keras",
        "summary.json",
        "kt/oracle.json",
        ".hydra/config.yaml",
    ]:
        assert (run / name).is_file(), name
    rows = read_csv(run / "trials.csv")
    assert [r["trial_id"] for r in rows] == ["0", "1"]
    assert all(
        r["status"] == "COMPLETED" and r["epochs"] == "1" and float(r["seconds"]) > 0 for r in rows
    )
    assert all(float(r["rss_mib"]) > 100 for r in rows)  # memory of a process running TensorFlow
    assert {"lr", "batch_size", "units", "optimizer", "momentum", "val_accuracy"} <= set(rows[0])
    runs = sorted(p.name for p in (run / "tensorboard").iterdir() if p.is_dir())
    assert runs == ["0", "1", "search"]
    assert any((run / "tensorboard" / "0" / "validation").glob("events.out.tfevents.*"))
    best = yaml.safe_load((run / "best_hyperparameters.yaml").read_text())
    summary = json.loads((run / "summary.json").read_text())
    scores = {r["trial_id"]: float(r["val_accuracy"]) for r in rows}
    assert best["score"] == pytest.approx(max(scores.values()))
    assert summary["best_trial_id"] == best["trial_id"] and 0.0 <= summary["test_accuracy"] <= 1.0
    assert summary["trials"] == 2 and summary["completed"] == 2 and summary["epochs"] == 2
    table = (run / "best_table.txt").read_text().splitlines()
    assert table[0].startswith(f"Best-1 (val_accuracy {best['score']:.4f}) | lr=")
    assert "Best-1 (val_accuracy" in proc.stdout + proc.stderr  # printed too

    import keras

    model = keras.saving.load_model(run / "best_model.keras", safe_mode=True)
    assert model.output_shape == (None, 10)

    # Re-running into the same directory resumes: finished trials are not run again.
    again = run_tune("search.max_trials=2", "search.epochs=1", f"hydra.run.dir={run}")
    assert again.returncode == 0, again.stderr[-3000:]
    assert read_csv(run / "trials.csv") == rows


@pytest.mark.slow
@needs_proc
def test_default_run_reaches_095_on_digits_and_listens_on_no_socket(tmp_path):
    """The README's first command, as a new user runs it (no overrides): no socket opened."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(TUNE)], cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    sockets = watch_sockets(proc, timeout=300)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr.read()[-3000:]
    assert sockets == set()
    (run,) = list((tmp_path / "outputs").glob("*/*"))
    summary = json.loads((run / "summary.json").read_text())
    assert summary["best_score"] >= 0.95 and summary["test_accuracy"] >= 0.93
    assert elapsed < 180, elapsed
    print(
        f"default run: {elapsed:.1f} s, val_accuracy {summary['best_score']:.4f}, "
        f"test_accuracy {summary['test_accuracy']:.4f}",
        file=os.sys.stderr,
    )


@pytest.mark.slow
def test_halving_prints_its_schedule_and_reports_rungs(run_tune, tmp_path):
    run = tmp_path / "run"
    proc = run_tune("strategy=halving", "search.epochs=3", "model=cnn", f"hydra.run.dir={run}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert "bracket 0: 3×1 -> 1×3" in log and "3 configurations, at most 4 trials" in log
    assert log.index("bracket 0:") < log.index("\ntrial ")  # before the first trial's line
    rungs = read_csv(run / "rungs.csv")
    assert {r["rung"] for r in rungs} == {"0", "1"}
    summary = json.loads((run / "summary.json").read_text())
    assert summary["configs_per_rung"] == {"1": 3, "3": 1}
    assert summary["epochs"] == 3 * 1 + 1 * 2  # the survivor continued: 2 more epochs, not 3
    assert not any(k.startswith("tuner/") for k in summary["best_values"])
    trials = read_csv(run / "trials.csv")
    assert len(trials) == len(rungs) and all(r["status"] == "COMPLETED" for r in trials)
    # TensorBoard: stopped trials say so, and the survivor's curve runs from epoch 0 to 2.
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.plugins.hparams import metadata

    from kt_ext.outputs.board import read_scalars

    statuses = {}
    for r in rungs:
        acc = event_accumulator.EventAccumulator(str(run / "tensorboard" / r["trial_id"]))
        acc.Reload()
        start = metadata.parse_session_start_info_plugin_data(
            acc.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content
        )
        statuses[r["trial_id"]] = start.hparams["trial_status"].string_value
        assert start.hparams["config"].string_value == r["config"]
    assert sorted(statuses.values()) == ["completed", *["stopped_rung_0"] * (len(rungs) - 1)]
    (survivor,) = [t for t, s in statuses.items() if s == "completed"]
    curve = read_scalars(run / "tensorboard" / survivor / "validation")["epoch_accuracy"]
    assert [s for s, _ in curve] == [0, 1, 2]


@pytest.mark.slow
def test_halving_killed_mid_bracket_resumes_and_completes_the_schedule(tmp_path):
    import signal

    run = tmp_path / "run"
    args = ["strategy=halving", "search.epochs=9", "data.subset=0.3", f"hydra.run.dir={run}"]
    proc = subprocess.Popen(
        [sys.executable, str(TUNE), *args],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def completed() -> list[str]:
        done = []
        for path in (run / "kt").glob("trial_*/trial.json"):
            try:
                if json.loads(path.read_text())["status"] == "COMPLETED":
                    done.append(path.parent.name)
            except (ValueError, KeyError):
                pass  # being written
        return done

    deadline = time.time() + 240
    while len(completed()) < 4 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = set(completed())
    assert 4 <= len(before) < 13, before  # killed mid-bracket
    again = subprocess.run(
        [sys.executable, str(TUNE), *args], cwd=tmp_path, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    # 9 x 1 epoch -> 3 x 3 -> 1 x 9, as if never interrupted
    assert summary["configs_per_rung"] == {"1": 9, "3": 3, "9": 1}
    rows = read_csv(run / "trials.csv")
    assert before <= {f"trial_{r['trial_id']}" for r in rows}  # finished trials kept
    assert all(r["status"] == "COMPLETED" for r in rows)
    # TensorBoard after the kill: one session per trial, one point per epoch in every curve.
    from kt_ext.outputs.board import read_scalars

    for r in rows:
        trial_dir = run / "tensorboard" / r["trial_id"]
        assert "seconds" in read_scalars(trial_dir), r["trial_id"]  # its session's metrics
        steps = [s for s, _ in read_scalars(trial_dir / "validation")["epoch_loss"]]
        assert steps == list(range(len(steps))), (r["trial_id"], steps)


@pytest.mark.slow
def test_zoom_runs_its_stages_and_saves_their_ranges(run_tune, tmp_path):
    run = tmp_path / "zoom"
    proc = run_tune(
        "model=mlp_lr_wd",
        "strategy=zoom",
        "search.max_trials=6",
        "search.epochs=2",
        "data.subset=0.3",
        "strategy.top_k=2",
        f"hydra.run.dir={run}",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(read_csv(run / "trials.csv")) == 6
    rows = [r for r in read_csv(run / "zoom_stages.csv") if r["name"] == "lr"]
    assert [r["stage"] for r in rows] == ["0", "1", "2"]
    widths = [float(r["high"]) / float(r["low"]) for r in rows]
    assert widths[0] == pytest.approx(1e4) and widths[2] < widths[0]
    log = (run / "tune.log").read_text()
    assert "zoom stage 3 of 3" in log and "zoom_stages.csv" in log


@pytest.mark.slow
def test_initial_points_run_first_and_log_ei_proposes_after_them(run_tune, tmp_path):
    run = tmp_path / "initial"
    proc = run_tune(
        "strategy=bayes",
        "strategy.acquisition=log_ei",
        "strategy.num_initial_points=2",
        "search.max_trials=4",
        "search.epochs=1",
        "data.subset=0.3",
        "model.initial=[{lr: 0.001, units: 128, optimizer: adam}]",
        f"hydra.run.dir={run}",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = read_csv(run / "trials.csv")
    first = rows[0]
    assert (float(first["lr"]), first["units"], first["optimizer"]) == (0.001, "128", "adam")
    assert first["num_layers"] == "1" and first["batch_size"] == "32"  # defaults elsewhere
    oracle = json.loads((run / "kt" / "oracle.json").read_text())
    assert set(oracle["proposals"]) == {"2", "3"}  # the GP (log EI) chose the last two
    assert all(math.isfinite(p["acquisition"]) for p in oracle["proposals"].values())


@pytest.mark.slow
def test_several_objectives_end_to_end_write_every_trade_off_output(run_tune, tmp_path):
    """`search.objectives=[val_loss,params] strategy=bayes` at its default 8 trials, with a
    parameter budget."""
    from kt_ext.objectives import Objective, as_costs, pareto_ranks
    from kt_ext.outputs.board import read_scalars

    run = tmp_path / "run"
    proc = run_tune(
        "search.objectives=[val_loss,params]",
        "strategy=bayes",
        "search.epochs=2",
        "search.select.limits={params:50000}",
        f"hydra.run.dir={run}",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = read_csv(run / "trials.csv")
    done = [r for r in rows if r["status"] == "COMPLETED"]
    assert len(done) == 8 and all(float(r["params"]) > 1000 for r in done)
    objectives = [Objective("val_loss", "min"), Objective("params", "min")]
    costs = as_costs([{k: float(r[k]) for k in ("val_loss", "params")} for r in done], objectives)
    front = {r["trial_id"] for r, k in zip(done, pareto_ranks(costs), strict=True) if k == 0}
    assert {r["trial_id"] for r in done if r["pareto"] == "1"} == front
    assert {r["trial_id"] for r in read_csv(run / "pareto.csv")} == front
    summary = json.loads((run / "summary.json").read_text())
    assert set(summary["pareto_trial_ids"]) == front
    assert summary["objectives"] == [["val_loss", "min"], ["params", "min"]]
    best = yaml.safe_load((run / "best_hyperparameters.yaml").read_text())
    within = [r for r in done if float(r["params"]) <= 50000]
    assert best["trial_id"] == min(within, key=lambda r: float(r["val_loss"]))["trial_id"]
    assert best["selected_by"] == "best val_loss with params within 50000"
    assert summary["best_trial_id"] == best["trial_id"]
    config = yaml.safe_load((run / "best_config.yaml").read_text())
    assert config["trial_id"] == best["trial_id"]
    for name in ("pareto.png", "importance.png", "importance.csv", "best_model.keras"):
        assert (run / name).is_file(), name
    ranked = read_csv(run / "importance.csv")
    assert {r["objective"] for r in ranked} == {"val_loss", "params"}
    names = {"lr", "optimizer", "units", "num_layers", "batch_size", "momentum"}
    assert names <= {r["hyperparameter"] for r in ranked if r["objective"] == "params"}
    assert all(float(r["low"]) <= float(r["importance"]) <= float(r["high"]) for r in ranked)
    said = "what mattered for params (total effect, 1 = its variance over the 8 trials"
    assert said in proc.stdout + proc.stderr
    from kt_ext.outputs.status import read_status

    assert set(read_status(run).pareto) == front  # scripts/status.py shows it
    for r in done:  # HParams: the front, and the cost as a metric
        scalars = read_scalars(run / "tensorboard" / r["trial_id"])
        assert scalars["pareto_front"][-1][1] == float(r["trial_id"] in front)
        assert scalars["params"][-1][1] == pytest.approx(float(r["params"]))

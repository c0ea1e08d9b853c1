"""kt_ext.outputs.report and scripts/report.py on run directories written by hand."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from kt_ext.outputs import report
from kt_ext.outputs.board import EventLog
from kt_ext.outputs.files import CURVE_PREFIX, VALIDATION_RUN
from kt_ext.outputs.importance import importance
from kt_ext.space import parse_space
from tests.conftest import ROOT

SPACE = parse_space(
    {
        "lr": {"type": "float", "low": 1e-5, "high": 1e-1, "log": True},
        "dropout": {"type": "float", "low": 0.0, "high": 0.5},
        "optimizer": {"type": "choice", "values": ["adam", "sgd", "rmsprop"]},
    }
)


def true_score(values):
    """Peaks at lr = 10**-2.5; dropout and optimizer barely matter."""
    return 1.0 - (math.log10(values["lr"]) + 2.5) ** 2 / 10 + 0.001 * values["dropout"]


def write_run(run_dir, trials, objective="val_accuracy", direction="max"):
    """A run directory as kt-ext leaves it: KerasTuner's files and summary.json."""
    project = run_dir / "kt"
    project.mkdir(parents=True)
    space = SPACE.to_hyperparameters().get_config()
    (project / "oracle.json").write_text(json.dumps({"hyperparameters": space}))
    for trial_id, status, score, values in trials:
        (project / f"trial_{trial_id}").mkdir()
        record = {
            "trial_id": trial_id,
            "hyperparameters": {"space": space["space"], "values": values},
            "score": score,
            "status": status,
        }
        (project / f"trial_{trial_id}" / "trial.json").write_text(json.dumps(record))
    summary = {"objective": objective, "direction": direction}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    return run_dir


def random_trials(n, seed=0):
    rng = np.random.default_rng(seed)
    trials = []
    for i in range(n):
        values = {
            "lr": float(10 ** rng.uniform(-5, -1)),
            "dropout": float(rng.uniform(0, 0.5)),
            "optimizer": str(rng.choice(["adam", "sgd", "rmsprop"])),
        }
        trials.append((f"{i:02d}", "COMPLETED", true_score(values), values))
    return trials


def test_best_so_far_skips_failed_and_non_finite(tmp_path):
    values = {"lr": 1e-3, "dropout": 0.1, "optimizer": "adam"}
    trials = [
        ("0", "FAILED", None, values),
        ("1", "COMPLETED", 0.5, values),
        ("2", "COMPLETED", math.inf, values),
        ("3", "COMPLETED", 0.4, values),
        ("4", "COMPLETED", 0.7, values),
    ]
    numbers, best = report.best_so_far(report.load_run(write_run(tmp_path / "max", trials)))
    assert list(numbers) == [0, 1, 2, 3, 4]
    assert np.isnan(best[0]) and list(best[1:]) == [0.5, 0.5, 0.5, 0.7]
    run = report.load_run(write_run(tmp_path / "min", trials, "val_loss", "min"))
    assert list(report.best_so_far(run)[1][1:]) == [0.5, 0.5, 0.4, 0.4]


def test_surrogate_finds_the_influential_hyperparameter_and_its_optimum(tmp_path):
    run = report.load_run(write_run(tmp_path, random_trials(30)))
    surrogate = report.fit_surrogate(run)
    names = [d.name for d in surrogate.encoder.dims]
    done = report.scored(run)  # the panels' order: what mattered, lr first
    assert (
        next(iter(importance(run.space, [r.values for r in done], [r.score for r in done]))) == "lr"
    )
    samples = surrogate.encoder.snap(np.random.default_rng(1).random((64, 3)))
    grid, values = report._axis(surrogate, names.index("lr"), 41)
    pd = report.partial_dependence(surrogate, [names.index("lr")], [grid], samples)
    assert pd.shape == (41,)
    peak = math.log10(values[int(np.argmax(pd))])
    assert abs(peak + 2.5) < 0.5, peak  # the true optimum is at 10**-2.5
    assert pd.max() - pd.min() > 0.5  # lr spans most of the objective's range


def test_partial_dependence_is_the_mean_prediction_at_each_grid_point(tmp_path):
    surrogate = report.fit_surrogate(report.load_run(write_run(tmp_path, random_trials(12))))
    samples = surrogate.encoder.snap(np.random.default_rng(2).random((16, 3)))
    grids = [np.linspace(0.0, 1.0, 5), np.array([1 / 6, 0.5, 5 / 6])]  # lr x optimizer
    pd = report.partial_dependence(surrogate, [0, 2], grids, samples)
    assert pd.shape == (5, 3)
    for a, lr in enumerate(grids[0]):
        for b, opt in enumerate(grids[1]):
            u = samples.copy()
            u[:, 0], u[:, 2] = lr, opt
            assert pd[a, b] == pytest.approx(surrogate.predict(u).mean(), rel=1e-12, abs=1e-12)


def test_report_run_writes_plots_and_tables(tmp_path):
    run_dir = write_run(tmp_path / "run", random_trials(8))
    for trial_id, _, score, _ in random_trials(8)[:3]:  # curves for three of the trials
        with EventLog(run_dir / "tensorboard" / trial_id / "validation") as log:
            for epoch in range(4):
                log.scalar("epoch_accuracy", score * (epoch + 1) / 4, epoch)
    files = report.report_run(run_dir, top_n=3)
    assert {f.name for f in files} == {
        "convergence.png",
        "curves.png",
        "partial_dependence.png",
        "best_table.txt",
        "best_table.csv",
        "importance.png",  # ranked from 8 trials
        "importance.csv",
    }
    for f in files:
        if f.suffix == ".png":
            with Image.open(f) as image:
                assert image.size[0] >= 550 and image.size[1] >= 350  # cropped to the drawing
    best = sorted(random_trials(8), key=lambda t: -t[2])[:3]
    lines = (run_dir / "best_table.csv").read_text().splitlines()
    assert lines[0] == "rank,trial_id,val_accuracy,lr,dropout,optimizer"
    assert [line.split(",")[1] for line in lines[1:]] == [t[0] for t in best]
    assert (run_dir / "best_table.txt").read_text().startswith("Best-1 (val_accuracy")


def test_too_few_trials_skip_the_landscape(tmp_path):
    run_dir = write_run(tmp_path / "run", random_trials(2))
    names = {f.name for f in report.report_run(run_dir)}
    assert "partial_dependence.png" not in names and "convergence.png" in names
    assert "importance.png" not in names


def test_sweep_report_and_cli(tmp_path):
    sweep = tmp_path / "sweep"
    write_run(sweep / "0_strategy=random", random_trials(5, seed=1))
    write_run(sweep / "1_strategy=bayes", random_trials(5, seed=2))
    damaged = write_run(sweep / "2_strategy=tpe", random_trials(5, seed=3))
    (damaged / "summary.json").write_text('{"objective": "val_acc')  # cut short
    # a trial's curve: reading it makes TensorBoard import TensorFlow, whose C++
    # start-up lines must not reach the console
    with EventLog(sweep / "1_strategy=bayes" / "tensorboard" / "00" / VALIDATION_RUN) as log:
        log.scalar(CURVE_PREFIX + "accuracy", 0.5, 0)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "report.py"), str(sweep)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (sweep / "convergence.png").is_file()
    assert (sweep / "1_strategy=bayes" / "partial_dependence.png").is_file()
    assert str(sweep / "convergence.png") in proc.stdout.splitlines()
    assert f"damaged state file {damaged / 'summary.json'}" in proc.stderr  # named, left out
    assert "absl::InitializeLog" not in proc.stderr and "oneDNN" not in proc.stderr, proc.stderr
    assert not (damaged / "convergence.png").exists()
    alone = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "report.py"), str(damaged)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert alone.returncode == 1 and "Traceback" not in alone.stderr
    assert alone.stderr.strip().splitlines()[-1].startswith("kt-ext: error: damaged state file")
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "report.py"), str(empty)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1].startswith("kt-ext: error:")


def test_a_shared_run_with_a_planted_link_is_not_written_through(tmp_path):
    run_dir = write_run(tmp_path / "run", random_trials(3))
    victim = tmp_path / "victim.png"
    victim.write_bytes(b"mine")
    (run_dir / "convergence.png").unlink(missing_ok=True)
    (run_dir / "convergence.png").symlink_to(victim)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "report.py"), str(run_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "symbolic link convergence.png" in proc.stderr
    assert victim.read_bytes() == b"mine"

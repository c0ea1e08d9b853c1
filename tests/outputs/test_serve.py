"""A finished run in TensorBoard: its event files, a real server's HParams API, a browser.

One small real run (GP-UCB, 6 trials, a builder that fails for ``optimizer=rmsprop``)
is shared by every test here.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import metadata

from kt_ext.outputs.board import read_scalars
from kt_ext.outputs.serve import (
    TensorBoardProcess,
    experiment,
    is_loopback,
    tensorboard_command,
    wait_for_trials,
)
from tests.conftest import ROOT, TUNE, read_csv

pytestmark = pytest.mark.slow

OVERRIDES = [
    "strategy=bayes",
    "search.max_trials=6",
    "strategy.num_initial_points=3",
    "search.epochs=2",
    "data.subset=0.3",
    "model.builder._target_=tests.builders.flaky_mlp",
    "safety.allow_modules=[tests]",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("serve") / "run"
    proc = subprocess.run(
        [sys.executable, str(TUNE), *OVERRIDES, f"hydra.run.dir={run_dir}"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return run_dir


def trials(run_dir):
    return {r["trial_id"]: r for r in read_csv(run_dir / "trials.csv")}


def test_event_files_hold_experiment_sessions_and_scalars(run):
    rows = trials(run)
    statuses = {r["status"] for r in rows.values()}
    assert statuses == {"COMPLETED", "FAILED"}, statuses  # the builder fails for rmsprop
    acc = event_accumulator.EventAccumulator(str(run / "tensorboard"))
    acc.Reload()
    experiment = metadata.parse_experiment_plugin_data(
        acc.SummaryMetadata(metadata.EXPERIMENT_TAG).plugin_data.content
    )
    infos = {i.name: i for i in experiment.hparam_infos}
    space = ["lr", "lr_schedule", "optimizer", "momentum", "batch_size", "weight_decay"]
    space += ["dropout", "num_layers", "units", "initializer", "batch_norm"]
    assert set(infos) == {*space, "trial_status", "distribute", "replicas"}
    assert (infos["lr"].domain_interval.min_value, infos["lr"].domain_interval.max_value) == (
        1e-4,
        0.1,
    )
    assert len(infos["units"].domain_discrete.values) == 16  # 32..512 step 32
    for trial_id, row in rows.items():
        acc = event_accumulator.EventAccumulator(str(run / "tensorboard" / trial_id))
        acc.Reload()
        start = metadata.parse_session_start_info_plugin_data(
            acc.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content
        )
        end = metadata.parse_session_end_info_plugin_data(
            acc.SummaryMetadata(metadata.SESSION_END_INFO_TAG).plugin_data.content
        )
        failed = row["status"] == "FAILED"
        assert start.hparams["trial_status"].string_value == ("failed" if failed else "completed")
        assert start.hparams["optimizer"].string_value == row["optimizer"]
        assert end.status == (2 if failed else 1)
        finals = read_scalars(run / "tensorboard" / trial_id)
        if not failed:
            assert finals["val_accuracy"][0][1] == pytest.approx(float(row["val_accuracy"]))
            curve = read_scalars(run / "tensorboard" / trial_id / "validation")
            assert [s for s, _ in curve["epoch_accuracy"]] == [0, 1]
    search = read_scalars(run / "tensorboard" / "search")
    assert [s for s, _ in search["search/objective"]] == sorted(
        int(t) for t, r in rows.items() if r["status"] == "COMPLETED"
    )
    proposals = json.loads((run / "kt" / "oracle.json").read_text())["proposals"]
    assert proposals and {s for s, _ in search["gp/mean"]} == {int(t) for t in proposals}
    assert any(tag.startswith("gp/lengthscale/") for tag in search)


def test_report_files_are_written_by_the_run(run):
    for name in ["convergence.png", "partial_dependence.png", "curves.png", "best_table.csv"]:
        assert (run / name).is_file(), name


def test_tensorboard_http_api_lists_every_trial(run):
    """A real TensorBoard server on 127.0.0.1 answers the HParams plugin's queries."""
    rows = trials(run)
    with TensorBoardProcess(run) as tb:
        assert tb.url.startswith("http://127.0.0.1:")
        groups = {g["name"]: g for g in wait_for_trials(tb.url, len(rows))}
        columns = experiment(tb.url)
    # The dashboard ticks the first 5 columns flagged "differs": the space's first five entries,
    # never a constant column; the objective is the first metric and says which epoch it is.
    infos = columns["hparamInfos"]
    shown = [i["name"] for i in infos if i.get("differs")]
    assert shown == sorted(["lr", "lr_schedule", "optimizer", "momentum", "batch_size"])
    assert [i["name"] for i in infos[:5]] == shown
    first = columns["metricInfos"][0]
    assert (first["name"]["tag"], first["displayName"]) == (
        "val_accuracy",
        "val_accuracy (best epoch)",
    )
    assert any(m["displayName"] == "val_loss (last epoch)" for m in columns["metricInfos"])
    assert set(groups) == set(rows)
    for trial_id, row in rows.items():
        group = groups[trial_id]
        assert group["hparams"]["lr"] == pytest.approx(float(row["lr"]))
        assert group["hparams"]["optimizer"] == row["optimizer"]
        (session,) = group["sessions"]
        metrics = {m["name"]["tag"]: m["value"] for m in group["metricValues"]}
        if row["status"] == "FAILED":
            assert session["status"] == "STATUS_FAILURE" and "val_accuracy" not in metrics
        else:
            assert session["status"] == "STATUS_SUCCESS"
            assert metrics["val_accuracy"] == pytest.approx(float(row["val_accuracy"]))
            assert metrics["epochs_run"] == 2


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed")
def test_headless_chromium_renders_the_hparams_dashboard(run, tmp_path):
    out = tmp_path / "hparams.png"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshot_hparams.py"), str(run), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    with Image.open(out) as image:
        assert image.size == (1600, 1000)
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 20  # a rendered page, not a blank one


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed")
def test_the_dashboard_opens_with_every_hyperparameter_of_the_space_ticked(run):
    """In a real browser: the whole space ticked, constant columns not (stock TensorBoard: 5)."""
    from omegaconf import OmegaConf

    from kt_ext.space import parse_space
    from scripts.screenshot_hparams import CHROMIUM_FLAGS
    from tests.outputs.browser import TICKED_COLUMNS, Browser

    config = OmegaConf.load(run / ".hydra" / "config.yaml")
    space = parse_space(OmegaConf.to_container(config.model.space, resolve=True))
    tunable = {p.name for p in space.params if p.kind != "fixed"}
    assert len(tunable) > 5  # more than stock TensorBoard ticks
    with TensorBoardProcess(run) as tb:
        wait_for_trials(tb.url, len(trials(run)))
        with Browser(shutil.which("chromium"), CHROMIUM_FLAGS) as browser:
            browser.open(tb.url + "#hparams")
            columns = dict(browser.wait_for(TICKED_COLUMNS, timeout=120))
    ticked = {name for name, shown in columns.items() if shown}
    assert ticked == tunable | {"trial_status"}, columns
    assert {"distribute", "replicas"} <= set(columns) - ticked  # constants stay a tick away


def test_launcher_binds_loopback_by_default():
    command = tensorboard_command("/tmp/x")
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "board.py"), "/nonexistent/run"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "is not a directory" in proc.stderr

"""kt_ext.outputs.status on a sweep's directory: a line per job, pending jobs included."""

import json
import subprocess
import sys

from kt_ext.outputs.status import snapshot
from tests.conftest import ROOT
from tests.outputs.test_report import random_trials, write_run


def _sweep(tmp_path):
    sweep = tmp_path / "sweep"
    for job, status in (("0_strategy=random", "finished"), ("1_strategy=bayes", "running")):
        write_run(sweep / job, random_trials(3, seed=len(job)))
        (sweep / job / ".hydra").mkdir()
        summary = {"objective": "val_accuracy", "direction": "max", "status": status}
        (sweep / job / "summary.json").write_text(json.dumps(summary))
    (sweep / "10_strategy=tpe" / ".hydra").mkdir(parents=True)  # Hydra made it, nothing more yet
    return sweep


def test_a_sweep_shows_each_job_in_job_order_with_its_best_trial(tmp_path):
    text, going = snapshot(_sweep(tmp_path))
    lines = text.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "0_strategy=random",
        "1_strategy=bayes",
        "10_strategy=tpe",
    ]
    assert lines[0].startswith("0_strategy=random: finished, 3 completed, 0 failed")
    assert "| best val_accuracy " in lines[0] and "(trial " in lines[0]
    assert lines[2] == "10_strategy=tpe: pending"
    assert going  # a job still runs (and one has not started)
    as_json = json.loads(snapshot(tmp_path / "sweep", as_json=True)[0])
    assert [j["status"] for j in as_json] == ["finished", "running", "pending"]


def test_the_script_reads_a_sweep_and_refuses_an_empty_directory(tmp_path):
    sweep = _sweep(tmp_path)
    script = [sys.executable, str(ROOT / "scripts" / "status.py")]
    proc = subprocess.run([*script, str(sweep)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 3, proc.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run([*script, str(empty)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"kt-ext: error: {empty} holds no kt-ext run (no summary.json)"

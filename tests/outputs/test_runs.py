"""kt_ext.outputs.runs: a run directory read as data, damaged files named."""

import json

import pytest

from kt_ext.outputs.runs import load_run
from kt_ext.outputs.state import StateError
from tests.outputs.test_report import random_trials, write_run


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("summary.json", '{"objective": "val_acc'),
        ("summary.json", '["val_accuracy"]'),
        ("summary.json", '{"objective": {"name": "val_accuracy"}}'),
        ("kt/trial_01/trial.json", ""),
        ("kt/trial_01/trial.json", '{"trial_id": "01", "status": "COMPLETED"}'),
        ("kt/trial_01/trial.json", '{"trial_id": "01", "hyperparameters": {"values": 3}}'),
        ("kt/oracle.json", '{"hyperparameters": {"space": 1}}'),
        ("kt/trial_01/trial.json", '{"trial_id": "../../../elsewhere", "hyperparameters": {}}'),
        ("kt/oracle.json", "\xff"),
        ("summary.json", '{"objective": "val_loss", "objectives": [["val_loss"]]}'),
        (
            "kt/trial_01/trial.json",
            '{"trial_id": "01", "hyperparameters": {"values": {}},'
            ' "metrics": {"metrics": {"params": {"observations": [{"value": []}]}}}}',
        ),
        (
            "kt/trial_01/trial.json",
            '{"trial_id": "01", "hyperparameters": {"values": {}},'
            ' "metrics": {"metrics": {"params": {"observations": [{"value": "many"}]}}}}',
        ),
    ],
)
def test_a_damaged_file_of_a_run_is_named_not_a_traceback(tmp_path, name, text):
    run_dir = write_run(tmp_path / "run", random_trials(3))
    (run_dir / name).write_text(text, encoding="latin-1")
    with pytest.raises(StateError, match=f"damaged state file {run_dir / name}"):
        load_run(run_dir)


def test_a_damaged_saved_config_is_named_when_the_run_has_no_summary(tmp_path):
    run_dir = write_run(tmp_path / "run", random_trials(3))
    (run_dir / "summary.json").unlink()
    (run_dir / ".hydra").mkdir()
    (run_dir / ".hydra" / "config.yaml").write_text("search: {objective: [\n")
    with pytest.raises(StateError, match="config.yaml: not valid YAML"):
        load_run(run_dir)


def test_load_run_rejects_a_directory_without_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="oracle.json"):
        load_run(tmp_path)


def test_a_run_of_two_objectives_reads_them_and_each_trials_last_values(tmp_path):
    run_dir = write_run(tmp_path / "run", random_trials(2), objective="val_loss", direction="min")
    summary = '{"objective": "val_loss", "objectives": [["val_loss", "min"], ["params", "min"]]}'
    (run_dir / "summary.json").write_text(summary)
    trial = json.loads((run_dir / "kt" / "trial_01" / "trial.json").read_text())
    observed = [{"value": [900.0], "step": 0}, {"value": [1200.0, 1300.0], "step": 1}]
    trial["metrics"] = {"metrics": {"params": {"direction": "min", "observations": observed}}}
    (run_dir / "kt" / "trial_01" / "trial.json").write_text(json.dumps(trial))
    record = load_run(run_dir)
    assert [(o.name, o.direction) for o in record.objectives] == [
        ("val_loss", "min"),
        ("params", "min"),
    ]
    assert [r.metrics for r in record.rows] == [{}, {"params": 1250.0}]  # the last, averaged

"""kt_ext.outputs.runs: a run directory read as data, damaged files named."""

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

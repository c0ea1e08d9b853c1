"""Resuming a run directory only with the settings that started it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from kt_ext.config.cli import check_overrides
from kt_ext.config.resume import check_resume, fingerprint, record
from kt_ext.errors import ConfigError
from kt_ext.outputs.files import SEARCH_SETTINGS
from tests.conftest import CONF, TUNE


@pytest.fixture(scope="module")
def plain(compose_config):
    def _plain(*overrides: str) -> dict:
        return OmegaConf.to_container(compose_config(list(overrides)), resolve=True)

    return _plain


def test_the_same_settings_resume_and_more_trials_are_allowed(tmp_path, plain):
    record(tmp_path, plain())
    check_resume(tmp_path, plain())
    check_resume(tmp_path, plain("search.max_trials=50"))
    assert json.loads((tmp_path / SEARCH_SETTINGS).read_text()) == fingerprint(plain())


def test_settings_that_change_the_search_are_refused_with_every_key(tmp_path, plain):
    record(tmp_path, plain())
    with pytest.raises(ConfigError) as info:
        check_resume(tmp_path, plain("seed=7", "strategy=bayes", "model.space.lr.low=0.001"))
    rule = info.value.rule
    assert info.value.key == "hydra.run.dir"
    assert "seed: 42 -> 7" in rule and "strategy: " in rule and "model.space: " in rule
    assert "search.allow_resume_changes=true" in rule
    for override in ("search.epochs=3", "data=breast_cancer", "search.objective=val_loss"):
        with pytest.raises(ConfigError, match=override.split("=")[0].split(".")[0]):
            check_resume(tmp_path, plain(override))


def test_changes_pass_when_asked_for_and_the_record_follows(tmp_path, plain):
    record(tmp_path, plain())
    changed = plain("seed=7", "search.allow_resume_changes=true")
    check_resume(tmp_path, changed)
    record(tmp_path, changed)
    check_resume(tmp_path, plain("seed=7"))


def test_a_record_that_is_a_link_or_not_json_is_refused(tmp_path, plain):
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(fingerprint(plain())))
    run = tmp_path / "run"
    run.mkdir()
    (run / SEARCH_SETTINGS).symlink_to(outside)
    with pytest.raises(ConfigError, match="cannot be read"):
        check_resume(run, plain())
    (run / SEARCH_SETTINGS).unlink()
    (run / SEARCH_SETTINGS).write_text("[1, 2")
    with pytest.raises(ConfigError, match="cannot be read"):
        check_resume(run, plain())


def test_the_command_line_check_refuses_before_hydra_writes_anything(tmp_path, plain):
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    overrides = run / ".hydra" / "overrides.yaml"
    overrides.write_text("- search.max_trials=3\n")
    record(run, plain())
    with pytest.raises(ConfigError, match="seed: 42 -> 7"):
        check_overrides(["seed=7", f"hydra.run.dir={run}"], CONF, "config")
    proc = subprocess.run(
        [sys.executable, str(TUNE), "seed=7", f"hydra.run.dir={run}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kt-ext: error: hydra.run.dir")
    assert overrides.read_text() == "- search.max_trials=3\n"  # the run's files as they were
    assert sorted(p.name for p in run.iterdir()) == [".hydra", SEARCH_SETTINGS]


def test_a_command_that_fails_after_hydra_started_leaves_the_run_as_it_was(tmp_path, plain):
    """The same settings pass the check; the broken data file is found after TensorFlow starts."""
    import numpy as np

    data = tmp_path / "one_class.npz"
    np.savez(data, x=np.zeros((40, 3), "float32"), y=np.zeros(40, int))
    overrides = ["data=npz", f"data.loader.path={data}"]
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("- search.max_trials=3\n")
    (run / "tune.log").write_text("the first run's log\n")
    record(run, plain(*overrides))
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    proc = subprocess.run(
        [sys.executable, str(TUNE), *overrides, f"hydra.run.dir={run}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "at least two classes" in lines[0], lines
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_a_run_directory_with_a_planted_link_is_refused_before_anything_is_written(tmp_path, plain):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "precious.txt").write_text("mine")
    run = tmp_path / "shared-run"
    (run / "kt").mkdir(parents=True)
    (run / "kt" / "trial_0").symlink_to(mine)
    with pytest.raises(ConfigError, match=r"symbolic link kt/trial_0 -> .*mine"):
        check_overrides([f"hydra.run.dir={run}"], CONF, "config")
    (run / "kt" / "trial_0").unlink()
    (run / "trials.csv").symlink_to(mine / "precious.txt")
    proc = subprocess.run(
        [sys.executable, str(TUNE), f"hydra.run.dir={run}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "symbolic link trials.csv" in proc.stderr
    assert (mine / "precious.txt").read_text() == "mine"
    assert sorted(p.name for p in run.iterdir()) == ["kt", "trials.csv"]  # no .hydra written


def test_a_run_directory_that_cannot_be_made_is_one_line_before_hydra(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(ConfigError, match="is a file, not a directory"):
        check_overrides([f"hydra.run.dir={afile / 'run'}"], CONF, "config")
    with pytest.raises(ConfigError, match="cannot be created in /proc"):
        check_overrides(["hydra.run.dir=/proc/nope/run"], CONF, "config")
    check_overrides([f"hydra.run.dir={tmp_path / 'new' / 'run'}"], CONF, "config")

"""Configs from someone else: what they bring in through Hydra's node is refused before Hydra runs.

Each case is a config file in a directory passed with ``--config-dir`` (a
shared ``best_config.yaml``, a tutorial's config, a colleague's model
option), composed by :func:`kt_ext.config.cli.check_overrides` exactly as
the scripts do before ``hydra.main``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from kt_ext.config.cli import check_overrides
from kt_ext.errors import ConfigError
from kt_ext.outputs.results import best_config
from tests.config.corpus import nested
from tests.conftest import CONF, ROOT


def write(directory: Path, name: str, body: dict, on_repo_config: bool = True) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if on_repo_config:
        body = {"defaults": ["config", "_self_"], **body}
    (directory / f"{name}.yaml").write_text(yaml.safe_dump(body))


def test_the_best_config_kt_ext_writes_passes(tmp_path, compose_config):
    config = OmegaConf.to_container(compose_config(), resolve=True)
    names = list(config["model"]["space"])
    write(tmp_path, "best_config", best_config(config, names, {}, "3"), on_repo_config=False)
    check_overrides(["-cd", str(tmp_path), "-cn", "best_config"], CONF, "config")


def test_the_command_line_stays_trusted(tmp_path):
    write(tmp_path, "shared", {"search": {"epochs": 2}})
    trusted = [
        "safety.allow_modules=[my_models]",
        "hydra.run.dir=/tmp/mine",
        "hydra.job.chdir=true",
        "+hydra.job.env_set.MY_VAR=1",
    ]
    check_overrides(["-cd", str(tmp_path), "-cn", "shared", *trusted], CONF, "config")
    check_overrides(trusted, CONF, "config")
    check_overrides(["-m", "strategy=random,bayes", "hydra.sweep.dir=/tmp/mine"], CONF, "config")


def test_a_shared_allowlist_repeated_on_the_command_line_passes(tmp_path):
    write(tmp_path, "shared", nested("safety.allow_modules", ["shutil"]))
    argv = ["-cd", str(tmp_path), "-cn", "shared"]
    with pytest.raises(ConfigError):
        check_overrides(argv, CONF, "config")
    check_overrides([*argv, "safety.allow_modules=[shutil]"], CONF, "config")


def test_pickled_reruns_and_missing_config_dirs_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="unpickles"):
        check_overrides(["--experimental-rerun", str(tmp_path / "config.pickle")], CONF, "config")
    with pytest.raises(ConfigError, match="no such directory"):
        check_overrides(["-cd", str(tmp_path / "nosuch"), "-cn", "x"], CONF, "config")


def test_retraining_a_poisoned_best_config_runs_nothing_and_writes_nothing(tmp_path):
    victim = tmp_path / "victim.txt"
    shared = tmp_path / "shared"
    copy = {"_target_": "shutil.copyfile", "src": __file__, "dst": str(victim)}
    body = nested("hydra.callbacks.x", copy)
    write(shared, "best_config", body)
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train.py"), "-cd", str(shared), "-cn",
         "best_config", f"hydra.run.dir={run_dir}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kt-ext: error: hydra.callbacks.x")
    assert not victim.exists() and not run_dir.exists()

"""Shared fixtures: config composition, the digits splits, and running scripts/tune.py."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
TUNE = ROOT / "scripts" / "tune.py"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _share_the_cores() -> None:
    """Give each pytest-xdist worker, and the TensorFlow it or its subprocesses start, its
    share of the cores.

    With every worker's TensorFlow free to use all the cores, the workers' trainings contend:
    two default runs side by side took 58 s with TensorFlow's own thread pools and 50 s with
    one thread each (2 cores). The variables are read when TensorFlow starts, so they are set
    here, before any test imports it, and subprocesses inherit them; a variable already set
    is left as it is.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    for name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(name, threads)


_share_the_cores()


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file a run wrote (``trials.csv``, ``sweep_summary.csv``, ...)."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def option_names(group: str) -> list[str]:
    """Every option of a config group, from the files in conf/<group>/."""
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.fixture(scope="session")
def compose_config() -> Callable[..., DictConfig]:
    """Compose conf/ with overrides, as scripts/tune.py would (without the hydra node)."""

    def _compose(overrides: Sequence[str] = ()) -> DictConfig:
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            return compose(config_name="config", overrides=list(overrides))

    return _compose


@pytest.fixture(scope="session")
def digits_splits():
    """The default data, split once for the whole session."""
    from kt_ext.data import load_digits, split

    return split(
        load_digits(), seed=0, val_fraction=0.2, test_fraction=0.2, subset=1.0, standardize=False
    )


@pytest.fixture
def run_tune(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """Run scripts/tune.py in a subprocess from an empty working directory."""

    def _run(
        *args: str, timeout: float = 600, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(TUNE), *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )

    return _run

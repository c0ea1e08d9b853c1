"""Malformed numeric settings: each refused in-process, naming its key, well under 2 seconds."""

from __future__ import annotations

import time

import pytest

from kt_ext.config.cli import check_overrides
from kt_ext.errors import ConfigError
from tests.conftest import CONF

RANGES = [
    "data.subset=0",
    "search.epochs=0",
    "parallel.port=70000",
    "parallel.grace_seconds=-1",
    "train.shuffle_buffer=0",
    "report.top_n=0",
    "strategy.num_initial_points=0 strategy=bayes",
    "distribute.virtual_cpus=-1",
    "search.early_stopping_patience=-1",
    "seed=-1",
    "parallel.heartbeat_seconds=0",
    "parallel.recycle_above_mib=-5",
    "parallel.recycle_after_trials=-1",
    "search.max_retries_per_trial=-1",
    "data.test_fraction=1",
    "data.val_fraction=0",
    "train.verbose=5",
    "search.executions_per_trial=0",
    "parallel.workers=-1",
    "search.max_trials=1.5",
    "parallel.grace_seconds=nan",
    "parallel.heartbeat_seconds=inf",
    "model.space.batch_size.values=[0,32]",
    "model.space.batch_size.values=[16.5,32]",
    "+search.epoch=3",
    "+data.subsett=0.5",
    "+train.metric=[auc]",
    "+report.top=3",
    "+parallel.worker=2",
    "+safety.allow_module=[x]",
]


@pytest.mark.parametrize("command", RANGES)
def test_a_malformed_setting_names_its_key_at_once(command):
    overrides = command.split()
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        check_overrides(overrides, CONF, "config")
    assert time.perf_counter() - start < 2.0
    assert info.value.key == overrides[0].split("=")[0].lstrip("+")
    assert "\n" not in str(info.value)

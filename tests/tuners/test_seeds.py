"""Runs with different seeds draw independent configurations, for every strategy's oracle."""

from __future__ import annotations

import json

import pytest

from kt_ext.config import validate

SEEDS = range(21)
FIRST = 4  # trials drawn before any model is used (bayes's and kt_bayes's initial design)


@pytest.fixture(scope="module")
def hypermodel(compose_config, digits_splits):
    from kt_ext.run import make_hypermodel

    return make_hypermodel(validate(compose_config()), digits_splits)


@pytest.mark.parametrize("strategy", ["random", "kt_bayes", "tpe", "bayes"])
def test_runs_with_seeds_0_to_20_share_no_configuration(
    compose_config, hypermodel, tmp_path, strategy
):
    from kt_ext.run import make_tuner

    seen: dict[str, int] = {}
    for seed in SEEDS:
        s = validate(compose_config([f"strategy={strategy}", f"seed={seed}"]))
        tuner = make_tuner(s, hypermodel, tmp_path / str(seed))
        for i in range(FIRST):  # one tuner id per trial: none ends, so each gets a new one
            values = tuner.oracle.create_trial(f"tuner{i}").hyperparameters.values
            key = json.dumps(values, sort_keys=True)
            assert key not in seen or seen[key] == seed, (
                f"seed {seed} replays a configuration of seed {seen[key]}: {key}"
            )
            seen[key] = seed
    assert len(seen) == len(SEEDS) * FIRST

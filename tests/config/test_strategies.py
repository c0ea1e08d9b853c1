"""The strategy registry: one entry per strategy owns its argument rules, cost and outputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from kt_ext.config import validate
from kt_ext.config.strategies import STRATEGIES, strategy_of
from kt_ext.errors import ConfigError
from kt_ext.gp import ACQUISITIONS, Acquisition
from kt_ext.oracles.checks import check_arguments
from kt_ext.run.preview import describe_cost
from tests.conftest import CONF, option_names

# Keys of a strategy YAML that are run-time wiring, not arguments with a rule.
WIRING = {"_target_", "_partial_", "defaults", "seed"}
SCHEDULE_KEYS = {"reduction_factor", "brackets", "min_fraction"}  # HalvingSchedule's rules


@pytest.mark.parametrize("name", option_names("strategy"))
def test_every_strategy_config_has_an_entry_with_a_rule_for_each_argument(name):
    raw = yaml.safe_load((CONF / "strategy" / f"{name}.yaml").read_text())
    if "_target_" not in raw:  # bohb extends halving
        raw = {**yaml.safe_load((CONF / "strategy" / "halving.yaml").read_text()), **raw}
    entry = STRATEGIES[raw["_target_"]]
    ruled = {rule.name for rule in entry.arguments}
    if entry.schedule is not None:
        ruled |= SCHEDULE_KEYS
    assert set(raw) - WIRING <= ruled, set(raw) - WIRING - ruled


@pytest.mark.parametrize(
    ("overrides", "key", "rule"),
    [
        (["strategy=bayes", "strategy.beta=-1"], "strategy.beta", "finite number >= 0"),
        (["strategy=bohb", "strategy.beta=-1"], "strategy.beta", "finite number >= 0"),
        (["strategy=kt_bayes", "strategy.beta=-1"], "strategy.beta", "finite number >= 0"),
        (["strategy=bayes", "strategy.acquisition=pi"], "strategy.acquisition", "one of ucb"),
        (["strategy=zoom", "strategy.acquisition=pi"], "strategy.acquisition", "one of ucb"),
        (["strategy=halving", "strategy.budget=time"], "strategy.budget", "one of epochs"),
    ],
)
def test_config_and_oracle_state_the_same_rule(compose_config, overrides, key, rule):
    with pytest.raises(ConfigError) as info:
        validate(compose_config(overrides))
    assert info.value.key == key and rule in info.value.rule
    # The oracle's own check is the same rule, word for word.
    name, value = key.rsplit(".", 1)[1], info.value.value
    entry = strategy_of(compose_config(overrides[:1]).strategy["_target_"])
    with pytest.raises(ValueError, match=rule):
        check_arguments(entry.arguments, {name: value})


def test_the_data_budget_schedule_is_built_once_with_its_epochs(compose_config):
    s = validate(compose_config(["strategy=halving", "strategy.budget=data", "search.epochs=4"]))
    schedule = s.schedule
    assert schedule.budget == "data" and schedule.epochs_per_rung == 4
    # every rung trains 4 epochs on its fraction: 9 x 0.111, 3 x 0.333, 1 x 1 configurations
    assert schedule.budgets == pytest.approx((0.111, 0.333, 1.0))
    assert schedule.epochs == pytest.approx(4 * (9 * 0.111 + 3 * 0.333 + 1 * 1.0))
    assert f"at most {schedule.epochs:g} epochs" in describe_cost(s)


def test_the_oracle_runs_the_schedule_the_config_built(compose_config, digits_splits, tmp_path):
    from kt_ext.run import make_hypermodel, make_tuner

    s = validate(compose_config(["strategy=halving", "strategy.budget=data", "search.epochs=4"]))
    tuner = make_tuner(s, make_hypermodel(s, digits_splits), tmp_path)
    assert tuner.oracle.schedule is s.schedule
    assert tuner.oracle.max_epochs == 4


@pytest.mark.parametrize("acquisition", list(ACQUISITIONS))
@pytest.mark.parametrize(
    "strategy", [["strategy=bayes"], ["strategy=bohb"], ["strategy=zoom", "strategy.inner=bayes"]]
)
def test_every_gp_strategy_takes_every_acquisition(compose_config, strategy, acquisition):
    s = validate(compose_config([*strategy, f"strategy.acquisition={acquisition}"]))
    assert s.strategy["acquisition"] == acquisition


def test_an_acquisition_added_to_the_table_is_selectable_everywhere(
    compose_config, monkeypatch, tmp_path
):
    """Probability of improvement, added in one place, reaches config, bayes, bohb and zoom."""
    from scipy.special import log_ndtr, ndtr

    def pi(mean, std, beta, best):
        return log_ndtr((mean - best) / np.maximum(std, 1e-12))

    def pi_gradient(mean, std, d_mean, d_std, beta, best):
        sigma = np.maximum(std, 1e-12)
        z = (mean - best) / sigma
        ratio = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi) / np.maximum(ndtr(z), 1e-300)
        return (ratio / sigma)[:, None] * (d_mean - z[:, None] * d_std)

    monkeypatch.setitem(
        ACQUISITIONS,
        "pi",
        Acquisition(pi, pi_gradient, lambda a, g_mean, g_scale: a, lambda a, p: a + np.log(p)),
    )
    for strategy in (["strategy=bayes"], ["strategy=bohb"], ["strategy=zoom"]):
        validate(compose_config([*strategy, "strategy.acquisition=pi"]))

    import keras_tuner
    from keras_tuner.engine.trial import TrialStatus

    from kt_ext.oracles import GPUCBOracle

    hp = keras_tuner.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    oracle = GPUCBOracle(
        objective=keras_tuner.Objective("loss", "min"),
        max_trials=8,
        hyperparameters=hp,
        num_initial_points=3,
        acquisition="pi",
        seed=0,
    )
    oracle._set_project_dir(str(tmp_path), "pi")
    for _ in range(6):
        trial = oracle.create_trial("tuner0")
        oracle.update_trial(trial.trial_id, {"loss": (trial.hyperparameters["x"] - 0.3) ** 2})
        trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)
    assert len(oracle.proposals) == 3  # the GP proposed trials 4 to 6 with "pi"
    assert all(math.isfinite(p["acquisition"]) for p in oracle.proposals.values())

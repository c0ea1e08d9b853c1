"""OptunaOracle (TPE, CMA-ES through ask/tell): the shared contract and that the model helps."""

from __future__ import annotations

from pathlib import Path

import keras_tuner
import pytest

from tests.oracles.contract import METRIC, OracleContract

pytest.importorskip("optuna")

from kt_ext.oracles import OptunaOracle  # noqa: E402


class TestTPEContract(OracleContract):
    sampler = "tpe"

    def make_oracle(
        self, hyperparameters: keras_tuner.HyperParameters, max_trials: int, seed: int
    ) -> keras_tuner.Oracle:
        return OptunaOracle(
            objective=keras_tuner.Objective(METRIC, "min"),
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            sampler=self.sampler,
            num_initial_points=3,
            seed=seed,
        )


class TestCMAESContract(TestTPEContract):
    sampler = "cmaes"


def bowl_space() -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    hp.Float("x1", 0.0, 1.0)
    hp.Float("x2", 0.0, 1.0)
    hp.Float("lr", 1e-5, 1e-1, sampling="log")
    return hp


def bowl(v: dict) -> float:
    import math

    return (v["x1"] - 0.3) ** 2 + (v["x2"] - 0.7) ** 2 + 0.05 * (math.log10(v["lr"]) + 3) ** 2


def best_of(oracle: keras_tuner.Oracle, n: int) -> float:
    from keras_tuner.engine.trial import TrialStatus

    best = float("inf")
    for _ in range(n):
        trial = oracle.create_trial("t")
        loss = bowl(trial.hyperparameters.values)
        best = min(best, loss)
        oracle.update_trial(trial.trial_id, {METRIC: loss})
        trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)
    return best


@pytest.mark.parametrize("sampler", ["tpe", "cmaes"])
def test_the_sampler_beats_random_search_in_median(tmp_path: Path, sampler: str) -> None:
    """Best loss after 40 evaluations over 5 seeds (log-scale lr included)."""
    import statistics

    ours, random = [], []
    for seed in range(5):
        oracle = OptunaOracle(
            objective=keras_tuner.Objective(METRIC, "min"),
            max_trials=40,
            hyperparameters=bowl_space(),
            sampler=sampler,
            num_initial_points=10,
            seed=seed,
        )
        rs = keras_tuner.oracles.RandomSearchOracle(
            objective=keras_tuner.Objective(METRIC, "min"),
            max_trials=40,
            hyperparameters=bowl_space(),
            seed=seed + 1,
        )
        for i, o in enumerate((oracle, rs)):
            o.verbose = 0
            o._set_project_dir(str(tmp_path), f"{sampler}{seed}_{i}")
        ours.append(best_of(oracle, 40))
        random.append(best_of(rs, 40))
    assert statistics.median(ours) < statistics.median(random) / 2, (ours, random)


def test_optuna_is_reported_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real = builtins.__import__

    def no_optuna(name: str, *args, **kwargs):
        if name == "optuna":
            raise ImportError("no optuna")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_optuna)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[optuna\]"'):
        OptunaOracle(objective=keras_tuner.Objective(METRIC, "min"), hyperparameters=bowl_space())

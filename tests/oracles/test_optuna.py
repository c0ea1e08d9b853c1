"""OptunaOracle (TPE, CMA-ES through ask/tell): the shared contract and that the model helps."""

from __future__ import annotations

from pathlib import Path

import keras_tuner
import pytest

from tests.oracles.contract import (
    METRIC,
    OracleContract,
    best_loss,
    random_search,
    with_project,
)

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
        with_project(oracle, tmp_path, f"{sampler}{seed}")
        ours.append(best_loss(oracle, bowl, 40))
        rs = random_search(bowl_space(), 40, seed + 1, tmp_path, f"rs{sampler}{seed}")
        random.append(best_loss(rs, bowl, 40))
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


def test_several_objectives_use_multi_objective_tpe_and_cmaes_refuses_them(
    tmp_path: Path,
) -> None:
    import numpy as np

    from tests.oracles.contract import (
        BI_OBJECTIVES,
        random_hypervolumes,
        zdt1_hypervolumes,
        zdt1_space,
    )

    tpe, oracles = zdt1_hypervolumes(OptunaOracle, tmp_path, 40, range(3))
    study = oracles[0]._study(40, exclude="")
    assert len(study.directions) == 2 and len(study.trials[0].values) == 2
    random = random_hypervolumes(tmp_path, 40, range(3))
    assert np.median(tpe) > np.median(random), (tpe, random)
    with pytest.raises(ValueError, match="one objective"):
        OptunaOracle(
            objective=keras_tuner.Objective("f1", "min"),
            objectives=BI_OBJECTIVES,
            hyperparameters=zdt1_space(),
            sampler="cmaes",
        )


def test_optunas_gp_sampler_needs_torch_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "torch" else real(n)
    )
    with pytest.raises(ValueError, match="GPSampler needs torch"):
        OptunaOracle(
            objective=keras_tuner.Objective(METRIC, "min"),
            hyperparameters=bowl_space(),
            sampler="gp",
        )


def test_optunas_gp_sampler_searches_two_objectives_where_torch_is_installed(
    tmp_path: Path,
) -> None:
    """Only where torch is installed (it is not a dependency): the benchmarks' peer."""
    pytest.importorskip("torch")
    from functools import partial

    import numpy as np

    from tests.oracles.contract import random_hypervolumes, zdt1_hypervolumes

    gp, _ = zdt1_hypervolumes(
        partial(OptunaOracle, sampler="gp", num_initial_points=6), tmp_path, 20, range(2)
    )
    assert np.median(gp) > np.median(random_hypervolumes(tmp_path, 20, range(2)))

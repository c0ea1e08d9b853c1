"""Optuna's samplers (TPE, CMA-ES) behind a KerasTuner oracle, through ask/tell.

Optuna is an optional dependency (``pip install -e ".[optuna]"``); it is
imported when the oracle is created.
"""

from __future__ import annotations

import importlib.util
import math
from typing import Any

import keras_tuner
import numpy as np
from keras_tuner.engine.trial import TrialStatus

from kt_ext.oracles._base import SeededOracle
from kt_ext.oracles._candidates import leftover_values
from kt_ext.oracles._ucb import EncoderCache
from kt_ext.oracles.checks import (
    OPTUNA_ARGUMENTS,
    OPTUNA_SINGLE_OBJECTIVE,
    check_arguments,
    first_untried,
)

_ATTEMPTS = 20  # asks per proposal before falling back to an untried configuration


def _optuna() -> Any:
    try:
        import optuna
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            'strategy=tpe and strategy=cmaes need Optuna: pip install -e ".[optuna]"'
        ) from e
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class OptunaOracle(SeededOracle):
    """Trials proposed by an Optuna sampler: TPE (``"tpe"``), CMA-ES (``"cmaes"``) or its GP.

    Each proposal rebuilds an in-memory Optuna study from the oracle's trials
    (completed ones with their score, failed ones as FAIL, running ones as
    RUNNING, so parallel workers are spread by TPE's constant liar), asks the
    sampler for one trial and maps it to KerasTuner values. Numbers are
    sampled in KerasTuner's probability space (``value_to_prob``), which is
    log-scaled for log sampling and respects steps; choices and booleans are
    categorical. Conditional entries are suggested only when active.

    Nothing is kept outside :meth:`get_state` except caches: the sampler is
    re-seeded from ``(seed, trial index)`` for every proposal and CMA-ES's
    per-trial attributes are part of the state, so a reloaded oracle proposes
    exactly what the uninterrupted one would. A proposal is never the values
    of an earlier trial: after 20 duplicate asks the oracle takes an untried
    configuration at random, and a finite space that is exhausted stops the
    search.

    Args:
        sampler: ``"tpe"``, ``"cmaes"`` or ``"gp"`` (Optuna's GPSampler: log EI,
            or log EHVI with several objectives; needs ``torch``). With several
            ``objectives``, TPE is Optuna's multi-objective TPE (Ozaki et al.,
            2020), told each trial's objectives as costs
            (:meth:`Objective.cost`); CMA-ES has one objective.
        num_initial_points: Random trials before the sampler's model is used
            (TPE's and GPSampler's ``n_startup_trials``; CMA-ES starts at once, with
            categorical entries sampled by TPE).
        **oracle_args: ``objective``, ``max_trials``, ``hyperparameters``,
            ``seed`` (``0`` is a seed) and KerasTuner's other oracle
            arguments, as for :class:`kt_ext.oracles.SeededOracle`.
    """

    def __init__(
        self,
        sampler: str = "tpe",
        num_initial_points: int = 10,
        **oracle_args: Any,
    ) -> None:
        check_arguments(OPTUNA_ARGUMENTS, {"max_trials": 10, **locals(), **oracle_args})
        _optuna()
        super().__init__(**oracle_args)
        if self.multi and sampler in OPTUNA_SINGLE_OBJECTIVE:
            raise ValueError(f"`sampler` {sampler!r} searches one objective; use tpe or gp")
        if sampler == "gp" and importlib.util.find_spec("torch") is None:
            raise ValueError("The value of `sampler` is 'gp', but Optuna's GPSampler needs torch.")
        self.sampler = sampler
        self.num_initial_points = num_initial_points
        self._asked: dict[str, dict[str, Any]] = {}  # trial id -> Optuna params and attributes
        self._encoders = EncoderCache()

    # ------------------------------------------------------------------ state
    def get_state(self) -> dict[str, Any]:
        """KerasTuner's state plus each trial's Optuna parameters and system attributes."""
        state = super().get_state()
        state["optuna"] = self._asked
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`get_state`."""
        super().set_state(state)
        self._asked = dict(state.get("optuna", {}))

    # --------------------------------------------------------------- proposals
    def _make_sampler(self, index: int) -> Any:
        optuna = _optuna()
        seed = int(np.random.default_rng([self.seed, index]).integers(2**31 - 1))
        tpe = optuna.samplers.TPESampler(
            n_startup_trials=self.num_initial_points, seed=seed, constant_liar=True
        )
        if self.sampler == "tpe":
            return tpe
        if self.sampler == "gp":
            return optuna.samplers.GPSampler(
                seed=seed,
                n_startup_trials=self.num_initial_points,
                independent_sampler=tpe,
                warn_independent_sampling=False,
            )
        return optuna.samplers.CmaEsSampler(
            seed=seed, independent_sampler=tpe, warn_independent_sampling=False
        )

    def _study(self, index: int, exclude: str) -> Any:
        """An in-memory study holding every earlier trial."""
        optuna = _optuna()
        direction = "maximize" if self.objective.direction == "max" else "minimize"
        sampler = self._make_sampler(index)
        if self.multi:  # multi-objective TPE on the objectives as costs (log-scale costs in log10)
            directions = ["minimize"] * len(self.objectives)
            study = optuna.create_study(directions=directions, sampler=sampler)
        else:
            study = optuna.create_study(direction=direction, sampler=sampler)
        running = {t.trial_id for t in self.ongoing_trials.values()}
        for trial_id in sorted(self.trials):
            trial = self.trials[trial_id]
            if trial_id == exclude:
                continue
            asked = self._asked.get(trial_id) or self._as_asked(trial.hyperparameters.values)
            score = trial.score
            values = None
            if trial.status == TrialStatus.COMPLETED and self.multi:
                costs = self.cost_matrix([trial])[0]
                values = [float(c) for c in costs] if np.all(np.isfinite(costs)) else None
            elif trial.status == TrialStatus.COMPLETED and score is not None:
                values = [float(score)] if math.isfinite(score) else None
            if values is not None:
                state = optuna.trial.TrialState.COMPLETE
            elif trial_id in running:
                state = optuna.trial.TrialState.RUNNING
            else:
                state = optuna.trial.TrialState.FAIL
            study.add_trial(
                optuna.trial.create_trial(
                    params=asked["params"],
                    distributions={
                        k: optuna.distributions.json_to_distribution(v)
                        for k, v in asked["distributions"].items()
                    },
                    values=values,
                    state=state,
                    system_attrs=asked.get("system_attrs", {}),
                )
            )
        return study

    def _as_asked(self, values: dict[str, Any]) -> dict[str, Any]:
        """Optuna params and distributions of values the sampler did not propose."""
        optuna = _optuna()
        params, distributions = {}, {}
        for hp in self.hyperparameters.space:
            if hp.name not in values or type(hp).__name__ == "Fixed":
                continue
            if type(hp).__name__ in ("Choice", "Boolean"):
                choices = [False, True] if type(hp).__name__ == "Boolean" else list(hp.values)
                dist = optuna.distributions.CategoricalDistribution(choices)
                params[hp.name] = values[hp.name]
            else:
                dist = optuna.distributions.FloatDistribution(0.0, 1.0)
                params[hp.name] = min(max(float(hp.value_to_prob(values[hp.name])), 0.0), 1.0)
            distributions[hp.name] = optuna.distributions.distribution_to_json(dist)
        return {"params": params, "distributions": distributions}

    def _suggest(self, trial: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """KerasTuner values and the Optuna params of one asked trial."""
        hps = keras_tuner.HyperParameters()
        params: dict[str, Any] = {}
        for hp in self.hyperparameters.space:
            hps.merge([hp])
            if not hps.is_active(hp):
                continue
            kind = type(hp).__name__
            if kind == "Fixed":
                hps.values[hp.name] = hp.value
            elif kind in ("Choice", "Boolean"):
                choices = [False, True] if kind == "Boolean" else list(hp.values)
                value = trial.suggest_categorical(hp.name, choices)
                hps.values[hp.name] = value
                params[hp.name] = value
            else:
                prob = trial.suggest_float(hp.name, 0.0, 1.0)
                hps.values[hp.name] = hp.prob_to_value(min(prob, 1.0 - 1e-12))
                params[hp.name] = prob
        return dict(hps.values), params

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        """Values for the next trial from the sampler, never those of an earlier trial."""
        start = first_untried(self.initial_points, self._duplicate)
        if start is not None:
            return {"status": TrialStatus.RUNNING, "values": start}
        index = len(self.trials)
        study = self._study(index, exclude=trial_id)
        for _ in range(_ATTEMPTS):
            asked = study.ask()
            values, params = self._suggest(asked)
            if not self._duplicate(values):
                self._record(trial_id, asked, params)
                return {"status": TrialStatus.RUNNING, "values": _plain(values)}
            study.tell(asked, state=_optuna().trial.TrialState.FAIL)
        encoder = self._encoders.get(self.hyperparameters)
        leftover = leftover_values(
            encoder, np.random.default_rng([self.seed, index]), self._duplicate
        )
        if leftover is None:
            return {"status": TrialStatus.STOPPED, "values": None}
        return {"status": TrialStatus.RUNNING, "values": leftover}

    def _record(self, trial_id: str, asked: Any, params: dict[str, Any]) -> None:
        optuna = _optuna()
        self._asked[trial_id] = {
            "params": _plain(params),
            "distributions": {
                k: optuna.distributions.distribution_to_json(asked.distributions[k]) for k in params
            },
            "system_attrs": _plain(dict(asked.storage.get_trial_system_attrs(asked._trial_id))),
        }


def _plain(obj: Any) -> Any:
    """JSON-safe Python values (NumPy scalars become ints, floats, bools)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj

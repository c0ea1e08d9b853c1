"""What kt-ext's oracles share: KerasTuner's arguments, seed 0 kept, initial points, objectives."""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import Any

import keras_tuner
import numpy as np
from keras_tuner.engine.trial import TrialStatus

from kt_ext.objectives import Objective, as_costs, trial_vector
from kt_ext.oracles.checks import check_int


class SeededOracle(keras_tuner.Oracle):
    """A ``keras_tuner.Oracle`` for which ``seed=0`` is a seed, with ``initial_points``.

    KerasTuner replaces a falsy seed by a random one; here only ``None`` does.
    ``initial_points`` (``model.initial``, set by
    :func:`kt_ext.tuners.evaluate_first`) are configurations a subclass
    proposes before its own.

    ``objectives`` (``search.objectives``) are every objective of a
    multi-objective search; KerasTuner's ``objective`` is the first of them
    (trials' ``score``). Without it the oracle has the single objective.

    Args:
        objective: As for ``keras_tuner.Oracle``.
        max_trials: Total number of trials.
        hyperparameters: The search space.
        seed: Seed of all randomness, an integer ``>= 0``; ``None`` picks one.
        allow_new_entries: As for ``keras_tuner.Oracle``.
        tune_new_entries: As for ``keras_tuner.Oracle``.
        max_retries_per_trial: As for ``keras_tuner.Oracle``.
        max_consecutive_failed_trials: As for ``keras_tuner.Oracle``.
        objectives: Every objective as ``(name, direction)`` pairs, the first
            being ``objective``; ``None`` for a single objective.
    """

    def __init__(
        self,
        objective: Any = None,
        max_trials: int = 10,
        hyperparameters: keras_tuner.HyperParameters | None = None,
        seed: int | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        objectives: Sequence[Sequence[str]] | None = None,
    ) -> None:
        if seed is not None:
            check_int("seed", seed, 0)
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            seed=seed,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        if seed is not None:
            self.seed = self._seed_state = seed
        self.initial_points: list[dict[str, Any]] = []
        self.objectives = [Objective(str(n), str(d)) for n, d in objectives or ()]
        if not self.objectives and self.objective is not None:
            self.objectives = [Objective(self.objective.name, self.objective.direction)]

    @property
    def multi(self) -> bool:
        """Whether the oracle searches several objectives."""
        return len(self.objectives) > 1

    def cost_matrix(self, trials: Sequence[Any]) -> np.ndarray:
        """Costs ``(n, m)`` of ``trials`` on every objective (lower is better; missing: inf)."""
        return as_costs([trial_vector(t, self.objectives) for t in trials], self.objectives)

    def get_best_trials(self, num_trials: int = 1) -> list[Any]:
        """As KerasTuner's, but a completed trial whose score is not finite is never ranked first.

        KerasTuner sorts completed trials by score, so ``+inf`` wins a maximised
        objective and ``-inf`` a minimised one. Here completed trials with a
        finite score come first (best first), then the others in KerasTuner's order.
        """
        ranked = super().get_best_trials(len(self.trials))
        finite = [t for t in ranked if succeeded(t)]
        chosen = {t.trial_id for t in finite}
        return [*finite, *(t for t in ranked if t.trial_id not in chosen)][:num_trials]


def succeeded(trial: Any) -> bool | None:
    """Whether a trial succeeded: completed with a finite score (``None`` while it has no end).

    Failed and invalid trials (a loss that diverged, a model that could not be
    built) and completed ones without a finite score did not; the failure
    models of the GP oracle and of BOHB's sampler learn from this outcome.
    """
    if trial.status == TrialStatus.COMPLETED:
        return trial.score is not None and math.isfinite(float(trial.score))
    if trial.status in (TrialStatus.FAILED, TrialStatus.INVALID):
        return False
    return None


def oracle_parameters(cls: type) -> set[str]:
    """Names of the keyword arguments ``cls`` (a :class:`SeededOracle`) accepts."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is keras_tuner.Oracle:
            break
        if "__init__" in vars(klass):
            names |= {
                p.name
                for p in inspect.signature(vars(klass)["__init__"]).parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            }
    return names

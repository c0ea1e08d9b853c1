"""Tuners driven by kt-ext's oracles: GP-UCB, Optuna's samplers, coarse to fine.

Each is a ``keras_tuner.Tuner`` built around a new instance of its oracle
class (:class:`OracleTuner`), with kt-ext's trial recorder.
"""

from __future__ import annotations

from typing import Any

import keras_tuner

from kt_ext.oracles import GPUCBOracle, OptunaOracle, SeededOracle, ZoomOracle, oracle_parameters
from kt_ext.tuners._recorder import TrialRecorder


class OracleTuner(keras_tuner.Tuner):
    """A ``keras_tuner.Tuner`` driven by a new instance of the oracle class ``ORACLE``.

    Keyword arguments named like the oracle's parameters (``objective``,
    ``max_trials``, ``beta``, ``seed``, ``hyperparameters``, ...) go to the
    oracle, so its signature stays the one place their defaults live; the
    rest (``directory``, ``project_name``, ...) go to ``keras_tuner.Tuner``.

    Args:
        hypermodel: As for ``keras_tuner.Tuner``.
        **kwargs: Oracle and tuner arguments, see above.
    """

    ORACLE: type[SeededOracle]

    def __init__(self, hypermodel: Any = None, **kwargs: Any) -> None:
        names = oracle_parameters(self.ORACLE)
        oracle_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
        super().__init__(oracle=self.ORACLE(**oracle_kwargs), hypermodel=hypermodel, **kwargs)


class GPUCB(TrialRecorder, OracleTuner):
    """kt-ext's GP-UCB Bayesian optimisation, with per-trial seeds and recording."""

    ORACLE = GPUCBOracle


class Optuna(TrialRecorder, OracleTuner):
    """Optuna's TPE or CMA-ES sampler through ask/tell, with per-trial seeds and recording."""

    ORACLE = OptunaOracle


class Zoom(TrialRecorder, OracleTuner):
    """Coarse-to-fine stages with a random, GP or TPE inner strategy, with recording."""

    ORACLE = ZoomOracle

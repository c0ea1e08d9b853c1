"""KerasTuner's own search algorithms, each with kt-ext's trial recorder.

Their oracles are KerasTuner's; kt-ext adds per-trial seeds, failures with
reasons, TensorBoard and safe resume (:class:`kt_ext.tuners.TrialRecorder`).
Grid search, which also discretises floats, is in :mod:`kt_ext.tuners.grid`.
"""

from __future__ import annotations

import keras_tuner

from kt_ext.tuners._recorder import TrialRecorder


class RandomSearch(TrialRecorder, keras_tuner.RandomSearch):
    """KerasTuner's random search, with per-trial seeds and recording."""


class BayesianOptimization(TrialRecorder, keras_tuner.BayesianOptimization):
    """KerasTuner's GP Bayesian optimisation, with per-trial seeds and recording."""


class Hyperband(TrialRecorder, keras_tuner.Hyperband):
    """KerasTuner's Hyperband, with per-trial seeds and recording."""

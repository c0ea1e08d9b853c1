"""Tuners: KerasTuner's tuner classes with kt-ext's trial recorder, one file per algorithm.

The ``strategy`` configs name these classes (``_target_: kt_ext.tuners.GPUCB``).
Each is a ``keras_tuner.Tuner`` plus :class:`TrialRecorder`, whose hooks are
split by concern (``_checks``: seeds and failures; ``_board``: TensorBoard;
``_worker``: parallel workers; ``_resume``: safe resume and initial points).
:class:`~kt_ext.tuners.hypermodel.SpaceHyperModel` is what every trial builds and fits.
"""

from kt_ext.tuners._recorder import TrialRecorder
from kt_ext.tuners._resume import evaluate_first, repair_reloaded
from kt_ext.tuners._trial import first_non_finite, non_finite, trial_seed
from kt_ext.tuners._worker import NotShared, Recycle
from kt_ext.tuners.grid import GridSearch, discretise_floats
from kt_ext.tuners.halving import Halving
from kt_ext.tuners.kerastuner import BayesianOptimization, Hyperband, RandomSearch
from kt_ext.tuners.oracle_tuners import GPUCB, Optuna, OracleTuner, Zoom
from kt_ext.tuners.single import SingleTrial

__all__ = [
    "GPUCB",
    "BayesianOptimization",
    "GridSearch",
    "Halving",
    "Hyperband",
    "NotShared",
    "Optuna",
    "OracleTuner",
    "RandomSearch",
    "Recycle",
    "SingleTrial",
    "TrialRecorder",
    "Zoom",
    "discretise_floats",
    "evaluate_first",
    "first_non_finite",
    "non_finite",
    "repair_reloaded",
    "trial_seed",
]

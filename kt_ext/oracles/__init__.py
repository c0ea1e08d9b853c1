"""kt-ext's KerasTuner oracles. Import them from here, not from the private modules.

The oracle classes need KerasTuner (and so TensorFlow); they are imported on
first use, so the TensorFlow-free parts, :mod:`kt_ext.oracles.schedule` (the
successive-halving arithmetic) and :mod:`kt_ext.oracles.checks` (argument
rules), can be used by the config layer without that cost.
"""

from __future__ import annotations

from kt_ext.lazy import lazy_attributes
from kt_ext.oracles.schedule import HalvingSchedule as HalvingSchedule
from kt_ext.oracles.schedule import config_values as config_values

_LAZY = {
    "SeededOracle": "kt_ext.oracles._base",
    "oracle_parameters": "kt_ext.oracles._base",
    "GPUCBOracle": "kt_ext.oracles._gp_ucb",
    "HalvingOracle": "kt_ext.oracles._halving",
    "OptunaOracle": "kt_ext.oracles._optuna",
    "ZoomOracle": "kt_ext.oracles._zoom",
}

__all__ = sorted(["HalvingSchedule", "config_values", *_LAZY])

__getattr__ = lazy_attributes(__name__, _LAZY)

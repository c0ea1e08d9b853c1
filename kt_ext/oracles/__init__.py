"""kt-ext's KerasTuner oracles. Import them from here, not from the private modules."""

from kt_ext.oracles._base import SeededOracle, oracle_parameters
from kt_ext.oracles._gp_ucb import GPUCBOracle
from kt_ext.oracles._halving import HalvingOracle, config_values
from kt_ext.oracles._optuna import OptunaOracle
from kt_ext.oracles._zoom import ZoomOracle
from kt_ext.schedule import HalvingSchedule

__all__ = [
    "GPUCBOracle",
    "HalvingOracle",
    "HalvingSchedule",
    "OptunaOracle",
    "SeededOracle",
    "ZoomOracle",
    "config_values",
    "oracle_parameters",
]

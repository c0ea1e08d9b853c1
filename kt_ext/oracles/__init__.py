"""kt-ext's KerasTuner oracles. Import them from here, not from the private modules."""

from kt_ext.oracles._gp_ucb import GPUCBOracle

__all__ = ["GPUCBOracle"]

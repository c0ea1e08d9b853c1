"""Pure numpy/scipy Bayesian-optimisation core: GP regression, acquisition, its optimiser.

Nothing here imports TensorFlow, Keras or KerasTuner: arrays in, arrays out.
Oracles in :mod:`kt_ext.oracles` are thin wrappers around these functions.
"""

from kt_ext.gp._acquisition import (
    ACQUISITIONS,
    Acquisition,
    acquisition,
    acquisition_gradient,
    expected_improvement,
    final_beta,
    log_expected_improvement,
    srinivas_beta,
    ucb,
    ucb_gradient,
)
from kt_ext.gp._encoding import INACTIVE, SpaceEncoder
from kt_ext.gp._feasibility import FeasibilityModel
from kt_ext.gp._gp import (
    GaussianProcess,
    GPParams,
    cholesky,
    fit_params,
    neg_log_posterior,
    prior_lengthscale,
)
from kt_ext.gp._hypervolume import improvement_boxes, log_ehvi, log_ehvi_gradient, nondominated
from kt_ext.gp._kernel import matern52, matern52_g, scaled_distance, squared_differences
from kt_ext.gp._optimize import polish, sobol
from kt_ext.gp._outputs import OutputTransform, clip_bad_tail, standardise
from kt_ext.gp._threads import single_threaded_blas

__all__ = [
    "ACQUISITIONS",
    "Acquisition",
    "acquisition",
    "acquisition_gradient",
    "expected_improvement",
    "log_expected_improvement",
    "INACTIVE",
    "improvement_boxes",
    "log_ehvi",
    "log_ehvi_gradient",
    "nondominated",
    "FeasibilityModel",
    "SpaceEncoder",
    "polish",
    "sobol",
    "GPParams",
    "OutputTransform",
    "GaussianProcess",
    "cholesky",
    "clip_bad_tail",
    "fit_params",
    "matern52",
    "matern52_g",
    "neg_log_posterior",
    "prior_lengthscale",
    "scaled_distance",
    "single_threaded_blas",
    "squared_differences",
    "srinivas_beta",
    "final_beta",
    "standardise",
    "ucb",
    "ucb_gradient",
]

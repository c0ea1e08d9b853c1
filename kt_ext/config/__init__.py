"""Configuration: compose, validate and turn a Hydra config into plain settings.

Nothing here imports TensorFlow or KerasTuner, so a bad config fails in well
under two seconds with one line naming the key. Parts:

* :mod:`kt_ext.space`: the declarative search space (``model.space``);
* :mod:`kt_ext.config.strategies`: one registry entry per search strategy
  (its arguments' rules, its cost, its outputs);
* :mod:`kt_ext.config.safety`: what a ``_target_`` may name;
* :mod:`kt_ext.config.cli`: one-line errors for command lines Hydra cannot compose;
* :func:`validate`: the run-level keys, into :class:`RunSettings`.
"""

from kt_ext.config._settings import (
    CERT_ENV,
    KEY_ENV,
    TOKEN_ENV,
    DataSettings,
    ParallelSettings,
    RaySettings,
    RunSettings,
    SearchSettings,
    SlurmSettings,
)
from kt_ext.config._validate import discard_run_dir, validate, validate_or_exit

__all__ = [
    "CERT_ENV",
    "KEY_ENV",
    "TOKEN_ENV",
    "DataSettings",
    "ParallelSettings",
    "RaySettings",
    "RunSettings",
    "SearchSettings",
    "SlurmSettings",
    "discard_run_dir",
    "validate",
    "validate_or_exit",
]

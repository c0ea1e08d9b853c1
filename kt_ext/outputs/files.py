"""Every file name inside a run directory: the one place they are spelled.

A run directory (Hydra's ``outputs/<date>/<time>``, or one job of a
multirun) holds::

    kt/                         KerasTuner project: oracle.json, trial_<id>/ (trial.json,
                                checkpoints, continue.keras, failure.txt)
    tensorboard/                HParams experiment, one session and curves per trial
    workers/                    parallel tuning: worker logs and assignments.csv
    trials.csv                  one row per trial (several objectives: a column each, pareto 0/1)
    pareto.csv                  several objectives: the non-dominated trials
    best_table.txt / .csv       the best-N table
    best_hyperparameters.yaml   the winning values (search.select's trial), objective and score
    best_config.yaml            the full config with the winner's values (retrain it)
    best_model.keras            the best trial's model (best-epoch weights)
    model.keras                 scripts/train.py: the one configuration's model
    summary.json                scores, test metrics and counts
    search_settings.json        what defines the search (seed, strategy, space, ...): resume check
    rungs.csv                   successive halving: the rung each trial reached
    zoom_stages.csv             coarse to fine: every stage's ranges
    convergence.png, curves.png, partial_dependence.png   the report
    importance.png / .csv       the report: what mattered, per objective
    pareto.png                  the report, several objectives: the trials and their front

A multirun directory adds ``sweep_summary.csv`` and a ``convergence.png`` of
all jobs. Writers live in :mod:`kt_ext.outputs.writers` (run outputs),
:mod:`kt_ext.outputs.report` (plots) and :mod:`kt_ext.run.sweep`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

PROJECT = "kt"  # KerasTuner's project_name inside the run directory
ORACLE_FILE = "oracle.json"  # inside PROJECT
FAILURE_FILE = "failure.txt"  # inside a trial's directory: why it failed
CHECKPOINT = "continue.keras"  # inside a trial's directory: where a promoted trial continues
TENSORBOARD = "tensorboard"
# TensorBoard runs inside TENSORBOARD: search-level scalars, and per trial <trial>/train|validation
SEARCH_RUN = "search"
TRAIN_RUN = "train"
VALIDATION_RUN = "validation"
CURVE_PREFIX = "epoch_"  # Keras' TensorBoard names per-epoch scalars epoch_<metric>
WORKERS = "workers"
ASSIGNMENTS = f"{WORKERS}/assignments.csv"  # which worker ran which trial
HYDRA = ".hydra"  # Hydra's own files: config.yaml, overrides.yaml
HYDRA_CONFIG = f"{HYDRA}/config.yaml"  # the job's composed config, as Hydra saved it
HYDRA_OVERRIDES = f"{HYDRA}/overrides.yaml"  # the job's command-line overrides

TRIALS_CSV = "trials.csv"
TRIAL_FILE = "trial.json"  # KerasTuner's record of one trial, in kt/trial_<id>/
BEST_TABLE = "best_table.txt"
BEST_TABLE_CSV = "best_table.csv"
BEST_HYPERPARAMETERS = "best_hyperparameters.yaml"
BEST_CONFIG = "best_config.yaml"
BEST_MODEL = "best_model.keras"
MODEL = "model.keras"
SUMMARY = "summary.json"
PARETO_CSV = "pareto.csv"  # several objectives: the non-dominated trials
PARETO_PNG = "pareto.png"
IMPORTANCE_PNG = "importance.png"
IMPORTANCE_CSV = "importance.csv"
SEARCH_SETTINGS = "search_settings.json"  # kt_ext.config.resume: checked when a run resumes
RUNGS_CSV = "rungs.csv"
ZOOM_STAGES_CSV = "zoom_stages.csv"

CONVERGENCE_PNG = "convergence.png"
CURVES_PNG = "curves.png"
PARTIAL_DEPENDENCE_PNG = "partial_dependence.png"
SWEEP_SUMMARY = "sweep_summary.csv"


def job_dir_name(number: Any, overrides: str) -> str:
    """A job's directory name: its number and its overrides, safe as one path component.

    ``job_dir_name(0, "model=cnn,strategy=bayes")`` is ``0_model=cnn,strategy=bayes``;
    characters other than letters, digits and ``=,._+-`` become ``_`` (a ``/`` in a
    path value must not create directories) and the name is cut to 120 characters.
    """
    slug = _UNSAFE.sub("_", str(overrides))[:120]
    return f"{number}_{slug}" if slug else str(number)


_UNSAFE = re.compile(r"[^A-Za-z0-9=,._+\-]")


def job_order(path: Path) -> tuple[int, str]:
    """Sort key of job directories: job number first (``10_...`` after ``9_...``)."""
    head = path.name.split("_", 1)[0]
    return (int(head) if head.isdigit() else -1, path.name)


def sweep_jobs(sweep_dir: Path) -> list[Path]:
    """A Hydra sweep's job directories (each holds Hydra's :data:`HYDRA`), in job order."""
    return sorted((p for p in Path(sweep_dir).iterdir() if (p / HYDRA).is_dir()), key=job_order)

"""The run: orchestration of a search, a worker, a single training and a preview.

* :mod:`kt_ext.run.build`: the factories every process of a run shares
  (devices, data, hypermodel, tuner, TensorBoard writer);
* :mod:`kt_ext.run.search`: a search (or its chief) from start to outputs, and a worker;
* :mod:`kt_ext.run.train`: one configuration, trained by hand or retrained;
* :mod:`kt_ext.run.preview`: what a search will do, before it spends any time;
* :mod:`kt_ext.run.parallel`: KerasTuner's chief/worker engine, made robust;
* :mod:`kt_ext.run.sweep`: the end of a Hydra multirun.

These import TensorFlow, so the names below are imported on first use: the
entry points reach :mod:`kt_ext.run.sweep` (Hydra's resolvers) before the
config is validated without paying for TensorFlow.
"""

from __future__ import annotations

from kt_ext.lazy import lazy_attributes

_LAZY = {
    **dict.fromkeys(
        (
            "RunError",
            "callbacks",
            "load_data",
            "make_distribution",
            "make_hypermodel",
            "make_tuner",
            "prepare",
            "trial_board",
        ),
        "kt_ext.run.build",
    ),
    **dict.fromkeys(("RunResult", "run_search", "run_worker"), "kt_ext.run.search"),
}

__all__ = sorted([*_LAZY])

__getattr__ = lazy_attributes(__name__, _LAZY)

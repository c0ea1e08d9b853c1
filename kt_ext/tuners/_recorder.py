"""The trial recorder every kt-ext tuner is built with: KerasTuner's tuner plus our hooks.

:class:`TrialRecorder` composes the hooks, each in the module of its concern:

* :class:`~kt_ext.tuners._checks.TrialChecks`: per-trial seeds, failures
  with their reason (non-finite losses, out of memory, build errors), the
  extra metrics ``EPOCHS_RUN``, ``SECONDS`` and ``RSS_MIB``;
* :class:`~kt_ext.tuners._board.BoardHooks`: TensorBoard curves, HParams
  sessions and search scalars;
* :class:`~kt_ext.tuners._worker.WorkerHooks`: heartbeats, idle back-off and
  recycling as a parallel worker.

and, where the tuner is built, makes the project safe to resume:

* KerasTuner's JSON persistence is replaced by the atomic writer of
  :mod:`kt_ext.outputs.state` (:func:`kt_ext.outputs.state.install`, called
  here rather than at import, so importing kt-ext changes nothing);
* a reloaded project never re-runs a trial that had finished and never loses
  one that had just started (:func:`~kt_ext.tuners._resume.repair_reloaded`),
  whatever tuner id wrote it;
* the space's initial points (``model.initial``) are evaluated first,
  whatever the oracle (:func:`~kt_ext.tuners._resume.evaluate_first`);
* ``seed=0`` stays a seed for KerasTuner's own oracles (they replace a falsy
  seed by a random one), and their draws are seeded per trial from a hash of
  ``(seed, trial id)`` (:func:`~kt_ext.tuners._trial.independent_draws`), so
  runs with nearby seeds do not replay each other's configurations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kt_ext.oracles import SeededOracle
from kt_ext.outputs import state
from kt_ext.tuners._board import BoardHooks
from kt_ext.tuners._checks import TrialChecks
from kt_ext.tuners._resume import evaluate_first, repair_reloaded, share_project
from kt_ext.tuners._trial import independent_draws, trial_seed
from kt_ext.tuners._worker import WorkerHooks


class TrialRecorder(WorkerHooks, BoardHooks, TrialChecks):
    """Mixin for ``keras_tuner.Tuner`` subclasses; see the module docstring.

    Args:
        *args: Passed to the tuner.
        seed: The run seed (``0`` is a seed).
        initial_points: Configurations to evaluate first (``model.initial``).
        **kwargs: Passed to the tuner.
    """

    def __init__(
        self,
        *args: Any,
        seed: int | None = None,
        initial_points: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        state.install()
        self.run_seed = seed
        self.board = None
        self.after_trial: Callable[[Any], None] | None = None  # the run's watch (kt_ext.run.watch)
        self.heartbeat_seconds = 5.0
        self.recycle_after_trials = 0
        self.recycle_above_mib = 0.0
        self.trials_run = 0
        self._current_trial_id = None
        self._curve_loggers = []
        self._trial_started = 0.0
        self._created_trial = True
        self._heartbeat = None
        oracle_cls = getattr(self, "ORACLE", None)
        kerastuner_oracle = not (oracle_cls and issubclass(oracle_cls, SeededOracle))
        if seed == 0 and kerastuner_oracle:
            seed = trial_seed(0, "oracle") or 1  # KerasTuner's oracles turn 0 into a random seed
        share_project(kwargs.get("directory"), kwargs.get("project_name"))
        super().__init__(*args, seed=seed, **kwargs)
        if not self._is_worker():
            if kerastuner_oracle:
                independent_draws(self.oracle, self.run_seed)
            repair_reloaded(self.oracle)
            if initial_points:
                evaluate_first(self.oracle, initial_points)

    def on_trial_end(self, trial: Any) -> None:
        """End the trial through every hook, then tell the run (:attr:`after_trial`)."""
        super().on_trial_end(trial)
        if self.after_trial is not None:
            self.after_trial(trial)

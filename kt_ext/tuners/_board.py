"""TensorBoard hooks of a tuner: per-trial curves, HParams sessions and search scalars.

Given a :class:`kt_ext.outputs.board.TrialBoard` (``tuner.board``), each
:class:`kt_ext.outputs.curves.CurveLogger` callback is pointed at the trial's
directory (replaying the parent trial's earlier epochs for a configuration
that continues), and once the oracle has the trial's final record its HParams
session and the search-level scalars are written.
"""

from __future__ import annotations

import time
from typing import Any

import keras_tuner
from keras_tuner.engine.trial import TrialStatus

from kt_ext.gp import SpaceEncoder
from kt_ext.oracles.schedule import EPOCHS, INITIAL_EPOCH, PARENT
from kt_ext.outputs.board import TrialBoard
from kt_ext.outputs.curves import CurveLogger
from kt_ext.outputs.results import trial_rows
from kt_ext.tuners._mixin import TunerMixin


class BoardHooks(TunerMixin):
    """Mixin for ``keras_tuner.Tuner`` subclasses: see the module docstring.

    Attributes:
        board: Where to write; ``None`` writes nothing.
    """

    board: TrialBoard | None
    _curve_loggers: list[CurveLogger]
    _trial_started: float

    def _configure_tensorboard_dir(
        self, callbacks: list[Any], trial: keras_tuner.engine.trial.Trial, execution: int = 0
    ) -> None:
        """Point each :class:`CurveLogger` at this trial execution's directory."""
        super()._configure_tensorboard_dir(callbacks, trial, execution)
        if self.board is None:
            return
        values = trial.hyperparameters.values
        parent = values.get(PARENT)
        start = int(values.get(INITIAL_EPOCH, 0) or 0)
        if execution == 0:
            self.board.clear_curves(trial.trial_id)
        for cb in callbacks:
            if isinstance(cb, CurveLogger):
                replay = self.board.replay(parent, before=start) if parent and start > 0 else {}
                cb.configure(self.board.curve_dir(trial.trial_id, execution), replay)
                self._curve_loggers.append(cb)

    def on_trial_end(self, trial: keras_tuner.engine.trial.Trial) -> None:
        """End the trial, close its curves, log its session and search scalars."""
        super().on_trial_end(trial)
        for cb in self._curve_loggers:
            cb.close()
        self._curve_loggers = []
        if self.board is not None:
            self._log_trial(self.board, trial.trial_id)

    def on_search_begin(self) -> None:
        """Write the sessions a kill cut off before the search goes on.

        A trial's session is written once the oracle has recorded the trial as
        ended; a kill between the two leaves an ended trial without a session,
        and a resumed search never runs that trial again. The chief writes
        them here, from the oracle's record.
        """
        super().on_search_begin()
        is_worker = getattr(self, "_is_worker", lambda: False)
        if self.board is None or is_worker():
            return
        ended = (TrialStatus.COMPLETED, TrialStatus.FAILED, TrialStatus.INVALID)
        for trial_id, trial in sorted(self.oracle.trials.items()):
            if trial.status in ended and not self.board.has_session(trial_id):
                self._log_trial(self.board, trial_id, started=time.time())

    def _log_trial(self, board: TrialBoard, trial_id: str, started: float | None = None) -> None:
        """Write the trial's HParams session and search scalars to ``board``, from the oracle."""
        trial = self.oracle.get_trial(trial_id)
        values = trial.hyperparameters.values
        planned = None
        if EPOCHS in values:
            planned = int(values[EPOCHS]) - int(values.get(INITIAL_EPOCH, 0))
        rung_rows = getattr(self.oracle, "rung_rows", None)
        rung_row = None
        if rung_rows is not None:
            rung_row = next((r for r in rung_rows() if r["trial_id"] == trial_id), None)
        best = self.oracle.get_best_trials(1)
        proposal = (getattr(self.oracle, "proposals", None) or {}).get(trial_id)
        features: list[str] = []
        if proposal:
            features = SpaceEncoder(self.oracle.hyperparameters.get_config()["space"]).feature_names
        board.trial_ended(
            trial_rows([trial])[0],
            self._trial_started if started is None else started,
            planned_epochs=planned,
            halving=rung_row,
            best=best[0].score if best else None,
            proposal=proposal,
            features=features,
        )

    def on_search_end(self) -> None:
        """Close the search-level TensorBoard writer."""
        super().on_search_end()
        if self.board is not None:
            self.board.close()

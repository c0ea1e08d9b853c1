"""The Keras callback that writes a trial's per-epoch curves for TensorBoard.

Unlike ``keras.callbacks.TensorBoard`` (which KerasTuner redirects by class
name), :class:`CurveLogger` is pointed at its directory by the kt-ext tuners
(:meth:`configure`), one configuration per trial execution, and can replay
earlier epochs of the configuration first, so a trial that continues another
trial's model shows one continuous curve.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from kt_ext.outputs.board import EventLog
from kt_ext.outputs.files import CURVE_PREFIX, TRAIN_RUN, VALIDATION_RUN

Points = dict[str, dict[str, list[tuple[int, float]]]]  # run -> tag -> [(step, value)]


class CurveLogger(keras.callbacks.Callback):
    """Per-epoch ``train``/``validation`` scalars (``epoch_loss``, ``epoch_accuracy``, ...).

    Training logs go to ``<dir>/train``, ``val_*`` logs to ``<dir>/validation``,
    and the optimizer's learning rate to ``train/epoch_learning_rate``; the
    step is the epoch index (continuing from ``initial_epoch``). Nothing is
    written until :meth:`configure` gives a directory.
    """

    def __init__(self) -> None:
        super().__init__()
        self.log_dir: Path | None = None
        self.replay: Points = {}
        self._logs: dict[str, EventLog] = {}

    def configure(self, log_dir: Path, replay: Points | None = None) -> None:
        """Log into ``log_dir``, writing the ``replay`` points first."""
        self.close()
        self.log_dir = Path(log_dir)
        self.replay = replay or {}

    def _log(self, log_dir: Path, run: str) -> EventLog:
        if run not in self._logs:
            self._logs[run] = EventLog(log_dir / run)
        return self._logs[run]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Write the replayed points of earlier epochs."""
        if self.log_dir is None:
            return
        for run, series in self.replay.items():
            for tag, points in series.items():
                for step, value in points:
                    self._log(self.log_dir, run).scalar(tag, value, step)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Write this epoch's logs and learning rate."""
        if self.log_dir is None:
            return
        for key, value in (logs or {}).items():
            run, name = (VALIDATION_RUN, key[4:]) if key.startswith("val_") else (TRAIN_RUN, key)
            self._log(self.log_dir, run).scalar(CURVE_PREFIX + name, float(value), epoch)
        lr = self._learning_rate()
        if lr is not None:
            self._log(self.log_dir, TRAIN_RUN).scalar(CURVE_PREFIX + "learning_rate", lr, epoch)
        for log in self._logs.values():
            log.flush()

    def _learning_rate(self) -> float | None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return None
        try:
            return float(optimizer.learning_rate)  # a Variable, or a schedule's current value
        except (AttributeError, TypeError, ValueError):
            return None

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Close the event files."""
        self.close()

    def close(self) -> None:
        """Close the event files (also when training raised)."""
        for log in self._logs.values():
            log.close()
        self._logs = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> CurveLogger:
        # KerasTuner deep-copies callbacks per execution; a copy starts unconfigured.
        return CurveLogger()

"""Train one configuration: by hand ("panda mode"), or a tuned winner again from scratch.

:func:`train_one` trains ``settings.values`` the way a trial does: same data
pipelines, same callbacks (early stopping on the objective, TensorBoard
curves, ``TerminateOnNaN``), and a model seeded from ``(seed, trial_id)``
right after ``clear_session``, as :class:`kt_ext.tuners.TrialRecorder` seeds a
trial. Retraining a ``best_config.yaml`` (seed and trial id of the winner)
therefore starts from the winner's initial weights and data order.

Outputs in ``run_dir``::

    tensorboard/   the run's curves (live) and its HParams session
    model.keras    the model at its best epoch
    summary.json   values, best epoch, validation and test metrics, seconds
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kt_ext.config import RunSettings
from kt_ext.outputs import files, results
from kt_ext.outputs.curves import CurveLogger
from kt_ext.outputs.results import TrialRow
from kt_ext.run.build import RunError, callbacks, prepare, trial_board
from kt_ext.run.evaluate import describe, evaluate_and_save
from kt_ext.space import BATCH_SIZE
from kt_ext.tuners import first_non_finite, trial_seed

log = logging.getLogger(__name__)
MANUAL = "manual"  # trial id of a configuration trained by hand


@dataclass(frozen=True)
class TrainResult:
    """What one training run measured."""

    values: dict[str, Any]
    best_epoch: int
    epochs_run: int
    objective: float
    val_metrics: dict[str, float]
    test_metrics: dict[str, float]


class BestEpoch(keras.callbacks.Callback):
    """Keep the weights of the epoch with the best ``monitor`` value; restore them at the end.

    Args:
        monitor: The metric to watch (``val_accuracy``, ``val_loss``, ...).
        direction: ``"max"`` or ``"min"``.
    """

    def __init__(self, monitor: str, direction: str) -> None:
        super().__init__()
        self.monitor = monitor
        self.direction = direction
        self.best: float | None = None
        self.best_epoch = -1
        self.best_logs: dict[str, float] = {}
        self._weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Remember this epoch's weights and logs if it is the best so far."""
        value = (logs or {}).get(self.monitor)
        if value is None or not np.isfinite(value):
            return
        value = float(value)
        better = self.best is None or (
            value > self.best if self.direction == "max" else value < self.best
        )
        if better:
            self.best, self.best_epoch = value, epoch
            self.best_logs = {k: float(v) for k, v in (logs or {}).items()}
            self._weights = self.model.get_weights()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Put the best epoch's weights back."""
        if self._weights is not None:
            self.model.set_weights(self._weights)


def train_one(settings: RunSettings, run_dir: Path) -> TrainResult:
    """Train ``settings.values`` for up to ``search.epochs`` epochs and write the outputs.

    Raises:
        RunError: The objective never had a finite value (the
            training diverged).
    """
    run_dir = Path(run_dir)
    start = time.perf_counter()
    s = settings.search
    spec, distribution, data, hypermodel = prepare(settings)
    values = dict(settings.values)
    trial_id = settings.trial_id or MANUAL
    log.info("training %s", ", ".join(f"{k}={v}" for k, v in values.items()))
    board = trial_board(settings, run_dir, spec, distribution)
    board.write_experiment()
    # The trial's own callbacks (early stopping, curves), plus the best epoch and the NaN stop.
    trial_callbacks = callbacks(settings)
    curves = next(cb for cb in trial_callbacks if isinstance(cb, CurveLogger))
    board.clear_curves(trial_id)
    curves.configure(board.curve_dir(trial_id, 0), {})
    best = BestEpoch(s.objective, s.direction)
    all_callbacks = [*trial_callbacks, best, keras.callbacks.TerminateOnNaN()]
    keras.backend.clear_session()
    keras.utils.set_random_seed(trial_seed(settings.seed, trial_id))
    hp = settings.space.to_hyperparameters()
    hp.values.update(values)
    with distribution.scope():
        model = hypermodel.build_from_values(values)
    history = hypermodel.fit(hp, model, epochs=s.epochs, callbacks=all_callbacks)
    curves.close()
    epochs_run = len(history.epoch)
    seconds = time.perf_counter() - start
    bad = first_non_finite(history, ("loss",))
    status = "COMPLETED" if best.best is not None and bad is None else "FAILED"
    board.trial_ended(
        TrialRow(
            trial_id=trial_id,
            status=status,
            values=values,
            score=best.best,
            epochs=epochs_run,
            seconds=seconds,
            message=f"non-finite {bad}" if bad else "",
            metrics=dict(best.best_logs),
        ),
        time.time() - seconds,
    )
    board.close()
    if status == "FAILED":
        raise RunError(
            f"training diverged (non-finite {bad or s.objective}); try a lower model.values.lr"
        )
    test_metrics = evaluate_and_save(model, data, int(values[BATCH_SIZE]), run_dir / files.MODEL)
    result = TrainResult(
        values=values,
        best_epoch=best.best_epoch + 1,
        epochs_run=epochs_run,
        objective=float(best.best),
        val_metrics={k: v for k, v in best.best_logs.items() if k.startswith("val_")},
        test_metrics=test_metrics,
    )
    results.write_json(
        run_dir / files.SUMMARY,
        {
            "objective": s.objective,
            "direction": s.direction,
            "score": result.objective,
            "best_epoch": result.best_epoch,
            "epochs_run": epochs_run,
            "values": values,
            "seed": settings.seed,
            "trial_id": trial_id,
            **result.val_metrics,
            **test_metrics,
            "seconds": round(seconds, 2),
        },
    )
    log.info(
        "%s %.4f at epoch %d of %d; test: %s; model saved to %s",
        s.objective,
        result.objective,
        result.best_epoch,
        epochs_run,
        describe(test_metrics),
        run_dir / files.MODEL,
    )
    return result

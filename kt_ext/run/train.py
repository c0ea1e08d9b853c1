"""Train one configuration: by hand ("panda mode"), or a tuned winner again from scratch.

:func:`train_one` trains ``settings.values`` as a trial of a search is trained:
through :class:`kt_ext.tuners.SingleTrial`, the same tuner hooks, callbacks,
seeding (from ``(seed, trial_id)``), non-finite check and best-epoch
checkpoint, and :func:`kt_ext.run.evaluate.evaluate_and_save` for the model.
Retraining a ``best_config.yaml`` (seed and trial id of the winner)
therefore starts from the winner's initial weights and data order and gives
the winner's model. The KerasTuner project of that one trial lives in a
temporary folder of the run directory while it trains.

Outputs in ``run_dir``::

    tensorboard/   the run's curves (live) and its HParams session
    model.keras    the model at its best epoch
    summary.json   values, best epoch, validation and test metrics, seconds
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keras_tuner.engine.trial import TrialStatus

from kt_ext.config import RunSettings
from kt_ext.outputs import files, results
from kt_ext.outputs.results import EPOCHS_RUN, failure_reason
from kt_ext.run.build import (
    RunError,
    callbacks,
    experiment_arguments,
    prepare,
    trial_board,
    tuner_arguments,
)
from kt_ext.run.evaluate import describe, evaluate_and_save, load_trial_model
from kt_ext.tuners import SingleTrial

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


def train_one(settings: RunSettings, run_dir: Path) -> TrainResult:
    """Train ``settings.values`` for up to ``search.epochs`` epochs and write the outputs.

    Raises:
        RunError: The trial failed (its loss diverged, its model could not be built, ...).
    """
    run_dir = Path(run_dir)
    start = time.perf_counter()
    s = settings.search
    spec, distribution, data, hypermodel = prepare(settings)
    values = dict(settings.values)
    trial_id = settings.trial_id or MANUAL
    log.info("training %s", ", ".join(f"{k}={v}" for k, v in values.items()))
    board = trial_board(settings, run_dir, spec, distribution)
    board.write_experiment(**experiment_arguments(settings))
    with tempfile.TemporaryDirectory(dir=run_dir, prefix=".trial-") as project:
        tuner = SingleTrial(
            **tuner_arguments(settings, hypermodel, Path(project), distribution),
            max_trials=1,
            seed=settings.seed,
        )
        tuner.board = board
        trial = tuner.run_configuration(
            values,
            trial_id,
            epochs=s.epochs,
            callbacks=callbacks(settings),
            verbose=settings.keras_tuner_verbose,
        )
        if trial.status != TrialStatus.COMPLETED:
            raise RunError(
                f"training failed: {failure_reason(trial.message)}; "
                "for a diverged loss try a lower model.values.lr"
            )
        model, batch_size = load_trial_model(tuner, trial_id)
        test_metrics = evaluate_and_save(model, data, batch_size, run_dir / files.MODEL)
    metrics = {
        name: float(trial.metrics.get_last_value(name))
        for name in trial.metrics.metrics
        if not name.startswith("kt_ext/")
    }
    epochs_run = int(trial.metrics.get_last_value(EPOCHS_RUN))
    result = TrainResult(
        values=values,
        best_epoch=int(trial.best_step) + 1,
        epochs_run=epochs_run,
        objective=float(trial.score),
        val_metrics={k: v for k, v in metrics.items() if k.startswith("val_")},
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
            "seconds": round(time.perf_counter() - start, 2),
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

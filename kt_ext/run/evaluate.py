"""Evaluate a trained model on the test split and save it: the one helper both paths use.

A search saves its winner (``best_model.keras``) and a single training run
its model (``model.keras``) through :func:`evaluate_and_save`, so both report
``test_<metric>`` the same way and write the same kind of file.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import keras
import keras_tuner

from kt_ext.data import Splits
from kt_ext.outputs import state
from kt_ext.space import BATCH_SIZE

log = logging.getLogger(__name__)


def evaluate_and_save(
    model: keras.Model, data: Splits, batch_size: int, path: Path
) -> dict[str, float]:
    """The model's test metrics (``test_<name>``); the model is saved atomically to ``path``.

    The optimizer is built first, so the saved file reloads without a
    variable-count warning.
    """
    metrics = model.evaluate(data.eval_dataset("test", batch_size), verbose=0, return_dict=True)
    model.optimizer.build(model.trainable_variables)
    state.save_model(model, path)
    return {f"test_{k}": float(v) for k, v in metrics.items()}


def load_trial_model(tuner: keras_tuner.Tuner, trial_id: str) -> tuple[keras.Model, int]:
    """The trial's best-epoch model, reloaded by its tuner, and the batch size it trained with."""
    trial = tuner.oracle.get_trial(trial_id)
    with warnings.catch_warnings():
        # KerasTuner checkpoints hold weights only; the fresh optimizer has nothing to restore.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model = tuner.load_model(trial)
    return model, int(trial.hyperparameters.values[BATCH_SIZE])


def describe(metrics: dict[str, Any]) -> str:
    """``test_accuracy 0.9722, test_loss 0.0912``."""
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())

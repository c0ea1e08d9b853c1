"""Trial hooks of a tuner: per-trial seeds, failures with their reason, extra metrics.

* Every trial's model is seeded from ``(seed, trial_id)`` right before it is
  built (after KerasTuner's ``clear_session``), so weights and data order are
  reproducible per trial whatever ran before it.
* A trial fails, with its reason and without retries, when a loss or the
  objective turns NaN or infinite (training stops at that batch through
  ``keras.callbacks.TerminateOnNaN``), when its model cannot be built (a
  deterministic error), or when it runs out of memory (the message says what
  to try). The reason is also written to ``trial_<id>/failure.txt``, which is
  how it reaches the chief in parallel tuning.
* Three extra metrics reach the oracle per trial: ``EPOCHS_RUN`` (epochs
  actually trained), ``SECONDS`` (wall time of the whole trial) and
  ``RSS_MIB`` (the process's resident memory at its end).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import keras
import keras_tuner
from keras_tuner.src.engine.trial import TrialStatus

from kt_ext.outputs.files import FAILURE_FILE
from kt_ext.outputs.results import EPOCHS_RUN, RSS_MIB, SECONDS, failure_reason, write_text
from kt_ext.space import BATCH_SIZE
from kt_ext.tuners._mixin import TunerMixin
from kt_ext.tuners._trial import first_non_finite, trial_seed
from kt_ext.tuners.memory import rss_mib


class TrialChecks(TunerMixin):
    """Mixin for ``keras_tuner.Tuner`` subclasses: see the module docstring."""

    run_seed: int | None
    _current_trial_id: str | None
    _trial_started: float

    @property
    def objective_names(self) -> tuple[str, ...]:
        """The losses and objective whose non-finite values fail a trial."""
        return ("loss", "val_loss", self.oracle.objective.name)

    def on_trial_begin(self, trial: keras_tuner.engine.trial.Trial) -> None:
        """Note the trial's start time and clear a failure reason left by an earlier attempt."""
        self._trial_started = time.time()
        Path(self.get_trial_dir(trial.trial_id), FAILURE_FILE).unlink(missing_ok=True)
        super().on_trial_begin(trial)

    def on_trial_end(self, trial: keras_tuner.engine.trial.Trial) -> None:
        """Write a failed trial's reason to its ``failure.txt``, then end it."""
        if trial.message and trial.status != TrialStatus.COMPLETED:
            reason = failure_reason(trial.message)
            write_text(Path(self.get_trial_dir(trial.trial_id), FAILURE_FILE), reason + "\n")
        super().on_trial_end(trial)

    def run_trial(self, trial: keras_tuner.engine.trial.Trial, *args: Any, **kwargs: Any) -> Any:
        """Run the trial and add ``EPOCHS_RUN``, ``SECONDS`` and ``RSS_MIB`` to its histories.

        Raises:
            keras_tuner.errors.FailedTrialError: A loss or the objective became
                NaN or infinite, or the trial ran out of memory.
        """
        self._current_trial_id = trial.trial_id
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), keras.callbacks.TerminateOnNaN()]
        start = time.perf_counter()
        try:
            results = super().run_trial(trial, *args, **kwargs)
        except Exception as e:
            if type(e).__name__ == "ResourceExhaustedError" or isinstance(e, MemoryError):
                batch = trial.hyperparameters.values.get(BATCH_SIZE)
                raise keras_tuner.errors.FailedTrialError(
                    f"out of memory with {BATCH_SIZE}={batch}: try a smaller "
                    f"model.space.{BATCH_SIZE} or a smaller model ({type(e).__name__})"
                ) from e
            raise
        elapsed = time.perf_counter() - start
        for history in results if isinstance(results, list) else [results]:
            bad = first_non_finite(history, self.objective_names)
            if bad is not None:
                raise keras_tuner.errors.FailedTrialError(
                    f"non-finite {bad}; training stopped (try a lower learning rate)"
                )
            # Extra per-epoch series travel with the histories to the oracle, which
            # keeps each metric at the trial's best epoch (constant series here).
            n = len(getattr(history, "epoch", []))
            if n:
                history.history[EPOCHS_RUN] = [float(n)] * n
                history.history[SECONDS] = [elapsed] * n
                history.history[RSS_MIB] = [rss_mib()] * n
        return results

    def _build_hypermodel(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        if self._current_trial_id is not None:
            keras.utils.set_random_seed(trial_seed(self.run_seed, self._current_trial_id))
        try:
            return super()._build_hypermodel(hp)
        except (keras_tuner.errors.FatalError, keras_tuner.errors.FailedTrialError):
            raise
        except Exception as e:  # the same values fail the same way: no retry
            raise keras_tuner.errors.FailedTrialError(
                f"building the model failed: {type(e).__name__}: {e}"
            ) from e

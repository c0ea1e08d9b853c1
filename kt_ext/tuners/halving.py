"""Successive halving, ASHA, Hyperband and BOHB: the tuner of the halving oracle."""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import keras
import keras_tuner

from kt_ext.oracles import HalvingOracle
from kt_ext.oracles.schedule import EPOCHS, FRACTION, INITIAL_EPOCH, PARENT
from kt_ext.outputs import state
from kt_ext.outputs.files import CHECKPOINT
from kt_ext.outputs.results import EPOCHS_RUN, RSS_MIB, SECONDS
from kt_ext.tuners._recorder import TrialRecorder
from kt_ext.tuners._trial import non_finite
from kt_ext.tuners.memory import rss_mib
from kt_ext.tuners.oracle_tuners import OracleTuner


class _HalvingTuner(OracleTuner):
    """A ``keras_tuner.Tuner`` driven by :class:`kt_ext.oracles.HalvingOracle`.

    Each trial trains its configuration from ``tuner/initial_epoch`` to
    ``tuner/epochs``. A promoted trial (``tuner/initial_epoch`` > 0) starts
    from its parent trial's ``continue.keras``: the whole model, optimizer
    state included, saved at the epoch the parent stopped, so training goes
    on exactly where it left off. Every epoch's logs go to the oracle
    (``update_trial(..., step=epoch)``); when the oracle answers ``STOPPED``
    the trial saves ``continue.keras`` and stops. Under the data budget,
    ``tuner/fraction`` of the training data is used and every trial starts
    from scratch.

    Keras ``EarlyStopping`` callbacks are dropped: the schedule decides when
    trials stop. Oracle arguments are split off as in :class:`GPUCB`.

    Args:
        hypermodel: As for ``keras_tuner.Tuner``; its ``fit`` must accept a
            ``train_fraction`` keyword (as :class:`~kt_ext.tuners.hypermodel.SpaceHyperModel`'s
            does).
        **kwargs: Oracle and tuner arguments.
    """

    ORACLE = HalvingOracle

    def __init__(self, hypermodel: Any = None, **kwargs: Any) -> None:
        executions = kwargs.get("executions_per_trial", 1)
        if executions != 1:
            raise ValueError(
                f"The value of `executions_per_trial` is {executions!r}, but must be 1 with "
                "successive halving (a trial continues one model)."
            )
        self._trial_start = 0.0
        self._loading = False
        super().__init__(hypermodel=hypermodel, **kwargs)

    def search(self, *args: Any, **kwargs: Any) -> None:
        """As ``keras_tuner.Tuner.search``; epochs come from the schedule, not ``epochs=``."""
        epochs = kwargs.get("epochs")
        try:
            max_epochs = self.oracle.max_epochs
        except AttributeError:  # a worker's oracle client does not forward it
            max_epochs = None
        if epochs is not None and max_epochs is not None and epochs != max_epochs:
            warnings.warn(
                f"search(epochs={epochs}) is not used: successive halving trains each trial "
                f"up to its rung's budget, at most max_epochs={max_epochs}.",
                stacklevel=2,
            )
        super().search(*args, **kwargs)

    def run_trial(self, trial: keras_tuner.engine.trial.Trial, *args: Any, **kwargs: Any) -> Any:
        values = trial.hyperparameters.values
        kwargs["epochs"] = int(values[EPOCHS])
        kwargs["initial_epoch"] = int(values[INITIAL_EPOCH])
        if FRACTION in values:
            kwargs["train_fraction"] = float(values[FRACTION])
        kwargs["callbacks"] = [
            cb
            for cb in kwargs.get("callbacks", [])
            if not isinstance(cb, keras.callbacks.EarlyStopping)
        ]
        self._trial_start = time.perf_counter()
        return super().run_trial(trial, *args, **kwargs)

    def _run_and_update_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            # Results reach the oracle per epoch, so KerasTuner skips its final report and warns.
            warnings.filterwarnings("ignore", message="The use case of calling")
            return super()._run_and_update_trial(trial, *args, **kwargs)

    def load_model(self, trial: keras_tuner.engine.trial.Trial) -> keras.Model:
        """The trial's best-epoch model, built fresh (no parent checkpoint) before loading."""
        self._loading = True
        try:
            return super().load_model(trial)
        finally:
            self._loading = False

    def _build_hypermodel(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        parent = hp.values.get(PARENT)
        if self._loading or not parent or int(hp.values.get(INITIAL_EPOCH, 0)) == 0:
            return super()._build_hypermodel(hp)
        path = os.path.join(self.get_trial_dir(parent), CHECKPOINT)
        with keras_tuner.engine.tuner.maybe_distribute(self.distribution_strategy):
            return keras.saving.load_model(path, safe_mode=True)

    def on_epoch_end(
        self,
        trial: keras_tuner.engine.trial.Trial,
        model: keras.Model,
        epoch: int,
        logs: dict[str, Any] | None = None,
    ) -> None:
        values = trial.hyperparameters.values
        metrics = {k: float(v) for k, v in (logs or {}).items()}
        if non_finite(metrics, ("loss", "val_loss", self.oracle.objective.name)):
            model.stop_training = True  # run_trial fails the trial; the oracle never sees it
            return
        metrics[EPOCHS_RUN] = float(epoch + 1 - int(values[INITIAL_EPOCH]))
        metrics[SECONDS] = time.perf_counter() - self._trial_start
        metrics[RSS_MIB] = rss_mib()
        answer = self.oracle.update_trial(trial.trial_id, metrics, step=epoch)
        stop = answer.status == keras_tuner.engine.trial.TrialStatus.STOPPED
        last = epoch + 1 >= int(values[EPOCHS])
        if (stop or last) and FRACTION not in values:
            state.save_model(model, os.path.join(self.get_trial_dir(trial.trial_id), CHECKPOINT))
        if stop:
            model.stop_training = True


class Halving(TrialRecorder, _HalvingTuner):
    """kt-ext's successive halving / Hyperband / BOHB, with per-trial seeds and recording."""

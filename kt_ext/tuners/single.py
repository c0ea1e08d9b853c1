"""One given configuration, trained as a trial of a search is: ``scripts/train.py``'s tuner.

:class:`SingleTrial` is a tuner with kt-ext's trial recorder whose oracle
proposes nothing: :meth:`SingleTrial.run_configuration` registers the
configuration as a running trial under a chosen id (``manual``, or the id
of a tuned winner, whose seed it then shares), and runs it through the very
hooks a search runs each of its trials through (seeding, callbacks, the
non-finite check, best-epoch checkpoint, TensorBoard session). Training one
configuration by hand and retraining a winner therefore take the same path
as a search, and give the same model.
"""

from __future__ import annotations

from typing import Any

import keras_tuner
from keras_tuner.engine.trial import Trial, TrialStatus

from kt_ext.oracles import SeededOracle
from kt_ext.tuners._recorder import TrialRecorder
from kt_ext.tuners.oracle_tuners import OracleTuner


class GivenOracle(SeededOracle):
    """An oracle that runs only the configurations it is given (:meth:`start_trial`)."""

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        """Nothing more to propose: the search stops."""
        return {"status": TrialStatus.STOPPED, "values": None}

    def start_trial(self, tuner_id: str, values: dict[str, Any], trial_id: str) -> Trial:
        """Register ``values`` as a running trial ``trial_id``, as ``create_trial`` does.

        Args:
            tuner_id: The tuner that runs it.
            values: The configuration's active values.
            trial_id: Its id (the seed and the TensorBoard run follow from it).
        """
        hp = self.hyperparameters.copy()
        hp.values = dict(values)
        trial = Trial(hyperparameters=hp, trial_id=trial_id, status=TrialStatus.RUNNING)
        self.tuner_ids.add(tuner_id)
        self._record_values(trial)
        self.ongoing_trials[tuner_id] = trial
        self.trials[trial_id] = trial
        self.start_order.append(trial_id)
        self._save_trial(trial)
        self.save()
        self._display.on_trial_begin(trial)
        return trial


class SingleTrial(TrialRecorder, OracleTuner):
    """A tuner that trains one given configuration as a trial (see the module docstring)."""

    ORACLE = GivenOracle

    def run_configuration(
        self, values: dict[str, Any], trial_id: str, **fit_kwargs: Any
    ) -> keras_tuner.engine.trial.Trial:
        """Train ``values`` as trial ``trial_id``; the oracle's record of the ended trial.

        Args:
            values: The configuration's active values.
            trial_id: The trial's id.
            **fit_kwargs: As for ``search`` (``epochs``, ``callbacks``, ``verbose``: as
                ``search`` does, it also sets whether KerasTuner prints its tables).
        """
        if "verbose" in fit_kwargs:
            self.oracle.verbose = fit_kwargs["verbose"]
        self.on_search_begin()
        trial = self.oracle.start_trial(self.tuner_id, values, trial_id)
        self.on_trial_begin(trial)
        self._try_run_and_update_trial(trial, **fit_kwargs)
        self.on_trial_end(trial)
        self.on_search_end()
        return self.oracle.get_trial(trial_id)

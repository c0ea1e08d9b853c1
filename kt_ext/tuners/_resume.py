"""Resume and hand-over repairs of a reloaded KerasTuner project, and ``model.initial``.

KerasTuner writes a trial's file and the oracle's file at different moments,
so a process killed in between leaves a project that would run a trial twice
or never; :func:`repair_reloaded` mends that. :func:`share_project` lets a
project written under one tuner id be resumed under another (single process
vs. parallel workers). :func:`evaluate_first` makes any oracle propose the
configured initial points first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras_tuner
from keras_tuner.src.distribute import utils as dist_utils
from keras_tuner.src.engine.trial import TrialStatus

from kt_ext.oracles.checks import first_untried
from kt_ext.outputs.files import ORACLE_FILE
from kt_ext.outputs.results import write_text

FINISHED = (TrialStatus.COMPLETED, TrialStatus.FAILED)


def share_project(directory: str | None, project: str | None) -> None:
    """Let this process resume a project another tuner id wrote.

    KerasTuner reloads a project only if ``<tuner_id>.json`` exists, so a
    run started in one process and resumed in parallel mode (or the other
    way round) would otherwise start over and overwrite the trials. The file
    holds no state of its own (``{}``).
    """
    if (
        directory is None
        or project is None
        or dist_utils.has_chief_oracle()
        and not (dist_utils.is_chief_oracle())
    ):
        return
    project_dir = Path(directory, project)
    tuner_file = project_dir / f"{os.environ.get('KERASTUNER_TUNER_ID', 'tuner0')}.json"
    if (project_dir / ORACLE_FILE).exists() and not tuner_file.exists():
        write_text(tuner_file, "{}")


# KerasTuner oracles whose own bookkeeping breaks on trials they did not generate.
NO_INITIAL_POINTS = (keras_tuner.oracles.GridSearchOracle, keras_tuner.oracles.HyperbandOracle)


def evaluate_first(oracle: keras_tuner.Oracle, points: list[dict[str, Any]]) -> None:
    """Make ``oracle`` propose ``points`` (``model.initial``) before anything else.

    kt-ext's oracles take them as ``initial_points`` (successive halving as its
    first new configurations); KerasTuner's get a ``populate_space`` that
    returns the first untried point while there is one.
    """
    if hasattr(oracle, "initial_points"):
        oracle.initial_points = [dict(p) for p in points]
        return
    if isinstance(oracle, NO_INITIAL_POINTS):
        raise ValueError(
            f"The value of `initial_points` is {points!r}, but {type(oracle).__name__} "
            "enumerates its own trials, so it cannot evaluate other points first."
        )
    inner = oracle.populate_space

    def populate_space(trial_id: str) -> dict[str, Any]:
        start = first_untried(points, oracle._duplicate)
        if start is not None:
            return {"status": TrialStatus.RUNNING, "values": start}
        return inner(trial_id)

    oracle.populate_space = populate_space


def repair_reloaded(oracle: keras_tuner.Oracle) -> None:
    """Fix the retry queue of a reloaded oracle so that no trial runs twice or never.

    * A trial that had finished is dropped from it: KerasTuner's ``end_trial``
      saves the oracle while the finished trial is still among the running
      ones, so a process killed right after would run it again.
    * A trial left RUNNING that the saved state does not know as running is
      added: ``create_trial`` writes the trial's file before the oracle's, so
      a process killed in between would count the trial and never run it.

    And a trial whose file says it finished while the saved state missed its
    end (``end_trial`` also writes the trial before the oracle) is recorded as
    ended once, in ``end_order`` and ``run_times``, as if the save had happened.
    """
    queue = [
        t for t in getattr(oracle, "_retry_queue", []) if oracle.trials[t].status not in FINISHED
    ]
    running = {t.trial_id for t in oracle.ongoing_trials.values()}
    for trial_id in sorted(oracle.trials):
        trial = oracle.trials[trial_id]
        if (
            trial.status == TrialStatus.RUNNING
            and trial_id not in queue
            and trial_id not in running
        ):
            queue.insert(0, trial_id)  # the queue is popped from its end: earlier trials first
    oracle._retry_queue = queue
    ended = set(oracle.end_order)
    for trial_id in sorted(oracle.trials):
        if oracle.trials[trial_id].status in FINISHED and trial_id not in ended:
            oracle.end_order.append(trial_id)
            oracle._run_times[trial_id] = max(1, oracle._run_times[trial_id])

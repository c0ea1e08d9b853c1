"""Parallel-worker hooks of a tuner: heartbeats, idle back-off and recycling.

As a worker of :mod:`kt_ext.run.parallel`, the tuner tells the chief every
``heartbeat_seconds`` that its trial is alive, backs off briefly when the
oracle has nothing to run yet, and, with ``recycle_after_trials`` or
``recycle_above_mib`` set, raises :class:`Recycle` between trials once either
limit is reached, so the process can exit and be replaced by a fresh one
(bounding its RAM).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import keras_tuner

from kt_ext.outputs.files import TRIAL_FILE
from kt_ext.tuners._mixin import TunerMixin
from kt_ext.tuners.memory import rss_mib

IDLE_WAIT = 0.2  # seconds a worker waits after the oracle had nothing to run


SHARED_WAIT = 10.0  # seconds a worker waits to see the chief's file of its trial (NFS caches)


class Recycle(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a worker's tuner between trials once its recycling limit is reached."""


class NotShared(RuntimeError):
    """A worker's run directory is not the chief's: the trial the chief created is not in it."""


class WorkerHooks(TunerMixin):
    """Mixin for ``keras_tuner.Tuner`` subclasses: see the module docstring.

    Attributes:
        heartbeat_seconds: Seconds between two signs of life to the chief.
        recycle_after_trials: Leave the search after this many trials (0: never).
        recycle_above_mib: Leave once resident memory exceeds this (0: never).
    """

    heartbeat_seconds: float
    recycle_after_trials: int
    recycle_above_mib: float
    trials_run: int
    _created_trial: bool
    _heartbeat: threading.Event | None

    def pre_create_trial(self) -> None:
        """Back off briefly after an IDLE answer; as a worker, recycle once over a limit.

        Raises:
            Recycle: This worker ran ``recycle_after_trials`` trials, or its
                resident memory exceeds ``recycle_above_mib``.
        """
        if self._is_worker() and self.trials_run:
            if 0 < self.recycle_after_trials <= self.trials_run:
                raise Recycle(f"ran {self.trials_run} trial(s)")
            if self.recycle_above_mib > 0 and (rss := rss_mib()) > self.recycle_above_mib:
                raise Recycle(f"holds {rss:.0f} MiB after {self.trials_run} trial(s)")
        if not self._created_trial:
            time.sleep(IDLE_WAIT)
        self._created_trial = False
        super().pre_create_trial()

    def on_trial_begin(self, trial: keras_tuner.engine.trial.Trial) -> None:
        """Count the trial; as a parallel worker, check the run directory is shared, then beat.

        The chief writes a trial's file into its project before handing the
        trial out, so a worker that cannot see it within :data:`SHARED_WAIT`
        seconds trains into some other directory: its results and checkpoints
        would never reach the chief.

        Raises:
            NotShared: The trial's file is not in this worker's project.
        """
        self._created_trial = True
        self.trials_run += 1
        if self._is_worker():
            shared = Path(self.project_dir) / f"trial_{trial.trial_id}" / TRIAL_FILE
            deadline = time.monotonic() + SHARED_WAIT
            while not shared.exists():
                if time.monotonic() > deadline:
                    raise NotShared(
                        f"trial {trial.trial_id} from the chief is not in {self.project_dir}: "
                        "parallel.run_dir must be the chief's run directory, on a filesystem "
                        "this machine shares with it"
                    )
                time.sleep(0.2)
            self._heartbeat = threading.Event()
            threading.Thread(
                target=self._beat, args=(trial.trial_id, self._heartbeat), daemon=True
            ).start()
        super().on_trial_begin(trial)

    def _beat(self, trial_id: str, done: threading.Event) -> None:
        """Ask the chief for the trial every ``heartbeat_seconds`` (it counts as a sign of life)."""
        while not done.wait(self.heartbeat_seconds):
            try:
                self.oracle.get_trial(trial_id)
            except Exception:  # noqa: BLE001 - a missed beat is not fatal; the chief decides
                pass

    def on_trial_end(self, trial: keras_tuner.engine.trial.Trial) -> None:
        """Stop the trial's heartbeat, then end it."""
        if self._heartbeat is not None:
            self._heartbeat.set()
            self._heartbeat = None
        super().on_trial_end(trial)

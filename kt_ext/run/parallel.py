"""Parallel tuning on KerasTuner's chief/worker engine, with dead-worker recovery.

KerasTuner's own chief (``keras_tuner.src.distribute.oracle_chief``) serves
the oracle over gRPC on whatever address it is given, never notices a dead
worker (its trial stays RUNNING and the chief never exits) and hands out
``STOPPED`` while other trials still run, so a trial that has to be re-run
finds no worker left. :class:`OracleServer` keeps KerasTuner's protocol and
oracle, so its workers are plain KerasTuner workers, and adds:

* binding to ``127.0.0.1`` unless told otherwise, and beyond loopback only
  with TLS and a shared token (:mod:`kt_ext.run.secure`) or
  ``parallel.insecure=true`` from the command line;
* liveness: every request about a trial (workers ask for their trial every
  ``heartbeat_seconds``, :class:`kt_ext.tuners.TrialRecorder`) counts as a
  sign of life. A running trial silent for ``grace_seconds``, or whose local
  worker process has exited, goes back to the queue and the next free worker
  runs it again from the start;
* workers get ``IDLE`` (and wait) rather than ``STOPPED`` while trials still
  run elsewhere, so a re-queued trial always finds a worker;
* a worker presumed dead that speaks up before anyone else took its trial
  keeps it; once the trial has finished elsewhere, its late reports are
  ignored (the first result wins) and it is told to stop at its next epoch
  (the halving tuner reports every epoch);
* the reason a trial failed (``trial_<id>/failure.txt``, written by the
  worker) is recorded on the chief, which the protocol alone cannot carry.

:mod:`kt_ext.run.workers` starts, replaces and stops the local worker processes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import keras_tuner
from keras_tuner.src import protos
from keras_tuner.src.distribute import oracle_chief
from keras_tuner.src.engine import conditions as conditions_module
from keras_tuner.src.engine import trial as trial_module

from kt_ext.outputs import status as status_files
from kt_ext.outputs.files import ASSIGNMENTS, FAILURE_FILE
from kt_ext.outputs.serve import is_loopback
from kt_ext.run import secure
from kt_ext.run.launchers import Worker
from kt_ext.run.workers import RECYCLED

log = logging.getLogger(__name__)

# KerasTuner prints the first value of every condition it puts in a message
# (``Parent.to_proto`` has a stray ``print``), so a parallel search over a
# conditional space printed "sgd" several times per trial; that module's
# ``print`` is silenced here, where its messages are sent.
conditions_module.print = lambda *args, **kwargs: None  # type: ignore[attr-defined]

TrialStatus = trial_module.TrialStatus
FINISHED = (TrialStatus.COMPLETED, TrialStatus.FAILED)
POLL_SECONDS = 0.5
DRAIN_SECONDS = 30.0  # at most this long (or the grace period) for the workers to hear "stop"


class ParallelError(RuntimeError):
    """The parallel search cannot go on (the server cannot bind, every worker is gone)."""


class _Servicer(oracle_chief.OracleServicer):
    """KerasTuner's servicer plus liveness bookkeeping; see the module docstring."""

    def __init__(self, oracle: keras_tuner.Oracle, project_dir: Path, assignments: Path) -> None:
        super().__init__(oracle)
        self.project_dir = project_dir
        self.assignments = assignments
        self.last_seen: dict[str, float] = {}  # trial id -> time of the last request about it
        self.owner: dict[str, str] = {}  # trial id -> the worker it was last handed to
        self.started = time.monotonic()
        self.failure: RuntimeError | None = None  # KerasTuner's too-many-failures error
        self.asked: set[str] = set()  # workers that asked for a trial
        self.told_to_stop: set[str] = set()  # ... and those that were told the search is over

    def _seen(self, trial_id: str) -> None:
        self.last_seen[trial_id] = time.monotonic()

    def _assigned(self, trial_id: str, tuner_id: str) -> None:
        new = not self.assignments.exists()
        self.assignments.parent.mkdir(parents=True, exist_ok=True)
        with open(self.assignments, "a") as f:
            if new:
                f.write("trial_id,worker,time\n")
            f.write(f"{trial_id},{tuner_id},{time.time():.3f}\n")

    def _running_elsewhere(self) -> bool:
        return bool(self.oracle.ongoing_trials or self.oracle._retry_queue)

    def CreateTrial(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        self.asked.add(request.tuner_id)
        if self.failure is not None:
            trial = trial_module.Trial(self.oracle.get_space(), status=TrialStatus.STOPPED)
            self.told_to_stop.add(request.tuner_id)
            return protos.get_service().CreateTrialResponse(trial=trial.to_proto())
        before = self.oracle.ongoing_trials.get(request.tuner_id)
        trial = self.oracle.create_trial(request.tuner_id)
        if trial.status == TrialStatus.RUNNING:
            if before is None or before.trial_id != trial.trial_id:  # not a repeated request
                self._assigned(trial.trial_id, request.tuner_id)
                self.owner[trial.trial_id] = request.tuner_id
            self._seen(trial.trial_id)
        elif trial.status == TrialStatus.STOPPED:
            if self._running_elsewhere():  # a trial may still need another worker: wait
                trial.status = TrialStatus.IDLE
            else:
                self.stop_triggered = True
                self.told_to_stop.add(request.tuner_id)
        return protos.get_service().CreateTrialResponse(trial=trial.to_proto())

    def UpdateTrial(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._heard_of(request.trial_id)
        trial = self.oracle.get_trial(request.trial_id)
        if self._finished(request.trial_id):  # a late worker: its result no longer counts
            stopped = trial_module.Trial(
                trial.hyperparameters, trial_id=trial.trial_id, status=TrialStatus.STOPPED
            )
            return protos.get_service().UpdateTrialResponse(trial=stopped.to_proto())
        return super().UpdateTrial(request, context)

    def EndTrial(self, request: Any, context: Any) -> Any:  # noqa: N802
        trial = trial_module.Trial.from_proto(request.trial)
        if self._finished(trial.trial_id):
            log.warning("trial %s already ended: a late result is ignored", trial.trial_id)
            return protos.get_service().EndTrialResponse()
        if trial.status != TrialStatus.COMPLETED:
            reason = self.project_dir / f"trial_{trial.trial_id}" / FAILURE_FILE
            if reason.exists():
                trial.message = reason.read_text().strip()
        _dequeue(self.oracle, trial.trial_id)
        try:
            self.oracle.end_trial(trial)
        except RuntimeError as e:  # too many consecutive failures: stop every worker
            self.failure = e
            self.stop_triggered = True
        return protos.get_service().EndTrialResponse()

    def GetTrial(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._heard_of(request.trial_id)
        return super().GetTrial(request, context)

    def _finished(self, trial_id: str) -> bool:
        return (
            self.oracle.get_trial(trial_id).status in FINISHED and trial_id in self.oracle.end_order
        )

    def _heard_of(self, trial_id: str) -> None:
        """A sign of life for ``trial_id``; a re-queued trial goes back to its worker."""
        self._seen(trial_id)
        owner = self.owner.get(trial_id)
        if owner is not None and trial_id in self.oracle._retry_queue:
            _reclaim(self.oracle, trial_id, owner)


@keras_tuner.synchronized
def _dequeue(oracle: keras_tuner.Oracle, trial_id: str) -> None:
    """Take ``trial_id`` off the retry queue (its presumed-dead worker reported after all)."""
    oracle._retry_queue = [t for t in oracle._retry_queue if t != trial_id]


@keras_tuner.synchronized
def _reclaim(oracle: keras_tuner.Oracle, trial_id: str, tuner_id: str) -> None:
    """Give a re-queued trial back to ``tuner_id``, which turned out to be alive."""
    if _hand_back(oracle, trial_id, tuner_id):
        log.warning("trial %s: %s is alive after all and keeps it", trial_id, tuner_id)


def _hand_back(oracle: keras_tuner.Oracle, trial_id: str, tuner_id: str) -> bool:
    """Move ``trial_id`` from the retry queue to ``tuner_id``'s running trial (caller locks).

    Returns:
        Whether it moved (not if it is not queued or ``tuner_id`` runs another trial).
    """
    if trial_id not in oracle._retry_queue or tuner_id in oracle.ongoing_trials:
        return False
    oracle._retry_queue = [t for t in oracle._retry_queue if t != trial_id]
    oracle.ongoing_trials[tuner_id] = oracle.trials[trial_id]
    oracle.tuner_ids.add(tuner_id)
    return True


@keras_tuner.synchronized
def _restore_owners(oracle: keras_tuner.Oracle, servicer: _Servicer, run_dir: Path) -> list[str]:
    """After a restart, give the trials that were running back to their workers, for now.

    KerasTuner's reload puts every trial that was running into the retry
    queue, so the next worker to ask would run it again while its worker, if
    it survived the chief, is still training it. Instead each goes back to
    the worker it was last handed to (``workers/assignments.csv``) as if that
    worker had just spoken: if it reports within ``grace_seconds`` it keeps
    its trial, otherwise the liveness rule re-queues it as for any silent
    worker.

    Returns:
        The trial ids given back.
    """
    owners = status_files.last_owners(run_dir)
    restored = []
    for trial_id in list(oracle._retry_queue):
        owner = owners.get(trial_id)
        if owner is not None and _hand_back(oracle, trial_id, owner):
            servicer.owner[trial_id] = owner
            restored.append(trial_id)
    if restored:
        log.info("resumed chief: trial(s) %s wait for their workers", ", ".join(restored))
    return restored


@keras_tuner.synchronized
def requeue(oracle: keras_tuner.Oracle, tuner_ids: Sequence[str], why: str) -> list[str]:
    """Hand the running trials of ``tuner_ids`` back to the oracle's queue.

    Returns:
        The re-queued trial ids.
    """
    moved = []
    for tuner_id in tuner_ids:
        trial = oracle.ongoing_trials.pop(tuner_id, None)
        oracle.tuner_ids.discard(tuner_id)
        if trial is None or trial.status in FINISHED:
            continue
        oracle._retry_queue.append(trial.trial_id)
        moved.append(trial.trial_id)
        log.warning("trial %s of %s goes to another worker: %s", trial.trial_id, tuner_id, why)
    if moved:
        oracle.save()
    return moved


class OracleServer:
    """Serve ``oracle`` to KerasTuner workers; see the module docstring.

    Args:
        oracle: The search's oracle (reloaded already, if resuming).
        project_dir: The KerasTuner project directory (``run_dir/kt``).
        address: Address to listen on. Anything but loopback logs a warning.
        port: Port; 0 picks a free one (see :attr:`port` after :meth:`start`).
        grace_seconds: Silence after which a running trial is re-queued.
        creds: TLS material and token (:mod:`kt_ext.run.secure`); with them
            the server speaks TLS and refuses requests without the token.
        insecure: Listen beyond loopback without them (``parallel.insecure``).
    """

    def __init__(
        self,
        oracle: keras_tuner.Oracle,
        project_dir: Path,
        address: str = "127.0.0.1",
        port: int = 0,
        grace_seconds: float = 60.0,
        creds: secure.Credentials | None = None,
        insecure: bool = False,
    ) -> None:
        self.oracle = oracle
        self.creds = creds or secure.Credentials()
        self.insecure = insecure
        self.address = address
        self.port = port
        self.grace_seconds = grace_seconds
        self.servicer = _Servicer(oracle, Path(project_dir), Path(project_dir).parent / ASSIGNMENTS)
        self.resumed = _restore_owners(oracle, self.servicer, Path(project_dir).parent)
        self._server: grpc.Server | None = None
        self.restarts: dict[str, int] = {}  # recycled workers replaced, by tuner id

    def start(self) -> int:
        """Bind and start serving; returns the port.

        Raises:
            ParallelError: The address and port cannot be bound.
        """
        secured = self.creds.secured
        if not is_loopback(self.address):
            if not secured and not self.insecure:
                raise ParallelError(
                    f"refusing to listen on {self.address} without TLS and a token: set "
                    f"{secure.TOKEN_ENV}, {secure.CERT_ENV} and {secure.KEY_ENV}, or give "
                    "parallel.insecure=true on the command line (a trusted network only)"
                )
            if not secured:
                log.warning(
                    "the oracle server listens on %s without TLS or a token "
                    "(parallel.insecure): anyone who can reach it can read and steer the search",
                    self.address,
                )
        interceptors = [secure.TokenInterceptor(self.creds.token or "")] if secured else []
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=1), interceptors=interceptors)
        protos.get_service_grpc().add_OracleServicer_to_server(self.servicer, server)
        host = f"[{self.address}]" if ":" in self.address else self.address
        try:
            port = secure.add_port(server, f"{host}:{self.port}", self.creds)
        except RuntimeError as e:
            raise ParallelError(f"cannot listen on {self.address}:{self.port}: {e}") from None
        if not port:
            raise ParallelError(f"cannot listen on {self.address}:{self.port}")
        server.start()
        self._server, self.port = server, port
        log.info("oracle server on %s:%d%s", self.address, port, " (TLS, token)" if secured else "")
        return port

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.stop(0)
            self._server = None

    def silent(self, now: float | None = None) -> list[str]:
        """Tuner ids whose running trial has not been heard of for ``grace_seconds``."""
        now = time.monotonic() if now is None else now
        seen = self.servicer.last_seen
        return [
            tuner_id
            for tuner_id, trial in list(self.oracle.ongoing_trials.items())
            if now - seen.get(trial.trial_id, self.servicer.started) > self.grace_seconds
        ]

    def done(self) -> bool:
        """Whether the search is over: no trial to create, run or re-run (or it failed)."""
        s = self.servicer
        return s.failure is not None or (
            (s.stop_triggered or self._all_created()) and not s._running_elsewhere()
        )

    def _all_created(self) -> bool:
        """Whether every trial of ``max_trials`` exists (the oracle would answer STOPPED)."""
        max_trials = self.oracle.max_trials
        return bool(max_trials) and len(self.oracle.trials) >= max_trials

    def serve(
        self,
        workers: dict[str, Worker] | None = None,
        restart: Callable[[str], Worker] | None = None,
        on_poll: Callable[[], None] | None = None,
    ) -> None:
        """Serve until the search is over, re-queueing the trials of dead or silent workers.

        Args:
            workers: The workers this chief started, by tuner id
                (``parallel.workers``, on any :mod:`kt_ext.run.launchers`
                launcher); one that exits while its trial runs loses that
                trial at once, without waiting for the grace period. Replacements are
                put in this mapping.
            restart: Starts a fresh process for a tuner id. A worker that exits
                with :data:`RECYCLED` while the search is unfinished is replaced
                through it (counted in :attr:`restarts`).
            on_poll: Called on every poll (the run's watch: lines, files, the bar).

        Raises:
            ParallelError: Every local worker exited before the search was over
                (and no remote worker was ever heard of).
        """
        workers = {} if workers is None else workers
        exited: set[str] = set()
        while not self.done():
            time.sleep(POLL_SECONDS)
            if on_poll is not None:
                on_poll()
            for tuner_id, proc in list(workers.items()):
                code = proc.poll()
                if code is None or tuner_id in exited:
                    continue
                if code == RECYCLED and restart is not None and not self.done():
                    requeue(self.oracle, [tuner_id], "its process was recycled")
                    self.restarts[tuner_id] = self.restarts.get(tuner_id, 0) + 1
                    log.info("worker %s recycled: starting a fresh process", tuner_id)
                    workers[tuner_id] = restart(tuner_id)
                    continue
                exited.add(tuner_id)
                if code not in (0, RECYCLED):
                    log.warning("worker %s exited with status %s", tuner_id, code)
                requeue(self.oracle, [tuner_id], f"its process exited ({code})")
            requeue(self.oracle, self.silent(), f"no sign of life for {self.grace_seconds:g} s")
            if workers and exited == set(workers) and not self.done():
                left = self.oracle.max_trials - sum(
                    t.status in FINISHED for t in self.oracle.trials.values()
                )
                raise ParallelError(
                    f"all {len(workers)} workers exited with the search unfinished "
                    f"({left} trial(s) left); run the same command again to resume"
                )
        # Every worker that took part hears that the search is over before the server goes:
        # a worker started elsewhere asks once more after its last trial (and would otherwise
        # wait for a chief that is gone); a worker process that exited cannot ask.
        deadline = time.monotonic() + min(self.grace_seconds, DRAIN_SECONDS)
        s = self.servicer
        while s.failure is None and time.monotonic() < deadline:
            gone = {t for t, proc in workers.items() if proc.poll() is not None}
            if not s.asked - s.told_to_stop - gone:
                break
            time.sleep(POLL_SECONDS)

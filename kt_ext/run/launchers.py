"""Where the workers of a parallel search run: this machine, a Slurm cluster, a Ray cluster.

``parallel.launcher`` picks one; the chief (:class:`kt_ext.run.parallel.OracleServer`)
treats them alike. Every launcher starts the same worker command
(``scripts/tune.py`` with ``parallel.role=worker``, built by
:func:`kt_ext.run.workers.worker_args`) and hands back an object the chief
polls like a local process (``poll``, ``wait``, ``terminate``, ``kill``,
``returncode``), so liveness, re-queueing and recycling work unchanged:

* ``local``: a child process of the chief (``subprocess.Popen``).
* ``submitit``: Slurm jobs through the ``submitit`` library, the initial
  workers as one array job (``parallel.slurm.*``: partition, GPUs, CPUs,
  memory, time limit); ``parallel.slurm.cluster=local`` runs the same jobs
  as local processes (submitit's own local executor), which is how the tests
  run it.
* ``ray``: Ray tasks on the cluster at ``parallel.ray.address`` (``null``
  starts a local Ray instance), with ``parallel.ray.gpus_per_worker`` GPUs
  each.

On a scheduler the worker command runs inside a small job
(:func:`run_worker_process`) that waits for it and returns its exit status;
the worker exits by itself once that job is gone (``exit_with_chief``), and
the job passes a termination on to it. The run directory must be on a
filesystem the workers share with the chief, and the chief's address must be
one they can reach (not ``127.0.0.1`` across machines).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kt_ext.config import RaySettings, SlurmSettings

CHIEF_PID = "KT_EXT_CHIEF_PID"  # a worker exits when the process with this pid is gone


@dataclass(frozen=True)
class WorkerSpec:
    """One worker to start: its tuner id, command line, extra environment and log file."""

    tuner_id: str
    args: list[str]
    env: dict[str, str]
    log: Path


class Worker(Protocol):
    """What the chief needs of a worker, as ``subprocess.Popen`` offers it."""

    returncode: int | None

    def poll(self) -> int | None:
        """The exit status once it ended, else ``None``."""

    def wait(self, timeout: float | None = None) -> int:
        """The exit status, waiting at most ``timeout`` s (``subprocess.TimeoutExpired``)."""

    def terminate(self) -> None:
        """Ask it to end (SIGTERM, a job's cancellation)."""

    def kill(self) -> None:
        """End it now."""


def run_worker_process(args: Sequence[str], env: dict[str, str], log: str) -> int:
    """Run one worker command to its end; its exit status (the body of a Slurm job or Ray task).

    The worker sees this process as its chief (``KT_EXT_CHIEF_PID``), so it
    exits within a second if the job is killed; a SIGTERM to the job (Slurm's
    ``scancel``, submitit's ``cancel``) is passed on to the worker.
    """
    proc = _spawn(args, env, Path(log))
    try:
        signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    except ValueError:  # not the main thread: the worker still exits with this process
        pass
    return proc.wait()


def _spawn(args: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a worker command as a child of this process, which it treats as its chief."""
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **env, CHIEF_PID: str(os.getpid())}
    with open(log, "ab") as err:
        return subprocess.Popen(list(args), env=full_env, stdout=subprocess.DEVNULL, stderr=err)


class _Polled:
    """``wait``/``returncode`` for a worker known only through ``poll``."""

    returncode: int | None = None

    def poll(self) -> int | None:
        """The exit status once it ended, else ``None``."""
        raise NotImplementedError

    def wait(self, timeout: float | None = None) -> int:
        """The exit status, polling every 0.2 s for at most ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired("worker", timeout or 0.0)
            time.sleep(0.2)
        return code

    def kill(self) -> None:
        """End it now (a scheduler's cancellation is both)."""
        self.terminate()

    def terminate(self) -> None:
        """Cancel it."""
        raise NotImplementedError


class SubmititWorker(_Polled):
    """A worker running as a submitit job (Slurm, or a local process)."""

    def __init__(self, job: Any) -> None:
        self.job = job

    def poll(self) -> int | None:
        """The job's result (the worker's exit status) once done; 1 if it was lost."""
        if self.returncode is None and self.job.done():
            try:
                self.returncode = int(self.job.result())
            except Exception:  # noqa: BLE001 - cancelled, timed out, node failure: it is gone
                self.returncode = 1
        return self.returncode

    def terminate(self) -> None:
        """Cancel the job (``scancel``; the local executor's SIGTERM)."""
        if self.returncode is None:
            self.job.cancel(check=False)


class RayWorker(_Polled):
    """A worker running as a Ray task."""

    def __init__(self, ref: Any) -> None:
        self.ref = ref

    def poll(self) -> int | None:
        """The task's result (the worker's exit status) once done; 1 if it was lost."""
        import ray

        if self.returncode is None:
            ready, _ = ray.wait([self.ref], timeout=0)
            if ready:
                try:
                    self.returncode = int(ray.get(self.ref))
                except Exception:  # noqa: BLE001 - cancelled or its node died: it is gone
                    self.returncode = 1
        return self.returncode

    def terminate(self) -> None:
        """Cancel the task, killing its process (the worker follows within a second)."""
        import ray

        if self.returncode is None:
            ray.cancel(self.ref, force=True)


class Launcher:
    """Starts workers on this machine; the base of the scheduler launchers."""

    def start_all(self, specs: Sequence[WorkerSpec]) -> dict[str, Worker]:
        """Start every worker of ``specs``; the workers by tuner id."""
        return {spec.tuner_id: self.start(spec) for spec in specs}

    def start(self, spec: WorkerSpec) -> Worker:
        """Start one worker (also a fresh one in place of a recycled worker)."""
        return _spawn(spec.args, spec.env, spec.log)

    def close(self) -> None:
        """Release what the launcher holds (a Ray connection it opened)."""


class SubmititLauncher(Launcher):
    """Workers as submitit jobs: the initial ones as one Slurm array job."""

    def __init__(self, settings: SlurmSettings, folder: Path) -> None:
        import submitit

        self.settings = settings
        if settings.cluster == "local":
            self.executor: Any = submitit.LocalExecutor(folder=folder)
            self.executor.update_parameters(timeout_min=settings.time_min)
        else:
            self.executor = submitit.AutoExecutor(folder=folder, cluster=settings.cluster)
            params: dict[str, Any] = {
                "timeout_min": settings.time_min,
                "cpus_per_task": settings.cpus_per_worker,
                "slurm_job_name": "kt-ext-worker",
            }
            if settings.gpus_per_worker:
                params["slurm_gpus_per_task"] = settings.gpus_per_worker
            if settings.partition:
                params["slurm_partition"] = settings.partition
            if settings.mem_gb:
                params["mem_gb"] = settings.mem_gb
            self.executor.update_parameters(**params)

    def start_all(self, specs: Sequence[WorkerSpec]) -> dict[str, Worker]:
        """Every worker as one task of a single array job."""
        jobs = self.executor.map_array(
            run_worker_process,
            [s.args for s in specs],
            [s.env for s in specs],
            [str(s.log) for s in specs],
        )
        return {s.tuner_id: SubmititWorker(job) for s, job in zip(specs, jobs, strict=True)}

    def start(self, spec: WorkerSpec) -> Worker:
        """One worker as its own job."""
        job = self.executor.submit(run_worker_process, spec.args, spec.env, str(spec.log))
        return SubmititWorker(job)


class RayLauncher(Launcher):
    """Workers as Ray tasks on a running cluster, or on a local instance this launcher starts."""

    def __init__(self, settings: RaySettings) -> None:
        import ray

        self.started = not ray.is_initialized()
        if self.started:
            ray.init(
                address=settings.address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
        self.task = ray.remote(
            num_cpus=settings.cpus_per_worker, num_gpus=settings.gpus_per_worker, max_retries=0
        )(run_worker_process)

    def start(self, spec: WorkerSpec) -> Worker:
        """One worker as a Ray task."""
        return RayWorker(self.task.remote(spec.args, spec.env, str(spec.log)))

    def close(self) -> None:
        """Shut down the local Ray instance this launcher started."""
        import ray

        if self.started and ray.is_initialized():
            ray.shutdown()


def make_launcher(name: str, slurm: SlurmSettings, ray: RaySettings, run_dir: Path) -> Launcher:
    """The launcher ``parallel.launcher`` names (``local``, ``submitit`` or ``ray``)."""
    if name == "submitit":
        from kt_ext.outputs.files import WORKERS

        return SubmititLauncher(slurm, run_dir / WORKERS / "submitit")
    if name == "ray":
        return RayLauncher(ray)
    return Launcher()

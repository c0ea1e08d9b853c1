"""Worker processes of a parallel search: starting, replacing and stopping them.

:func:`worker_spec` is the command line of worker ``i`` (started by a
:mod:`kt_ext.run.launchers` launcher) and :func:`worker_environment` sets the
variables KerasTuner reads. A local
worker that leaves at a recycling limit (``parallel.recycle_after_trials``,
``parallel.recycle_above_mib``) exits with :data:`RECYCLED` between trials, and
the chief (:class:`kt_ext.run.parallel.OracleServer`) starts a fresh process
under the same name: TensorFlow keeps some memory for every model a process
has trained, which only a new process frees.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from kt_ext.outputs.files import WORKERS
from kt_ext.run.launchers import CHIEF_PID, Worker, WorkerSpec

log = logging.getLogger(__name__)
RECYCLED = 75  # a worker's exit status after a recycling limit: start a fresh one (EX_TEMPFAIL)


@contextmanager
def worker_environment(address: str, port: int, tuner_id: str) -> Iterator[None]:
    """Set the variables that make KerasTuner tuners in this process workers of a chief."""
    names = ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID")
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update(
        dict(zip(names, (connect_address(address), str(port), tuner_id), strict=True))
    )
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_ANY = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}


def connect_address(address: str) -> str:
    """Where workers on this machine connect: ``address``, or loopback for "every address"."""
    return _ANY.get(address, address)


def reachable_address(address: str) -> str:
    """Where workers on other machines connect: ``address``, or this host's name for ``0.0.0.0``.

    Loopback stays loopback: such workers can only run on this machine.
    """
    return socket.getfqdn() if address in _ANY else address


def default_worker_id() -> str:
    """``worker-<host>-<pid>``: unique across the machines of a search."""
    return f"worker-{socket.gethostname()}-{os.getpid()}"


def worker_spec(
    command: Sequence[str],
    index: int,
    run_dir: Path,
    address: str,
    port: int,
    gpu_per_worker: bool = False,
) -> WorkerSpec:
    """Worker ``worker<index>``: its command line, environment and log.

    The worker trains into ``run_dir`` and logs into ``run_dir/workers/worker<index>/``
    (its Hydra directory and ``stderr.log``). ``address`` is where it reaches the
    chief (:func:`connect_address`, :func:`reachable_address`).
    """
    tuner_id = f"worker{index}"
    log_dir = run_dir / WORKERS / tuner_id
    env = {"CUDA_VISIBLE_DEVICES": str(index)} if gpu_per_worker else {}
    args = [
        *(a for a in command if _override_key(a) not in _WORKER_KEYS),
        "parallel.role=worker",
        "parallel.workers=0",
        f"parallel.address={address}",
        f"parallel.port={port}",
        f"parallel.run_dir={run_dir}",
        f"parallel.worker_id={tuner_id}",
        f"hydra.run.dir={log_dir}",
    ]
    return WorkerSpec(tuner_id, args, env, log_dir / "stderr.log")


_WORKER_KEYS = {
    f"parallel.{k}"
    for k in ("role", "workers", "address", "port", "run_dir", "worker_id", "launcher")
} | {"hydra.run.dir"}


def _override_key(override: str) -> str:
    return override.lstrip("+~").split("=", 1)[0]


def exit_with_chief() -> None:
    """In a local worker, exit as soon as the chief that started it is gone (killed)."""
    chief = os.environ.get(CHIEF_PID)
    if not chief:
        return

    def check() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != int(chief):
                os._exit(3)

    threading.Thread(target=check, daemon=True).start()


def stop_workers(
    workers: dict[str, Worker], timeout: float = 30.0, grace: float = 5.0
) -> dict[str, int]:
    """Wait for the workers to exit: terminate after ``timeout`` seconds, kill ``grace`` later.

    Returns:
        Each worker's exit status (negative: the signal that ended it).
    """
    deadline = time.monotonic() + timeout
    for proc in workers.values():
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in workers.values():
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {tuner_id: proc.wait() for tuner_id, proc in workers.items()}  # all have exited

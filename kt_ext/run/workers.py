"""Worker processes of a parallel search: starting, replacing and stopping them.

:func:`start_workers` launches local worker processes (``parallel.workers=N``)
and :func:`worker_environment` sets the variables KerasTuner reads. A local
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


def connect_address(address: str) -> str:
    """Where workers connect: ``address``, or loopback if the chief listens on every address."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}.get(address, address)


def default_worker_id() -> str:
    """``worker-<host>-<pid>``: unique across the machines of a search."""
    return f"worker-{socket.gethostname()}-{os.getpid()}"


def start_workers(
    command: Sequence[str],
    n: int,
    run_dir: Path,
    port: int,
    gpu_per_worker: bool = False,
) -> dict[str, subprocess.Popen]:
    """Start ``n`` local worker processes of ``command`` (``scripts/tune.py`` with its overrides).

    Each worker ``worker<i>`` trains into ``run_dir`` and logs into
    ``run_dir/workers/worker<i>/`` (its Hydra directory and ``stderr.log``).

    Returns:
        The processes by tuner id.
    """
    workers = {
        f"worker{i}": start_worker(command, i, run_dir, port, gpu_per_worker) for i in range(n)
    }
    log.info("started %d worker processes (logs in %s)", n, run_dir / WORKERS)
    return workers


def start_worker(
    command: Sequence[str], index: int, run_dir: Path, port: int, gpu_per_worker: bool = False
) -> subprocess.Popen:
    """Start local worker ``worker<index>`` (see :func:`start_workers`); appends to its logs."""
    tuner_id = f"worker{index}"
    log_dir = run_dir / WORKERS / tuner_id
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, CHIEF_PID: str(os.getpid())}
    if gpu_per_worker:
        env["CUDA_VISIBLE_DEVICES"] = str(index)
    args = [
        *(a for a in command if _override_key(a) not in _WORKER_KEYS),
        "parallel.role=worker",
        "parallel.workers=0",
        "parallel.address=127.0.0.1",
        f"parallel.port={port}",
        f"parallel.run_dir={run_dir}",
        f"parallel.worker_id={tuner_id}",
        f"hydra.run.dir={log_dir}",
    ]
    with open(log_dir / "stderr.log", "ab") as err:
        return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err)


CHIEF_PID = "KT_EXT_CHIEF_PID"  # a local worker exits when this process is gone
_WORKER_KEYS = {
    f"parallel.{k}" for k in ("role", "workers", "address", "port", "run_dir", "worker_id")
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
    workers: dict[str, subprocess.Popen], timeout: float = 30.0, grace: float = 5.0
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
    return {tuner_id: int(proc.returncode) for tuner_id, proc in workers.items()}

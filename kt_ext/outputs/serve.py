"""Launch TensorBoard on a run or sweep directory, bound to 127.0.0.1 unless told otherwise.

    python scripts/board.py outputs/2026-11-23/10-00-00            # http://127.0.0.1:6006/
    python scripts/board.py multirun/2026-11-23/10-00-00 --port 0  # any free port

Binding to another address serves the logs (hyperparameters, metrics, paths)
to the network without authentication, so it takes an explicit ``--host`` and
prints a warning.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

LOOPBACK = "127.0.0.1"
_STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]
_URL = re.compile(r"(http://\S+:\d+/)")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tensorboard_command(logdir: Path | str, host: str = LOOPBACK, port: int = 6006) -> list[str]:
    """The command that serves ``logdir``: this environment's TensorBoard, every column ticked.

    (:mod:`kt_ext.outputs.dashboard`: the HParams dashboard opens on every
    hyperparameter of the space, not the first five.)
    """
    return [
        sys.executable,
        "-m",
        "kt_ext.outputs.dashboard",
        "--logdir",
        str(logdir),
        "--host",
        host,
        "--port",
        str(port),
    ]


class TensorBoardProcess:
    """A TensorBoard server in a child process; :attr:`url` once it listens.

    Args:
        logdir: Directory to serve (a run or a sweep).
        host: Address to bind; loopback by default.
        port: Port; 0 lets the system pick a free one.
        timeout: Seconds to wait for the server to announce its address.

    Raises:
        RuntimeError: The server exited or did not start in time.
    """

    def __init__(
        self, logdir: Path | str, host: str = LOOPBACK, port: int = 0, timeout: float = 120.0
    ) -> None:
        self.process = subprocess.Popen(
            tensorboard_command(logdir, host, port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.output: list[str] = []
        self.url = self._wait_for_url(timeout)

    def _wait_for_url(self, timeout: float) -> str:
        found: list[str] = []
        ready = threading.Event()
        stderr = self.process.stderr
        assert stderr is not None  # opened as a pipe

        def read() -> None:  # TensorBoard prints its address on stderr
            for line in stderr:
                self.output.append(line)
                match = _URL.search(line)
                if match and not found:
                    found.append(match.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.2):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"TensorBoard did not start within {timeout:.0f} s")
        if not found:
            self.stop()
            raise RuntimeError("TensorBoard exited: " + "".join(self.output[-5:]).strip())
        return found[0]

    def stop(self) -> None:
        """Terminate the server."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def __enter__(self) -> TensorBoardProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def session_groups(url: str) -> list[dict]:
    """The HParams plugin's session groups (one per trial), from TensorBoard's HTTP API."""
    body = {
        "experimentName": "",
        "allowedStatuses": _STATUSES,
        "colParams": [],
        "startIndex": 0,
        "sliceSize": 10_000,
    }
    request = urllib.request.Request(
        url + "data/plugin/hparams/session_groups",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response).get("sessionGroups", [])


def experiment(url: str) -> dict:
    """The HParams plugin's experiment (columns and metrics, in the order the dashboard gets)."""
    request = urllib.request.Request(
        url + "data/plugin/hparams/experiment",
        data=json.dumps({"experimentName": "", "includeMetrics": True}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def wait_for_trials(url: str, count: int, timeout: float = 60.0) -> list[dict]:
    """Poll until TensorBoard lists ``count`` session groups (it loads event files lazily)."""
    deadline = time.monotonic() + timeout
    groups: list[dict] = []
    while time.monotonic() < deadline:
        groups = session_groups(url)
        if len(groups) >= count:
            return groups
        time.sleep(0.5)
    raise RuntimeError(f"TensorBoard listed {len(groups)} of {count} trials after {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    """Serve a directory until interrupted (``scripts/board.py``)."""
    import argparse

    parser = argparse.ArgumentParser(description="Serve a kt-ext run or sweep in TensorBoard.")
    parser.add_argument("logdir", type=Path, help="a run directory or a sweep directory")
    parser.add_argument("--host", default=LOOPBACK, help=f"address to bind (default {LOOPBACK})")
    parser.add_argument("--port", type=int, default=6006, help="port (0: any free port)")
    args = parser.parse_args(argv)
    if not args.logdir.is_dir():
        print(f"kt-ext: error: {args.logdir} is not a directory", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        print(
            f"kt-ext: warning: serving on {args.host}: anyone who can reach it sees the logs "
            "(TensorBoard has no authentication)",
            file=sys.stderr,
        )
    try:
        return subprocess.call(tensorboard_command(args.logdir, args.host, args.port))
    except KeyboardInterrupt:
        return 0

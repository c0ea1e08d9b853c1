"""What one refused command line did, measured in-process: the corpora's shared harness.

:func:`attempt` runs a command line through the scripts' pre-Hydra check
(:func:`kt_ext.config.cli.check_command_line`, what ``scripts/tune.py`` and
``scripts/train.py`` run before ``hydra.main``) with the working directory
inside a sandbox, and records what the person at the terminal would see and
what the attempt left behind: the exit status, the stderr lines, the CPU
seconds it took (this process's: other load on the machine does not count),
every file created, changed or deleted in the watched trees, and
threads, sockets or child processes that outlived it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kt_ext.config.cli import check_command_line
from tests.conftest import CONF

ONE_LINE = "kt-ext: error: "


@dataclass
class Outcome:
    """What a command line did."""

    code: int | None
    lines: list[str]
    seconds: float
    changed: list[str]
    leftover: list[str]

    def refused(self) -> bool:
        """Exit 2 with one line, nothing changed, nothing left running."""
        return (
            self.code == 2
            and len(self.lines) == 1
            and self.lines[0].startswith(ONE_LINE)
            and not self.changed
            and not self.leftover
        )


def nested(key: str, value: object) -> dict:
    """``{"a": {"b": value}}`` for ``"a.b"``: a payload at a dotted key of a config file."""
    for part in reversed(key.split(".")):
        value = {part: value}
    return value  # type: ignore[return-value]


def snapshot(roots: Iterable[Path]) -> dict[str, tuple]:
    """Every path below ``roots`` (links not followed) with its kind, size and modification time."""
    seen: dict[str, tuple] = {}
    for root in roots:
        for top, dirs, files in os.walk(root, followlinks=False):
            for name in [*dirs, *files]:
                path = os.path.join(top, name)
                st = os.lstat(path)
                seen[path] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return seen


def processes() -> dict[str, int]:
    """This process's threads, open sockets and child processes."""
    sockets = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            sockets += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    children = 0
    for task in os.listdir("/proc/self/task"):
        try:
            children += len(Path(f"/proc/self/task/{task}/children").read_text().split())
        except OSError:
            continue
    return {
        "threads": len(os.listdir("/proc/self/task")),
        "sockets": sockets,
        "children": children,
    }


def attempt(argv: Sequence[str], sandbox: Path, capsys, monkeypatch) -> Outcome:
    """Run ``argv`` through the scripts' check with the working directory in ``sandbox``.

    Args:
        argv: The command line's arguments.
        sandbox: The tree watched for changes; also the working directory, so
            Hydra's default ``outputs/`` would land in it.
        capsys: pytest's capture fixture (stderr is read from it).
        monkeypatch: pytest's fixture (restores the working directory).
    """
    monkeypatch.chdir(sandbox)
    capsys.readouterr()
    before, running = snapshot([sandbox]), processes()
    start = time.process_time()
    try:
        check_command_line(list(argv), CONF, "config")
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    seconds = time.process_time() - start
    after, still = snapshot([sandbox]), processes()
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    leftover = [f"{k}: {running[k]} -> {v}" for k, v in still.items() if v > running[k]]
    lines = capsys.readouterr().err.strip().splitlines()
    return Outcome(code, lines, seconds, changed, leftover)

"""Processes and sockets of a run, read from Linux's /proc (shared by the run tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from kt_ext.tuners.memory import process_tree

needs_proc = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux /proc")


def _address(hex_addr: str) -> str:
    host, _ = hex_addr.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words).removeprefix("::ffff:")  # v4-mapped


def listening(pids: list[int]) -> set[str]:
    """Addresses the processes listen on (TCP, IPv4 and IPv6), from /proc."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    found = set()
    for name in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{name}").read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "0A" and parts[9] in inodes:  # 0A: LISTEN
                found.add(_address(parts[1]))
    return found


def watch_sockets(proc: subprocess.Popen, timeout: float = 600) -> set[str]:
    """Listening addresses of ``proc`` and its children, sampled until it exits."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        assert time.monotonic() < deadline, "the run did not finish"
        seen |= listening(process_tree(proc.pid))
        time.sleep(0.2)
    return seen


def processes_with(text: str) -> list[int]:
    """Every process whose command line holds ``text`` (a scheduler's workers are not children)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found

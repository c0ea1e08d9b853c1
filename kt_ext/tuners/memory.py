"""The resident memory of this process, for per-trial reports and worker recycling.

Long searches in one process hold more RAM after every trial: TensorFlow keeps
function graphs it built for each model's optimizer even after
``keras.backend.clear_session()`` (about 11 MiB per trial for the digits CNN).
kt-ext reports each trial's resident set size (``rss_mib`` in ``trials.csv``)
and can bound it by replacing worker processes (``parallel.recycle_after_trials``,
``parallel.recycle_above_mib``; see :mod:`kt_ext.run.parallel`).
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

_PROC = Path("/proc")


def rss_mib(pid: int | None = None) -> float:
    """The resident set size of process ``pid`` (default: this one) in MiB.

    Reads ``VmRSS`` from ``/proc`` on Linux. Elsewhere, for this process only,
    falls back to the peak resident size ``getrusage`` reports (an upper bound
    of the current one); another process's is then NaN, as is a process that
    has exited.
    """
    try:
        for line in (_PROC / str(pid or "self") / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")  # a zombie has no VmRSS
    except OSError:
        if pid is not None:
            return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def pss_mib(pid: int | None = None) -> float:
    """The proportional set size of process ``pid`` (default: this one) in MiB.

    Like the resident set size, but pages shared with other processes (the
    TensorFlow libraries every worker maps) count as a share each, so the sum
    over a process tree is the RAM the tree holds. Linux only (``smaps_rollup``);
    NaN elsewhere or for a process that has exited.
    """
    try:
        text = (_PROC / str(pid or "self") / "smaps_rollup").read_text()
    except OSError:
        return float("nan")
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants (Linux ``/proc``; just ``[pid]`` elsewhere)."""
    children: dict[int, list[int]] = {}
    for stat in _PROC.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found

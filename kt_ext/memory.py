"""The resident memory of this process, for per-trial reports and worker recycling.

Long searches in one process hold more RAM after every trial: TensorFlow keeps
function graphs it built for each model's optimizer even after
``keras.backend.clear_session()`` (about 11 MiB per trial for the digits CNN).
kt-ext reports each trial's resident set size (``rss_mib`` in ``trials.csv``)
and can bound it by replacing worker processes (``parallel.recycle_after_trials``,
``parallel.recycle_above_mib``; see :mod:`kt_ext.parallel`).
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

_STATUS = Path("/proc/self/status")


def rss_mib() -> float:
    """This process's resident set size in MiB.

    Reads ``VmRSS`` from ``/proc`` on Linux; elsewhere falls back to the peak
    resident size ``getrusage`` reports (an upper bound of the current one).
    """
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024

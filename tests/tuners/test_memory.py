import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kt_ext.tuners.memory import process_tree, pss_mib, rss_mib

needs_proc = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")


def test_rss_grows_with_what_this_process_holds():
    before = rss_mib()
    block = bytearray(64 * 2**20)
    block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
    assert rss_mib() - before > 48
    del block


@needs_proc
def test_children_are_found_and_measured_and_exited_ones_are_nan():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in process_tree(os.getpid())
        assert rss_mib(child.pid) > 1
    finally:
        child.kill()
        child.wait()
    assert child.pid not in process_tree(os.getpid())
    assert math.isnan(rss_mib(child.pid))


@needs_proc
def test_pss_counts_shared_pages_once_between_processes():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.5)
        # the interpreter's pages are shared with this process: the child's share is smaller
        assert 0 < pss_mib(child.pid) < rss_mib(child.pid)
    finally:
        child.kill()
        child.wait()
    assert math.isnan(pss_mib(child.pid))

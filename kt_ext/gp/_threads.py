"""Run BLAS single-threaded around the GP's small-matrix work.

The GP's matrices are tens to hundreds of rows: threaded BLAS only adds
overhead there (LAPACK ``potri`` on 15x15 takes 10x longer with 2 threads),
and far more while TensorFlow or parallel trials keep the cores busy.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager
from typing import Any

from threadpoolctl import ThreadpoolController


@functools.cache
def _controller() -> ThreadpoolController:
    # Inspecting the loaded libraries takes milliseconds: do it once.
    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager[Any]:
    """A context manager limiting every loaded BLAS library to one thread."""
    return _controller().limit(limits=1, user_api="blas")

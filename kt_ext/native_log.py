"""TensorFlow's C++ start-up log, kept off the console.

Importing TensorFlow and touching its devices writes lines straight to file
descriptor 2 from C++ (``WARNING: All log messages before
absl::InitializeLog()...``, ``I0000 ... oneDNN custom operations are on``,
``E0000 ... failed call to cuInit`` on a machine without a GPU), before and
regardless of ``TF_CPP_MIN_LOG_LEVEL``. A one-line kt-ext error would arrive
behind them. :func:`import_tensorflow` imports TensorFlow and
:func:`native_log_dropped` wraps the first device access (devices must not be
touched at import: virtual CPUs and thread counts can only be set before),
each with descriptor 2 redirected to a temporary file; every line that is not
such a log line (Python warnings, anything unexpected) is replayed, so
nothing else is lost.

One Python warning of TensorFlow's is dropped too (:class:`RetracingDropped`):
"5 out of the last 12 calls to <function ...> triggered tf.function
retracing. Tracing is expensive ...", a paragraph that a search printed
between its trial lines. A search builds a new model for every trial, whose
functions trace anew by design; the advice it gives is for a program that
re-creates one function in a loop by mistake.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator

# absl/TensorFlow C++ log lines: "I0000 00:00:1796150708.180983    9392 port.cc:153] ..."
_NATIVE = re.compile(
    r"^([IWEF]\d{4} \d\d:\d\d:[\d.]+\s+\d+ \S+:\d+\]|WARNING: All log messages before absl"
    r"|To enable the following instructions: .* rebuild TensorFlow)"
)


@contextlib.contextmanager
def native_log_dropped() -> Iterator[None]:
    """Drop C++ log lines written to descriptor 2 inside the block; replay the rest."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            for line in sink.read().decode(errors="replace").splitlines(keepends=True):
                if not _NATIVE.match(line):
                    sys.stderr.write(line)
            sys.stderr.flush()


class RetracingDropped(logging.Filter):
    """Drops TensorFlow's warning that a function traced again (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is any other message."""
        return "triggered tf.function retracing" not in record.getMessage()


def import_tensorflow() -> None:
    """Import TensorFlow and Keras without the C++ start-up log (devices untouched)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_log_dropped():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
    tf_log = logging.getLogger("tensorflow")
    if not any(isinstance(f, RetracingDropped) for f in tf_log.filters):
        tf_log.addFilter(RetracingDropped())

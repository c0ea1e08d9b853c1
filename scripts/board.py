"""Serve a run or sweep directory in TensorBoard, bound to 127.0.0.1 by default.

    python scripts/board.py outputs/2026-11-23/10-00-00             # http://127.0.0.1:6006/
    python scripts/board.py multirun/2026-11-23/10-00-00 --port 0   # any free port
    python scripts/board.py outputs/... --host 0.0.0.0              # the network (warns)

See :mod:`kt_ext.outputs.serve`.
"""

from __future__ import annotations

import sys

from kt_ext.outputs.serve import main

if __name__ == "__main__":
    sys.exit(main())

"""Plots and tables of a finished run or sweep (also written at the end of every run).

    python scripts/report.py outputs/2026-11-23/10-00-00          # one run
    python scripts/report.py multirun/2026-11-23/10-00-00 --top 10  # a sweep: every job + overlay

Writes ``convergence.png``, ``partial_dependence.png``, ``curves.png``,
``best_table.txt`` and ``best_table.csv`` into each run directory (and a
``convergence.png`` with one line per job into a sweep directory); see
:mod:`kt_ext.outputs.report`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Report on the directory given on the command line; 2 if it holds no run, 1 if damaged."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="a run directory or a Hydra sweep directory")
    parser.add_argument("--top", type=int, default=5, help="rows of the best-N table and curves")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from kt_ext.config.resume import check_no_links
    from kt_ext.errors import ConfigError
    from kt_ext.native_log import native_log_dropped
    from kt_ext.outputs.report import report
    from kt_ext.outputs.state import StateError

    try:
        check_no_links(args.path, "path")  # the report is written into it
        with native_log_dropped():  # TensorBoard's event reader imports TensorFlow
            files = report(args.path, args.top)
    except (FileNotFoundError, ConfigError) as e:
        print(f"kt-ext: error: {e}", file=sys.stderr)
        return 2
    except StateError as e:  # as scripts/tune.py exits on a damaged run
        print(f"kt-ext: error: {e}", file=sys.stderr)
        return 1
    for f in files:
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Show a kt-ext run from its files: running, interrupted or finished (read-only).

    python scripts/status.py outputs/2026-12-01/10-00-00          # once
    python scripts/status.py RUN_DIR --watch                       # refresh every 5 s
    python scripts/status.py RUN_DIR --json                        # for scripts
    python scripts/status.py multirun/2026-12-01/10-00-00         # a sweep: a line per job

Trials done, running and failed, the best-N table, time spent and an estimate
of the time left, and per worker in parallel runs; for a sweep, each job's
state and best trial. Nothing is written, and neither TensorFlow nor
KerasTuner is imported.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kt_ext.outputs.status import snapshot


def main(argv: list[str] | None = None) -> int:
    """Print the run's status; 2 if the directory holds no run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "run_dir", type=Path, help="a run directory (outputs/<date>/<time>) or a sweep's"
    )
    parser.add_argument("--top", type=int, default=5, help="rows of the best-N table")
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.add_argument(
        "--watch", nargs="?", type=float, const=5.0, help="refresh every N seconds (default 5)"
    )
    args = parser.parse_args(argv)
    try:
        while True:
            try:
                text, going = snapshot(args.run_dir, args.top, args.json)
            except FileNotFoundError as e:
                print(f"kt-ext: error: {e}", file=sys.stderr)
                return 2
            if args.watch and sys.stdout.isatty():
                print("\033[2J\033[H", end="")
            try:
                print(text, flush=True)
            except BrokenPipeError:  # | head
                return 0
            if not args.watch or not going:
                return 0
            time.sleep(args.watch)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

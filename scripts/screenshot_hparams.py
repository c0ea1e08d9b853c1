"""Screenshot TensorBoard's HParams dashboard of a finished run in headless Chromium.

    python scripts/screenshot_hparams.py outputs/2026-11-23/10-00-00 docs/hparams.png

Starts TensorBoard on 127.0.0.1 (any free port), waits until its HParams API
lists the run's trials, then has Chromium (Debian's ``chromium`` package, or
``--chromium PATH``) render ``/#hparams`` to a PNG. Exits 2 if Chromium is missing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from kt_ext.outputs.serve import TensorBoardProcess, wait_for_trials

# Flags for a headless Chromium on a machine without network access or a GPU.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def screenshot(chromium: str, url: str, out: Path, size: tuple[int, int], wait_ms: int) -> None:
    """Render ``url`` to ``out`` with a fresh Chromium profile."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={size[0]},{size[1]}",
                f"--virtual-time-budget={wait_ms}",
                f"--screenshot={out.resolve()}",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main(argv: list[str] | None = None) -> int:
    """Take the screenshot; 2 if the run or Chromium is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished run (or sweep) directory")
    parser.add_argument("out", type=Path, help="PNG file to write")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--size", default="1600,1000", help="window size, width,height")
    parser.add_argument("--wait-ms", type=int, default=15_000, help="page time before the shot")
    args = parser.parse_args(argv)
    trials = len(list(args.run.rglob("trial_*/trial.json")))
    if not trials:
        print(f"kt-ext: error: {args.run} holds no finished trial", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists():
        print(f"kt-ext: error: Chromium not found at {args.chromium}", file=sys.stderr)
        return 2
    width, height = (int(v) for v in args.size.split(","))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with TensorBoardProcess(args.run) as tb:
        groups = wait_for_trials(tb.url, trials)
        screenshot(args.chromium, tb.url + "#hparams", args.out, (width, height), args.wait_ms)
    print(f"{args.out}: HParams dashboard of {len(groups)} trials ({tb.url})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

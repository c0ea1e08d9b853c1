"""Stopping a search at random moments, then resuming it: what the user gets, measured.

Each try starts ``scripts/tune.py`` (the digits MLP, 12 trials of 3 epochs; every
other try with ``parallel.workers=2``) in its own process group, waits a random
time, sends SIGINT to the whole group (as Ctrl-C in a terminal does) or SIGTERM
to the main process (as a scheduler does), and records:

* seconds from the signal to the exit, and the exit status (130 / 143);
* stderr: exactly one line, naming the command that resumes, no traceback;
* processes of the run left behind (none expected);
* the trials finished before the stop, then, after running the printed
  command: whether the run finished with every trial, none of those lost
  and none re-run (same score, same end time in ``trial.json``).

Usage::

    python scripts/bench/stop.py --tries 10

Results go to ``stop.md`` beside this script.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import Report, command_line, markdown_table

ROOT = Path(__file__).resolve().parents[2]
TUNE = ROOT / "scripts" / "tune.py"
ARGS = ["search.max_trials=12", "search.epochs=3", "search.early_stopping_patience=0"]


def finished(run: Path) -> dict[str, tuple]:
    """Trials that had ended, with what proves they were not re-run (score, metrics)."""
    out = {}
    for path in (run / "kt").glob("trial_*/trial.json"):
        data = json.loads(path.read_text())
        if data["status"] in ("COMPLETED", "FAILED", "INVALID"):
            out[data["trial_id"]] = (data["status"], data["score"], json.dumps(data["metrics"]))
    return out


def alive(pgid: int) -> int:
    """Processes still in the process group ``pgid``."""
    out = subprocess.run(["ps", "-eo", "pgid="], capture_output=True, text=True).stdout
    return sum(line.strip() == str(pgid) for line in out.splitlines())


def one_try(i: int, rng: random.Random, tmp: Path) -> dict:
    """One start, stop and resume."""
    run = tmp / f"run{i}"
    parallel = i % 2 == 1
    sig = signal.SIGINT if i % 4 in (0, 1) else signal.SIGTERM
    args = [*ARGS, *(["parallel.workers=2"] if parallel else []), f"hydra.run.dir={run}"]
    proc = subprocess.Popen(
        [sys.executable, str(TUNE), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=tmp,
    )
    delay = rng.uniform(8.0, 25.0)
    time.sleep(delay)
    before = finished(run) if (run / "kt").is_dir() else {}
    sent = time.monotonic()
    if proc.poll() is None:
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    seconds = time.monotonic() - sent
    time.sleep(1.0)
    left = alive(proc.pid)
    lines = err.strip().splitlines()
    row = {
        "try": i,
        "signal": signal.Signals(sig).name,
        "workers": 2 if parallel else 0,
        "delay_s": round(delay, 1),
        "exit": proc.returncode,
        "exit_s": round(seconds, 2),
        "stderr_lines": len(lines),
        "traceback": "Traceback" in err,
        "left": left,
        "finished_before": len(before),
    }
    if proc.returncode == 0:  # the run ended before the signal
        row.update(resumed="-", complete="-", lost=0, rerun=0)
        return row
    command = lines[-1].split("resume with: ", 1)[-1] if lines else ""
    row["resume_line"] = "resume with: python" in (lines[-1] if lines else "")
    resumed = subprocess.run(
        [sys.executable, *shlex.split(command)[1:]], capture_output=True, text=True, cwd=tmp
    )
    after = finished(run)
    row["resumed"] = resumed.returncode
    if resumed.returncode:
        row["resume_error"] = (resumed.stderr.strip().splitlines() or [""])[-1][:300]
    row["complete"] = sum(s == "COMPLETED" for s, _, _ in after.values())
    row["lost"] = sum(t not in after for t in before)
    row["rerun"] = sum(t in after and after[t] != before[t] for t in before)
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the tries and write ``stop.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tries", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.tries):
            rows.append(one_try(i, rng, Path(tmp)))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    keys = ["try", "signal", "workers", "delay_s", "exit", "exit_s", "stderr_lines", "traceback"]
    keys += ["left", "finished_before", "resumed", "complete", "lost", "rerun"]
    stopped = [r for r in rows if r["exit"] != 0]
    ok = [
        r
        for r in stopped
        if r["exit"] in (130, 143)
        and r["exit_s"] < 5
        and r["stderr_lines"] == 1
        and not r["traceback"]
        and r["left"] == 0
        and r["resumed"] == 0
        and r["complete"] == 12
        and r["lost"] == 0
        and r["rerun"] == 0
    ]
    report = Report("stop")
    report.add(
        f"{len(rows)} tries, {len(stopped)} stopped mid-run (the others had finished); "
        f"{len(ok)} of {len(stopped)} with every property: exit 130/143 within 5 s, one stderr "
        "line naming the resume command, no traceback, no process left, and the resume "
        "finished all 12 trials with none lost or re-run.\n"
    )
    report.add(markdown_table(keys, [[r.get(k, "") for k in keys] for r in rows]))
    report.write(command_line())
    return 0 if len(ok) == len(stopped) else 1


if __name__ == "__main__":
    sys.exit(main())

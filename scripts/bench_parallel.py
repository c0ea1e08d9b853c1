"""Wall time of one search run by 1 process and by a chief with N local workers.

    python scripts/bench_parallel.py                        # 3 seeds x workers 0, 2, 3
    python scripts/bench_parallel.py --seeds 1 --workers 0 2

Each method runs ``scripts/tune.py`` as a user would (a fresh process tree,
default data), with the same seed, trials and epochs:

* ``workers=0`` - one process trains every trial (the default);
* ``workers=N`` - ``parallel.workers=N``: this process serves the oracle on
  127.0.0.1 and N worker processes train.

Reported per method: the median over seeds of the wall time of the whole
command (TensorFlow start-up, data, search, best model, report), its ratio to
``workers=0`` measured in the same run, the trials each worker ran, and the
best validation accuracy (a sanity check: random search proposes the same
configurations whatever the number of workers).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(workers: int, seed: int, trials: int, epochs: int, out: Path) -> dict:
    """One ``tune.py`` run; returns its wall time and summary."""
    run_dir = out / f"workers{workers}_seed{seed}"
    args = [
        sys.executable,
        str(ROOT / "scripts" / "tune.py"),
        f"seed={seed}",
        f"search.max_trials={trials}",
        f"search.epochs={epochs}",
        "search.early_stopping_patience=0",
        f"parallel.workers={workers}",
        f"hydra.run.dir={run_dir}",
    ]
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"workers={workers} seed={seed} failed:\n{proc.stderr[-2000:]}")
    summary = json.loads((run_dir / "summary.json").read_text())
    return {
        "workers": workers,
        "seed": seed,
        "seconds": round(seconds, 2),
        "best_score": summary["best_score"],
        "trials_per_worker": summary.get("trials_per_worker", {}),
    }


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2, 3])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("bench/parallel"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in range(args.seeds):
        for workers in args.workers:
            row = run(workers, seed, args.trials, args.epochs, args.out.resolve())
            print(json.dumps(row), flush=True)
            rows.append(row)
    (args.out / "results.json").write_text(json.dumps(rows, indent=2))
    base = statistics.median(r["seconds"] for r in rows if r["workers"] == args.workers[0])
    print(f"\n{args.trials} trials x {args.epochs} epochs, median of {args.seeds} seeds\n")
    print("| method | wall time (s) | ratio | trials per worker | best val_accuracy |")
    print("|---|---|---|---|---|")
    for workers in args.workers:
        mine = [r for r in rows if r["workers"] == workers]
        seconds = statistics.median(r["seconds"] for r in mine)
        split = mine[0]["trials_per_worker"] or {"(one process)": args.trials}
        print(
            f"| workers={workers} | {seconds:.1f} | {seconds / base:.2f} | "
            f"{'/'.join(str(n) for n in split.values())} (seed 0) | "
            f"{statistics.median(r['best_score'] for r in mine):.4f} |"
        )


if __name__ == "__main__":
    main()

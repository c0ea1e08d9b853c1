"""Wall time of one search run by 1 process and by a chief with N local workers.

    python scripts/bench/parallel.py                        # 3 seeds x workers 0, 2, 3
    python scripts/bench/parallel.py --seeds 1 --workers 0 2

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
import statistics
import time
from pathlib import Path

from _common import Cache, Report, command_line, tune


def run(workers: int, seed: int, trials: int, epochs: int, out: Path) -> dict:
    """One ``tune.py`` run; returns its wall time and summary."""
    run_dir = out / f"workers{workers}_seed{seed}"
    start = time.perf_counter()
    summary = tune(
        [
            f"seed={seed}",
            f"search.max_trials={trials}",
            f"search.epochs={epochs}",
            "search.early_stopping_patience=0",
            f"parallel.workers={workers}",
        ],
        run_dir,
    )
    return {
        "workers": workers,
        "seed": seed,
        "seconds": round(time.perf_counter() - start, 2),
        "best_score": summary["best_score"],
        "trials_per_worker": summary.get("trials_per_worker", {}),
    }


def main() -> None:
    """Run the benchmark; write a Markdown table beside this script (``parallel.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2, 3])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("bench/parallel"))
    parser.add_argument("--fresh", action="store_true", help="ignore cached results")
    args = parser.parse_args()
    cache = Cache(args.out / "results.jsonl", ("workers", "seed"), args.fresh)
    for seed in range(args.seeds):
        for workers in args.workers:
            if (workers, seed) not in cache:
                run_dir = args.out.resolve() / f"run-{len(cache.rows)}"
                cache.add(run(workers, seed, args.trials, args.epochs, run_dir))
    rows = [cache[(w, s)] for s in range(args.seeds) for w in args.workers]
    base = statistics.median(r["seconds"] for r in rows if r["workers"] == args.workers[0])
    report = Report("parallel")
    report.add(f"{args.trials} trials x {args.epochs} epochs, median of {args.seeds} seeds\n")
    table = []
    for workers in args.workers:
        mine = [r for r in rows if r["workers"] == workers]
        seconds = statistics.median(r["seconds"] for r in mine)
        split = mine[0]["trials_per_worker"] or {"(one process)": args.trials}
        table.append(
            [
                f"workers={workers}",
                f"{seconds:.1f}",
                f"{seconds / base:.2f}",
                f"{'/'.join(str(n) for n in split.values())} (seed 0)",
                f"{statistics.median(r['best_score'] for r in mine):.4f}",
            ]
        )
    report.table(
        ["method", "wall time (s)", "ratio", "trials per worker", "best val_accuracy"], table
    )
    report.write(command_line())


if __name__ == "__main__":
    main()

r"""Compare search strategies end to end: real tuning runs of scripts/tune.py, several seeds.

Each (strategy, seed) is one ``scripts/tune.py`` run with the same budget;
the table gives, per strategy, the mean (and standard deviation) over seeds of
the best validation score, the best model's test accuracy and the wall time.

Usage::

    python scripts/bench_strategies.py --strategies bayes kt_bayes random \\
        --seeds 3 --overrides model=cnn search.max_trials=10

Runs land in ``--out/<strategy>-s<seed>/`` (console output in
``--out/<strategy>-s<seed>.log``) and a finished run (one with a
``summary.json``) is reused on a re-run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

TUNE = Path(__file__).resolve().parent / "tune.py"


def run(strategy: str, seed: int, overrides: list[str], out: Path) -> dict:
    """One tuning run (or the finished one already on disk); its summary.json."""
    run_dir = out / f"{strategy}-s{seed}"
    summary = run_dir / "summary.json"
    if not summary.exists():
        cmd = [
            sys.executable,
            str(TUNE),
            f"strategy={strategy}",
            f"seed={seed}",
            *overrides,
            f"hydra.run.dir={run_dir}",
        ]
        print("+", " ".join(cmd[1:]), file=sys.stderr, flush=True)
        out.mkdir(parents=True, exist_ok=True)
        with (out / f"{run_dir.name}.log").open("w") as log:  # tune.py's console output
            subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT)
    return json.loads(summary.read_text())


def _mean_sd(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.4f}" if values else "-"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def main(argv: list[str] | None = None) -> int:
    """Run what is missing, then print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strategies", nargs="+", default=["bayes", "kt_bayes", "random"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--overrides", nargs="*", default=["model=cnn", "search.max_trials=10"])
    parser.add_argument("--out", type=Path, default=Path("bench/strategies"))
    args = parser.parse_args(argv)

    rows = {
        s: [run(s, seed, args.overrides, args.out) for seed in range(args.seeds)]
        for s in args.strategies
    }
    objective = next(iter(rows.values()))[0]["objective"]
    print(f"\n{args.seeds} seeds, overrides: {' '.join(args.overrides)}\n")
    print(f"| strategy | best {objective} | test accuracy | seconds per run |")
    print("|---|---|---|---|")
    for strategy, summaries in rows.items():
        best = [s["best_score"] for s in summaries]
        test = [s.get("test_accuracy", float("nan")) for s in summaries]
        secs = [s["seconds"] for s in summaries]
        print(f"| {strategy} | {_mean_sd(best)} | {_mean_sd(test)} | {statistics.mean(secs):.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

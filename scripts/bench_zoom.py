"""Coarse to fine (strategy=zoom) against random search at equal trials, on the classic exercise.

    python scripts/bench_zoom.py                 # 5 seeds x 24 trials x 10 epochs
    python scripts/bench_zoom.py --seeds 3 --trials 12

Both methods run ``scripts/tune.py model=mlp_lr_wd`` (a small fixed MLP on digits tuning
only the learning rate in [1e-6, 1e-2] and the weight decay in [1e-8, 1e-4], both log-
uniform), with the same seed, trials, epochs and objective (``val_loss`` by default:
validation accuracy saturates on digits):

* ``random`` - ``strategy=random``;
* ``zoom``   - ``strategy=zoom`` (3 stages, top 5, margin 0.25, random within a stage).

Reported: per seed and the median over seeds, the best objective of each method, and how
zoom's learning-rate and weight-decay ranges contracted (decades wide per stage, read back
from ``zoom_stages.csv``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("random", "zoom")


def run(method: str, seed: int, args: argparse.Namespace) -> dict:
    """One ``tune.py`` run; its best score and, for zoom, the widths of each stage."""
    run_dir = args.out.resolve() / f"{method}_seed{seed}"
    cmd = [
        sys.executable,
        str(ROOT / "scripts" / "tune.py"),
        "model=mlp_lr_wd",
        f"strategy={method}",
        f"seed={seed}",
        f"search.max_trials={args.trials}",
        f"search.epochs={args.epochs}",
        f"search.objective={args.objective}",
        f"hydra.run.dir={run_dir}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{method} seed {seed} failed:\n{proc.stderr[-2000:]}")
    summary = json.loads((run_dir / "summary.json").read_text())
    row = {"method": method, "seed": seed, "best": summary["best_score"], "widths": {}}
    if method == "zoom":
        with open(run_dir / "zoom_stages.csv") as f:
            for r in csv.DictReader(f):
                if r["name"] in ("lr", "weight_decay"):
                    width = math.log10(float(r["high"])) - math.log10(float(r["low"]))
                    row["widths"].setdefault(r["name"], []).append(round(width, 2))
    return row


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--objective", default="val_loss")
    parser.add_argument("--out", type=Path, default=Path("bench/zoom"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in range(args.seeds):
        for method in METHODS:
            row = run(method, seed, args)
            print(json.dumps(row), flush=True)
            rows.append(row)
    (args.out / "results.json").write_text(json.dumps(rows, indent=2))
    best = {m: [r["best"] for r in rows if r["method"] == m] for m in METHODS}
    print(f"\n{args.trials} trials x {args.epochs} epochs, objective {args.objective}\n")
    print("| seed | random | zoom | zoom lr range (decades per stage) | zoom wd range |")
    print("|---|---|---|---|---|")
    for seed in range(args.seeds):
        z = next(r for r in rows if r["method"] == "zoom" and r["seed"] == seed)
        print(
            f"| {seed} | {best['random'][seed]:.4f} | {best['zoom'][seed]:.4f} | "
            f"{' > '.join(map(str, z['widths'].get('lr', [])))} | "
            f"{' > '.join(map(str, z['widths'].get('weight_decay', [])))} |"
        )
    print(
        f"| median | {statistics.median(best['random']):.4f} | "
        f"{statistics.median(best['zoom']):.4f} | | |"
    )


if __name__ == "__main__":
    main()

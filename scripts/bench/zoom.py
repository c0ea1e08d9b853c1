"""Coarse to fine (strategy=zoom) against random search at equal trials, on the classic exercise.

    python scripts/bench/zoom.py                 # 5 seeds x 24 trials x 10 epochs
    python scripts/bench/zoom.py --seeds 3 --trials 12

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
import math
from pathlib import Path

from _common import Cache, Report, command_line, tune
from _stats import median, paired, paired_cell

METHODS = ("random", "zoom")


def run(method: str, seed: int, args: argparse.Namespace) -> dict:
    """One ``tune.py`` run; its best score and, for zoom, the widths of each stage."""
    run_dir = args.out.resolve() / f"{method}_seed{seed}"
    summary = tune(
        [
            "model=mlp_lr_wd",
            f"strategy={method}",
            f"seed={seed}",
            f"search.max_trials={args.trials}",
            f"search.epochs={args.epochs}",
            f"search.objective={args.objective}",
        ],
        run_dir,
    )
    row = {"method": method, "seed": seed, "best": summary["best_score"], "widths": {}}
    if method == "zoom":
        with open(run_dir / "zoom_stages.csv") as f:
            for r in csv.DictReader(f):
                if r["name"] in ("lr", "weight_decay"):
                    width = math.log10(float(r["high"])) - math.log10(float(r["low"]))
                    row["widths"].setdefault(r["name"], []).append(round(width, 2))
    return row


def main() -> None:
    """Run the benchmark; write a Markdown table beside this script (``zoom.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--objective", default="val_loss")
    parser.add_argument("--out", type=Path, default=Path("bench/zoom"))
    parser.add_argument("--fresh", action="store_true", help="ignore cached results")
    args = parser.parse_args()
    cache = Cache(args.out / "results.jsonl", ("method", "seed"), args.fresh)
    for seed in range(args.seeds):
        for method in METHODS:
            if (method, seed) not in cache:
                cache.add(run(method, seed, args))
    best = {m: [cache[(m, s)]["best"] for s in range(args.seeds)] for m in METHODS}
    report = Report("zoom")
    report.add(f"{args.trials} trials x {args.epochs} epochs, objective {args.objective}\n")
    table = []
    for seed in range(args.seeds):
        z = cache[("zoom", seed)]
        table.append(
            [
                seed,
                f"{best['random'][seed]:.4f}",
                f"{best['zoom'][seed]:.4f}",
                " > ".join(map(str, z["widths"].get("lr", []))),
                " > ".join(map(str, z["widths"].get("weight_decay", []))),
            ]
        )
    table.append(["median", f"{median(best['random']):.4f}", f"{median(best['zoom']):.4f}", "", ""])
    report.table(
        ["seed", "random", "zoom", "zoom lr range (decades per stage)", "zoom wd range"], table
    )
    sign = -1.0 if args.objective.endswith("loss") else 1.0
    if args.seeds >= 2:
        r = paired(best["zoom"], best["random"], sign)
        report.add(
            "\nzoom against random, seed by seed (positive: zoom better; difference of the "
            f"medians, 95% bootstrap interval, seeds won/lost/tied): {paired_cell(r, '.4f')}"
        )
    report.write(command_line())


if __name__ == "__main__":
    main()

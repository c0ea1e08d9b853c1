r"""Compare search strategies end to end: real tuning runs of scripts/tune.py, several seeds.

Each (strategy, seed) is one ``scripts/tune.py`` run with the same budget;
the table gives, per strategy, the mean (and standard deviation) over seeds of
the best validation score, the best model's test accuracy and the wall time,
and how often a float hyperparameter of trials 5 onwards (after ``bayes``'s
4 initial Sobol points) lies within 1% of its range's bound, on its own scale
(uniform sampling: 2%). A model that over-explores the box's edges proposes
the largest learning rate or weight decay the space allows.

Usage::

    python scripts/bench/strategies.py --strategies bayes kt_bayes random \\
        --seeds 3 --overrides model=cnn search.max_trials=10

Runs land in ``--out/<strategy>-s<seed>/`` (console output in
``--out/<strategy>-s<seed>.log``) and a finished run (one with a
``summary.json``) is reused on a re-run.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

from _common import Report, command_line, tune
from _stats import mean_sd


def run(strategy: str, seed: int, overrides: list[str], out: Path) -> dict:
    """One tuning run (or the finished one already on disk); its summary.json."""
    return tune([f"strategy={strategy}", f"seed={seed}", *overrides], out / f"{strategy}-s{seed}")


EDGE = 0.01  # "at a bound": within this share of the range (log ranges in log space)


def edge_count(run_dir: Path, first: int = 4) -> tuple[int, int]:
    """``(at a bound, all)`` over the float hyperparameters of trials ``first`` onwards.

    Trial ids count from 0, so ``first=4`` skips the first four trials.
    """
    at_bound = total = 0
    for path in sorted(run_dir.glob("kt/trial_*/trial.json")):
        trial = json.loads(path.read_text())
        if int(trial["trial_id"]) < first:
            continue
        values = trial["hyperparameters"]["values"]
        for hp in trial["hyperparameters"]["space"]:
            config = hp["config"]
            if hp["class_name"] != "Float" or config["name"] not in values:
                continue  # not a float, or inactive in this trial
            low, high, value = config["min_value"], config["max_value"], values[config["name"]]
            if config.get("sampling") == "log":
                low, high, value = math.log(low), math.log(high), math.log(value)
            share = (value - low) / (high - low)
            at_bound += share <= EDGE or share >= 1 - EDGE
            total += 1
    return at_bound, total


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
    report = Report("strategies")
    report.add(f"{args.seeds} seeds, overrides: {' '.join(args.overrides)}\n")
    table = []
    for strategy, summaries in rows.items():
        best = [s["best_score"] for s in summaries]
        test = [s.get("test_accuracy", float("nan")) for s in summaries]
        secs = [s["seconds"] for s in summaries]
        counts = [edge_count(args.out / f"{strategy}-s{seed}") for seed in range(args.seeds)]
        at_bound, total = sum(c[0] for c in counts), sum(c[1] for c in counts)
        table.append(
            [
                strategy,
                mean_sd(best),
                mean_sd(test),
                f"{statistics.mean(secs):.0f}",
                f"{at_bound}/{total}",
            ]
        )
    report.table(
        [
            "strategy",
            f"best {objective}",
            "test accuracy",
            "seconds per run",
            f"floats within {EDGE:.0%} of a bound, trials 5+",
        ],
        table,
    )
    report.write(command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Search strategies on real training tasks where they differ: best validation loss at equal trials.

Every (task, strategy, seed) is one ``scripts/tune.py`` run, as a user runs
it, with objective ``val_loss`` (accuracy ties where losses do not) and the
same trial budget. Tasks are small real problems whose trials take seconds:

* ``mnist1d-mlp``, ``mnist1d-cnn1d``: MNIST-1D (generated offline), an MLP
  and a 1-D CNN;
* ``digits-cnn``: the digits CNN on 30 % of the training split (the full
  set saturates);
* ``cancer-mlp``: the breast-cancer table, an MLP.

Tasks are split into those used to choose a method's settings (``choose``)
and those held out to confirm them (``confirm``); both are reported. Per
task: the median over seeds of the best validation loss and of the winner's
test accuracy, and each strategy against ``bayes`` seed by seed (difference
of the medians of the best validation loss, its 95% paired bootstrap
interval, seeds won/lost/tied; positive: better than ``bayes``), the
median best after the first :data:`CHECKPOINTS` trials (does the model-guided
part of a run gain on random search's?); then each strategy's mean rank over
the tasks of each role; and, where the run directories are at hand, how often
a strategy's later trials keep the best trial's unordered choices
(:func:`kept_choices`: how far it explores the categories). A variant
(:data:`VARIANTS`, a strategy with settings changed) is reported against
``bayes`` like a peer, and ranked in ``bayes``'s place among the others.

Usage::

    python scripts/bench/real.py --seeds 10 --jobs 2
    python scripts/bench/real.py --seeds 10 --strategies bayes      # re-run one method
    python scripts/bench/real.py --seeds 10 --strategies bayes_warp # a variant (VARIANTS)
    python scripts/bench/real.py --first-seed 10 --seeds 20 --block replicate  # seeds 10-19
    python scripts/bench/real.py --pool main replicate --block pooled  # both, as one set

Runs are cached in ``--out`` (``bench/real``): a finished (task, strategy,
seed) is never run again (``--fresh`` starts over). The tables go to
``real.md`` beside this script.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

from _common import (
    Cache,
    Report,
    command_line,
    common_arguments,
    markers,
    replicate_arguments,
    run_pool,
    seed_words,
    tune,
)
from _stats import mean_ranks, median, paired, paired_cell

STRATEGIES = ("random", "bayes", "kt_bayes", "tpe")
# A strategy with settings changed, measured beside the others: name -> its overrides.
VARIANTS: dict[str, list[str]] = {
    "bayes_warp": ["strategy=bayes", "strategy.output_warping=power"],
    "bayes_nowarp": ["strategy=bayes", "strategy.output_warping=none"],
    "bayes_init8": ["strategy=bayes", "strategy.num_initial_points=8"],
    "bayes_b2": ["strategy=bayes", "strategy.beta=2"],
    "bayes_b05": ["strategy=bayes", "strategy.beta=0.5"],
    "bayes_addfew": ["strategy=bayes", "strategy.output_warping=auto_addfew"],
}
REFERENCE = "bayes"
# task -> (role, overrides)
TASKS: dict[str, tuple[str, list[str]]] = {
    "mnist1d-mlp": ("choose", ["data=mnist1d", "model=mlp", "search.epochs=15"]),
    "digits-cnn": ("choose", ["data=digits", "model=cnn", "data.subset=0.3", "search.epochs=15"]),
    "mnist1d-cnn1d": ("confirm", ["data=mnist1d", "model=cnn1d", "search.epochs=10"]),
    "cancer-mlp": ("confirm", ["data=breast_cancer", "model=mlp", "search.epochs=30"]),
}
COMMON = ["search.objective=val_loss", "search.early_stopping_patience=3"]
CHECKPOINTS = (5, 10)  # trials after which the median best is also reported (the curve's shape)
PER_SEED = "### Per seed: best val_loss of each run"  # heading of each block's record of its runs
MAIN_BLOCK = "main"  # what ``--pool`` calls the block written without ``--block``


def best_curve(run_dir: Path) -> list[float]:
    """Best validation loss after each trial (``inf`` until one completes)."""
    best, curve = float("inf"), []
    with open(run_dir / "trials.csv") as f:
        for row in csv.DictReader(f):
            value = row.get("val_loss") or ""
            if row["status"] == "COMPLETED" and value:
                best = min(best, float(value))
            curve.append(best)
    return curve


def run_path(out: Path, task: str, strategy: str, seed: int, trials: int) -> Path:
    """The run directory of one (task, strategy, seed) in the cache folder ``out``."""
    return out.resolve() / task / f"{strategy}-s{seed}-t{trials}"


def run_strategy(run_dir: Path) -> str | None:
    """The strategy (or variant) of a directory named by :func:`run_path` (else ``None``)."""
    match = re.fullmatch(r"(.+)-s\d+-t\d+", run_dir.name)
    return match.group(1) if match else None


def unordered_choices(run_dir: Path) -> list[str]:
    """Names of the run's unordered choices and booleans (from KerasTuner's saved space)."""
    space = json.loads((run_dir / "kt" / "oracle.json").read_text())["hyperparameters"]["space"]
    return [
        hp["config"]["name"]
        for hp in space
        if hp["class_name"] == "Boolean"
        or (hp["class_name"] == "Choice" and not hp["config"].get("ordered"))
    ]


def kept_choices(run_dir: Path, after: int = CHECKPOINTS[0] - 1) -> float | None:
    """Share of (trial, unordered choice) pairs equal to the best trial so far's value.

    Counted over the trials after the first ``after`` (trial ``after + 1`` on:
    where ``bayes``'s model takes over) and each unordered choice or boolean;
    random search keeps a ``k``-valued choice about ``1/k`` of the time. A
    share near 1 means the search never left the categories its best early
    trial happened to have. ``None`` when the run directory is not at hand
    (a merged cache).
    """
    if not (run_dir / "trials.csv").is_file():
        return None
    names = unordered_choices(run_dir)
    kept = total = 0
    best: dict[str, str] | None = None
    with open(run_dir / "trials.csv") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if i >= after and best is not None:
                pairs = [(row[n], best[n]) for n in names if row.get(n) and best.get(n)]
                kept += sum(a == b for a, b in pairs)
                total += len(pairs)
            value = row.get("val_loss") or ""
            if row["status"] == "COMPLETED" and value:
                if best is None or float(value) < float(best["val_loss"]):
                    best = row
    return kept / total if total else None


def run_one(task: str, strategy: str, seed: int, trials: int, out: Path) -> dict:
    """One tuning run; its best validation loss, the winner's test metrics and its curve."""
    run_dir = run_path(out, task, strategy, seed, trials)
    overrides = [
        *TASKS[task][1],
        *COMMON,
        *VARIANTS.get(strategy, [f"strategy={strategy}"]),
        f"seed={seed}",
        f"search.max_trials={trials}",
    ]
    summary = tune(overrides, run_dir)
    return {
        "task": task,
        "strategy": strategy,
        "seed": seed,
        "trials": trials,
        "best_val_loss": summary["best_score"],
        "test_accuracy": summary.get("test_accuracy"),
        "test_loss": summary.get("test_loss"),
        "failed": summary.get("failed", 0),
        "seconds": summary["seconds"],
        "curve": best_curve(run_dir),
    }


def report(
    rows: dict[tuple, dict],
    strategies: list[str],
    seeds: range,
    trials: int,
    out_dir: Path,
    block: str = "",
) -> Report:
    """Per-task tables, each strategy against the reference, mean ranks per role.

    ``block`` names the results block of ``real.md`` written (``""``: the main one).
    """
    out = Report("real", block)
    out.add(
        f"{seed_words(seeds)}, {trials} trials per run, objective val_loss (lower is better); "
        "medians over seeds.\n"
    )
    medians: dict[str, dict[str, dict[str, float]]] = {"choose": {}, "confirm": {}}
    for task, (role, overrides) in TASKS.items():
        losses = seed_losses(rows, task, strategies, seeds)
        have = list(losses)
        if not have:
            continue
        out.add(f"\n### {task} ({role}: {' '.join(overrides)})\n")
        table = []
        medians[role][task] = {}
        for s in have:
            runs = [rows[(task, s, k)] for k in seeds]
            loss = losses[s]
            medians[role][task][s] = median(loss)
            cell = "-"
            if s != REFERENCE and REFERENCE in have:
                cell = paired_cell(paired(loss, losses[REFERENCE], sign=-1.0), ".4f")
            early = [
                f"{median([r['curve'][n - 1] for r in runs]):.4f}"
                for n in CHECKPOINTS
                if n <= trials
            ]
            table.append(
                [
                    s,
                    f"{median(loss):.4f}",
                    " / ".join(early),
                    f"{median([r['test_accuracy'] for r in runs]):.4f}",
                    f"{median([r['seconds'] for r in runs]):.0f}",
                    sum(r["failed"] for r in runs),
                    cell,
                ]
            )
        out.table(
            [
                "strategy",
                "best val_loss",
                f"after {' / '.join(str(n) for n in CHECKPOINTS if n <= trials)} trials",
                "test accuracy",
                "s per run",
                "failed trials",
                f"vs {REFERENCE}: diff [95% CI] won/lost/tied",
            ],
            table,
        )
    ranks_per_role(out, medians)
    variants_against_peers(out, rows, strategies, seeds)
    kept_choices_table(out, out_dir, strategies, seeds, trials)
    per_seed(out, rows, strategies, seeds)
    return out


def seed_losses(
    rows: dict[tuple, dict], task: str, strategies: list[str], seeds: range
) -> dict[str, list[float]]:
    """Best validation loss per seed of each strategy that has run every seed of ``task``."""
    return {
        s: [rows[(task, s, k)]["best_val_loss"] for k in seeds]
        for s in strategies
        if all((task, s, k) in rows for k in seeds)
    }


def variants_against_peers(
    out: Report, rows: dict[tuple, dict], strategies: list[str], seeds: range
) -> None:
    """Each variant against each peer seed by seed: the reference's targets, were it the default."""
    peers = [s for s in strategies if s != REFERENCE and s not in VARIANTS]
    for variant in (s for s in strategies if s in VARIANTS):
        table = []
        for task in TASKS:
            loss = seed_losses(rows, task, [variant, *peers], seeds)
            if variant in loss:
                cells = [
                    paired_cell(paired(loss[variant], loss[p], sign=-1.0), ".4f")
                    if p in loss
                    else "-"
                    for p in peers
                ]
                table.append([task, *cells])
        if table:
            out.add(f"\n{variant} against each peer (positive: {variant} better):\n")
            out.table(["task", *(f"vs {p}" for p in peers)], table)


def kept_choices_table(
    out: Report, out_dir: Path, strategies: list[str], seeds: range, trials: int
) -> None:
    """:func:`kept_choices` per task and strategy, averaged over the seeds whose runs are here."""
    table = []
    for task in TASKS:
        cells = []
        for s in strategies:
            shares = [kept_choices(run_path(out_dir, task, s, k, trials)) for k in seeds]
            have = [v for v in shares if v is not None]
            cells.append(f"{sum(have) / len(have):.2f} ({len(have)})" if have else "-")
        if any(c != "-" for c in cells):
            table.append([task, *cells])
    if table:
        out.add(
            f"\nUnordered choices (and booleans) of trials {CHECKPOINTS[0]}-{trials} equal to the "
            "best trial so far's: the share over trials and choices, mean over seeds (seeds "
            "with their run directory at hand):\n"
        )
        out.table(["task", *strategies], table)


def per_seed(out: Report, rows: dict[tuple, dict], strategies: list[str], seeds: range) -> None:
    """Each run's best validation loss: a row per (task, seed), a column per strategy."""
    out.add(f"\n{PER_SEED}\n")
    table = []
    have = [s for s in strategies if any(key[1] == s for key in rows)]
    for task in TASKS:
        for k in seeds:
            if any((task, s, k) in rows for s in have):
                cells = [rows.get((task, s, k), {}).get("best_val_loss") for s in have]
                table.append([task, k, *(f"{v:.4f}" if v is not None else "-" for v in cells)])
    out.table(["task", "seed", *have], table)


def ranks_per_role(out: Report, medians: dict[str, dict[str, dict[str, float]]]) -> None:
    """Mean ranks over the tasks of each role; each variant also in the reference's place."""
    for role, by_task in medians.items():
        if not by_task:
            continue
        plain = {t: {s: m for s, m in ms.items() if s not in VARIANTS} for t, ms in by_task.items()}
        ranks = mean_ranks(plain, sign=-1.0)
        out.add(f"\nMean rank over the {role} tasks ({', '.join(by_task)}; 1 is best):\n")
        out.table(["strategy", "mean rank"], [[s, f"{r:.2f}"] for s, r in ranks.items()])
        for variant in (v for v in VARIANTS if all(v in ms for ms in by_task.values())):
            swapped = {  # the variant in the reference's place, among the same peers
                t: {**{s: m for s, m in ms.items() if s != REFERENCE}, variant: by_task[t][variant]}
                for t, ms in plain.items()
            }
            ranks = mean_ranks(swapped, sign=-1.0)
            ranked = ", ".join(f"{s} {r:.2f}" for s, r in ranks.items())
            out.add(f"\nWith {variant} in place of {REFERENCE}: {ranked}\n")


def main(argv: list[str] | None = None) -> int:
    """Run what is missing; write the tables beside this script."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common_arguments(parser, "real", seeds=10, jobs=2)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument(
        "--strategies", nargs="+", default=list(STRATEGIES), choices=[*STRATEGIES, *VARIANTS]
    )
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    replicate_arguments(parser)
    parser.add_argument(
        "--pool",
        nargs="+",
        metavar="BLOCK",
        help=f"run nothing: pool the per-seed tables of these blocks of real.md ({MAIN_BLOCK}: "
        "the block written without --block) and report them as one set of seeds",
    )
    args = parser.parse_args(argv)
    if args.pool and pools_into_its_source(args.block, args.pool):
        parser.error("--pool writes a block of its own: name it with --block, not a pooled one")
    if args.pool:
        pooled = Report("real", args.block)
        rows, seeds = pooled_rows(pooled.path.read_text(), args.pool)
        pooled_report(pooled, rows, seeds, args.pool).write(command_line())
        return 0
    seeds = range(args.first_seed, args.seeds)
    cache = Cache(args.out / "results.jsonl", ("task", "strategy", "seed", "trials"), args.fresh)
    todo = [
        (t, s, k)
        for k in seeds
        for t in args.tasks
        for s in args.strategies
        if (t, s, k, args.trials) not in cache
    ]
    print(f"{len(todo)} runs to do", file=sys.stderr)
    for row in run_pool(todo, lambda j: run_one(*j, args.trials, args.out), args.jobs):
        cache.add(row)
    rows = {
        (r["task"], r["strategy"], r["seed"]): r
        for r in cache.rows.values()
        if r["trials"] == args.trials
    }
    ran = [v for v in VARIANTS if any(s == v for _, s, _ in rows)]
    reported = [t for t in TASKS if any(r[0] == t and r[2] in seeds for r in rows)]
    report(rows, [*STRATEGIES, *ran], seeds, args.trials, args.out, args.block).write(
        command_line(reported_arguments(sys.argv[1:], reported))
    )
    return 0


def block_losses(text: str, block: str) -> dict[tuple, dict]:
    """The best validation losses in one block's per-seed table: ``(task, strategy, seed)``.

    Pooling reads the markdown this script wrote, not a cache: a block's
    per-seed table is the record of its runs kept in the repository, while a
    cache lives on the machine that ran it. ``block`` is a block's name, or
    :data:`MAIN_BLOCK`.
    """
    begin, end = markers("" if block == MAIN_BLOCK else block)
    inside = text.split(begin, 1)[1].split(end, 1)[0] if begin in text else ""
    if PER_SEED not in inside:
        raise SystemExit(f"real.md has no block {block!r} with a per-seed table")
    part = inside.split(PER_SEED, 1)[1]
    lines = [line for line in part.strip().splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        task, seed, *values = (c.strip() for c in line.strip("|").split("|"))
        for strategy, value in zip(header[2:], values, strict=True):
            if value != "-":
                rows[(task, strategy, int(seed))] = {"best_val_loss": float(value)}
    return rows


def pools_into_its_source(block: str, blocks: list[str]) -> bool:
    """Whether pooling ``blocks`` into ``block`` would overwrite one of the tables it reads."""
    return (block or MAIN_BLOCK) in blocks or block in ("", MAIN_BLOCK)


def pooled_rows(text: str, blocks: list[str]) -> tuple[dict[tuple, dict], range]:
    """The runs of several blocks as one set, and the seeds they span.

    Raises:
        SystemExit: Two blocks hold the same (task, strategy, seed), or their
            seeds leave a gap: pooled blocks must be independent replicates
            that together cover seeds ``a..b``.
    """
    rows: dict[tuple, dict] = {}
    for block in blocks:
        these = block_losses(text, block)
        if both := sorted(set(rows) & set(these)):
            raise SystemExit(f"block {block!r} repeats a run of an earlier block: {both[0]}")
        rows.update(these)
    seeds = sorted({k for _, _, k in rows})
    if seeds != list(range(seeds[0], seeds[-1] + 1)):
        raise SystemExit(f"the pooled blocks' seeds leave a gap: {seeds}")
    return rows, range(seeds[0], seeds[-1] + 1)


def pooled_report(out: Report, rows: dict[tuple, dict], seeds: range, blocks: list[str]) -> Report:
    """Medians, each peer against ``bayes`` seed by seed and mean ranks, over pooled blocks."""
    out.add(
        f"{seed_words(seeds)}, pooled from the per-seed tables of the blocks "
        f"{', '.join(blocks)} of this file; best val_loss (lower is better), medians over seeds. "
        "Tasks where a strategy lacks a seed leave that strategy out.\n"
    )
    table = []
    medians: dict[str, dict[str, dict[str, float]]] = {"choose": {}, "confirm": {}}
    totals: dict[str, list[int]] = {}
    for task, (role, _) in TASKS.items():
        losses = seed_losses(rows, task, list(STRATEGIES), seeds)
        if REFERENCE not in losses:
            continue
        medians[role][task] = {s: median(loss) for s, loss in losses.items()}
        for s, loss in losses.items():
            cell = "-"
            if s != REFERENCE:
                r = paired(loss, losses[REFERENCE], sign=-1.0)
                cell = paired_cell(r, ".4f")
                counts = totals.setdefault(s, [0, 0, 0])
                for i, n in enumerate((r["losses"], r["wins"], r["ties"])):
                    counts[i] += n
            table.append([task, s, f"{median(loss):.4f}", cell])
    out.table(
        ["task", "strategy", "best val_loss", f"vs {REFERENCE}: diff [95% CI] won/lost/tied"],
        table,
    )
    out.add(f"\nSeeds won by {REFERENCE} against each peer, over all tasks:\n")
    out.table(["peer", "won", "lost", "tied"], [[s, *counts] for s, counts in totals.items()])
    ranks_per_role(out, medians)
    return out


def reported_arguments(argv: list[str], tasks: list[str]) -> list[str]:
    """The arguments that write a block again: ``--tasks`` set to the tasks it reports.

    A block reports every task in the cache, not only those its call ran:
    after ``--tasks mnist1d-cnn1d`` completes a cache holding the other three,
    the block holds all four, and the command quoted above it must say so.
    ``--tasks`` is left out when the block reports every task (the default).

    Args:
        argv: This call's arguments.
        tasks: The tasks the block reports, in :data:`TASKS`' order.
    """
    kept: list[str] = []
    dropping = False
    for word in argv:
        if word == "--tasks" or word.startswith("--tasks="):
            dropping = word == "--tasks"
            continue
        if dropping and not word.startswith("-"):
            continue
        dropping = False
        kept.append(word)
    return kept if tasks == list(TASKS) else [*kept, "--tasks", *tasks]


if __name__ == "__main__":
    sys.exit(main())

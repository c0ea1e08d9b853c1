"""The report's trade-offs: what mattered (importance per objective) and the Pareto front.

Writes, from a run directory's files::

    importance.png / .csv   each hyperparameter's importance for each objective
                            (:mod:`kt_ext.outputs.importance`), and its top lines in the log
    pareto.png              several objectives: every completed trial in the first two
                            objectives, the non-dominated ones joined as the front

Objective values come from KerasTuner's ``trial.json`` files (the last value
each trial reported) and the objectives from ``summary.json`` (several) or the
run's single objective, both as :func:`kt_ext.outputs.runs.load_run` read them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kt_ext.objectives import Objective, as_costs, pareto_ranks
from kt_ext.outputs import files, results
from kt_ext.outputs.figures import plt, save_figure
from kt_ext.outputs.importance import MIN_TRIALS, Importance, importance
from kt_ext.outputs.runs import RunRecord

log = logging.getLogger(__name__)
TOP_LINES = 3  # hyperparameters named per objective in the log
MOVED_SHOWN = 3  # entries named as moved with one of them, at most
REFITS = 8  # leave-one-out refits behind each importance's range


def write_tradeoffs(record: RunRecord) -> tuple[list[Path], dict[str, dict[str, Importance]]]:
    """Write the importance plot and table and, with several objectives, the Pareto plot.

    Returns:
        The files written, and each ranked objective's importance (its first
        objective first; empty below :data:`MIN_TRIALS` trials).
    """
    run_dir, space, objectives = record.path, record.space, record.objectives
    rows = completed(record, objectives)
    costs = as_costs(rows, objectives)
    written = []
    ranking = {}
    if len(rows) < MIN_TRIALS:  # said in a multi-objective run (asked for trade-offs)
        log.log(
            logging.INFO if len(objectives) > 1 else logging.DEBUG,
            "what mattered: not ranked, %d completed trials (at least %d needed)",
            len(rows),
            MIN_TRIALS,
        )
    for k, o in enumerate(objectives if len(rows) >= MIN_TRIALS else ()):
        found = importance(space, [r["values"] for r in rows], costs[:, k], refits=REFITS)
        if found:
            ranking[o.name] = found
            top = ", ".join(f"{n} {_described(v)}" for n, v in list(found.items())[:TOP_LINES])
            log.info(
                "what mattered for %s (total effect, 1 = its variance over the %d trials;"
                " leaving one out): %s",
                o.name,
                len(rows),
                top,
            )
    if ranking:
        table = [
            {
                "objective": o,
                "hyperparameter": n,
                "importance": round(v.effect, 4),
                "low": round(v.low, 4),
                "high": round(v.high, 4),
                "moved_with": " ".join(v.moved_with),
            }
            for o, found in ranking.items()
            for n, v in found.items()
        ]
        results.write_text(run_dir / files.IMPORTANCE_CSV, results.dicts_csv(table))
        _plot_importance(ranking, len(rows), run_dir / files.IMPORTANCE_PNG)
        written += [run_dir / files.IMPORTANCE_PNG, run_dir / files.IMPORTANCE_CSV]
    if len(objectives) > 1 and rows:
        _plot_pareto(rows, objectives, costs, run_dir / files.PARETO_PNG)
        written.append(run_dir / files.PARETO_PNG)
    return written, ranking


def completed(record: RunRecord, objectives: Sequence[Objective]) -> list[dict[str, Any]]:
    """Completed trials in trial order: ``{"trial_id", "values", <objective>: value, ...}``.

    The first objective's value is the trial's score, the others the last
    value it reported (``None`` if it reported none).
    """
    out = []
    for r in record.rows:
        if r.status != "COMPLETED":
            continue
        row: dict[str, Any] = {"trial_id": r.trial_id, "values": r.values}
        row.update({o.name: r.metrics.get(o.name) for o in objectives})
        row[objectives[0].name] = r.score
        out.append(row)
    return out


def _described(found: Importance) -> str:
    """``0.28 (0.01-0.44; moved with units)``: effect, leave-one-out range, confounded entries."""
    told = f"{found.effect:.2f} ({found.low:.2f}-{found.high:.2f}"
    if not found.moved_with:
        return told + ")"
    more = ", ..." if len(found.moved_with) > MOVED_SHOWN else ""
    return told + f"; moved with {', '.join(found.moved_with[:MOVED_SHOWN])}{more})"


def _plot_importance(ranking: dict[str, dict[str, Importance]], trials: int, path: Path) -> None:
    width = max(6.4, 4.5 * len(ranking))  # as wide as the report's other figures
    fig, axes = plt.subplots(1, len(ranking), figsize=(width, 4.0), squeeze=False)
    for ax, (name, found) in zip(axes[0], ranking.items(), strict=True):
        names = list(found)[::-1]
        labels = [f"{n} *" if found[n].moved_with else n for n in names]
        effects = np.array([max(found[n].effect, 0.0) for n in names])
        lows = np.array([max(found[n].low, 0.0) for n in names])
        highs = np.array([max(found[n].high, 0.0) for n in names])
        whiskers = [effects - lows, highs - effects]
        ax.barh(labels, effects, color="tab:blue", xerr=whiskers, capsize=2)
        ax.set_xlabel("total effect, 1 = its variance (whiskers: one trial left out)", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(f"what mattered: {name}", fontsize=9)
    fig.suptitle(
        f"total effect on a sparse GP surrogate, {trials} trials\n"
        "(*: moved with other entries across them, see importance.csv)",
        fontsize=9,
    )
    save_figure(fig, path)


def _plot_pareto(
    rows: Sequence[dict[str, Any]], objectives: Sequence[Objective], costs: Any, path: Path
) -> None:
    a, b = objectives[0], objectives[1]
    ok = np.all(np.isfinite(costs), axis=1)
    front = pareto_ranks(costs) == 0
    xs = np.array([rows[i][a.name] if ok[i] else np.nan for i in range(len(rows))], dtype=float)
    ys = np.array([rows[i][b.name] if ok[i] else np.nan for i in range(len(rows))], dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 4.5))
    ax.scatter(xs[ok & ~front], ys[ok & ~front], s=14, color="0.6", label="trials")
    order = np.argsort(xs[front & ok])
    ax.plot(xs[front & ok][order], ys[front & ok][order], "o-", color="tab:red", label="front")
    for i in np.flatnonzero(front & ok):
        ax.annotate(rows[int(i)]["trial_id"], (xs[i], ys[i]), fontsize=6)
    ax.set_xlabel(f"{a.name} ({a.direction})")
    ax.set_ylabel(f"{b.name} ({b.direction})")
    for values, scale, o in ((xs, ax.set_xscale, a), (ys, ax.set_yscale, b)):
        shown = values[np.isfinite(values)]
        if o.log or (len(shown) and shown.min() > 0 and shown.max() > 20 * shown.min()):
            scale("log")  # sizes, and losses with a diverged outlier, on a log axis
    ax.legend(fontsize=7)
    more = f" (first two of {len(objectives)})" if len(objectives) > 2 else ""
    ax.set_title("Pareto front" + more)
    save_figure(fig, path)

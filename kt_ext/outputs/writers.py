"""The run's tables and records: ``trials.csv``, the best-N table, the winner, ``summary.json``.

Each writer takes plain values (no settings object) and writes its file
atomically under the name :mod:`kt_ext.outputs.files` gives it; strategy
specific outputs (``rungs.csv``, ``zoom_stages.csv``) are written from the
oracle's own rows, for the strategies whose registry entry lists them
(:mod:`kt_ext.config.strategies`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kt_ext.outputs import files, results

log = logging.getLogger(__name__)


def write_trial_outputs(
    rows: list[results.TrialRow],
    run_dir: Path,
    names: Sequence[str],
    objective: str,
    direction: str,
    top_n: int,
    quiet: bool = False,
) -> None:
    """``trials.csv``, ``best_table.txt`` and ``best_hyperparameters.yaml``; logs the table.

    ``quiet``: do not log it (after each trial, while the search runs).
    """
    results.write_text(run_dir / files.TRIALS_CSV, results.trials_csv(rows, names, objective))
    table = results.best_table(rows, objective, direction, top_n)
    results.write_text(run_dir / files.BEST_TABLE, table + "\n")
    if not quiet:
        log.info("best %d of %d trials:\n%s", min(top_n, len(rows)), len(rows), table)
    best = results.best_rows(rows, direction, 1)
    if best:
        results.write_yaml(
            run_dir / files.BEST_HYPERPARAMETERS,
            {
                "objective": objective,
                "direction": direction,
                "score": best[0].score,
                "trial_id": best[0].trial_id,
                "values": best[0].config,
            },
        )


def write_rungs(oracle: Any, run_dir: Path) -> dict[str, Any]:
    """``rungs.csv``: the rung each trial of a successive-halving oracle reached; logs the counts.

    Returns:
        For ``summary.json``: ``configs_per_rung``, configurations that reached each rung budget.
    """
    rows = oracle.rung_rows()
    results.write_text(run_dir / files.RUNGS_CSV, results.dicts_csv(rows))
    reached: dict[str, set[str]] = {}
    for row in rows:
        if row["rung"] >= 0:
            for budget in oracle.schedule.budgets[: row["rung"] + 1]:
                reached.setdefault(f"{budget:g}", set()).add(row["config"])
    counts = {budget: len(configs) for budget, configs in reached.items()}
    log.info(
        "configurations per rung: %s; rungs of every trial in %s",
        ", ".join(f"{n} reached {b}" for b, n in counts.items()),
        run_dir / files.RUNGS_CSV,
    )
    return {"configs_per_rung": counts}


def write_zoom_stages(oracle: Any, run_dir: Path) -> dict[str, Any]:
    """``zoom_stages.csv``: every stage's ranges of a coarse-to-fine oracle."""
    rows = oracle.stage_rows()
    results.write_text(run_dir / files.ZOOM_STAGES_CSV, results.dicts_csv(rows))
    log.info(
        "zoom: the ranges of %d stages are in %s", oracle.stages, run_dir / files.ZOOM_STAGES_CSV
    )
    return {}


#: The writer of each strategy-specific output, by file name.
STRATEGY_OUTPUTS: dict[str, Callable[[Any, Path], dict[str, Any]]] = {
    files.RUNGS_CSV: write_rungs,
    files.ZOOM_STAGES_CSV: write_zoom_stages,
}


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    """``summary.json``: the run's headline numbers."""
    results.write_json(run_dir / files.SUMMARY, summary)


def summary_counts(rows: Sequence[results.TrialRow]) -> dict[str, int]:
    """Trials, completed and failed trials, and epochs trained, for ``summary.json``."""
    statuses = [r.status for r in rows]
    return {
        "trials": len(statuses),
        "completed": statuses.count("COMPLETED"),
        "failed": sum(s in ("FAILED", "INVALID") for s in statuses),
        "epochs": sum(r.epochs or 0 for r in rows),
    }

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

from kt_ext.objectives import Objective, Selection
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
    objectives: Sequence[Objective] = (),
    selection: Selection | None = None,
) -> None:
    """``trials.csv``, ``best_table.txt``, ``best_hyperparameters.yaml``; logs the table.

    With several ``objectives`` also ``pareto.csv``, and the front is marked
    in ``trials.csv``. ``best_hyperparameters.yaml`` holds the trial
    ``selection`` picks (default: the best by ``objective``).
    ``quiet``: do not log (after each trial, while the search runs).
    """
    objectives = tuple(objectives) or (Objective(objective, direction),)
    selection = selection or Selection(objective)
    csv_text = results.trials_csv(rows, names, objective, objectives)
    results.write_text(run_dir / files.TRIALS_CSV, csv_text)
    table = results.best_table(rows, objective, direction, top_n)
    results.write_text(run_dir / files.BEST_TABLE, table + "\n")
    if len(objectives) > 1:
        pareto = results.pareto_csv(rows, names, objectives)
        results.write_text(run_dir / files.PARETO_CSV, pareto)
        if not quiet:
            front = len(pareto.splitlines()) - 1
            log.info("Pareto front: %d trial(s) in %s", front, run_dir / files.PARETO_CSV)
    if not quiet:
        shown = len(results.best_rows(rows, direction, top_n))  # finite, one per configuration
        log.info("best %d of %d trials:\n%s", shown, len(rows), table)
    chosen = results.selected_row(rows, objectives, selection)
    if chosen is not None:
        results.write_yaml(
            run_dir / files.BEST_HYPERPARAMETERS,
            {
                "objective": objective,
                "direction": direction,
                "score": chosen.score,
                "trial_id": chosen.trial_id,
                "values": chosen.config,
                **(
                    {
                        "selected_by": selection.describe(),
                        "objectives": results.objective_values(chosen, objectives),
                    }
                    if len(objectives) > 1 or selection.limits
                    else {}
                ),
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

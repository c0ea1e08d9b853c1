"""Summary of a Hydra multirun: one row per job with its overrides and best score.

:class:`SweepSummary` is a Hydra callback (registered in ``conf/config.yaml``);
at the end of a sweep it reads each job's ``summary.json`` and Hydra's
``.hydra/overrides.yaml`` from the job directories, so it works whatever
launcher ran the jobs. It imports nothing heavy.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path
from typing import Any

import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from kt_ext.results import write_text

log = logging.getLogger(__name__)

COLUMNS = (
    "job",
    "overrides",
    "objective",
    "best_score",
    "test_accuracy",
    "test_loss",
    "trials",
    "completed",
    "epochs",
    "seconds",
    "status",
)


def sweep_rows(sweep_dir: Path) -> list[dict[str, Any]]:
    """One row per job directory under ``sweep_dir``; a job without ``summary.json`` failed."""
    rows = []
    jobs = [p for p in Path(sweep_dir).iterdir() if (p / ".hydra").is_dir()]
    for job in sorted(jobs, key=lambda p: (len(p.name), p.name)):
        overrides_file = job / ".hydra" / "overrides.yaml"
        overrides = yaml.safe_load(overrides_file.read_text()) if overrides_file.is_file() else []
        row: dict[str, Any] = {"job": job.name, "overrides": " ".join(overrides or [])}
        summary_file = job / "summary.json"
        if summary_file.is_file():
            summary = json.loads(summary_file.read_text())
            row.update({k: summary.get(k, "") for k in COLUMNS if k not in row})
            row["status"] = "ok"
        else:
            row.update({k: "" for k in COLUMNS if k not in row})
            row["status"] = "failed"
        rows.append(row)
    return rows


def sweep_csv(rows: list[dict[str, Any]]) -> str:
    """CSV text of the sweep rows."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def sweep_table(rows: list[dict[str, Any]]) -> str:
    """Printable table: job, overrides, best score, test accuracy."""
    lines = []
    for r in rows:
        score = f"{r['best_score']:.4f}" if isinstance(r["best_score"], float) else "-"
        test = f"{r['test_accuracy']:.4f}" if isinstance(r["test_accuracy"], float) else "-"
        objective = r["objective"] or "-"
        lines.append(
            f"job {r['job']:>3} | {objective} {score} | test_accuracy {test} | {r['overrides']}"
        )
    return "\n".join(lines)


class SweepSummary(Callback):
    """Writes ``sweep_summary.csv`` into the sweep directory and prints the table."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Collect every job's result once the sweep has finished."""
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        rows = sweep_rows(sweep_dir)
        write_text(sweep_dir / "sweep_summary.csv", sweep_csv(rows))
        print(
            f"sweep summary ({sweep_dir / 'sweep_summary.csv'}):\n{sweep_table(rows)}", flush=True
        )

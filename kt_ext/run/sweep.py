"""Summary of a Hydra multirun: one row per job with its overrides and best score.

:class:`SweepSummary` is a Hydra callback (registered in ``conf/config.yaml``);
at the end of a sweep it reads each job's ``summary.json`` and Hydra's
``.hydra/overrides.yaml`` from the job directories, so it works whatever
launcher ran the jobs. It imports nothing heavy.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from kt_ext.errors import ConfigError
from kt_ext.outputs import files
from kt_ext.outputs.files import job_dir_name
from kt_ext.outputs.results import write_text
from kt_ext.outputs.state import StateError, load_json, load_yaml

log = logging.getLogger(__name__)

JOB_COLUMNS = ("job", "overrides")  # from the job's directory and Hydra's overrides.yaml
SUMMARY_COLUMNS = (  # from the job's summary.json (status: the sweep's own verdict)
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
COLUMNS = JOB_COLUMNS + SUMMARY_COLUMNS


def sweep_rows(sweep_dir: Path) -> list[dict[str, Any]]:
    """One row per job directory under ``sweep_dir``.

    A job without ``summary.json`` failed; one whose ``summary.json`` or
    ``overrides.yaml`` cannot be read as what the tool writes (cut short,
    edited, not an object or a list of strings) is ``damaged``: its row says
    so and the other jobs are summarised as usual.
    """
    rows = []
    for job in files.sweep_jobs(sweep_dir):
        row: dict[str, Any] = {k: "" for k in COLUMNS}
        row["job"] = job.name
        damaged = False
        try:
            row["overrides"] = " ".join(_overrides(job))
        except StateError:
            damaged = True
        try:
            summary = _summary(job)
        except StateError:
            summary, damaged = None, True
        if summary is not None:
            row.update({k: summary.get(k, "") for k in SUMMARY_COLUMNS})
        row["status"] = "damaged" if damaged else "failed" if summary is None else "ok"
        rows.append(row)
    return rows


def _summary(job: Path) -> dict[str, Any] | None:
    """The job's ``summary.json`` (``None``: it wrote none).

    Raises:
        StateError: The file is cut short or not a JSON object.
    """
    path = job / files.SUMMARY
    return load_json(path) if path.is_file() else None


def _overrides(job: Path) -> list[str]:
    """The job's command-line overrides, from Hydra's ``.hydra/overrides.yaml``.

    Raises:
        StateError: The file does not parse or is not a list of strings.
    """
    path = job / files.HYDRA_OVERRIDES
    if not path.is_file():
        return []
    value = load_yaml(path)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(o, str) for o in value):
        raise StateError(path, "not a list of overrides")
    return value


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
        number = r["job"].split("_", 1)[0]
        lines.append(
            f"job {number:>3} | {objective} {score} | test_accuracy {test} | {r['overrides']}"
        )
    return "\n".join(lines)


RESOLVER = "kt_job_dir"
HELP_RESOLVER = "kt_help"


def register_resolvers() -> None:
    """Register ``${kt_job_dir:num,overrides}`` (``hydra.sweep.subdir``) and ``${kt_help:job}``.

    ``kt_help`` gives ``hydra.help.template`` the script's own help
    (:mod:`kt_ext.config.help`).
    """
    from kt_ext.config.help import help_text

    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, job_dir_name)
    if not OmegaConf.has_resolver(HELP_RESOLVER):
        OmegaConf.register_new_resolver(HELP_RESOLVER, help_text)


def write_sweep_experiment(sweep_dir: Path) -> int:
    """One HParams experiment config for every job of a sweep, at the sweep's root.

    Each job's columns come from its saved config (``.hydra/config.yaml``);
    columns several jobs share get the hull of their domains, and the ``job``
    column lists the jobs.

    Returns:
        The number of jobs described.
    """
    from kt_ext.config import validate
    from kt_ext.outputs import board, hparams  # TensorBoard's protobufs: only at a sweep's end

    columns: list[Any] = []
    metrics: set[str] = set()
    rungs = 0
    jobs: list[Any] = []
    costs: set[str] = set()
    front = False
    for job in files.sweep_jobs(sweep_dir):
        config = job / files.HYDRA_CONFIG
        if not (job / files.TENSORBOARD).is_dir() or not config.is_file():
            continue
        try:
            saved = OmegaConf.load(config)
        except (OSError, ValueError, yaml.YAMLError):  # cut short or edited: not a job's config
            continue
        if not isinstance(saved, DictConfig):  # not a job's config (a list): not a job
            continue
        try:
            settings = validate(saved)
        except ConfigError:
            continue
        jobs.append(job.name)
        n = settings.rungs
        rungs = max(rungs, n)
        try:
            summary = _summary(job) or {}
        except StateError:  # the job's row says damaged; its columns come from its config
            summary = {}
        constants: dict[str, Any] = {
            k: summary[k] for k in ("distribute", "replicas") if k in summary
        }
        columns.append(
            hparams.space_hparams(settings.space)
            + (hparams.halving_hparams() if n else [])
            + hparams.constant_hparams(constants)
        )
        metrics.update(settings.metrics)
        costs.update(o.name for o in settings.search.all_objectives if o.is_cost)
        front = front or settings.search.multi
    if not jobs:
        return 0
    merged = hparams.merge_hparams(columns)
    merged.append(hparams.hp.HParam(hparams.JOB_HPARAM, hparams.hp.Discrete(jobs)))
    summary = hparams.experiment_summary(
        merged,
        sorted(metrics),
        hparams.status_labels(rungs),
        rungs=rungs > 0,
        shown=hparams.shown_hparams(settings.space, first=[hparams.JOB_HPARAM]),
        objective=settings.search.objective,
        costs=sorted(costs),
        front=front,
    )
    with board.EventLog(sweep_dir) as log:
        log.summary(summary)
    return len(jobs)


class SweepSummary(Callback):
    """Writes a sweep's summary, its HParams experiment and its convergence plot.

    At the end of a sweep: ``sweep_summary.csv`` (and the printed table), one
    HParams experiment config for all jobs, and ``convergence.png`` with one
    line per job (:mod:`kt_ext.outputs.report`).
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Collect every job's result once the sweep has finished."""
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        rows = sweep_rows(sweep_dir)
        write_text(sweep_dir / files.SWEEP_SUMMARY, sweep_csv(rows))
        print(
            f"sweep summary ({sweep_dir / files.SWEEP_SUMMARY}):\n{sweep_table(rows)}", flush=True
        )
        from kt_ext.native_log import import_tensorflow

        import_tensorflow()  # quietly: jobs of a launcher like joblib ran in other processes
        if write_sweep_experiment(sweep_dir):
            from kt_ext.outputs import report, runs

            try:
                report.plot_convergence(
                    runs.load_runs(runs.job_dirs(sweep_dir)),
                    sweep_dir / files.CONVERGENCE_PNG,
                )
            except Exception:  # noqa: BLE001 - the jobs' results are already saved
                log.exception("the sweep's convergence plot could not be written")

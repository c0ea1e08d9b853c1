"""A run's state read from its files alone: for ``scripts/status.py``, while it runs or after.

Nothing here imports KerasTuner or TensorFlow, and nothing is written: the
trials come from KerasTuner's own ``trial.json`` files (each rewritten
atomically as the trial starts and ends), the run's headline from
``summary.json`` (brought up to date after every trial by
:class:`kt_ext.run.watch.SearchWatch`, with its ``status``: running,
interrupted or finished, and the process that writes it), and which worker
ran which trial from ``workers/assignments.csv``.

A run whose ``summary.json`` says running but whose process is gone (killed
with SIGKILL, a lost machine) is reported as ``stopped``; its trial that was
running re-runs when the run is resumed.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from kt_ext.outputs import files, results

#: Trial statuses counted as running: started, not ended.
OPEN = ("RUNNING", "IDLE")
#: A run's status in ``summary.json``: the search writes the first three; a reader
#: calls a "running" run whose process is gone "stopped" (killed without a word),
#: and a sweep's job that has written nothing yet "pending".
RUN_RUNNING, RUN_INTERRUPTED, RUN_FINISHED, RUN_STOPPED, RUN_PENDING = (
    "running",
    "interrupted",
    "finished",
    "stopped",
    "pending",
)


@dataclass
class RunStatus:
    """What ``scripts/status.py`` shows."""

    run_dir: str
    status: str
    objective: str | None
    direction: str | None
    completed: int
    failed: int
    running: int
    planned_trials: int | None
    seconds: float | None
    seconds_left: float | None
    best: list[dict[str, Any]] = field(default_factory=list)
    table: str = ""  # the best-N table, as the run writes it
    workers: dict[str, dict[str, int]] = field(default_factory=dict)
    pareto: list[str] = field(default_factory=list)  # several objectives: the front's trial ids

    def as_json(self) -> str:
        """The status as JSON (``--json``)."""
        return json.dumps(asdict(self), indent=2, default=str)


def read_trials(run_dir: Path) -> list[results.TrialRow]:
    """Every trial of the run's KerasTuner project, from its ``trial.json`` files."""
    out = []
    for path in sorted((Path(run_dir) / files.PROJECT).glob(f"trial_*/{files.TRIAL_FILE}")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being written: the next read sees it
        metrics = {}
        for name, series in (data.get("metrics") or {}).get("metrics", {}).items():
            observations = series.get("observations") or []
            if observations and observations[-1].get("value"):
                metrics[name] = float(observations[-1]["value"][-1])
        epochs = metrics.pop(results.EPOCHS_RUN, None)
        seconds = metrics.pop(results.SECONDS, None)
        rss = metrics.pop(results.RSS_MIB, None)
        score = data.get("score")
        out.append(
            results.TrialRow(
                trial_id=str(data.get("trial_id")),
                status=str(data.get("status")),
                values=dict((data.get("hyperparameters") or {}).get("values", {})),
                score=None if score is None else float(score),
                epochs=None if epochs is None else int(epochs),
                seconds=seconds,
                message=results.failure_reason(data.get("message")),
                metrics=metrics,
                rss_mib=rss,
            )
        )
    return out


def trials_per_worker(run_dir: Path) -> dict[str, int]:
    """Trials each worker ran last (the run that counts), from ``workers/assignments.csv``."""
    return {w: len(ids) for w, ids in _assigned(run_dir).items()}


def last_owners(run_dir: Path) -> dict[str, str]:
    """The worker each trial was handed to last, from ``workers/assignments.csv``."""
    path = Path(run_dir) / files.ASSIGNMENTS
    if not path.is_file():
        return {}
    last: dict[str, str] = {}
    for line in path.read_text().splitlines()[1:]:
        parts = line.split(",")
        if len(parts) >= 2:
            last[parts[0]] = parts[1]
    return last


def _assigned(run_dir: Path) -> dict[str, list[str]]:
    by_worker: dict[str, list[str]] = {}
    for trial_id, worker in last_owners(run_dir).items():
        by_worker.setdefault(worker, []).append(trial_id)
    return dict(sorted(by_worker.items()))


def process_alive(summary: dict[str, Any]) -> bool | None:
    """Whether the process that writes ``summary`` still runs (``None``: another host's)."""
    pid, host = summary.get("pid"), summary.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_run(path: Path) -> bool:
    """Whether ``path`` holds one run (its summary or KerasTuner's project), not a sweep."""
    return (Path(path) / files.SUMMARY).is_file() or (Path(path) / files.PROJECT).is_dir()


def _no_run(path: Path) -> FileNotFoundError:
    return FileNotFoundError(f"{path} holds no kt-ext run (no {files.SUMMARY})")


def snapshot(path: Path, top_n: int = 5, as_json: bool = False) -> tuple[str, bool]:
    """What ``scripts/status.py`` prints for a run or a sweep, and whether it is still going.

    Raises:
        FileNotFoundError: ``path`` holds neither a run nor a sweep's jobs.
    """
    if is_run(path):
        status = read_status(path, top_n)
        return (status.as_json() if as_json else describe(status)), status.status == RUN_RUNNING
    jobs = read_sweep_status(path)
    text = "[" + ",\n".join(j.as_json() for j in jobs) + "]" if as_json else describe_sweep(jobs)
    return text, any(j.status in (RUN_RUNNING, RUN_PENDING) for j in jobs)


def read_status(run_dir: Path, top_n: int = 5) -> RunStatus:
    """The run's state from its files.

    Raises:
        FileNotFoundError: ``run_dir`` holds no kt-ext run.
    """
    run_dir = Path(run_dir)
    summary_path = run_dir / files.SUMMARY
    if not is_run(run_dir):
        raise _no_run(run_dir)
    try:
        summary = json.loads(summary_path.read_text())
    except (OSError, ValueError):
        summary = {}
    rows = read_trials(run_dir)
    status = summary.get("status", "unknown")
    if status == RUN_RUNNING and process_alive(summary) is False:
        status = RUN_STOPPED
    running = [r for r in rows if r.status in OPEN] if status == RUN_RUNNING else []
    done = [r for r in rows if r.status not in OPEN]
    direction = summary.get("direction")
    objective = summary.get("objective")
    seconds = summary.get("seconds")
    if status == RUN_RUNNING and isinstance(summary.get("updated"), (int, float)):
        seconds = (seconds or 0) + max(0.0, time.time() - summary["updated"])
    planned = summary.get("planned_trials")
    left = None
    if status == RUN_RUNNING and planned and done and seconds:
        left = seconds / len(done) * max(planned - len(done), 0)
    best = results.best_rows(rows, direction, top_n) if direction else []
    workers = {}
    running_ids = {r.trial_id for r in running}
    for worker, ids in _assigned(run_dir).items():
        workers[worker] = {
            "trials": len(ids),
            "running": sum(i in running_ids for i in ids),
        }
    return RunStatus(
        run_dir=str(run_dir),
        status=status,
        objective=objective,
        direction=direction,
        completed=sum(r.status == "COMPLETED" for r in done),
        failed=sum(r.status in ("FAILED", "INVALID") for r in done),
        running=len(running),
        planned_trials=planned,
        seconds=seconds,
        seconds_left=left,
        best=[
            {"trial_id": r.trial_id, "score": r.score, "epochs": r.epochs, "values": r.config}
            for r in best
        ],
        table=results.best_table(rows, objective, direction, top_n) if best else "",
        workers=workers,
        pareto=_front(run_dir),
    )


def _front(run_dir: Path) -> list[str]:
    """Trial ids in ``pareto.csv`` (written after every trial of a multi-objective search)."""
    import csv

    path = run_dir / files.PARETO_CSV
    if not path.is_file():
        return []
    with path.open() as f:
        return [row["trial_id"] for row in csv.DictReader(f)]


def describe(status: RunStatus) -> str:
    """The status as text: the headline, the counts, the best-N table, the workers."""
    planned = f" of {status.planned_trials}" if status.planned_trials else ""
    lines = [
        f"{status.run_dir}: {status.status}",
        f"trials: {status.completed} completed, {status.failed} failed, "
        f"{status.running} running{planned}",
    ]
    if status.seconds is not None:
        spent = f"time: {status.seconds:.0f} s"
        if status.seconds_left is not None:
            spent += f", about {status.seconds_left:.0f} s left"
        lines.append(spent)
    if status.table:
        lines.append(status.table)
    if status.pareto:
        lines.append(f"Pareto front: trials {', '.join(status.pareto)} ({files.PARETO_CSV})")
    for worker, counts in status.workers.items():
        lines.append(f"{worker}: {counts['trials']} trials, {counts['running']} running")
    return "\n".join(lines)


def read_sweep_status(sweep_dir: Path) -> list[RunStatus]:
    """Each job's state, in job order, for a Hydra sweep directory (its jobs' best trial only).

    A job that has not started its search yet (Hydra made its directory, kt-ext
    has written nothing) is ``pending``.

    Raises:
        FileNotFoundError: ``sweep_dir`` holds no job of a sweep.
    """
    jobs = files.sweep_jobs(sweep_dir) if Path(sweep_dir).is_dir() else []
    if not jobs:
        raise _no_run(sweep_dir)
    pending = RunStatus("", RUN_PENDING, None, None, 0, 0, 0, None, None, None)
    return [
        read_status(job, top_n=1) if is_run(job) else replace(pending, run_dir=str(job))
        for job in jobs
    ]


def describe_sweep(statuses: list[RunStatus]) -> str:
    """One line per job: ``0_strategy=bayes: finished, 8 completed, ... | best val_loss 0.31``."""
    lines = []
    for st in statuses:
        line = f"{Path(st.run_dir).name}: {st.status}"
        if st.status != RUN_PENDING:
            line += f", {st.completed} completed, {st.failed} failed, {st.running} running"
        if st.best:
            line += (
                f" | best {st.objective} {st.best[0]['score']:.4g} (trial {st.best[0]['trial_id']})"
            )
        lines.append(line)
    return "\n".join(lines)

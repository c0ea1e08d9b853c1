"""A finished run directory, read as data: its trials, objective and search space.

Run directories may come from someone else (a colleague's sweep, a shared
drive): every file is parsed as data (:func:`kt_ext.outputs.state.load_json`,
YAML's safe loader), and one that is cut short or is not what the tool writes
raises :class:`~kt_ext.outputs.state.StateError` naming it, so the scripts that
read runs (``scripts/report.py``, a sweep's summary) print one line, or leave
a damaged job of a sweep out with a warning, instead of a traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

from kt_ext.objectives import Objective
from kt_ext.outputs import files, results
from kt_ext.outputs.files import PROJECT, job_order
from kt_ext.outputs.state import StateError, load_json, load_yaml

log = logging.getLogger(__name__)


@dataclass
class RunRecord:
    """What the report reads from one run directory.

    Each row's ``metrics`` hold the last value the trial reported of every
    metric KerasTuner tracked for it; ``objectives`` are ``summary.json``'s
    list in a run of several objectives, else the one objective.
    """

    path: Path
    objective: str
    direction: str
    rows: list[results.TrialRow]
    space: list[dict[str, Any]] = field(default_factory=list)
    objectives: list[Objective] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The job's name in a sweep (its directory name)."""
        return self.path.name


def load_run(run_dir: Path) -> RunRecord:
    """Read a run's trials, objective and search space.

    The run directory may come from someone else: every file is parsed as
    data (:func:`kt_ext.outputs.state.load_json`, YAML's safe loader), and
    one that is cut short or is not what the tool writes raises
    :class:`~kt_ext.outputs.state.StateError` naming it. A trial's id must be
    its directory's (``trial_<id>``): the report reads the trial's curves at
    ``tensorboard/<id>``, so an id cannot lead it out of the run directory.

    Raises:
        FileNotFoundError: ``run_dir`` holds no KerasTuner project.
        StateError: One of its files is damaged.
    """
    run_dir = Path(run_dir)
    project = run_dir / PROJECT
    oracle_file = project / files.ORACLE_FILE
    if not oracle_file.is_file():
        raise FileNotFoundError(f"{run_dir} is not a kt-ext run: {oracle_file} is missing")
    rows = []
    for path in project.glob(f"trial_*/{files.TRIAL_FILE}"):
        t = load_json(path)
        if path.parent.name != f"trial_{t.get('trial_id')}":  # the id names directories
            raise StateError(path, f"trial_id {t.get('trial_id')!r} is not its directory's")
        with _as_damaged(path, "not a KerasTuner trial"):
            score = t.get("score")
            rows.append(
                results.TrialRow(
                    trial_id=str(t["trial_id"]),
                    status=str(t.get("status")),
                    values=dict(t["hyperparameters"]["values"]),
                    score=None if score is None else float(score),
                    epochs=None,
                    seconds=None,
                    metrics=_last_values(t.get("metrics") or {}),
                )
            )
    rows.sort(key=lambda r: trial_number(r.trial_id))
    summary_file = run_dir / files.SUMMARY
    summary = load_json(summary_file) if summary_file.is_file() else {}
    config = run_dir / files.HYDRA_CONFIG
    search = _hydra_search(config)
    objective = summary.get("objective") or search.get("objective") or "val_loss"
    direction = summary.get("direction") or search.get("direction")
    direction = direction or ("min" if str(objective).endswith("loss") else "max")
    if not isinstance(objective, str) or direction not in ("min", "max"):
        source = summary_file if summary else config
        raise StateError(source, f"no objective and direction (read {objective!r}, {direction!r})")
    with _as_damaged(summary_file, "objectives are not (name, direction) pairs"):
        listed = summary.get("objectives") or [(objective, direction)]
        objectives = [Objective(str(name), str(sense)) for name, sense in listed]
    oracle = load_json(oracle_file)
    with _as_damaged(oracle_file, "not a KerasTuner oracle"):
        entries = oracle["hyperparameters"]["space"]
        space = [dict(e) for e in entries if not _injected(str(e["config"]["name"]))]
    return RunRecord(run_dir, objective, direction, rows, space, objectives)


def _last_values(metrics: dict[str, Any]) -> dict[str, float]:
    """The last value of each metric in a ``trial.json``'s ``metrics`` (a mean over executions)."""
    out = {}
    for name, tracked in (metrics.get("metrics") or {}).items():
        seen = tracked.get("observations") or []
        if seen:
            value = seen[-1]["value"]
            out[str(name)] = fmean(value) if isinstance(value, list) else float(value)
    return out


@contextlib.contextmanager
def _as_damaged(path: Path, what: str) -> Iterator[None]:
    """Turn a missing key or an ill-typed value read from ``path`` into a :class:`StateError`."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise StateError(path, f"{what} ({type(e).__name__}: {e})") from None


def _hydra_search(config: Path) -> dict[str, Any]:
    """The ``search`` node of the run's saved Hydra config (for a run without summary.json)."""
    if not config.is_file():
        return {}
    saved = load_yaml(config)
    search = saved.get("search") if isinstance(saved, dict) else None
    return dict(search) if isinstance(search, dict) else {}


def _injected(name: str) -> bool:
    return name.startswith("tuner/")


def trial_number(trial_id: str) -> int:
    """A trial id's number (``"07"`` -> 7; 0 for ids that are not numbers)."""
    return int(trial_id) if trial_id.isdigit() else 0


def job_dirs(sweep_dir: Path) -> list[Path]:
    """Job directories of a Hydra sweep that hold a kt-ext run, in job order."""
    jobs = [p for p in Path(sweep_dir).iterdir() if (p / PROJECT / files.ORACLE_FILE).is_file()]
    return sorted(jobs, key=job_order)


def load_runs(run_dirs: Sequence[Path]) -> list[RunRecord]:
    """:func:`load_run` of each directory; a damaged one is named in a warning and left out."""
    records = []
    for run_dir in run_dirs:
        try:
            records.append(load_run(run_dir))
        except StateError as e:  # the other jobs of a sweep are still reported
            log.warning("left out of the sweep's report: %s", e)
    return records

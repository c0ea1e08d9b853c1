"""Result views: one row per trial, ``trials.csv``, the best-N table and atomic file writes.

Pure Python over plain data: rows come from :func:`trial_rows`, which reads
KerasTuner ``Trial`` objects through their public attributes only.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from kt_ext.objectives import Objective, Selection, as_costs, pareto_ranks

# Metrics every kt-ext tuner reports per trial besides the model's own.
EPOCHS_RUN = "kt_ext/epochs_run"
SECONDS = "kt_ext/seconds"
RSS_MIB = "kt_ext/rss_mib"  # the training process's resident memory when the trial ended


@dataclass(frozen=True)
class TrialRow:
    """What a run reports about one trial."""

    trial_id: str
    status: str
    values: dict[str, Any]
    score: float | None
    epochs: int | None
    seconds: float | None
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    rss_mib: float | None = None  # resident memory of the process that trained it, at its end

    @property
    def config(self) -> dict[str, Any]:
        """The hyperparameter values without the keys a strategy injects (``tuner/...``)."""
        return {k: v for k, v in self.values.items() if not k.startswith("tuner/")}


def oracle_rows(oracle: Any) -> list[TrialRow]:
    """Rows for every trial of a KerasTuner oracle, each's values in the order of its space.

    A trial that a worker reported over gRPC comes back with its values
    grouped by type (KerasTuner's protocol buffer keeps floats, integers and
    choices apart), so the chief's lines and tables listed ``lr,
    weight_decay, dropout, ...`` where a single process lists the space's
    order; the oracle's own space keeps the declared order.
    """
    order = [hp.name for hp in oracle.hyperparameters.space]
    return trial_rows(oracle.trials.values(), order)


def trial_rows(trials: Iterable[Any], order: Sequence[str] = ()) -> list[TrialRow]:
    """Rows for KerasTuner trials, in trial-id order; values in ``order``, then the rest."""
    rows = []
    for t in sorted(trials, key=lambda t: t.trial_id):
        given = dict(t.hyperparameters.values)
        values = {k: given[k] for k in order if k in given}
        values.update({k: v for k, v in given.items() if k not in values})
        metrics = {}
        for name in t.metrics.metrics:
            value = t.metrics.get_last_value(name)
            if value is not None:
                metrics[name] = float(value)
        epochs = metrics.pop(EPOCHS_RUN, None)
        seconds = metrics.pop(SECONDS, None)
        rss = metrics.pop(RSS_MIB, None)
        rows.append(
            TrialRow(
                trial_id=t.trial_id,
                status=str(t.status),
                values=values,
                score=None if t.score is None else float(t.score),
                epochs=None if epochs is None else int(epochs),
                seconds=seconds,
                message=failure_reason(t.message),
                metrics=metrics,
                rss_mib=rss,
            )
        )
    return rows


def failure_reason(message: str | None) -> str:
    """The last line of a failed trial's traceback, without KerasTuner's exception prefix."""
    if not message or not message.strip():
        return ""
    last = message.strip().splitlines()[-1]
    return last.removeprefix("keras_tuner.src.errors.FailedTrialError: ")


def code_version() -> dict[str, str | None]:
    """kt-ext's version and, in a git checkout, the commit (``+dirty`` with local changes)."""
    import subprocess

    from kt_ext import __version__

    root = Path(__file__).resolve().parents[1]
    commit = None
    try:
        commit = (
            subprocess.run(
                ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=12"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        pass
    return {"kt_ext": __version__, "git": commit}


def best_config(
    config: Mapping[str, Any], names: Sequence[str], values: Mapping[str, Any], trial_id: str
) -> dict[str, Any]:
    """A complete config that retrains trial ``trial_id`` (``scripts/train.py -cn best_config``).

    Args:
        config: The run's composed config, resolved (without Hydra's node).
        names: Every hyperparameter of the space.
        values: The trial's active values (inactive entries become ``null``).
        trial_id: The trial, whose id seeds the retrained model like the trial's.
    """
    out = _plain(dict(config))
    out.pop("hydra", None)
    out["model"] = {**out["model"], "values": {n: values.get(n) for n in names}}
    if isinstance(out.get("parallel"), dict):  # the command line's alone (config.safety)
        out["parallel"] = {**out["parallel"], "insecure": False}
    out["trial_id"] = trial_id
    out["code_version"] = code_version()
    return out


def best_rows(rows: Sequence[TrialRow], direction: str, n: int) -> list[TrialRow]:
    """The ``n`` best completed rows with a finite score, best first, one per configuration.

    Trials that continue the same configuration (successive halving) share
    a configuration; only its best trial is listed.
    """
    scored = _scored(rows)
    out: list[TrialRow] = []
    seen: set[str] = set()
    for r in sorted(scored, key=_score, reverse=direction == "max"):
        key = json.dumps(r.config, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out[:n]


def objective_values(row: TrialRow, objectives: Sequence[Objective]) -> dict[str, float | None]:
    """A row's value of each objective (the first is its score)."""
    out: dict[str, float | None] = {o.name: row.metrics.get(o.name) for o in objectives[1:]}
    return {objectives[0].name: row.score, **out}


def _score(row: TrialRow) -> float:
    """The score of a row :func:`_scored` kept (finite)."""
    assert row.score is not None
    return row.score


def _scored(rows: Sequence[TrialRow]) -> list[TrialRow]:
    """Completed rows with a finite score (the only ones that can be best or on a front)."""
    return [
        r
        for r in rows
        if r.status == "COMPLETED" and r.score is not None and math.isfinite(r.score)
    ]


def pareto_rows(rows: Sequence[TrialRow], objectives: Sequence[Objective]) -> list[TrialRow]:
    """The completed rows no other completed row dominates on every objective (trial order)."""
    scored = _scored(rows)
    costs = as_costs([objective_values(r, objectives) for r in scored], objectives)
    ranks = pareto_ranks(costs)
    return [
        r for r, k, c in zip(scored, ranks, costs, strict=True) if k == 0 and np.isfinite(c).all()
    ]


def selected_row(
    rows: Sequence[TrialRow], objectives: Sequence[Objective], selection: Selection
) -> TrialRow | None:
    """The trial a search hands on (``search.select``); with one objective, the best trial."""
    scored = _scored(rows)
    index = selection.choose([objective_values(r, objectives) for r in scored], objectives)
    return None if index is None else scored[index]


def pareto_csv(
    rows: Sequence[TrialRow], names: Sequence[str], objectives: Sequence[Objective]
) -> str:
    """``pareto.csv``: the non-dominated trials, every objective, then every hyperparameter.

    Sorted by the first objective, best first.
    """
    front = pareto_rows(rows, objectives)
    front.sort(key=lambda r: objectives[0].cost(r.score))
    table = [
        {"trial_id": r.trial_id, **objective_values(r, objectives)}
        | {n: r.values.get(n, "") for n in names}
        for r in front
    ]
    header = ["trial_id", *(o.name for o in objectives), *names]
    return dicts_csv(table) if table else ",".join(header) + "\n"


def dicts_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV text of dicts sharing the first row's keys (header included)."""
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buf.getvalue()


def format_value(v: Any) -> str:
    """Compact text for a hyperparameter value (4 significant digits for floats)."""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def best_table(rows: Sequence[TrialRow], objective: str, direction: str, n: int) -> str:
    """The best-N table, one line per trial: ``Best-1 (val_accuracy 0.981) | lr=0.0089, ...``."""
    lines = []
    for i, r in enumerate(best_rows(rows, direction, n), start=1):
        values = ", ".join(f"{k}={format_value(v)}" for k, v in r.config.items())
        lines.append(f"Best-{i} ({objective} {r.score:.4f}) | {values}  [trial {r.trial_id}]")
    return "\n".join(lines) if lines else "(no completed trial)"


def trials_csv(
    rows: Sequence[TrialRow],
    names: Sequence[str],
    objective: str,
    objectives: Sequence[Objective] = (),
) -> str:
    """``trials.csv``: id, status, hyperparameters, objective, epochs, seconds, rss_mib, message.

    Args:
        rows: Trial rows.
        names: Hyperparameter columns, in order; values a trial lacks
            (inactive conditionals) are left empty. Extra values a strategy
            injects (``tuner/epochs``, ...) follow.
        objective: Name of the objective column.
        objectives: With several objectives, the others get a column each
            after ``objective``, and a ``pareto`` column marks the front (1).
    """
    extra = sorted({k for r in rows for k in r.values} - set(names))
    others = [o.name for o in objectives[1:]]
    front = {r.trial_id for r in pareto_rows(rows, objectives)} if others else set()
    marks = ["pareto"] if others else []
    tail = [objective, *others, *marks, "epochs", "seconds", "rss_mib", "message"]
    columns = ["trial_id", "status", *names, *extra, *tail]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow(
            [
                r.trial_id,
                r.status,
                *(r.values.get(k, "") for k in [*names, *extra]),
                "" if r.score is None else r.score,
                *(r.metrics.get(name, "") for name in others),
                *([int(r.trial_id in front)] if others else []),
                "" if r.epochs is None else r.epochs,
                "" if r.seconds is None else f"{r.seconds:.2f}",
                "" if r.rss_mib is None else f"{r.rss_mib:.0f}",
                r.message,
            ]
        )
    return buf.getvalue()


def write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically: temporary file in the same directory, fsync, rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp creates 0600; results are meant to be shared
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_yaml(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as block-style YAML, atomically."""
    write_text(path, yaml.safe_dump(_plain(data), sort_keys=False))


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text(path, json.dumps(_plain(data), indent=2) + "\n")


def _plain(obj: Any) -> Any:
    """Plain Python types (NumPy scalars become ints/floats) for YAML and JSON."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    return obj

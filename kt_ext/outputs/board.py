"""TensorBoard logs of a run: the HParams experiment, one session per trial, search scalars.

Layout under ``<run>/tensorboard/`` (each directory is one TensorBoard run)::

    .                          HParams experiment config, written before the search
    search/                    search-level scalars, step = trial number
    <trial_id>/                the trial's HParams session and its final metrics
    <trial_id>/train           per-epoch training curves (``epoch_loss``, ...)
    <trial_id>/validation      per-epoch validation curves

A trial that continues an earlier trial's model (successive halving,
Hyperband) first replays the earlier epochs into its own curves, so each
trial's curve is the configuration's whole history from epoch 0.

Everything goes through TensorBoard's own protobufs (``hparams`` plugin data,
scalar summaries) and its event-file writer; TensorFlow is never imported.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
from tensorboard.plugins.hparams import summary_v2 as hp
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util

from kt_ext.outputs.results import TrialRow
from kt_ext.space import Param, SearchSpace

SEARCH_RUN = "search"
TRAIN_RUN = "train"
VALIDATION_RUN = "validation"
CURVE_PREFIX = "epoch_"

# Extra columns of the HParams table.
STATUS_HPARAM = "trial_status"
CONFIG_HPARAM = "config"  # successive halving: the trial that started the configuration
JOB_HPARAM = "job"  # multirun: the job's overrides
EPOCHS_METRIC = "epochs_run"
SECONDS_METRIC = "seconds"
RUNG_METRIC = "rung"

COMPLETED, EARLY_STOPPED, FAILED, INVALID = "completed", "early_stopped", "failed", "invalid"
_STATUS_OF = {"COMPLETED": COMPLETED, "FAILED": FAILED, "INVALID": INVALID}


def stopped_at(rung: int) -> str:
    """Status label of a trial that successive halving stopped at ``rung``."""
    return f"stopped_rung_{rung}"


def status_labels(rungs: int = 0) -> list[str]:
    """Every ``trial_status`` value a run can record (``rungs``: halving rungs, 0 otherwise)."""
    return [COMPLETED, EARLY_STOPPED, *(stopped_at(k) for k in range(rungs)), FAILED, INVALID]


# ----------------------------------------------------------------------------- writing


class EventLog:
    """An event-file writer for one TensorBoard run directory.

    Args:
        logdir: The run directory (created if missing).
    """

    def __init__(self, logdir: Path | str) -> None:
        Path(logdir).mkdir(parents=True, exist_ok=True)
        self._writer = EventFileWriter(str(logdir))

    def scalar(self, tag: str, value: float, step: int, wall_time: float | None = None) -> None:
        """One point of a scalar series (TensorBoard's scalars plugin format)."""
        summary = summary_pb2.Summary()
        summary.value.add(
            tag=tag,
            tensor=tensor_util.make_tensor_proto(np.float32(value)),
            metadata=summary_pb2.SummaryMetadata(
                plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
                data_class=summary_pb2.DataClass.DATA_CLASS_SCALAR,
            ),
        )
        self.summary(summary, step, wall_time)

    def summary(
        self, summary: summary_pb2.Summary, step: int = 0, wall_time: float | None = None
    ) -> None:
        """Write a prepared ``Summary`` protobuf."""
        event = event_pb2.Event(wall_time=wall_time or time.time(), step=int(step))
        event.summary.CopyFrom(summary)
        self._writer.add_event(event)

    def flush(self) -> None:
        """Flush buffered events to disk."""
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the file."""
        self._writer.close()

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _hparams_summary(tag: str, data: plugin_data_pb2.HParamsPluginData) -> summary_pb2.Summary:
    """A summary holding HParams plugin data (as ``tensorboard.plugins.hparams`` writes it)."""
    summary = summary_pb2.Summary()
    summary.value.add(
        tag=tag, metadata=metadata.create_summary_metadata(data), tensor=metadata.NULL_TENSOR
    )
    return summary


def hparam_domain(p: Param) -> hp.Domain | None:
    """The HParams domain of a space entry: the values its sampler can produce.

    Continuous floats (log or not) are intervals; stepped entries are the
    discrete grid (multiplicative for log scale, as KerasTuner samples it);
    choices, booleans and fixed values are discrete sets.
    """
    if p.kind in ("choice", "fixed", "bool"):
        values = list(p.domain() or ())
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            values = [float(v) for v in values]
        return hp.Discrete(values)
    if p.step is not None:
        return hp.Discrete([float(v) for v in stepped_values(p)])
    if p.kind == "int":
        return hp.IntInterval(int(p.low), int(p.high))
    return hp.RealInterval(float(p.low), float(p.high))


def stepped_values(p: Param) -> list[float]:
    """Grid values of a stepped numeric entry, as KerasTuner enumerates them."""
    low, high, step = float(p.low), float(p.high), float(p.step)
    values, k = [], 0
    while True:
        v = low * step**k if p.log else low + k * step
        if v > high * (1 + 1e-9):
            return values
        values.append(int(round(v)) if p.kind == "int" else round(v, 12))
        k += 1


def _description(p: Param) -> str:
    """``float, log scale, active when optimizer in ['sgd']``."""
    scale = "log scale" if p.log else ""
    when = "; ".join(f"active when {c.parent} in {list(c.values)}" for c in p.when)
    return ", ".join(s for s in (p.kind, scale, when) if s)


def metric_names(metrics: Sequence[str]) -> list[str]:
    """Final metrics a trial reports for compiled ``metrics``: loss first, training then val_."""
    names = ["loss", *(m for m in metrics if m != "loss")]
    return [*names, *(f"val_{m}" for m in names)]


def space_hparams(space: SearchSpace) -> list[hp.HParam]:
    """One HParams column per space entry, with its domain and a description."""
    return [hp.HParam(p.name, hparam_domain(p), description=_description(p)) for p in space.params]


def merge_hparams(columns: Sequence[Sequence[hp.HParam]]) -> list[hp.HParam]:
    """Union of several runs' columns (a sweep); a name with differing domains gets their hull.

    Discrete domains merge into the union of their values, numeric intervals
    into the smallest interval holding all; anything else (mixed types) has
    no declared domain.
    """
    by_name: dict[str, list[hp.HParam]] = {}
    for cols in columns:
        for col in cols:
            by_name.setdefault(col.name, []).append(col)
    merged = []
    for name, cols in by_name.items():
        domains = [c.domain for c in cols]
        first = cols[0]
        if all(repr(d) == repr(domains[0]) for d in domains):
            merged.append(first)
            continue
        merged.append(hp.HParam(name, _hull(domains), description=first.description))
    return merged


def _hull(domains: Sequence[hp.Domain | None]) -> hp.Domain | None:
    if all(isinstance(d, hp.Discrete) for d in domains):
        values = [v for d in domains for v in d.values]
        kinds = {type(v) for v in values}
        return hp.Discrete(sorted(set(values))) if len(kinds) == 1 else None
    bounds = []
    for d in domains:
        if isinstance(d, (hp.RealInterval, hp.IntInterval)):
            bounds += [d.min_value, d.max_value]
        elif isinstance(d, hp.Discrete) and d.dtype is float:
            bounds += list(d.values)
        else:
            return None
    return hp.RealInterval(float(min(bounds)), float(max(bounds)))


def experiment_summary(
    hparams: Sequence[hp.HParam],
    metrics: Sequence[str],
    statuses: Sequence[str],
    rungs: bool = False,
) -> summary_pb2.Summary:
    """The HParams experiment config: every column with its domain, every metric.

    Args:
        hparams: Columns (:func:`space_hparams` plus extras such as the job).
        metrics: Metric names compiled into every model (``accuracy``, ...).
        statuses: Values of the ``trial_status`` column.
        rungs: Declare the ``rung`` metric (successive halving).
    """
    columns = [*hparams, hp.HParam(STATUS_HPARAM, hp.Discrete(list(statuses)))]
    names = metric_names(metrics)
    declared = [
        hp.Metric(name, description="as the trial reported it (its best epoch)") for name in names
    ]
    declared += [
        hp.Metric(CURVE_PREFIX + name, group=VALIDATION_RUN, display_name=f"validation {name}")
        for name in names[: len(names) // 2]
    ]
    declared.append(hp.Metric(EPOCHS_METRIC, description="epochs this trial trained"))
    declared.append(hp.Metric(SECONDS_METRIC, description="wall time of the trial"))
    if rungs:
        declared.append(hp.Metric(RUNG_METRIC, description="highest rung the trial reached"))
    return hp.hparams_config_pb(columns, declared)


def constant_hparams(constants: Mapping[str, Any]) -> list[hp.HParam]:
    """Columns for values every trial of a run shares (numbers as floats, like the space's)."""
    return [
        hp.HParam(name, hp.Discrete([float(v) if isinstance(v, int) else v]))
        for name, v in constants.items()
    ]


def halving_hparams() -> list[hp.HParam]:
    """Extra columns of successive-halving runs."""
    return [hp.HParam(CONFIG_HPARAM, description="trial that started the configuration")]


def session_summaries(
    group_name: str,
    values: Mapping[str, Any],
    status: str,
    start_time: float,
    end_time: float,
) -> tuple[summary_pb2.Summary, summary_pb2.Summary]:
    """Session start and end summaries of one trial.

    Args:
        group_name: Unique name of the trial (its row in the HParams table).
        values: Hyperparameter values (``bool``, numbers or strings).
        status: A ``trial_status`` label; failed and invalid trials end with
            ``STATUS_FAILURE``, every other trial with ``STATUS_SUCCESS``.
        start_time: Seconds since the epoch when the trial started.
        end_time: Seconds since the epoch when it ended.
    """
    plain = {k: v for k, v in values.items() if isinstance(v, (bool, int, float, str))}
    start = hp.hparams_pb(plain, trial_id=group_name, start_time_secs=start_time)
    code = api_pb2.Status.STATUS_FAILURE if status in (FAILED, INVALID) else api_pb2.STATUS_SUCCESS
    end = _hparams_summary(
        metadata.SESSION_END_INFO_TAG,
        plugin_data_pb2.HParamsPluginData(
            session_end_info=plugin_data_pb2.SessionEndInfo(status=code, end_time_secs=end_time)
        ),
    )
    return start, end


def trial_status(row: TrialRow, planned_epochs: int | None, rung: int | None = None) -> str:
    """The ``trial_status`` label of a finished trial.

    Args:
        row: The trial.
        planned_epochs: Epochs the trial was meant to train (``None``: unknown).
        rung: Highest rung reached, for successive halving (``None`` otherwise).
    """
    label = _STATUS_OF.get(row.status, row.status.lower())
    if label != COMPLETED or planned_epochs is None or row.epochs is None:
        return label
    if row.epochs < planned_epochs:
        return stopped_at(rung) if rung is not None and rung >= 0 else EARLY_STOPPED
    return COMPLETED


class TrialBoard:
    """Writes one run's TensorBoard logs; the tuner calls it as trials end.

    Args:
        logdir: ``<run>/tensorboard``.
        space: The search space (HParams columns and domains).
        metrics: Metric names compiled into every model.
        max_epochs: Epochs a trial trains unless its strategy says otherwise.
        job: Multirun job name; prefixes session names so that trials of
            different jobs stay apart in one TensorBoard (empty for a single run).
        constants: Columns every trial of the run shares (the distribution
            strategy and its replica count).
    """

    def __init__(
        self,
        logdir: Path | str,
        space: SearchSpace,
        metrics: Sequence[str],
        max_epochs: int,
        job: str = "",
        constants: Mapping[str, bool | int | float | str] | None = None,
    ) -> None:
        self.logdir = Path(logdir)
        self.constants = dict(constants or {})
        self.space = space
        self.metrics = tuple(metrics)
        self.max_epochs = max_epochs
        self.job = job
        self._search: EventLog | None = None

    def group_name(self, trial_id: str) -> str:
        """The trial's row name in the HParams table."""
        return f"{self.job}/{trial_id}" if self.job else trial_id

    def curve_dir(self, trial_id: str, execution: int = 0) -> Path:
        """Directory holding the ``train``/``validation`` curves of one execution of a trial."""
        base = self.logdir / trial_id
        return base if execution == 0 else base / f"execution{execution}"

    def clear_curves(self, trial_id: str) -> None:
        """Remove the curves of an earlier attempt at ``trial_id`` (killed, or retried).

        A trial that runs again writes its epochs again; without this its runs
        would hold two points per step. Its session is written only when it
        ends, so a trial that gets here has none to keep.
        """
        base = self.logdir / trial_id
        for run in (base / TRAIN_RUN, base / VALIDATION_RUN, *base.glob("execution*")):
            if run.is_dir():
                shutil.rmtree(run)

    def replay(self, trial_id: str, before: int) -> dict[str, dict[str, list[tuple[int, float]]]]:
        """Curve points of ``trial_id`` at steps below ``before``, ``run -> tag -> points``."""
        out = {}
        for run in (TRAIN_RUN, VALIDATION_RUN):
            path = self.curve_dir(trial_id) / run
            if path.is_dir():
                series = read_scalars(path)
                out[run] = {t: [(s, v) for s, v in pts if s < before] for t, pts in series.items()}
        return out

    def write_experiment(self, rungs: int = 0, extra_hparams: Iterable[hp.HParam] = ()) -> bool:
        """Write the experiment config unless the run already has one (a resumed run).

        Args:
            rungs: Rungs of a successive-halving schedule (0 for other strategies).
            extra_hparams: More columns to declare.

        Returns:
            Whether it was written.
        """
        if any(self.logdir.glob("events.out.tfevents.*")):
            return False
        columns = [*space_hparams(self.space), *(halving_hparams() if rungs else [])]
        columns += constant_hparams(self.constants)
        with EventLog(self.logdir) as log:
            log.summary(
                experiment_summary(
                    [*columns, *extra_hparams], self.metrics, status_labels(rungs), rungs > 0
                )
            )
        return True

    def trial_ended(
        self,
        row: TrialRow,
        start_time: float,
        planned_epochs: int | None = None,
        halving: Mapping[str, Any] | None = None,
        best: float | None = None,
        proposal: Mapping[str, Any] | None = None,
        features: Sequence[str] = (),
    ) -> str:
        """Write the trial's session and its search-level scalars.

        Args:
            row: The finished trial.
            start_time: Seconds since the epoch when it started.
            planned_epochs: Epochs it was meant to train (default ``max_epochs``).
            halving: Its ``rung_rows`` row (``config``, ``rung``) under successive halving.
            best: The best score of the search so far.
            proposal: GP figures of the proposal (``mean``, ``std``, ``acquisition``,
                ``beta``, ``lengthscales``), if a model proposed it.
            features: GP feature names, one per length scale.

        Returns:
            The trial's status label.
        """
        planned = self.max_epochs if planned_epochs is None else planned_epochs
        rung = None if halving is None else int(halving["rung"])
        status = trial_status(row, planned, rung)
        values: dict[str, Any] = dict(row.config)
        values.update(self.constants)
        values[STATUS_HPARAM] = status
        if halving is not None:
            values[CONFIG_HPARAM] = str(halving["config"])
        if self.job:
            values[JOB_HPARAM] = self.job
        start, end = session_summaries(
            self.group_name(row.trial_id), values, status, start_time, time.time()
        )
        step = int(row.epochs or 0)
        with EventLog(self.logdir / row.trial_id) as log:
            log.summary(start)
            finals = dict(row.metrics)
            finals[EPOCHS_METRIC] = float(row.epochs or 0)
            finals[SECONDS_METRIC] = float(row.seconds or 0.0)
            if rung is not None:
                finals[RUNG_METRIC] = float(rung)
            for tag, value in finals.items():
                if is_finite(value):
                    log.scalar(tag, value, step)
            log.summary(end)
        self._log_search(row, rung, best, proposal, features)
        return status

    def _log_search(
        self,
        row: TrialRow,
        rung: int | None,
        best: float | None,
        proposal: Mapping[str, Any] | None,
        features: Sequence[str],
    ) -> None:
        if self._search is None:
            self._search = EventLog(self.logdir / SEARCH_RUN)
        log = self._search
        step = int(row.trial_id) if row.trial_id.isdigit() else 0
        points = {
            "search/objective": row.score,
            "search/best_so_far": best,
            "search/seconds": row.seconds,
            "search/rss_mib": row.rss_mib,
            "search/epochs": None if row.epochs is None else float(row.epochs),
            "search/failed": float(row.status in ("FAILED", "INVALID")),
        }
        if rung is not None:
            points["halving/rung"] = float(rung)
        if proposal:
            for key in ("mean", "std", "acquisition", "beta"):
                points[f"gp/{key}"] = proposal.get(key)
            for name, ls in zip(features, proposal.get("lengthscales", ()), strict=False):
                points[f"gp/lengthscale/{name}"] = ls
        for tag, value in points.items():
            if is_finite(value):
                log.scalar(tag, float(value), step)
        log.flush()

    def close(self) -> None:
        """Close the search-level writer."""
        if self._search is not None:
            self._search.close()
            self._search = None


# ----------------------------------------------------------------------------- reading


def read_scalars(run_dir: Path | str) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series of one run directory, ``tag -> [(step, value), ...]`` by step."""
    # The reader logs each file it finishes at INFO level, which floods a run's log.
    logging.getLogger("tensorboard").setLevel(logging.WARNING)
    acc = event_accumulator.EventAccumulator(
        str(run_dir),
        size_guidance={event_accumulator.TENSORS: 0, event_accumulator.SCALARS: 0},
    )
    acc.Reload()
    series: dict[str, dict[int, float]] = {}
    for tag in acc.Tags()["tensors"]:
        for ev in acc.Tensors(tag):
            value = tensor_util.make_ndarray(ev.tensor_proto)
            if value.shape == ():
                series.setdefault(tag, {})[ev.step] = float(value)
    for tag in acc.Tags()["scalars"]:
        for ev in acc.Scalars(tag):
            series.setdefault(tag, {})[ev.step] = float(ev.value)
    return {tag: sorted(points.items()) for tag, points in series.items()}


def is_finite(value: float | None) -> bool:
    """Whether ``value`` is a finite number."""
    return value is not None and math.isfinite(value)

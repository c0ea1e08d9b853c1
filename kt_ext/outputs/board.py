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
from typing import Any, TypeGuard

import numpy as np
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import summary_v2 as hp
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util

from kt_ext.outputs import hparams
from kt_ext.outputs.files import SEARCH_RUN, TRAIN_RUN, VALIDATION_RUN
from kt_ext.outputs.results import TrialRow
from kt_ext.space import SearchSpace

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

    def write_experiment(
        self,
        rungs: int = 0,
        extra_hparams: Iterable[hp.HParam] = (),
        objective: str | None = None,
        costs: Sequence[str] = (),
        front: bool = False,
    ) -> bool:
        """Write the experiment config unless the run already has one (a resumed run).

        Args:
            rungs: Rungs of a successive-halving schedule (0 for other strategies).
            extra_hparams: More columns to declare.
            objective: The search's objective (the dashboard's first metric).
            costs: Costs among the objectives, shown as metrics.
            front: Declare the Pareto-front mark (:meth:`mark_front`).

        Returns:
            Whether it was written.
        """
        if any(self.logdir.glob("events.out.tfevents.*")):
            return False
        columns = hparams.space_hparams(self.space)
        columns += hparams.halving_hparams() if rungs else []
        columns += hparams.constant_hparams(self.constants)
        with EventLog(self.logdir) as log:
            log.summary(
                hparams.experiment_summary(
                    [*columns, *extra_hparams],
                    self.metrics,
                    hparams.status_labels(rungs),
                    rungs > 0,
                    shown=hparams.shown_hparams(self.space),
                    objective=objective,
                    costs=costs,
                    front=front,
                )
            )
        return True

    def mark_front(self, completed: Iterable[str], front: Iterable[str]) -> None:
        """Give each completed trial's session :data:`FRONT_METRIC`: 1 on the front, else 0.

        Written when the search ends (the front changes as trials arrive);
        the dashboard shows a session's last value of each metric.
        """
        on = set(front)
        for trial_id in completed:
            with EventLog(self.logdir / trial_id) as log:
                log.scalar(hparams.FRONT_METRIC, float(trial_id in on), 0)

    def has_session(self, trial_id: str) -> bool:
        """Whether the trial's HParams session (with its final metrics) has been written."""
        directory = self.logdir / trial_id
        return directory.is_dir() and hparams.SECONDS_METRIC in read_scalars(directory)

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
                ``beta``, ``lengthscales``; ``success`` and ``warp_lambda`` when
                failures were modelled and the outputs warped), if a model proposed it.
            features: GP feature names, one per length scale.

        Returns:
            The trial's status label.
        """
        planned = self.max_epochs if planned_epochs is None else planned_epochs
        rung = None if halving is None else int(halving["rung"])
        status = hparams.trial_status(row, planned, rung)
        values: dict[str, Any] = dict(row.config)
        values.update(self.constants)
        values[hparams.STATUS_HPARAM] = status
        if halving is not None:
            values[hparams.CONFIG_HPARAM] = str(halving["config"])
        if self.job:
            values[hparams.JOB_HPARAM] = self.job
        start, end = hparams.session_summaries(
            self.group_name(row.trial_id), values, status, start_time, time.time()
        )
        step = int(row.epochs or 0)
        with EventLog(self.logdir / row.trial_id) as log:
            log.summary(start)
            finals = dict(row.metrics)
            finals[hparams.EPOCHS_METRIC] = float(row.epochs or 0)
            finals[hparams.SECONDS_METRIC] = float(row.seconds or 0.0)
            if rung is not None:
                finals[hparams.RUNG_METRIC] = float(rung)
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
            # several objectives: the GP modelled ParEGO's scalarisation, not the score
            apart = {"mean", "std", "acquisition"} if proposal.get("scalarised") else set()
            for key in ("mean", "std", "acquisition", "beta", "success", "warp_lambda"):
                points[("gp/scalarised_" if key in apart else "gp/") + key] = proposal.get(key)
            for name, ls in zip(features, proposal.get("lengthscales", ()), strict=False):
                points[f"gp/lengthscale/{name}"] = ls
            for key in ("cost_mean", "cost_std"):  # EHVI: each objective's own GP
                for name, value in proposal.get(key, {}).items():
                    points[f"gp/{key}/{name}"] = value
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


def is_finite(value: float | None) -> TypeGuard[float]:
    """Whether ``value`` is a finite number."""
    return value is not None and math.isfinite(value)

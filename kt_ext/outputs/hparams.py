"""The HParams plugin's data for a run: the experiment's columns, each trial's session.

Built with TensorBoard's own ``hparams`` protobufs from the search space
(:mod:`kt_ext.space`): continuous entries as intervals, stepped ones as their
grid, choices as sets; plus a ``trial_status`` column and the metrics.
:mod:`kt_ext.outputs.board` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
from tensorboard.plugins.hparams import summary_v2 as hp

from kt_ext.outputs.files import CURVE_PREFIX, VALIDATION_RUN
from kt_ext.outputs.results import TrialRow
from kt_ext.space import Param, SearchSpace

# Extra columns of the HParams table.
STATUS_HPARAM = "trial_status"
CONFIG_HPARAM = "config"  # successive halving: the trial that started the configuration
JOB_HPARAM = "job"  # multirun: the job's overrides
EPOCHS_METRIC = "epochs_run"
SECONDS_METRIC = "seconds"
FRONT_METRIC = "pareto_front"  # several objectives: 1 for the trials on the final front
RUNG_METRIC = "rung"

COMPLETED, EARLY_STOPPED, FAILED, INVALID = "completed", "early_stopped", "failed", "invalid"
_STATUS_OF = {"COMPLETED": COMPLETED, "FAILED": FAILED, "INVALID": INVALID}


def stopped_at(rung: int) -> str:
    """Status label of a trial that successive halving stopped at ``rung``."""
    return f"stopped_rung_{rung}"


def status_labels(rungs: int = 0) -> list[str]:
    """Every ``trial_status`` value a run can record (``rungs``: halving rungs, 0 otherwise)."""
    return [COMPLETED, EARLY_STOPPED, *(stopped_at(k) for k in range(rungs)), FAILED, INVALID]


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
    low, high = p.bounds
    if p.kind == "int":
        return hp.IntInterval(int(low), int(high))
    return hp.RealInterval(float(low), float(high))


def stepped_values(p: Param) -> list[float]:
    """Grid values of a stepped numeric entry, as KerasTuner enumerates them."""
    if p.step is None:
        raise TypeError(f"entry {p.name!r} has no grid step")
    low, high, step = float(p.bounds[0]), float(p.bounds[1]), float(p.step)
    values: list[float] = []
    k = 0
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
    discrete = [d for d in domains if isinstance(d, hp.Discrete)]
    if len(discrete) == len(domains):
        values = [v for d in discrete for v in d.values]
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


#: Columns stock TensorBoard's HParams dashboard ticks when it opens (its frontend's constant):
#: the hyperparameters flagged ``differs`` come first, in name order, and the first five are
#: shown. ``scripts/board.py`` ticks every varying column instead (:mod:`.dashboard`).
DASHBOARD_COLUMNS = 5


def shown_hparams(space: SearchSpace, first: Sequence[str] = ()) -> list[str]:
    """The columns the dashboard opens on: ``first``, then the space's tunable entries in order.

    The space's YAML lists its entries most influential first (``lr`` leads
    every shipped model); fixed entries never vary and are left out.
    """
    tunable = [p.name for p in space.params if p.kind != "fixed"]
    return [*first, *(n for n in tunable if n not in first)][:DASHBOARD_COLUMNS]


def experiment_summary(
    hparams: Sequence[hp.HParam],
    metrics: Sequence[str],
    statuses: Sequence[str],
    rungs: bool = False,
    shown: Sequence[str] = (),
    objective: str | None = None,
    costs: Sequence[str] = (),
    front: bool = False,
) -> summary_pb2.Summary:
    """The HParams experiment config: every column with its domain, every metric.

    TensorBoard's dashboard ticks the first :data:`DASHBOARD_COLUMNS` columns
    flagged ``differs`` (name order); only ``shown`` are flagged, so it opens on
    them and never on a constant column (the others are a tick away). The
    objective is the first metric; each metric's name says whether it is the
    trial's best epoch (what the search ranks) or the last epoch's curve value.

    Args:
        hparams: Columns (:func:`space_hparams` plus extras such as the job).
        metrics: Metric names compiled into every model (``accuracy``, ...).
        statuses: Values of the ``trial_status`` column.
        rungs: Declare the ``rung`` metric (successive halving).
        shown: The columns the dashboard opens on (:func:`shown_hparams`).
        objective: The search's objective (listed first).
        costs: Costs among the objectives (``params``, ...), declared as metrics.
        front: Declare :data:`FRONT_METRIC` (a search with several objectives).
    """
    columns = [*hparams, hp.HParam(STATUS_HPARAM, hp.Discrete(list(statuses)))]
    names = metric_names(metrics)
    if objective in names:
        names = [objective, *(n for n in names if n != objective)]
    declared = [
        hp.Metric(name, display_name=f"{name} (best epoch)", description="what the search ranks")
        for name in names
    ]
    declared += [
        hp.Metric(
            CURVE_PREFIX + name, group=VALIDATION_RUN, display_name=f"val_{name} (last epoch)"
        )
        for name in metric_names(metrics)[: len(names) // 2]
    ]
    declared += [hp.Metric(name, description="an objective kt-ext measures") for name in costs]
    if costs or front:
        declared.append(hp.Metric(FRONT_METRIC, description="1: on the Pareto front at the end"))
    declared.append(hp.Metric(EPOCHS_METRIC, description="epochs this trial trained"))
    declared.append(hp.Metric(SECONDS_METRIC, description="wall time of the trial"))
    if rungs:
        declared.append(hp.Metric(RUNG_METRIC, description="highest rung the trial reached"))
    summary = hp.hparams_config_pb(columns, declared)
    value = summary.value[0]
    experiment = metadata.parse_experiment_plugin_data(value.metadata.plugin_data.content)
    for info in experiment.hparam_infos:
        info.differs = info.name in shown
    data = plugin_data_pb2.HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION)
    data.experiment.CopyFrom(experiment)
    return _hparams_summary(value.tag, data)


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

"""Build what a run needs from its settings: devices, data, the hypermodel and the tuner.

Every process of a run (a single search, the chief, each worker, a single
training) builds the same objects from the same config through these
factories, so they agree on data splits, model and oracle.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import keras_tuner

from kt_ext.config import RunSettings, safety
from kt_ext.data import Splits, split
from kt_ext.distribute import Distribute
from kt_ext.errors import ConfigError, argument_error
from kt_ext.native_log import native_log_dropped
from kt_ext.outputs import state
from kt_ext.outputs.board import TrialBoard
from kt_ext.outputs.curves import CurveLogger
from kt_ext.outputs.files import PROJECT, TENSORBOARD
from kt_ext.outputs.status import OPEN
from kt_ext.run.watch import check_stop
from kt_ext.space import smallest_batch_size
from kt_ext.tuners.hypermodel import SpaceHyperModel

log = logging.getLogger(__name__)


class RunError(RuntimeError):
    """The run could not produce a result (no trial completed, data failed to load, ...)."""


def load_data(settings: RunSettings) -> Splits:
    """Load the dataset the config names and split it (once per run)."""
    d = settings.data
    try:
        raw = safety.instantiate(d.loader, "data.loader", settings.allow_modules)
    except ConfigError:
        raise
    except Exception as e:  # noqa: BLE001 - any loader failure becomes one clear line
        cause = e.__cause__ or e
        if isinstance(cause, (FileNotFoundError, ValueError)) and "path" in d.loader:
            raise ConfigError("data.loader.path", d.loader["path"], str(cause)) from e
        raise RunError(f"loading data with {d.loader['_target_']} failed: {cause}") from e
    where = ("data.loader.path", d.loader["path"]) if "path" in d.loader else None
    where = where or ("data.loader", d.loader["_target_"])
    try:
        splits = split(
            raw,
            seed=settings.seed,
            val_fraction=d.val_fraction,
            test_fraction=d.test_fraction,
            subset=d.subset,
            standardize=d.standardize,
        )
    except ValueError as e:  # kt_ext.data.check_data's rules, and splits missing a class
        raise ConfigError(*where, str(e)) from e
    smallest = smallest_batch_size(settings.space)
    if len(splits.y_train) < smallest:
        raise ConfigError(
            *where,
            f"the training split has {len(splits.y_train)} examples, fewer than the smallest "
            f"batch size model.space.batch_size can draw ({smallest}); use more data, a larger "
            "data.subset or smaller batches",
        )
    return splits


def make_distribution(settings: RunSettings) -> tuple[Distribute, Any]:
    """Set up the devices the ``distribute`` config names and create its ``tf.distribute`` strategy.

    Call before anything touches a TensorFlow device (virtual CPUs and GPU
    options can only be set then).

    Raises:
        ConfigError: A device option or index the machine cannot satisfy.
        RunError: TensorFlow could not create the strategy.
    """
    spec = safety.instantiate(settings.distribute, "distribute", settings.allow_modules)
    if not isinstance(spec, Distribute):
        raise ConfigError(
            "distribute._target_",
            settings.distribute["_target_"],
            "must name a kt_ext.distribute class (Distribute or a subclass)",
        )
    try:
        with native_log_dropped():  # the first device access logs from C++ (cuInit, ...)
            spec.setup()
            distribution = spec.create()
    except ConfigError:
        raise
    except (RuntimeError, ValueError) as e:
        raise RunError(f"could not create the {spec.name} strategy: {e}") from e
    log.info(
        "distribute: %s, %d replica(s) in sync%s",
        spec.name,
        distribution.num_replicas_in_sync,
        ", lr scaled by replicas" if spec.scale_lr else "",
    )
    return spec, distribution


def make_hypermodel(
    settings: RunSettings, data: Splits, replicas: int = 1, scale_lr: bool = False
) -> SpaceHyperModel:
    """The hypermodel for this run, checked by building the space's default configuration.

    Raises:
        ConfigError: The builder cannot build the defaults (a value the space
            does not declare, or inputs the model cannot take).
    """
    builder = safety.instantiate(settings.builder, "model.builder", settings.allow_modules)
    hypermodel = SpaceHyperModel(
        settings.space,
        builder,
        data,
        metrics=settings.metrics,
        max_epochs=settings.search.epochs,
        shuffle_buffer=settings.shuffle_buffer,
        verbose=settings.verbose,
        steps_per_execution=settings.steps_per_execution,
        replicas=replicas,
        scale_lr=scale_lr,
        costs=[o.name for o in settings.search.all_objectives if o.is_cost],
    )
    values = settings.space.declare(keras_tuner.HyperParameters())
    target = settings.builder["_target_"]
    try:
        hypermodel.build_from_values(values)
    except KeyError as e:
        raise ConfigError(
            f"model.space.{e.args[0]}", None, f"{target} reads it, so the space must declare it"
        ) from e
    except ValueError as e:
        raise ConfigError("model.builder._target_", target, str(e)) from e
    finally:
        keras.backend.clear_session()
    return hypermodel


def tuner_arguments(
    settings: RunSettings, hypermodel: SpaceHyperModel, directory: Path, distribution: Any
) -> dict[str, Any]:
    """The keywords every tuner kt-ext builds (a search's or ``scripts/train.py``'s) shares.

    The space is never widened, the objective is the first of ``search.objectives``, the
    project lives under ``directory`` and trials train under ``distribution``.
    """
    return {
        "hypermodel": hypermodel,
        "objective": keras_tuner.Objective(settings.search.objective, settings.search.direction),
        "hyperparameters": settings.space.to_hyperparameters(),
        "tune_new_entries": False,
        "allow_new_entries": False,
        "directory": str(directory),
        "project_name": PROJECT,
        "distribution_strategy": distribution,
    }


def make_tuner(
    settings: RunSettings,
    hypermodel: SpaceHyperModel,
    run_dir: Path,
    distribution_strategy: Any = None,
) -> keras_tuner.Tuner:
    """Instantiate the strategy's tuner with the run-time arguments.

    ``distribution_strategy`` (a ``tf.distribute.Strategy``) is the one trials
    build, compile and load models under; ``None`` for TensorFlow's default.
    An existing project in ``run_dir`` is reloaded.

    Raises:
        ConfigError: A strategy argument breaks its rule.
        RunError: The existing project's state is damaged or incomplete.
    """
    s = settings.search
    # a partial (strategy._partial_ is checked with the config: kt_ext.config.strategies)
    factory = safety.instantiate(settings.strategy, "strategy", settings.allow_modules)
    extra: dict[str, Any] = {} if settings.schedule is None else {"schedule": settings.schedule}
    oracle = getattr(getattr(factory, "func", None), "ORACLE", None)
    if s.multi and oracle is not None:  # kt-ext's oracles read them (KerasTuner's ignore scores)
        extra["objectives"] = [o.as_tuple() for o in s.all_objectives]
    try:
        with contextlib.redirect_stdout(io.StringIO()) as printed:  # KerasTuner's "Reloading"
            tuner = factory(
                **tuner_arguments(settings, hypermodel, run_dir, distribution_strategy),
                overwrite=False,
                executions_per_trial=s.executions_per_trial,
                max_retries_per_trial=s.max_retries_per_trial,
                max_consecutive_failed_trials=s.max_consecutive_failed_trials,
                initial_points=[dict(p) for p in settings.initial_points],
                **extra,
            )
        trials = getattr(tuner.oracle, "trials", None)  # a worker's oracle is the chief's client
        if "Reloading" in printed.getvalue() and trials is not None:
            done = sum(t.status not in OPEN for t in trials.values())
            log.info("resuming the search in %s: %d trials had ended", run_dir, done)
        return tuner
    except state.StateError as e:
        raise RunError(str(e)) from e
    except (KeyError, RuntimeError) as e:  # valid JSON without the keys KerasTuner expects
        cause = e.__cause__ if isinstance(e.__cause__, KeyError) else e
        if not isinstance(cause, KeyError):
            raise
        raise RunError(
            f"incomplete state in {run_dir / PROJECT}: no key {cause}; nothing was deleted - "
            "restore the files, or move the run directory away to start afresh"
        ) from e
    except ValueError as e:  # an argument check of the strategy's tuner or oracle
        name = str(e).split("`")[1] if str(e).count("`") >= 2 else ""
        mapped = argument_error(e, "search" if hasattr(s, name) else "strategy")
        if mapped is None:
            raise
        raise mapped from e


def callbacks(settings: RunSettings) -> list[keras.callbacks.Callback]:
    """Early stopping (if enabled), per-trial TensorBoard curves, the stop-signal check."""
    s = settings.search
    cbs: list[keras.callbacks.Callback] = []
    if s.early_stopping_patience > 0:
        cbs.append(
            keras.callbacks.EarlyStopping(
                monitor=s.objective, mode=s.direction, patience=s.early_stopping_patience
            )
        )
    cbs.append(CurveLogger())  # pointed at tensorboard/<trial_id>/ by the tuner
    cbs.append(StopCheck())
    return cbs


class StopCheck(keras.callbacks.Callback):
    """Stops the search after the batch during which a stop signal arrived.

    See :func:`kt_ext.run.watch.stop_on_signals`: while trials train, the
    signal handler only records the signal, and this raises it.
    """

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        """Raise :class:`kt_ext.run.watch.Stopped` if a stop signal arrived."""
        check_stop()

    def on_test_batch_end(self, batch: int, logs: Any = None) -> None:
        """The same during validation."""
        check_stop()


def check_metrics(metrics: Sequence[str]) -> None:
    """Each of ``train.metrics`` is a metric Keras knows (else every trial would fail).

    Raises:
        ConfigError: Naming the first unknown metric.
    """
    for name in metrics:
        try:
            keras.metrics.get(name)
        except (ValueError, TypeError):
            raise ConfigError(
                "train.metrics", name, "not a Keras metric (e.g. accuracy, auc, precision)"
            ) from None


def prepare(settings: RunSettings) -> tuple[Distribute, Any, Splits, SpaceHyperModel]:
    """Devices, distribution, data and the checked hypermodel: what every process of a run needs."""
    spec, distribution = make_distribution(settings)  # first: devices are set up only before use
    check_metrics(settings.metrics)
    replicas = int(distribution.num_replicas_in_sync)
    data = load_data(settings)
    log.info(
        "data: %d train / %d val / %d test examples, input %s, %d classes",
        len(data.y_train),
        len(data.y_val),
        len(data.y_test),
        data.input_shape,
        data.num_classes,
    )
    return spec, distribution, data, make_hypermodel(settings, data, replicas, spec.scale_lr)


def experiment_arguments(settings: RunSettings) -> dict[str, Any]:
    """What a run's HParams experiment declares beyond its space and metrics.

    The objective is the dashboard's first metric and the costs among the
    objectives are metrics too (:meth:`kt_ext.outputs.board.TrialBoard.write_experiment`),
    for a search and for ``scripts/train.py`` alike.
    """
    s = settings.search
    return {"objective": s.objective, "costs": [o.name for o in s.all_objectives if o.is_cost]}


def trial_board(
    settings: RunSettings, run_dir: Path, spec: Distribute, distribution: Any, job: str = ""
) -> TrialBoard:
    """The run's TensorBoard writer (sessions, curves and search scalars)."""
    return TrialBoard(
        run_dir / TENSORBOARD,
        settings.space,
        settings.metrics,
        settings.search.epochs,
        job=job,
        constants={"distribute": spec.name, "replicas": int(distribution.num_replicas_in_sync)},
    )

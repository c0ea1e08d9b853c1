"""One tuning run: load data, build the tuner the config names, search, write every output.

Outputs in ``run_dir``::

    kt/                       KerasTuner project (oracle state, one directory per trial)
    tensorboard/              HParams experiment, one session and curves per trial,
                              search-level scalars (see kt_ext.board)
    trials.csv                one row per trial
    best_table.txt            the best-N table
    best_hyperparameters.yaml the winning values, objective and score
    best_model.keras          the best trial's model (best-epoch weights)
    summary.json              scores, test metrics and counts (read by the sweep summary)

Re-running into an existing ``run_dir`` resumes the KerasTuner project.
"""

from __future__ import annotations

import functools
import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import keras_tuner

from kt_ext import results, safety, state, tuners
from kt_ext.board import TrialBoard
from kt_ext.config import RunSettings
from kt_ext.curves import CurveLogger
from kt_ext.data import Splits, split
from kt_ext.distribute import Distribute
from kt_ext.errors import ConfigError, argument_error
from kt_ext.hypermodel import SpaceHyperModel
from kt_ext.space import BATCH_SIZE

log = logging.getLogger(__name__)
PROJECT = "kt"


class RunError(RuntimeError):
    """The run could not produce a result (no trial completed, data failed to load, ...)."""


@dataclass(frozen=True)
class RunResult:
    """What a finished run returns to the entry point."""

    best_score: float
    best_trial_id: str
    best_values: dict[str, Any]
    test_metrics: dict[str, float]
    rows: list[results.TrialRow]


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
    try:
        return split(
            raw,
            seed=settings.seed,
            val_fraction=d.val_fraction,
            test_fraction=d.test_fraction,
            subset=d.subset,
            standardize=d.standardize,
        )
    except ValueError as e:
        raise ConfigError("data", d.loader["_target_"], str(e)) from e


def make_strategy(settings: RunSettings) -> tuple[Distribute, Any]:
    """Set up the devices the ``distribute`` config names and create its strategy.

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
    spec.setup()
    try:
        strategy = spec.create()
    except ConfigError:
        raise
    except (RuntimeError, ValueError) as e:
        raise RunError(f"could not create the {spec.name} strategy: {e}") from e
    log.info(
        "distribute: %s, %d replica(s) in sync%s",
        spec.name,
        strategy.num_replicas_in_sync,
        ", lr scaled by replicas" if spec.scale_lr else "",
    )
    return spec, strategy


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
        replicas=replicas,
        scale_lr=scale_lr,
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
    factory = safety.instantiate(settings.strategy, "strategy", settings.allow_modules)
    if not isinstance(factory, functools.partial):
        raise ConfigError(
            "strategy._partial_",
            settings.strategy.get("_partial_"),
            "must be true: the tuner gets its model and directory at run time",
        )
    try:
        return factory(
            hypermodel=hypermodel,
            objective=keras_tuner.Objective(s.objective, s.direction),
            hyperparameters=settings.space.to_hyperparameters(),
            tune_new_entries=False,
            allow_new_entries=False,
            directory=str(run_dir),
            project_name=PROJECT,
            overwrite=False,
            executions_per_trial=s.executions_per_trial,
            max_retries_per_trial=s.max_retries_per_trial,
            max_consecutive_failed_trials=s.max_consecutive_failed_trials,
            distribution_strategy=distribution_strategy,
            initial_points=[dict(p) for p in settings.initial_points],
        )
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
    """Early stopping on the objective (if enabled) and per-trial TensorBoard curves."""
    s = settings.search
    cbs: list[keras.callbacks.Callback] = []
    if s.early_stopping_patience > 0:
        cbs.append(
            keras.callbacks.EarlyStopping(
                monitor=s.objective, mode=s.direction, patience=s.early_stopping_patience
            )
        )
    cbs.append(CurveLogger())  # pointed at tensorboard/<trial_id>/ by the tuner
    return cbs


def prepare(settings: RunSettings) -> tuple[Distribute, Any, Splits, SpaceHyperModel]:
    """Devices and strategy, data and the checked hypermodel: what every process of a run needs."""
    spec, strategy = make_strategy(settings)
    replicas = int(strategy.num_replicas_in_sync)
    data = load_data(settings)
    log.info(
        "data: %d train / %d val / %d test examples, input %s, %d classes",
        len(data.y_train),
        len(data.y_val),
        len(data.y_test),
        data.input_shape,
        data.num_classes,
    )
    return spec, strategy, data, make_hypermodel(settings, data, replicas, spec.scale_lr)


def trial_board(
    settings: RunSettings, run_dir: Path, spec: Distribute, strategy: Any, job: str = ""
) -> TrialBoard:
    """The run's TensorBoard writer (sessions, curves and search scalars)."""
    return TrialBoard(
        run_dir / "tensorboard",
        settings.space,
        settings.metrics,
        settings.search.epochs,
        job=job,
        constants={"distribute": spec.name, "replicas": int(strategy.num_replicas_in_sync)},
    )


def run_search(
    settings: RunSettings,
    run_dir: Path,
    job: str = "",
    experiment: bool = True,
    worker_command: Sequence[str] | None = None,
) -> RunResult:
    """Run (or resume) the search described by ``settings`` and write its outputs into ``run_dir``.

    With ``parallel.workers`` > 0 or ``parallel.role=chief`` this process
    serves the oracle (:mod:`kt_ext.parallel`) while workers train; the
    outputs are the same.

    Args:
        settings: The validated config.
        run_dir: Output directory (an existing one resumes).
        job: Multirun job name, shown with every trial in TensorBoard.
        experiment: Write the HParams experiment config (a sweep writes one
            for all its jobs instead).
        worker_command: The command that starts one worker (``scripts/tune.py``
            with this run's overrides), for ``parallel.workers``.

    Returns:
        The best completed trial's score, id and values, and the best model's test metrics.

    Raises:
        ConfigError: The data or model cannot be built from the config.
        RunError: No trial completed, the state of an existing run is damaged,
            or the parallel search lost all its workers.
    """
    run_dir = Path(run_dir)
    start = time.perf_counter()
    spec, strategy, data, hypermodel = prepare(settings)
    replicas = int(strategy.num_replicas_in_sync)
    tuner = make_tuner(settings, hypermodel, run_dir, strategy)
    if settings.schedule is not None:
        log.info("schedule:\n%s", settings.schedule.describe())
    board = trial_board(settings, run_dir, spec, strategy, job)
    if isinstance(tuner, tuners.TrialRecorder):
        tuner.board = board
    if experiment:
        board.write_experiment(rungs=rung_count(settings))
    failure = None
    workers: dict[str, Any] = {}
    try:
        if settings.parallel.chief:
            workers = serve_workers(settings, tuner, run_dir, worker_command)
        else:
            tuner.search(epochs=settings.search.epochs, callbacks=callbacks(settings), verbose=1)
    except RuntimeError as e:  # KerasTuner: too many consecutive failed trials
        if isinstance(e, RunError):
            raise
        failure = e
    rows = results.trial_rows(tuner.oracle.trials.values())
    write_trial_outputs(settings, rows, run_dir)
    rungs = write_rung_outputs(tuner.oracle, run_dir)
    write_stage_outputs(tuner.oracle, run_dir)
    best = results.best_rows(rows, settings.search.direction, 1)
    if not best:
        raise RunError(
            f"no trial completed ({failure or 'no result'}); see {run_dir / 'trials.csv'}"
        )
    winner = best[0]
    test_metrics = save_best_model(tuner, winner.trial_id, data, run_dir)
    result = RunResult(winner.score, winner.trial_id, winner.config, test_metrics, rows)
    summary_extra = {"distribute": spec.name, "replicas": replicas}
    if rungs is not None:
        summary_extra["configs_per_rung"] = rungs
    if settings.parallel.chief:
        from kt_ext.parallel import trials_per_worker

        summary_extra["trials_per_worker"] = trials_per_worker(run_dir)
        summary_extra.update(workers)
    write_summary(settings, result, run_dir, time.perf_counter() - start, summary_extra)
    write_report(settings, run_dir)
    return result


def serve_workers(
    settings: RunSettings,
    tuner: keras_tuner.Tuner,
    run_dir: Path,
    worker_command: Sequence[str] | None,
) -> dict[str, dict[str, int]]:
    """Serve the tuner's oracle until the workers have run the whole search.

    Starts ``parallel.workers`` local worker processes (``worker_command``),
    replacing those that leave at a recycling limit (``parallel.recycle_*``);
    with ``parallel.role=chief`` and no local workers, waits for workers
    started elsewhere.

    Returns:
        For ``summary.json``: ``worker_exit_codes``, the exit status of each
        local worker's last process, and ``worker_restarts``, how many times
        each was replaced by a fresh process.

    Raises:
        RunError: The server cannot listen, or every local worker exited early.
    """
    from kt_ext import parallel

    par = settings.parallel
    server = parallel.OracleServer(
        tuner.oracle, Path(tuner.project_dir), par.address, par.port, par.grace_seconds
    )
    workers: dict[str, Any] = {}  # serve() puts replacements of recycled workers here
    try:
        port = server.start()
        tuner.save()
        if par.workers:
            if worker_command is None:
                raise RunError("parallel.workers needs the command that starts a worker")
            workers.update(
                parallel.start_workers(
                    worker_command, par.workers, run_dir, port, par.gpu_per_worker
                )
            )
        else:
            log.info(
                "waiting for workers: start each with the same overrides plus "
                "parallel.role=worker parallel.address=<this host> parallel.port=%d "
                "parallel.run_dir=%s",
                port,
                run_dir.resolve(),
            )
        server.serve(
            workers,
            lambda tuner_id: parallel.start_worker(
                worker_command or [],
                int(tuner_id.removeprefix("worker")),
                run_dir,
                port,
                par.gpu_per_worker,
            ),
        )
    except parallel.ParallelError as e:
        raise RunError(str(e)) from e
    finally:
        codes = parallel.stop_workers(workers)
        server.stop()
    if server.servicer.failure is not None:
        raise server.servicer.failure
    return {"worker_exit_codes": codes, "worker_restarts": server.restarts}


def run_worker(settings: RunSettings, job: str = "") -> bool:
    """Train trials for the chief at ``parallel.address:port`` until it has none left.

    The worker builds everything a single run builds, from the same config,
    and writes trials, checkpoints and TensorBoard logs into ``parallel.run_dir``
    (shared with the chief); the chief writes the run's outputs.

    Returns:
        Whether the worker stopped early at a recycling limit
        (``parallel.recycle_*``) rather than because the search is over; its
        process should then exit with :data:`kt_ext.parallel.RECYCLED` so the
        chief starts a fresh one.
    """
    from kt_ext import parallel

    par = settings.parallel
    parallel.exit_with_chief()
    run_dir = Path(par.run_dir)
    worker_id = par.worker_id or parallel.default_worker_id()
    spec, strategy, _, hypermodel = prepare(settings)
    with parallel.worker_environment(par.address, par.port, worker_id):
        tuner = make_tuner(settings, hypermodel, run_dir, strategy)
        if isinstance(tuner, tuners.TrialRecorder):
            tuner.heartbeat_seconds = par.heartbeat_seconds
            tuner.recycle_after_trials = par.recycle_after_trials
            tuner.recycle_above_mib = par.recycle_above_mib
            tuner.board = trial_board(settings, run_dir, spec, strategy, job)
        log.info("worker %s of the chief at %s:%d", worker_id, par.address, par.port)
        try:
            tuner.search(epochs=settings.search.epochs, callbacks=callbacks(settings), verbose=1)
        except tuners.Recycle as e:
            tuner.on_search_end()  # close its TensorBoard writers
            log.info("worker %s leaves for a fresh process: it %s", worker_id, e)
            return True
    return False


def rung_count(settings: RunSettings) -> int:
    """Rungs of the strategy's successive-halving schedule (0 for other strategies)."""
    return 0 if settings.schedule is None else len(settings.schedule.budgets)


def write_report(settings: RunSettings, run_dir: Path) -> None:
    """The report's plots and tables (:mod:`kt_ext.report`); a failure is logged, not raised."""
    from kt_ext import report  # matplotlib: only once the search is over

    try:
        files = report.report_run(run_dir, settings.top_n)
    except Exception:  # noqa: BLE001 - the run's results are already saved
        log.exception("the report could not be written; rerun scripts/report.py %s", run_dir)
        return
    log.info("report: %s", ", ".join(str(f.relative_to(run_dir)) for f in files))


def write_rung_outputs(oracle: keras_tuner.Oracle, run_dir: Path) -> dict[str, int] | None:
    """``rungs.csv`` (successive halving only): the rung each trial reached; logs the counts.

    Returns:
        Configurations that reached each rung budget, or ``None`` for other strategies.
    """
    if not hasattr(oracle, "rung_rows"):
        return None
    rows = oracle.rung_rows()
    results.write_text(run_dir / "rungs.csv", results.dicts_csv(rows))
    reached: dict[str, set[str]] = {}
    for row in rows:
        if row["rung"] >= 0:
            for budget in oracle.schedule.budgets[: row["rung"] + 1]:
                reached.setdefault(f"{budget:g}", set()).add(row["config"])
    counts = {budget: len(configs) for budget, configs in reached.items()}
    log.info(
        "configurations per rung: %s; rungs of every trial in %s",
        ", ".join(f"{n} reached {b}" for b, n in counts.items()),
        run_dir / "rungs.csv",
    )
    return counts


def write_stage_outputs(oracle: keras_tuner.Oracle, run_dir: Path) -> None:
    """``zoom_stages.csv`` (coarse to fine only): every stage's ranges; logs the last stage."""
    if not hasattr(oracle, "stage_rows"):
        return
    rows = oracle.stage_rows()
    results.write_text(run_dir / "zoom_stages.csv", results.dicts_csv(rows))
    log.info("zoom: the ranges of %d stages are in %s", oracle.stages, run_dir / "zoom_stages.csv")


def write_trial_outputs(settings: RunSettings, rows: list[results.TrialRow], run_dir: Path) -> None:
    """``trials.csv``, ``best_table.txt`` and ``best_hyperparameters.yaml``; logs the table."""
    s = settings.search
    results.write_text(
        run_dir / "trials.csv", results.trials_csv(rows, settings.space.names, s.objective)
    )
    table = results.best_table(rows, s.objective, s.direction, settings.top_n)
    results.write_text(run_dir / "best_table.txt", table + "\n")
    log.info("best %d of %d trials:\n%s", settings.top_n, len(rows), table)
    best = results.best_rows(rows, s.direction, 1)
    if best:
        results.write_yaml(
            run_dir / "best_hyperparameters.yaml",
            {
                "objective": s.objective,
                "direction": s.direction,
                "score": best[0].score,
                "trial_id": best[0].trial_id,
                "values": best[0].config,
            },
        )


def save_best_model(
    tuner: keras_tuner.Tuner, trial_id: str, data: Splits, run_dir: Path
) -> dict[str, float]:
    """Reload the best trial's model, evaluate it on the test split, save ``best_model.keras``."""
    trial = tuner.oracle.get_trial(trial_id)
    with warnings.catch_warnings():
        # KerasTuner checkpoints hold weights only; the fresh optimizer has nothing to restore.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model = tuner.load_model(trial)
    batch_size = int(trial.hyperparameters.values[BATCH_SIZE])
    metrics = model.evaluate(data.eval_dataset("test", batch_size), verbose=0, return_dict=True)
    metrics = {f"test_{k}": float(v) for k, v in metrics.items()}
    # Build the (fresh) optimizer so the saved file reloads without a variable-count warning.
    model.optimizer.build(model.trainable_variables)
    state.save_model(model, run_dir / "best_model.keras")
    log.info(
        "best model (trial %s) on the test split: %s",
        trial_id,
        ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()),
    )
    return metrics


def write_summary(
    settings: RunSettings,
    result: RunResult,
    run_dir: Path,
    seconds: float,
    extra: dict[str, Any] | None = None,
) -> None:
    """``summary.json``: the run's headline numbers, plus ``extra``.

    ``extra`` holds the distribution strategy and replica count, and for
    successive halving the configurations per rung.
    """
    statuses = [r.status for r in result.rows]
    results.write_json(
        run_dir / "summary.json",
        {
            "objective": settings.search.objective,
            "direction": settings.search.direction,
            "best_score": result.best_score,
            "best_trial_id": result.best_trial_id,
            "best_values": result.best_values,
            **result.test_metrics,
            "trials": len(statuses),
            "completed": statuses.count("COMPLETED"),
            "failed": sum(s in ("FAILED", "INVALID") for s in statuses),
            "epochs": sum(r.epochs or 0 for r in result.rows),
            "seconds": round(seconds, 2),
            "strategy": settings.strategy["_target_"],
            "seed": settings.seed,
            **(extra or {}),
        },
    )

"""One tuning run: build the tuner the config names, search, write every output.

The outputs and their names are listed in :mod:`kt_ext.outputs.files`.
Re-running into an existing ``run_dir`` resumes the KerasTuner project. With
``parallel.workers`` > 0 or ``parallel.role=chief`` this process serves the
oracle (:mod:`kt_ext.run.parallel`) while workers train.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras_tuner

from kt_ext import tuners
from kt_ext.config import RunSettings, resume
from kt_ext.config.strategies import strategy_of
from kt_ext.data import Splits
from kt_ext.outputs import files, results, writers
from kt_ext.outputs import status as status_files
from kt_ext.run.build import (
    RunError,
    callbacks,
    experiment_arguments,
    make_tuner,
    prepare,
    trial_board,
)
from kt_ext.run.evaluate import describe, evaluate_and_save, load_trial_model
from kt_ext.run.watch import SearchWatch, deferred_stop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """What a finished run returns to the entry point."""

    best_score: float
    best_trial_id: str
    best_values: dict[str, Any]
    test_metrics: dict[str, float]
    rows: list[results.TrialRow]


def run_search(
    settings: RunSettings,
    run_dir: Path,
    job: str = "",
    experiment: bool = True,
    worker_command: Sequence[str] | None = None,
) -> RunResult:
    """Run (or resume) the search described by ``settings`` and write its outputs into ``run_dir``.

    With ``parallel.workers`` > 0 or ``parallel.role=chief`` this process
    serves the oracle (:mod:`kt_ext.run.parallel`) while workers train; the
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
    spec, distribution, data, hypermodel = prepare(settings)
    replicas = int(distribution.num_replicas_in_sync)
    tuner = make_tuner(settings, hypermodel, run_dir, distribution)
    resume.release_hydra_files()  # the search starts: Hydra's files now describe this command
    strategy = strategy_of(settings.strategy["_target_"])
    plan = strategy.plan(settings.strategy, settings.search, settings.space, settings.schedule)
    log.info("strategy: %s", plan.text)
    board = trial_board(settings, run_dir, spec, distribution, job)
    s = settings.search
    watch = SearchWatch(
        run_dir,
        tuner.oracle,
        settings.space.names,
        s.objective,
        s.direction,
        settings.top_n,
        plan,
        settings.report_verbose,
        objectives=s.all_objectives,
        selection=s.selection,
    )
    if isinstance(tuner, tuners.TrialRecorder):
        tuner.board = board
        tuner.after_trial = watch.trial_ended
    if experiment:
        board.write_experiment(
            rungs=settings.rungs, front=s.multi, **experiment_arguments(settings)
        )
    failure = None
    workers: dict[str, Any] = {}
    watch.begin()
    try:
        with deferred_stop():  # a stop signal ends the search at its next check
            if settings.parallel.chief:
                workers = serve_workers(settings, tuner, run_dir, worker_command, watch)
            else:
                verbose = settings.keras_tuner_verbose
                tuner.search(epochs=s.epochs, callbacks=callbacks(settings), verbose=verbose)
    except RuntimeError as e:  # KerasTuner: too many consecutive failed trials
        if isinstance(e, RunError):
            raise
        failure = e
    except KeyboardInterrupt:
        watch.end(status_files.RUN_INTERRUPTED)
        raise
    status = watch.end(status_files.RUN_FINISHED)
    rows = results.oracle_rows(tuner.oracle)
    writers.write_trial_outputs(
        rows,
        run_dir,
        settings.space.names,
        s.objective,
        s.direction,
        settings.top_n,
        objectives=s.all_objectives,
        selection=s.selection,
    )
    summary_extra: dict[str, Any] = {"distribute": spec.name, "replicas": replicas}
    for name in strategy.outputs:
        summary_extra.update(writers.STRATEGY_OUTPUTS[name](tuner.oracle, run_dir))
    if not results.best_rows(rows, s.direction, 1):
        raise RunError(
            f"no trial completed ({failure or 'no result'}); see {run_dir / files.TRIALS_CSV}"
        )
    winner = results.selected_row(rows, s.all_objectives, s.selection)
    if winner is None:
        raise RunError(
            f"no completed trial meets search.select ({s.selection.describe()}); see "
            f"{run_dir / files.TRIALS_CSV}, and retrain one with scripts/train.py"
        )
    if s.multi:
        front = results.pareto_rows(rows, s.all_objectives)
        summary_extra["objectives"] = [o.as_tuple() for o in s.all_objectives]
        summary_extra["pareto_trial_ids"] = [r.trial_id for r in front]
        summary_extra["selected_by"] = s.selection.describe()
        done = [r.trial_id for r in rows if r.status == "COMPLETED"]
        board.mark_front(done, summary_extra["pareto_trial_ids"])
    test_metrics = save_best_model(tuner, winner.trial_id, data, run_dir)
    assert winner.score is not None  # selected among the completed rows
    result = RunResult(winner.score, winner.trial_id, winner.config, test_metrics, rows)
    if settings.parallel.chief:
        summary_extra["trials_per_worker"] = status_files.trials_per_worker(run_dir)
        summary_extra.update(workers)
    writers.write_summary(
        run_dir,
        {
            **status,
            "objective": s.objective,
            "direction": s.direction,
            "best_score": result.best_score,
            "best_trial_id": result.best_trial_id,
            "best_values": result.best_values,
            **result.test_metrics,
            **writers.summary_counts(rows),
            "seconds": round(time.perf_counter() - start, 2),
            "strategy": settings.strategy["_target_"],
            "seed": settings.seed,
            **summary_extra,
        },
    )
    write_report(settings, run_dir)
    return result


def save_best_model(
    tuner: keras_tuner.Tuner, trial_id: str, data: Splits, run_dir: Path
) -> dict[str, float]:
    """Reload the best trial's model, evaluate it on the test split, save ``best_model.keras``."""
    model, batch_size = load_trial_model(tuner, trial_id)
    metrics = evaluate_and_save(model, data, batch_size, run_dir / files.BEST_MODEL)
    log.info("best model (trial %s) on the test split: %s", trial_id, describe(metrics))
    return metrics


def write_report(settings: RunSettings, run_dir: Path) -> None:
    """The report's plots and tables (:mod:`kt_ext.outputs.report`); failures are only logged."""
    from kt_ext.outputs import report  # matplotlib: only once the search is over

    try:
        written = report.report_run(run_dir, settings.top_n)
    except Exception:  # noqa: BLE001 - the run's results are already saved
        log.exception("the report could not be written; rerun scripts/report.py %s", run_dir)
        return
    log.info("report: %s", ", ".join(str(f.relative_to(run_dir)) for f in written))


def serve_workers(
    settings: RunSettings,
    tuner: keras_tuner.Tuner,
    run_dir: Path,
    worker_command: Sequence[str] | None,
    watch: SearchWatch | None = None,
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
    from kt_ext.run import launchers, parallel, secure, workers

    par = settings.parallel
    try:
        creds = secure.Credentials.from_env(chief=True)
    except secure.ProtocolError as e:
        raise RunError(str(e)) from None
    server = parallel.OracleServer(
        tuner.oracle,
        Path(tuner.project_dir),
        par.address,
        par.port,
        par.grace_seconds,
        creds=creds,
        insecure=par.insecure,
    )
    tuner.oracle.verbose = settings.keras_tuner_verbose
    running: dict[str, Any] = {}  # serve() puts replacements of recycled workers here
    launcher = None
    restart: Callable[[str], Any] | None = None  # replaces a recycled worker (launched ones)
    try:
        if par.workers:
            if worker_command is None:
                raise RunError("parallel.workers needs the command that starts a worker")
            # before the server's threads: Ray starts its processes from this one
            launcher = launchers.make_launcher(par.launcher, par.slurm, par.ray, run_dir)
        port = server.start()
        tuner.save()
        if launcher is not None:
            address = (
                workers.connect_address(par.address)
                if par.launcher == "local"
                else workers.reachable_address(par.address)
            )

            def spec(index: int) -> launchers.WorkerSpec:
                spec = workers.worker_spec(
                    worker_command or [], index, run_dir, address, port, par.gpu_per_worker
                )
                spec.env.update(creds.environment())  # the files are shared, not their paths' text
                return spec

            running.update(launcher.start_all([spec(i) for i in range(par.workers)]))
            started_by = launcher

            def restart(tuner_id: str) -> Any:
                return started_by.start(spec(int(tuner_id.removeprefix("worker"))))

            log.info(
                "started %d %s workers (logs in %s)",
                par.workers,
                par.launcher,
                run_dir / files.WORKERS,
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
            running,
            restart,
            None if watch is None else watch.poll,
        )
    except parallel.ParallelError as e:
        raise RunError(str(e)) from e
    except KeyboardInterrupt:  # stopped: the workers too, at once (each at its next batch)
        running_now, running = running, {}
        workers.stop_workers(running_now, timeout=0.0, grace=2.0)  # resumed trials re-run
        raise
    finally:
        codes = workers.stop_workers(running)
        server.stop()
        if launcher is not None:
            launcher.close()
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
        process should then exit with :data:`kt_ext.run.workers.RECYCLED` so the
        chief starts a fresh one.
    """
    from kt_ext.run import secure, workers

    par = settings.parallel
    workers.exit_with_chief()
    secure.use_secure_client(connect_seconds=par.grace_seconds)
    assert par.run_dir is not None  # required of a worker by the config's validation
    run_dir = Path(par.run_dir)
    worker_id = par.worker_id or workers.default_worker_id()
    spec, distribution, _, hypermodel = prepare(settings)
    with workers.worker_environment(par.address, par.port, worker_id):
        try:
            tuner = make_tuner(settings, hypermodel, run_dir, distribution)
        except secure.ProtocolError as e:  # unreachable chief, wrong token or certificate
            raise RunError(str(e)) from None
        if isinstance(tuner, tuners.TrialRecorder):
            tuner.heartbeat_seconds = par.heartbeat_seconds
            tuner.recycle_after_trials = par.recycle_after_trials
            tuner.recycle_above_mib = par.recycle_above_mib
            tuner.board = trial_board(settings, run_dir, spec, distribution, job)
        log.info("worker %s of the chief at %s:%d", worker_id, par.address, par.port)
        try:
            verbose = settings.keras_tuner_verbose
            with deferred_stop():  # a stop signal ends the worker at its next batch
                tuner.search(
                    epochs=settings.search.epochs, callbacks=callbacks(settings), verbose=verbose
                )
        except tuners.Recycle as e:
            tuner.on_search_end()  # close its TensorBoard writers
            log.info("worker %s leaves for a fresh process: it %s", worker_id, e)
            return True
        except (secure.ProtocolError, tuners.NotShared) as e:  # chief gone; no shared directory
            raise RunError(str(e)) from None
    return False

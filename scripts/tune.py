"""Tune a Keras model from the Hydra configs in ``conf/``.

    python scripts/tune.py                                   # defaults: mlp x random x digits
    python scripts/tune.py strategy=bayes model=cnn search.max_trials=20
    python scripts/tune.py -m strategy=random,bayes model=mlp,cnn
    python scripts/tune.py parallel.workers=3                 # chief + 3 local workers

Compose -> validate -> build -> search -> report; returns the best objective
value so a Hydra sweeper can consume it. A bad config exits with status 2 and
one line naming the key, before TensorFlow is imported and without leaving a
run directory behind (``HYDRA_FULL_ERROR=1`` shows the traceback).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from kt_ext.config import discard_run_dir, resume, safety, validate_or_exit
from kt_ext.config.cli import check_command_line
from kt_ext.errors import ConfigError, fail
from kt_ext.native_log import import_tensorflow
from kt_ext.outputs.files import BEST_CONFIG
from kt_ext.outputs.results import best_config, write_yaml
from kt_ext.run.sweep import register_resolvers
from kt_ext.run.watch import resume_command, stop_on_signals, stopped_line

register_resolvers()  # ${kt_job_dir:...} names multirun job directories
CONF = str(Path(__file__).resolve().parents[1] / "conf")
log = logging.getLogger("kt_ext.tune")


def worker_overrides() -> list[str]:
    """This run's command-line overrides, for the worker processes it starts."""
    overrides = list(HydraConfig.get().overrides.task)
    # A multirun job's output directory is its own; workers log inside it.
    return [o for o in overrides if not safety.is_hydra_override(o)]


@hydra.main(version_base="1.3", config_path=CONF, config_name="config")
def main(cfg: DictConfig) -> float:
    """Run one tuning job and return its best objective value."""
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    settings = validate_or_exit(cfg, run_dir)
    config = OmegaConf.to_container(cfg, resolve=True)
    chief = settings.parallel.role != "worker"
    if chief:
        try:
            resume.check_no_links(run_dir)  # also each job of a multirun
            resume.check_resume(run_dir, config)
        except ConfigError as e:
            discard_run_dir(run_dir)
            fail(e, 2)
    import_tensorflow()  # without TensorFlow's C++ start-up log
    from kt_ext.run import RunError, run_search, run_worker  # heavy: imports TensorFlow

    if settings.preview:
        from kt_ext.run.preview import run_preview

        try:
            print(run_preview(settings), flush=True)
        except ConfigError as e:
            fail(e, 2)
        finally:
            discard_run_dir(run_dir)
        return float("nan")
    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    if chief:
        resume.record(run_dir, config)
        log.info("run directory: %s", run_dir)
    try:
        if settings.parallel.role == "worker":
            if run_worker(settings):
                from kt_ext.run.workers import RECYCLED

                sys.exit(RECYCLED)  # the chief starts a fresh worker in its place
            return float("nan")
        # In a sweep, trials are named after their job, and the sweep writes one
        # HParams experiment for all jobs when it ends (kt_ext.run.sweep).
        result = run_search(
            settings,
            run_dir,
            job=run_dir.name if multirun else "",
            experiment=not multirun,
            worker_command=[sys.executable, str(Path(__file__).resolve()), *worker_overrides()],
        )
    except ConfigError as e:
        discard_run_dir(run_dir)
        fail(e, 2)
    except RunError as e:
        fail(e, 1)
    except KeyboardInterrupt as e:  # SIGINT, SIGTERM (kt_ext.run.watch.stop_on_signals)
        if not chief:
            sys.exit(getattr(e, "exit_code", 130))  # the chief re-queues the worker's trial
        command = resume_command(run_dir, HydraConfig.get().overrides.task, sys.argv[0])
        print(stopped_line(e, run_dir, command), file=sys.stderr, flush=True)
        sys.exit(getattr(e, "exit_code", 130))
    best = best_config(config, settings.space.names, result.best_values, result.best_trial_id)
    write_yaml(run_dir / BEST_CONFIG, best)
    log.info(
        "retrain the winner: python %s -cd %s -cn best_config",
        Path(__file__).with_name("train.py"),
        run_dir,
    )
    return result.best_score


if __name__ == "__main__":
    stop_on_signals()  # Ctrl-C and a scheduler's SIGTERM end the run with one line
    try:
        check_command_line(sys.argv[1:], CONF, "config")  # Hydra's errors, in one line
        main()
    except KeyboardInterrupt as e:  # before the search started: nothing to resume
        print("kt-ext: stopped before the search started", file=sys.stderr, flush=True)
        sys.exit(getattr(e, "exit_code", 130))

"""Seconds per trial and RAM across trials under tf.distribute strategies (digits CNN).

    python scripts/bench/distribute.py                       # 3 seeds x 30 trials x 3 methods
    python scripts/bench/distribute.py --seeds 1 --trials 10 # quicker

Methods, each in a fresh process (virtual CPUs must be set before TensorFlow starts):

* ``default``  - kt-ext, TensorFlow's default strategy (``distribute=default``);
* ``mirrored`` - kt-ext, ``distribute=mirrored distribute.virtual_cpus=2``: 2 replicas,
  tf.data pipelines batched by the global batch;
* ``kt_numpy`` - plain KerasTuner ``RandomSearch`` under the same MirroredStrategy,
  fitting NumPy arrays (``model.fit(x, y, batch_size=...)``), as its docs show;
* ``cli`` - ``scripts/tune.py`` with the ``default`` config, as a user runs it;
* ``recycled`` - the same command plus ``parallel.recycle_after_trials=N``
  (``--recycle``, default 10): trials train in a worker process that the chief
  replaces by a fresh one every N trials.

The two command methods take seconds and RSS per trial from ``trials.csv``
(kt-ext's own ``seconds`` and ``rss_mib``: the process that trained the trial)
and also record the command's wall time and the peak RAM of the chief and of the
whole process tree, sampled every 0.2 s from ``/proc``: proportional set size
(PSS), which counts the TensorFlow libraries both processes map once between them.

Every method trains the same configurations (random search, same seed), ``--epochs``
epochs each, no early stopping. A trial's seconds are its wall time (build, fit,
validation); RAM is the process's resident set size after each trial. The summary
gives, per method, the median over seeds of the median seconds per trial, its ratio
to ``default`` measured in the same run, and RSS after trial 1 and after the last.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import CONF, TUNE, Cache, Report, command_line, markdown_table

METHODS = ("default", "mirrored", "kt_numpy", "cli", "recycled")
COMMANDS = ("cli", "recycled")  # run as scripts/tune.py commands rather than in-process


def overrides(method: str, seed: int, trials: int, epochs: int, recycle: int = 10) -> list[str]:
    """The kt-ext config of one method."""
    base = [
        "model=cnn",
        "strategy=random",
        f"seed={seed}",
        f"search.max_trials={trials}",
        f"search.epochs={epochs}",
        "search.early_stopping_patience=0",
    ]
    if method in ("default", "cli"):
        return base
    if method == "recycled":
        return [*base, f"parallel.recycle_after_trials={recycle}"]
    return [*base, "distribute=mirrored", "distribute.virtual_cpus=2"]


def worker(method: str, seed: int, trials: int, epochs: int, out_dir: Path) -> dict[str, Any]:
    """Run one method's search in this process; returns per-trial seconds and RSS."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from hydra import compose, initialize_config_dir

    from kt_ext.config import validate
    from kt_ext.run import load_data, make_distribution, make_hypermodel, make_tuner
    from kt_ext.tuners.memory import rss_mib

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        settings = validate(
            compose(config_name="config", overrides=overrides(method, seed, trials, epochs))
        )
    spec, distribution = make_distribution(settings)
    data = load_data(settings)
    replicas = distribution.num_replicas_in_sync
    hypermodel = make_hypermodel(settings, data, replicas, spec.scale_lr)
    if method == "kt_numpy":
        tuner = _keras_tuner_numpy(settings, hypermodel, out_dir, distribution)
    else:
        tuner = make_tuner(settings, hypermodel, out_dir, distribution)
    seconds: list[float] = []
    rss: list[float] = []
    end_trial = tuner.on_trial_end
    clock = [time.perf_counter()]

    def on_trial_end(trial: Any) -> None:
        end_trial(trial)
        now = time.perf_counter()
        seconds.append(now - clock[0])
        rss.append(rss_mib())
        clock[0] = now

    tuner.on_trial_end = on_trial_end
    tuner.on_trial_begin = _wrap_begin(tuner.on_trial_begin, clock)
    tuner.search(epochs=epochs, verbose=0)
    scores = [t.score for t in tuner.oracle.trials.values() if t.score is not None]
    return {
        "method": method,
        "seed": seed,
        "replicas": replicas,
        "seconds": seconds,
        "rss_mb": rss,
        "best": max(scores) if scores else None,
    }


def command(method: str, seed: int, trials: int, epochs: int, recycle: int, out_dir: Path) -> dict:
    """Run one method as a ``scripts/tune.py`` command, sampling its processes' memory."""
    import csv

    from kt_ext.tuners.memory import process_tree, pss_mib

    args = overrides(method, seed, trials, epochs, recycle)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(TUNE), *args, f"hydra.run.dir={out_dir}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    peak_chief = peak_tree = 0.0
    while proc.poll() is None:
        chief = pss_mib(proc.pid)
        tree = sum(m for m in map(pss_mib, process_tree(proc.pid)) if not math.isnan(m))
        if not math.isnan(chief):
            peak_chief = max(peak_chief, chief)
        peak_tree = max(peak_tree, tree)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    err = proc.stderr.read()
    if proc.returncode != 0:
        sys.exit(f"{method} seed {seed} failed:\n{err[-3000:]}")
    with open(out_dir / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    summary = json.loads((out_dir / "summary.json").read_text())
    return {
        "method": method,
        "seed": seed,
        "replicas": summary["replicas"],
        "seconds": [float(r["seconds"]) for r in rows],
        "rss_mb": [float(r["rss_mib"]) for r in rows],
        "best": summary.get("best_score"),
        "wall": wall,
        "peak_chief_mb": peak_chief,
        "peak_tree_mb": peak_tree,
        "restarts": sum(summary.get("worker_restarts", {}).values()),
    }


def _wrap_begin(begin: Any, clock: list[float]) -> Any:
    def on_trial_begin(trial: Any) -> None:
        clock[0] = time.perf_counter()
        begin(trial)

    return on_trial_begin


def _keras_tuner_numpy(settings: Any, hypermodel: Any, out_dir: Path, distribution: Any) -> Any:
    """Plain KerasTuner: RandomSearch, NumPy inputs, the same models and strategy."""
    import keras_tuner

    class NumpyHyperModel(keras_tuner.HyperModel):
        def build(self, hp: Any) -> Any:
            return hypermodel.build(hp)

        def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
            d = hypermodel.data
            kwargs["verbose"] = 0
            return model.fit(
                d.x_train,
                d.y_train,
                batch_size=hypermodel.global_batch(hp.values),
                validation_data=(d.x_val, d.y_val),
                **kwargs,
            )

    return keras_tuner.RandomSearch(
        NumpyHyperModel(),
        objective=keras_tuner.Objective(settings.search.objective, settings.search.direction),
        max_trials=settings.search.max_trials,
        hyperparameters=settings.space.to_hyperparameters(),
        tune_new_entries=False,
        allow_new_entries=False,
        seed=settings.seed,
        directory=str(out_dir),
        project_name="kt_numpy",
        distribution_strategy=distribution,
    )


def run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every method and seed in its own process; results cached as JSON lines in ``--out``."""
    cache = Cache(args.out / "results.jsonl", ("method", "seed", "trials", "epochs"))
    results = []
    for seed in range(args.seeds):
        for method in args.methods:
            key = (method, seed, args.trials, args.epochs)
            if key in cache:
                results.append(cache[key])
                continue
            run_dir = args.out / f"{method}-{seed}"
            if method in COMMANDS:
                r = command(method, seed, args.trials, args.epochs, args.recycle, run_dir)
            else:
                r = _in_process(method, seed, args, run_dir)
            r.update(trials=args.trials, epochs=args.epochs)
            cache.add(r)
            results.append(r)
            print(
                f"{method} seed {seed}: median {statistics.median(r['seconds']):.2f} s/trial",
                flush=True,
            )
    return results


def _in_process(method: str, seed: int, args: argparse.Namespace, run_dir: Path) -> dict:
    """One in-process method, in a fresh Python process (virtual CPUs are set at start-up)."""
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            method,
            "--seed",
            str(seed),
            "--trials",
            str(args.trials),
            "--epochs",
            str(args.epochs),
            "--out",
            str(run_dir),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.exit(f"{method} seed {seed} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def summarise(results: list[dict[str, Any]]) -> str:
    """The tables: per-trial seconds and RSS; the commands' wall time and peak RAM."""
    by_method: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_method.setdefault(r["method"], []).append(r)

    def med(runs: list[dict[str, Any]], f: Any) -> float:
        return statistics.median(f(r) for r in runs)

    base = med(by_method["default"], lambda r: statistics.median(r["seconds"]))
    per_trial = []
    for method in (m for m in METHODS if by_method.get(m)):
        runs = by_method[method]
        sec = med(runs, lambda r: statistics.median(r["seconds"]))
        first = med(runs, lambda r: r["rss_mb"][0])
        last = med(runs, lambda r: r["rss_mb"][-1])
        top = med(runs, lambda r: max(r["rss_mb"]))
        per_trial.append(
            [
                method,
                str(runs[0]["replicas"]),
                f"{sec:.2f}",
                f"{sec / base:.2f}x",
                f"{first:.0f} MiB",
                f"{last:.0f} MiB",
                f"{last - first:+.0f} MiB",
                f"{top:.0f} MiB",
            ]
        )
    lines = [
        markdown_table(
            [
                "method",
                "replicas",
                "s/trial (median)",
                "vs default",
                "RSS after trial 1",
                "after last",
                "growth",
                "max after a trial",
            ],
            per_trial,
        )
    ]
    if by_method.get("cli"):
        cli = med(by_method["cli"], lambda r: r["wall"])
        commands = []
        for method in (m for m in COMMANDS if by_method.get(m)):
            runs = by_method[method]
            wall = med(runs, lambda r: r["wall"])
            commands.append(
                [
                    method,
                    f"{wall:.1f} s",
                    f"{wall / cli:.2f}x",
                    f"{med(runs, lambda r: r['restarts']):.0f}",
                    f"{med(runs, lambda r: r['peak_chief_mb']):.0f} MiB",
                    f"{med(runs, lambda r: r['peak_tree_mb']):.0f} MiB",
                ]
            )
        header = ["command", "wall time", "vs cli", "worker restarts", "peak PSS, chief"]
        lines += ["", markdown_table([*header, "peak PSS, all processes"], commands)]
    n = len(results[0]["seconds"])
    seeds = len(by_method["default"])
    lines.append(f"\n{seeds} seed(s), {n} trials each; medians over seeds.")
    return "\n".join(lines)


def main() -> None:
    """Parse the command line; run one worker or the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--recycle", type=int, default=10, help="recycled: trials per process")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--out", type=Path, default=Path("bench/distribute"))
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.seed, args.trials, args.epochs, args.out)))
        return
    report = Report("distribute")
    report.add(summarise(run_all(args)))
    report.write(command_line())


if __name__ == "__main__":
    main()

r"""Successive halving against full-budget search, on a synthetic and on a real problem.

``synthetic``: a multi-fidelity Hartmann-6 function (Kandasamy et al., 2017)
whose "learning curve" at epoch ``e`` of ``R`` is the function at fidelity
``z = (e + 1) / R``: its weights shrink by ``0.5 (1 - z)`` (a bias that also
changes the ranking) and Gaussian noise of std ``0.1 (1 - z) + 0.01`` is
added. Every oracle is driven by the same fake trainer, epoch by epoch,
until the epoch budget is spent; the recommendation after each trial is the
best observed configuration among those trained to the highest budget so
far, and its *true* (noiseless, full-fidelity) regret is recorded.

``synthetic-fail``: the same, but configurations with ``x0 + x1 > 1.2`` fail
in their first epoch (a diverged loss; one epoch spent, no result), to
measure BOHB's failure model (``bohb`` against ``bohb_blind``).

``real``: the digits CNN (``model=cnn``), one process per (method, seed),
best validation accuracy against total epochs trained, every method
stopped once the same epoch budget is spent; no early stopping. Each
epoch's validation result counts from the moment that epoch is trained
(one process trains one trial after another); a second table credits a
trial's best result only when the trial ends, which delays the early
epochs of long trials.

After each table, every method is set against ``halving`` seed by seed: the
difference of the medians, its 95% bootstrap interval (seeds resampled in
pairs) and the seeds won, lost and tied, so a gap can be told from noise.

Usage::

    python scripts/bench/halving.py synthetic --seeds 10
    python scripts/bench/halving.py synthetic-fail --seeds 10
    python scripts/bench/halving.py real --seeds 3 --jobs 2
    python scripts/bench/halving.py real --task mnist1d-cnn1d --objective val_loss --seeds 10
    python scripts/bench/halving.py real --task mnist1d-cnn1d --objective val_loss \
        --first-seed 10 --seeds 20 --block replicate  # seeds 10-19, in a block of their own

Results are cached as JSON lines in ``--out`` (``bench/halving``); a re-run
only computes what is missing (``--fresh`` starts over). The tables go to
``halving.md`` beside this script (one block per benchmark and objective).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    CONF,
    Cache,
    Report,
    command_line,
    common_arguments,
    replicate_arguments,
    run_pool,
    seed_words,
)
from _functions import H6_A, H6_ALPHA, H6_P
from _stats import TIE, paired, paired_cell

# ----------------------------------------------------------------------- synthetic

H6_MIN = -3.32237
R_SYN = 27  # epochs of a full training
SYN_BUDGETS = (27, 81, 162, 270, 540)  # 1, 3, 6, 10 and 20 full trainings
SYN_METHODS = (
    "halving",
    "halving_sync",
    "hyperband",
    "bohb",
    "bohb_random_third",
    "kt_hyperband",
    "random",
    "gpucb",
)
# synthetic-fail: the same function where a third of the box fails (:func:`fails`).
SYN_FAIL_METHODS = ("halving", "bohb", "bohb_blind", "kt_hyperband", "random")


def hartmann6(x: np.ndarray, z: float = 1.0) -> float:
    """Multi-fidelity Hartmann-6 without noise; ``z = 1`` is the true function."""
    alpha = H6_ALPHA - 0.5 * (1.0 - z)
    return float(-np.sum(alpha * np.exp(-np.sum(H6_A * (x - H6_P) ** 2, axis=1))))


def observed(x: np.ndarray, epoch: int, seed: int) -> float:
    """What a trainer reports after ``epoch`` (0-based): biased and noisy, less so later."""
    z = (epoch + 1) / R_SYN
    digest = hashlib.sha256(f"{seed}:{x.round(6).tolist()}:{epoch}".encode()).digest()
    noise = np.random.default_rng(int.from_bytes(digest[:8], "little")).normal()
    return hartmann6(x, z) + (0.1 * (1.0 - z) + 0.01) * noise


def _space() -> Any:
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    for i in range(6):
        hp.Float(f"x{i}", 0.0, 1.0)
    return hp


def fails(x: np.ndarray) -> bool:
    """``synthetic-fail``: where training diverges at its first epoch (a third of the box)."""
    return bool(x[0] + x[1] > 1.2)


def _oracle(method: str, seed: int) -> Any:
    import keras_tuner

    from kt_ext.oracles import GPUCBOracle, HalvingOracle
    from kt_ext.tuners._trial import independent_draws

    objective = keras_tuner.Objective("loss", "min")
    halving = {"min_epochs": 1, "max_epochs": R_SYN, "reduction_factor": 3, "seed": seed}
    halving["max_consecutive_failed_trials"] = 10_000  # failure regions: count, do not stop
    if method == "halving":
        return HalvingOracle(
            objective=objective, hyperparameters=_space(), iterations=10, **halving
        )
    if method == "halving_sync":
        return HalvingOracle(
            objective=objective, hyperparameters=_space(), iterations=10, mode="sync", **halving
        )
    if method == "hyperband":
        return HalvingOracle(
            objective=objective, hyperparameters=_space(), brackets=None, iterations=3, **halving
        )
    if method in ("bohb", "bohb_random_third", "bohb_blind"):
        return HalvingOracle(
            objective=objective,
            hyperparameters=_space(),
            iterations=10,
            sampler="gp",
            random_fraction=1 / 3 if method == "bohb_random_third" else 0.0,  # BOHB's own third
            failure_aware=method != "bohb_blind",  # blind: no failure model
            **halving,
        )
    if method in ("kt_hyperband", "random"):
        # seed + 1: KerasTuner turns seed 0 into a random one; each trial's draws come from
        # a hash of (seed, trial), as kt-ext runs these oracles, so nearby seeds share nothing
        if method == "kt_hyperband":
            oracle = keras_tuner.oracles.HyperbandOracle(
                objective, max_epochs=R_SYN, factor=3, hyperband_iterations=10,
                hyperparameters=_space(), seed=seed + 1, max_consecutive_failed_trials=10_000,
            )  # fmt: skip
        else:
            oracle = keras_tuner.oracles.RandomSearchOracle(
                objective, max_trials=1000, hyperparameters=_space(), seed=seed + 1,
                max_consecutive_failed_trials=10_000,
            )  # fmt: skip
        independent_draws(oracle, seed)
        return oracle
    if method == "gpucb":
        return GPUCBOracle(objective=objective, max_trials=100, hyperparameters=_space(), seed=seed)
    raise ValueError(method)


def synthetic_run(method: str, seed: int, tmp: str, fail: bool = False) -> dict[str, Any]:
    """Drive one oracle until the largest budget is spent; regret after each trial.

    ``fail``: configurations in :func:`fails` fail in their first epoch (one epoch spent).
    """
    from keras_tuner.engine.trial import TrialStatus

    oracle = _oracle(method, seed)
    oracle.verbose = 0
    oracle._set_project_dir(tmp, f"{method}-{seed}")
    spent, curve, failed = 0, [], 0
    best: dict[str, Any] = {"level": -1, "value": math.inf, "x": None}
    while spent < SYN_BUDGETS[-1]:
        trial = oracle.create_trial("w0")
        if trial.status != TrialStatus.RUNNING:
            break
        values = trial.hyperparameters.values
        x = np.array([values[f"x{i}"] for i in range(6)])
        if fail and fails(x):
            spent, failed = spent + 1, failed + 1
            trial.status, trial.message = TrialStatus.FAILED, "non-finite loss at epoch 1"
            oracle.end_trial(trial)
            regret = math.inf if best["x"] is None else hartmann6(best["x"]) - H6_MIN
            curve.append((spent, regret))
            continue
        start = int(values.get("tuner/initial_epoch", 0))
        stop = int(values.get("tuner/epochs", R_SYN))
        last = start
        for epoch in range(start, stop):
            y = observed(x, epoch, seed)
            spent += 1
            last = epoch
            answer = oracle.update_trial(trial.trial_id, {"loss": y}, step=epoch)
            if answer.status == TrialStatus.STOPPED:
                break
        trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)
        level, value = last, observed(x, last, seed)
        if level > best["level"] or (level == best["level"] and value < best["value"]):
            best = {"level": level, "value": value, "x": x}
        curve.append((spent, hartmann6(best["x"]) - H6_MIN))
    return {"method": method, "seed": seed, "curve": curve, "failed": failed}


def regret_at(row: dict[str, Any], budget: float) -> float:
    """Regret of a synthetic run's recommendation once ``budget`` epochs were spent."""
    value = math.inf
    for spent, regret in row["curve"]:
        if spent > budget:
            break
        value = regret
    return value


# ---------------------------------------------------------------------------- real

R_REAL = 27
# The reference of the target: random search's 20 trials at full epochs.
FULL_RANDOM = 20 * R_REAL
REAL_BUDGET = FULL_RANDOM // 3  # epochs: the target's third of them (6 2/3 full trainings)
REAL_POINTS = (27, 54, 81, 162, REAL_BUDGET)
# Real tasks: the digits CNN (saturates: every gap within half a validation example) and
# MNIST-1D's 1-D CNN, where methods differ.
REAL_TASKS = {
    "digits-cnn": ["model=cnn"],
    "mnist1d-cnn1d": ["data=mnist1d", "model=cnn1d"],
}
REAL_METHODS = {
    "halving": ["strategy=halving", "strategy.iterations=3"],
    "bohb": ["strategy=bohb", "strategy.iterations=3"],
    "hyperband": ["strategy=halving", "strategy.brackets=null"],
    "kt_hyperband": ["strategy=hyperband", "strategy.hyperband_iterations=3"],
    "random": ["strategy=random", "search.max_trials=50"],
    "gpucb": ["strategy=bayes", "search.max_trials=50"],
    "random20": ["strategy=random", "search.max_trials=20"],
}
# Methods run past ``REAL_BUDGET``: their own epoch budget.
REAL_BUDGETS = {"random20": FULL_RANDOM}


def real_one(
    method: str, seed: int, tmp: str, objective: str = "val_accuracy", task: str = "digits-cnn"
) -> dict[str, Any]:
    """One search of a real task, stopped at ``REAL_BUDGET`` epochs; the best after each trial."""
    from hydra import compose, initialize_config_dir
    from keras_tuner.engine.trial import Trial, TrialStatus

    from kt_ext.config import validate
    from kt_ext.outputs.results import EPOCHS_RUN
    from kt_ext.run import load_data, make_hypermodel, make_tuner

    overrides = [
        *REAL_METHODS[method],
        *REAL_TASKS[task],
        f"seed={seed}",
        f"search.epochs={R_REAL}",
        "search.early_stopping_patience=0",
        f"search.objective={objective}",
    ]
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        settings = validate(compose(config_name="config", overrides=overrides))
    data = load_data(settings)
    tuner = make_tuner(settings, make_hypermodel(settings, data), Path(tmp) / f"{method}-{seed}")
    oracle = tuner.oracle
    create = oracle.create_trial

    def epochs_of(trial: Trial) -> float:
        if trial.metrics.exists(EPOCHS_RUN):
            return trial.metrics.get_last_value(EPOCHS_RUN) or 0
        # A failed trial (NaN loss, ...) reports no metrics: count the epochs it was given.
        values = trial.hyperparameters.values
        return int(values.get("tuner/epochs", R_REAL)) - int(values.get("tuner/initial_epoch", 0))

    def spent() -> float:
        return sum(epochs_of(t) for t in oracle.trials.values())

    budget = REAL_BUDGETS.get(method, REAL_BUDGET)

    def budgeted_create(tuner_id: str) -> Trial:
        if spent() >= budget:
            return Trial(oracle.hyperparameters.copy(), status=TrialStatus.STOPPED)
        return create(tuner_id)

    oracle.create_trial = budgeted_create
    # Each trial's objective per epoch, from its Keras history: KerasTuner's own tuners report
    # only a trial's best epoch to the oracle, kt-ext's halving tuner every epoch.
    per_epoch: dict[str, list[float]] = {}
    run_trial = tuner.run_trial

    def recorded_run_trial(trial: Trial, *args: Any, **kwargs: Any) -> Any:
        results = run_trial(trial, *args, **kwargs)
        history = (results if isinstance(results, list) else [results])[0]
        per_epoch[trial.trial_id] = [float(v) for v in history.history.get(objective, [])]
        return results

    tuner.run_trial = recorded_run_trial
    tuner.search(epochs=R_REAL, verbose=0)
    sign = 1.0 if oracle.objective.direction == "max" else -1.0
    total, curve, best = 0.0, [], -math.inf
    epoch_curve, epoch_best = [], -math.inf
    for trial_id in oracle.end_order:  # one process trains one trial after another
        trial = oracle.trials[trial_id]
        values = per_epoch.get(trial_id, [])  # none if the trial failed
        if len(values) > epochs_of(trial):
            raise RuntimeError(
                f"trial {trial_id}: {len(values)} epochs logged, {epochs_of(trial)} run"
            )
        for i, value in enumerate(values):
            if math.isfinite(value):
                epoch_best = max(epoch_best, sign * value)
            epoch_curve.append((total + i + 1, sign * epoch_best))
        total += epochs_of(trial)
        if trial.status == TrialStatus.COMPLETED and trial.score is not None:
            best = max(best, sign * float(trial.score))
        curve.append((total, sign * best))
    return {
        "method": method,
        "seed": seed,
        "curve": curve,
        "epoch_curve": epoch_curve,
        "trials": len(curve),
        "direction": oracle.objective.direction,
    }


def best_at(row: dict[str, Any], budget: float, key: str = "epoch_curve") -> float:
    """Best objective value of a real run once ``budget`` epochs were trained (worst before any).

    ``key="epoch_curve"`` credits each epoch's validation result as soon as
    that epoch is trained; ``key="curve"`` credits a trial's best result only
    when the whole trial ends (a long trial's early epochs count late).
    """
    value = -math.inf if row.get("direction", "max") == "max" else math.inf
    for spent, best in row[key]:
        if spent > budget:
            break
        value = best
    return value


# ---------------------------------------------------------------------------- driver


def _run_all(
    kind: str,
    methods: list[str],
    seeds: range,
    jobs: int,
    out: Path,
    fresh: bool,
    objective: str = "val_accuracy",
    task: str = "digits-cnn",
) -> dict[tuple[str, int], dict]:
    """Every (method, seed) result, running the missing ones in fresh processes."""
    suffix = "" if objective == "val_accuracy" else f"-{objective}"
    suffix += "" if task == "digits-cnn" else f"-{task}"
    cache = Cache(out / f"{kind}{suffix}.jsonl", ("method", "seed"), fresh)
    if kind == "real":  # rows cached before per-epoch credit are run again (later lines win)
        cache.rows = {k: r for k, r in cache.rows.items() if "epoch_curve" in r}
    todo = [(m, s) for m in methods for s in seeds if (m, s) not in cache]
    cmd = [sys.executable, __file__, "one", kind, "--out", str(out), "--objective", objective]
    cmd += ["--task", task]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1"}

    def launch(job: tuple[str, int]) -> dict:
        method, seed = job
        print(f"+ {kind} {method} seed {seed}", file=sys.stderr, flush=True)
        proc = subprocess.run(
            [*cmd, "--method", method, "--seed", str(seed)],
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            raise RuntimeError(f"{method} seed {seed} failed:\n{proc.stderr[-3000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    for row in run_pool(todo, launch, jobs):
        cache.add(row)
    return cache.rows


def _table(
    report: Report,
    rows: dict[tuple[str, int], dict],
    methods: list[str],
    seeds: range,
    points: tuple[int, ...],
    at: Callable[[dict, float], float],
    fmt: str,
) -> dict[str, list[float]]:
    medians = {}
    for m in methods:
        medians[m] = [statistics.median(at(rows[(m, s)], p) for s in seeds) for p in points]
    report.table(
        ["method", *(f"{p} epochs" for p in points)],
        [[m, *(format(v, fmt) for v in medians[m])] for m in methods],
    )
    return medians


def _paired_table(
    report: Report,
    rows: dict[tuple[str, int], dict],
    methods: list[str],
    reference: str,
    seeds: range,
    points: tuple[int, ...],
    at: Callable[[dict, float], float],
    sign: float,
    fmt: str,
) -> None:
    """Each method's median minus ``reference``'s (positive: better), 95% interval, W/L/T."""
    report.add(
        f"\nAgainst {reference}, seed by seed: difference of the medians (positive: better), "
        "its 95% bootstrap interval, and seeds won/lost/tied:\n"
    )
    ref = [[at(rows[(reference, s)], p) for s in seeds] for p in points]
    table = []
    for m in methods:
        if m == reference:
            continue
        cells = [
            paired_cell(paired([at(rows[(m, s)], p) for s in seeds], ref[k], sign), fmt)
            for k, p in enumerate(points)
        ]
        table.append([m, *cells])
    report.table(["method", *(f"{p} epochs" for p in points)], table)
    budget = max(points)
    report.add(
        f"\nEpoch counts 1-{budget} at which the median is better / worse than {reference}'s:\n"
    )
    medians = {m: _median_curve(rows, m, seeds, budget, at) for m in methods}
    for m in methods:
        if m != reference:
            # Medians average two float32 results, so equal accuracies can differ by rounding.
            gaps = [sign * (a - b) for a, b in zip(medians[m], medians[reference], strict=True)]
            better = sum(g > TIE for g in gaps)
            worse = sum(g < -TIE for g in gaps)
            report.add(f"- {m}: {better} / {worse}")


def _section(
    report: Report,
    rows: dict[tuple[str, int], dict],
    methods: list[str],
    seeds: range,
    points: tuple[int, ...],
    at: Callable[[dict, float], float],
    sign: float,
    fmt: str,
    title: str,
) -> None:
    """Medians at each budget, epochs to reach random search's result, each method vs halving."""
    report.add(f"\n{title}:\n")
    med = _table(report, rows, methods, seeds, points, at, fmt)
    budget = points[-1]
    if "random" in med:
        goal = med["random"][-1]
        report.add(
            f"\nEpochs until the median first reaches random search's at {budget} epochs "
            f"({goal:{fmt}}):\n"
        )
        for m in methods:
            report.add(
                f"- {m}: {_share(_first_median(rows, m, seeds, budget, at, goal, sign), budget)}"
            )
    if "halving" in med:
        _paired_table(report, rows, methods, "halving", seeds, points, at, sign, fmt)
    if "random20" in med:
        _against_full_random(report, rows, methods, seeds, at, sign, fmt)


def _against_full_random(
    report: Report,
    rows: dict[tuple[str, int], dict],
    methods: list[str],
    seeds: range,
    at: Callable[[dict, float], float],
    sign: float,
    fmt: str,
) -> None:
    """The epochs each method needs to reach random search's 20-trial full-epoch median."""
    full = FULL_RANDOM
    goal = statistics.median(at(rows[("random20", s)], full) for s in seeds)
    report.add(
        f"\nRandom search's median after 20 full trainings ({full} epochs): {goal:{fmt}}. "
        f"Epochs each method needs to reach it (target: at most {REAL_BUDGET}, a third):\n"
    )
    for m in methods:
        budget = REAL_BUDGETS.get(m, REAL_BUDGET)
        report.add(f"- {m}: {_share(_first_median(rows, m, seeds, budget, at, goal, sign), full)}")
    reference = np.array([at(rows[("random20", s)], full) for s in seeds])
    report.add(
        f"\nEach method after {REAL_BUDGET} epochs against random search after {full}, seed by "
        "seed (difference of the medians, positive: better; 95% interval; won/lost/tied):\n"
    )
    others = [m for m in methods if m not in REAL_BUDGETS]
    cells = [np.array([at(rows[(m, s)], REAL_BUDGET) for s in seeds]) for m in others]
    report.table(
        ["method", f"{REAL_BUDGET} epochs vs random20 at {full}"],
        [
            [m, paired_cell(paired(c, reference, sign), fmt)]
            for m, c in zip(others, cells, strict=True)
        ],
    )
    report.add(f"\nPer seed: best after {REAL_BUDGET} epochs, and random20's after {full}:\n")
    report.table(
        ["seed", *others, f"random20 at {full}"],
        [
            [s, *(f"{c[i]:{fmt}}" for c in cells), f"{reference[i]:{fmt}}"]
            for i, s in enumerate(seeds)
        ],
    )


def main(argv: list[str] | None = None) -> int:
    """Run the missing (method, seed) pairs of one benchmark; write its tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kind", choices=["synthetic", "synthetic-fail", "real", "one"])
    parser.add_argument("sub", nargs="?", help="(one) synthetic, synthetic-fail or real")
    common_arguments(parser, "halving", seeds=0, jobs=2)
    replicate_arguments(parser)
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--method")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--objective", default="val_accuracy", help="(real) val_accuracy|val_loss")
    parser.add_argument("--task", default="digits-cnn", choices=list(REAL_TASKS), help="(real)")
    args = parser.parse_args(argv)
    if args.kind == "one":
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            if args.sub in ("synthetic", "synthetic-fail"):
                row = synthetic_run(args.method, args.seed, tmp, args.sub == "synthetic-fail")
            else:
                row = real_one(args.method, args.seed, tmp, args.objective, args.task)
            print(json.dumps(row))
        return 0
    if args.kind.startswith("synthetic"):
        fail = args.kind == "synthetic-fail"
        report = Report("halving", args.block or args.kind)
        methods = args.methods or list(SYN_FAIL_METHODS if fail else SYN_METHODS)
        seeds = range(args.first_seed, args.seeds or 10)
        rows = _run_all(args.kind, methods, seeds, args.jobs, args.out, args.fresh)
        title = f"Median true regret over {seed_words(seeds)} (multi-fidelity Hartmann-6, R=27)"
        _section(report, rows, methods, seeds, SYN_BUDGETS, regret_at, -1.0, ".3g", title)
        if fail:
            report.add(f"\nFailed configurations, summed over {seed_words(seeds)}:\n")
            report.table(
                ["method", "failed"],
                [[m, sum(rows[(m, s)]["failed"] for s in seeds)] for m in methods],
            )
        report.write(command_line())
        return 0
    methods = args.methods or list(REAL_METHODS)
    seeds = range(args.first_seed, args.seeds or 3)
    objective = args.objective
    task = args.task
    block = f"real, {objective}" + ("" if task == "digits-cnn" else f", {task}")
    report = Report("halving", args.block or block)
    rows = _run_all("real", methods, seeds, args.jobs, args.out, args.fresh, objective, task)
    sign = 1.0 if rows[(methods[0], seeds[0])].get("direction", "max") == "max" else -1.0
    for key, credit in [
        ("epoch_curve", "each epoch's result counts once that epoch is trained"),
        ("curve", "a trial's best result counts only once the whole trial ends"),
    ]:
        title = f"Median best {objective} over {seed_words(seeds)} ({task}, R={R_REAL}; {credit})"
        at = functools.partial(best_at, key=key)
        _section(report, rows, methods, seeds, REAL_POINTS, at, sign, ".4f", title)
    report.write(command_line())
    return 0


def _first_median(
    rows: dict[tuple[str, int], dict],
    method: str,
    seeds: range,
    budget: int,
    at: Callable[[dict, float], float],
    goal: float,
    sign: float,
) -> int | None:
    """First epoch count (1 to ``budget``) at which the median over seeds reaches ``goal``."""
    for spent, median in enumerate(_median_curve(rows, method, seeds, budget, at), start=1):
        if sign * median >= sign * goal:
            return spent
    return None


def _share(spent: int | None, of: int) -> str:
    """``spent`` epochs as a share of ``of``, or that the goal was not reached."""
    return "not within the budget" if spent is None else f"{spent} ({spent / of:.2f} of {of})"


def _median_curve(
    rows: dict[tuple[str, int], dict],
    method: str,
    seeds: range,
    budget: int,
    at: Callable[[dict, float], float],
) -> list[float]:
    """The median over seeds of ``method``'s result after 1, 2, ..., ``budget`` epochs."""
    return [
        statistics.median(at(rows[(method, s)], spent) for s in seeds)
        for spent in range(1, budget + 1)
    ]


if __name__ == "__main__":
    sys.exit(main())

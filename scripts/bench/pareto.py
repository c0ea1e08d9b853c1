"""Multi-objective search: hypervolume of kt-ext's oracles against Optuna's, on two objectives.

Methods (all driven through KerasTuner's oracle API with every objective
reported per trial, or Optuna's own study for Optuna's samplers):

* ``gp``: kt-ext's GP oracle with several objectives, as configured by
  default (log expected hypervolume improvement, one GP per objective);
* ``gp_parego``: the same oracle with ``multi_objective="parego"`` (a
  random Chebyshev scalarisation per proposal, one GP);
* ``tpe``: kt-ext's Optuna oracle (multi-objective TPE behind KerasTuner's API);
* ``optuna_tpe`` / ``optuna_gp``: Optuna's multi-objective TPE / GPSampler
  (needs torch), run natively with a study of two directions;
* ``random``: KerasTuner's random search, seeded per trial by hash.

Problems (minimise both): ``zdt1``, ``zdt2`` (5 dimensions) and ``dtlz2``
(6 dimensions; a confirmation problem until it showed why EHVI chased the
box's corners) to choose on; ``zdt1_mixed`` (ZDT1 with an integer and an
unordered choice in its tail), ``zdt3`` (5 dimensions, a front in five
pieces) and ``fonseca`` (Fonseca and Fleming's problem on ``[-2, 2]^4``,
its front inside the box) to confirm. Each run is scored by the
hypervolume of its trials against a fixed reference point after 30 and 60
trials. Seeds give independent streams (kt-ext's oracles hash
``(seed, trial)``; Optuna's samplers get a hash of the seed).

Real training (``--real``): MNIST-1D with the MLP, validation loss against
parameter count (``search.objectives=[val_loss,params]``), 9 epochs per
trial, no early stopping. ``bayes`` (EHVI, the default), ``bayes_parego``,
``tpe`` (Optuna's multi-objective TPE through kt-ext), ``optuna_gp``
(Optuna's GPSampler through kt-ext, needs torch) and ``random`` run 60
trials (540 epochs); ``halving`` and ``bohb`` (successive halving by front and spread,
rungs 1/3/9 epochs, 8 iterations) spend at most 168 epochs, under a third
of random search's. Hypervolume in (validation loss, log10 parameters)
against :data:`REAL_REFERENCE`.

Usage::

    python scripts/bench/pareto.py --seeds 10 --jobs 2
    python scripts/bench/pareto.py --real --seeds 10 --jobs 2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tempfile
import time
import warnings
from concurrent import futures
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.bench import _common, _stats  # noqa: E402

NAME = "pareto"
METHODS = ("gp", "gp_parego", "tpe", "optuna_tpe", "optuna_gp", "random")
BASE = "gp"  # every other method is paired against it
BUDGETS = (30, 60)
PROBLEMS = {  # name: (dimensions, reference point, role)
    "zdt1": (5, (1.1, 11.0), "choose"),
    "zdt2": (5, (1.1, 11.0), "choose"),
    "dtlz2": (6, (2.5, 2.5), "choose"),  # a confirmation problem until EHVI's prior mean
    "zdt1_mixed": (5, (1.1, 11.0), "confirm"),
    "zdt3": (5, (1.1, 11.0), "confirm"),
    "fonseca": (4, (1.1, 1.1), "confirm"),
}
CHOICES = ("a", "b", "c", "d")  # zdt1_mixed: x5 as an unordered choice (its tail value)


def evaluate(problem: str, x: dict[str, Any]) -> tuple[float, float]:
    """The problem's two objectives at values ``x`` (``x0`` ... in ``[0, 1]``)."""
    if problem == "zdt1_mixed":
        tail = [x["x1"], x["x2"], x["x3"] / 10.0, CHOICES.index(x["x4"]) / 3.0]
        z = [x["x0"], *tail]
    else:
        z = [x[f"x{i}"] for i in range(PROBLEMS[problem][0])]
    if problem == "dtlz2":
        g = sum((v - 0.5) ** 2 for v in z[1:])
        a = z[0] * math.pi / 2
        return (1 + g) * math.cos(a), (1 + g) * math.sin(a)
    if problem == "fonseca":  # Fonseca and Fleming (1995) on [-2, 2]^4
        x = [4 * v - 2 for v in z]
        c = 1 / math.sqrt(len(x))
        return tuple(1 - math.exp(-sum((v - s * c) ** 2 for v in x)) for s in (1, -1))
    g = 1 + 9 * sum(z[1:]) / (len(z) - 1)
    ratio = z[0] / g
    if problem == "zdt3":
        return z[0], g * (1 - math.sqrt(ratio) - ratio * math.sin(10 * math.pi * z[0]))
    return z[0], g * (1 - (math.sqrt(ratio) if problem.startswith("zdt1") else ratio**2))


def kt_space(problem: str) -> Any:
    """The problem's space as KerasTuner hyperparameters."""
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    if problem == "zdt1_mixed":
        for i in range(3):
            hp.Float(f"x{i}", 0.0, 1.0)
        hp.Int("x3", 0, 10)
        hp.Choice("x4", list(CHOICES))
    else:
        for i in range(PROBLEMS[problem][0]):
            hp.Float(f"x{i}", 0.0, 1.0)
    return hp


def _seed(seed: int, what: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{what}".encode()).digest()[:4], "little") >> 1


def run_kt(method: str, problem: str, seed: int, budget: int) -> list[tuple[float, float]]:
    """Objective pairs of ``budget`` trials of a KerasTuner-API oracle."""
    import keras_tuner
    from keras_tuner.engine.trial import TrialStatus

    from kt_ext.oracles import GPUCBOracle, OptunaOracle
    from kt_ext.tuners._trial import independent_draws

    objectives = [("f1", "min"), ("f2", "min")]
    kwargs = {
        "objective": keras_tuner.Objective("f1", "min"),
        "max_trials": budget,
        "hyperparameters": kt_space(problem),
    }
    if method == "gp":
        oracle = GPUCBOracle(seed=seed, objectives=objectives, **kwargs)
    elif method == "gp_parego":
        oracle = GPUCBOracle(seed=seed, objectives=objectives, multi_objective="parego", **kwargs)
    elif method == "tpe":
        oracle = OptunaOracle(seed=seed, sampler="tpe", objectives=objectives, **kwargs)
    else:
        oracle = keras_tuner.oracles.RandomSearchOracle(seed=seed + 1, **kwargs)
        independent_draws(oracle, seed)
    oracle.verbose = 0
    out = []
    with tempfile.TemporaryDirectory() as d:
        oracle._set_project_dir(d, "bench")
        for _ in range(budget):
            trial = oracle.create_trial("bench")
            if trial.status == TrialStatus.STOPPED:
                break
            f1, f2 = evaluate(problem, trial.hyperparameters.values)
            oracle.update_trial(trial.trial_id, {"f1": f1, "f2": f2})
            trial.status = TrialStatus.COMPLETED
            oracle.end_trial(trial)
            out.append((f1, f2))
    return out


def run_optuna(method: str, problem: str, seed: int, budget: int) -> list[tuple[float, float]]:
    """Objective pairs of ``budget`` trials of Optuna's own multi-objective study."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    s = _seed(seed, "optuna")
    if method == "optuna_tpe":
        sampler = optuna.samplers.TPESampler(seed=s)
    else:
        sampler = optuna.samplers.GPSampler(seed=s)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)

    def objective(t: Any) -> tuple[float, float]:
        if problem == "zdt1_mixed":
            x = {f"x{i}": t.suggest_float(f"x{i}", 0.0, 1.0) for i in range(3)}
            x["x3"] = t.suggest_int("x3", 0, 10)
            x["x4"] = t.suggest_categorical("x4", list(CHOICES))
        else:
            x = {f"x{i}": t.suggest_float(f"x{i}", 0.0, 1.0) for i in range(PROBLEMS[problem][0])}
        return evaluate(problem, x)

    study.optimize(objective, n_trials=budget)
    return [tuple(t.values) for t in study.trials]


def job(method: str, problem: str, seed: int) -> dict[str, Any]:
    """One run: hypervolume at each budget, seconds."""
    from kt_ext.objectives import hypervolume

    start = time.perf_counter()
    runner = run_optuna if method.startswith("optuna") else run_kt
    points = np.array(runner(method, problem, seed, max(BUDGETS)), dtype=float)
    ref = np.array(PROBLEMS[problem][1])
    hv = {str(b): hypervolume(points[:b], ref) for b in BUDGETS}
    return {
        "method": method,
        "problem": problem,
        "seed": seed,
        "hv": hv,
        "seconds": round(time.perf_counter() - start, 2),
    }


REAL_METHODS = ("bayes", "bayes_parego", "tpe", "optuna_gp", "random", "halving", "bohb")
REAL_STRATEGIES = {  # method: its strategy overrides (the others: strategy=<method>)
    "bayes_parego": ["strategy=bayes", "strategy.multi_objective=parego"],
    "optuna_gp": ["strategy=tpe", "strategy.sampler=gp"],  # needs torch
}
REAL_SEARCHES = ("bayes", "bayes_parego", "tpe", "optuna_gp", "random")  # 60 trials each
OPTUNA_PEERS = ("tpe", "optuna_gp")
REAL_REFERENCE = (2.5, 6.5)  # validation loss (chance is ln 10 = 2.30), log10 parameters
REAL_TRIALS = 60
REAL_COMMON = [
    "data=mnist1d",
    "model=mlp",
    "search.epochs=9",
    "search.early_stopping_patience=0",
    "search.objectives=[val_loss,params]",
]
HALVING = ["strategy.min_epochs=1", "strategy.max_epochs=9", "strategy.iterations=8"]


def real_job(method: str, seed: int, out: Path) -> dict[str, Any]:
    """One tuning run on MNIST-1D; hypervolume after each trial and epochs spent."""
    import csv

    from kt_ext.objectives import Objective, as_costs, hypervolume

    strategy = REAL_STRATEGIES.get(method, [f"strategy={method}"])
    overrides = [*REAL_COMMON, *strategy, f"seed={seed}"]
    overrides += HALVING if method in ("halving", "bohb") else [f"search.max_trials={REAL_TRIALS}"]
    run_dir = out.resolve() / "mnist1d" / f"{method}-s{seed}"
    summary = _common.tune(overrides, run_dir)
    with (run_dir / "trials.csv").open() as f:
        rows = list(csv.DictReader(f))
    objectives = [Objective("val_loss", "min"), Objective("params", "min")]
    values = [
        {
            o.name: float(r[o.name]) if r["status"] == "COMPLETED" and r[o.name] else None
            for o in objectives
        }
        for r in rows
    ]
    costs = as_costs(values, objectives)
    ref = np.array(REAL_REFERENCE)
    return {
        "method": method,
        "seed": seed,
        "hv": [hypervolume(costs[: k + 1], ref) for k in range(len(costs))],
        "epochs": [float(r["epochs"] or 0) for r in rows],
        "front": len(summary.get("pareto_trial_ids", [])),
        "seconds": summary["seconds"],
    }


def main_real(args: argparse.Namespace) -> None:
    """Run the MNIST-1D cells that are missing, then write the real block."""
    cache = _common.Cache(args.out / "real.jsonl", ("method", "seed"))
    # seed by seed, every method of a seed before the next seed: a run stopped early still
    # holds paired seeds for every method
    todo = [(m, s) for s in range(args.seeds) for m in args.methods if (m, s) not in cache]

    def launch(item: tuple[str, int]) -> dict:
        return real_job(item[0], item[1], args.out)

    for row in _common.run_pool(todo, launch, args.jobs):
        cache.add(row)
        print(row["method"], row["seed"], round(row["hv"][-1], 4), flush=True)
    write_real(cache.rows, args)


def write_real(rows: dict[tuple, dict], args: argparse.Namespace) -> None:
    """The MNIST-1D tables: hypervolume at 30/60 trials, halving against random's epochs."""
    seeds = range(args.seeds)
    have = [m for m in args.methods if all((m, s) in rows for s in seeds)]
    lines = [
        f"Command: `{_common.command_line()}`",
        "",
        f"{args.seeds} seeds, MNIST-1D x MLP, objectives val_loss and params, 9 epochs per "
        f"trial; hypervolume in (val_loss, log10 params) against {REAL_REFERENCE} (larger is "
        "better); medians over seeds; paired against `bayes` seed by seed.",
        "",
    ]
    table = []
    by_budget: dict[str, dict[str, float]] = {}
    cells = ahead = 0
    searches = [m for m in REAL_SEARCHES if m in have]
    for budget in (30, REAL_TRIALS):
        vals = {
            m: np.array([rows[(m, s)]["hv"][budget - 1] for s in seeds])
            for m in have
            if m in REAL_SEARCHES
        }
        if "bayes" not in vals:
            continue
        by_budget[str(budget)] = {m: float(np.median(v)) for m, v in vals.items()}
        peers = [by_budget[str(budget)][m] for m in OPTUNA_PEERS if m in vals]
        cells += 1
        ahead += not peers or by_budget[str(budget)]["bayes"] >= max(peers)
        row = [budget]
        for m in searches:
            if m not in vals:
                row.append("-")
            elif m == "bayes":
                row.append(f"{np.median(vals[m]):.4f}")
            else:
                cell = _stats.paired_cell(_stats.paired(vals[m], vals["bayes"], 1.0), ".4f")
                row.append(f"{np.median(vals[m]):.4f} ({cell})")
        table.append(row)
    lines.append(_common.markdown_table(["trials", *searches], table))
    lines += [
        "",
        f"`bayes`'s median at least that of the better of {', '.join(OPTUNA_PEERS)}: "
        f"{ahead} of {cells} budgets.",
        "",
        "Per seed (hypervolume at 30 / 60 trials):",
        "",
    ]
    per_seed = [
        [s, *(f"{rows[(m, s)]['hv'][29]:.4f} / {rows[(m, s)]['hv'][-1]:.4f}" for m in searches)]
        for s in seeds
    ]
    lines.append(_common.markdown_table(["seed", *searches], per_seed))
    if "random" in have:
        full = np.array([rows[("random", s)]["hv"][-1] for s in seeds])
        spent = np.median([sum(rows[("random", s)]["epochs"]) for s in seeds])
        lines += [
            "",
            f"Random search's full budget: median {np.median(full):.4f} after {spent:g} epochs.",
            "",
        ]
        halving_rows = []
        for m in ("halving", "bohb"):
            if m not in have:
                continue
            hv = np.array([rows[(m, s)]["hv"][-1] for s in seeds])
            used = [sum(rows[(m, s)]["epochs"]) for s in seeds]
            epochs = np.median(used)
            cell = _stats.paired_cell(_stats.paired(hv, full, 1.0), ".4f")
            same = np.array([_hv_at_epochs(rows[("random", s)], used[s]) for s in seeds])
            equal = _stats.paired_cell(_stats.paired(hv, same, 1.0), ".4f")
            halving_rows.append(
                [m, f"{np.median(hv):.4f}", f"{epochs:g}", f"{epochs / spent:.2f}", cell, equal]
            )
        header = ["method", "median hv", "epochs", "of random's"]
        header += ["vs random's full budget", "vs random at the same epochs"]
        lines.append(_common.markdown_table(header, halving_rows))
    _write_block("mnist1d", lines)


def _hv_at_epochs(row: dict[str, Any], epochs: float) -> float:
    """A run's hypervolume after its last trial that ends within ``epochs`` epochs in total."""
    spent, hv = 0.0, 0.0
    for value, e in zip(row["hv"], row["epochs"], strict=True):
        spent += e
        if spent > epochs:
            break
        hv = value
    return hv


def _write_block(block: str, lines: list[str]) -> None:
    begin, end = _common.markers(block)
    path = _common.HERE / f"{NAME}.md"
    text = path.read_text() if path.exists() else f"# {NAME}\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    path.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + tail)


def main() -> None:
    """Run the missing cells (synthetic, or ``--real``) and write their block of pareto.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    parser.add_argument("--out", type=Path, default=Path("bench") / NAME)
    parser.add_argument("--real", action="store_true", help="MNIST-1D runs (about an hour)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.real:
        if args.methods == list(METHODS):
            args.methods = list(REAL_METHODS)
        main_real(args)
        return
    cache = args.out / "runs.jsonl"
    done = [json.loads(line) for line in cache.read_text().splitlines()] if cache.exists() else []
    have = {(r["method"], r["problem"], r["seed"]) for r in done}
    todo = [
        (m, p, s)
        for p in args.problems
        for m in args.methods
        for s in range(args.seeds)
        if (m, p, s) not in have
    ]
    with futures.ProcessPoolExecutor(args.jobs) as pool:
        for row in pool.map(job, *zip(*todo, strict=True)) if todo else ():
            done.append(row)
            with cache.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(row["method"], row["problem"], row["seed"], row["hv"], flush=True)
    write_markdown(done, args)


def write_markdown(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """The tables: medians per cell, each peer against :data:`BASE` seed by seed, mean ranks."""
    methods = [m for m in args.methods if any(r["method"] == m for r in rows)]
    seeds = range(args.seeds)
    lines = [
        f"Command: `{_common.command_line()}`",
        "",
        f"{args.seeds} seeds; hypervolume (larger is better) of all trials so far against the "
        f"reference point; medians over seeds. Paired: each method minus `{BASE}`, seed by "
        "seed (difference of medians, 95% bootstrap interval, seeds won/lost/tied).",
        "",
    ]
    table, ranks = [], {}
    cells = 0
    gp_cells = 0
    for problem in args.problems:
        for budget in BUDGETS:
            by = {
                m: np.array(
                    [
                        next(
                            r["hv"][str(budget)]
                            for r in rows
                            if r["method"] == m and r["problem"] == problem and r["seed"] == s
                        )
                        for s in seeds
                    ]
                )
                for m in methods
                if all(
                    any(
                        r["method"] == m and r["problem"] == problem and r["seed"] == s
                        for r in rows
                    )
                    for s in seeds
                )
            }
            if BASE not in by:
                continue
            meds = {m: float(np.median(v)) for m, v in by.items()}
            ranks[f"{problem}@{budget}"] = meds
            peers = [m for m in by if m.startswith("optuna")]
            best_peer = max(peers, key=lambda m: meds[m]) if peers else None
            cells += 1
            gp_cells += best_peer is None or meds[BASE] >= meds[best_peer]
            role = PROBLEMS[problem][2]
            row = [f"{problem} ({role})", budget]
            for m in methods:
                if m not in by:
                    row.append("-")
                elif m == BASE:
                    row.append(f"{meds[m]:.4f}")
                else:
                    paired = _stats.paired(by[m], by[BASE], 1.0)
                    row.append(f"{meds[m]:.4f} ({_stats.paired_cell(paired, '.4f')})")
            table.append(row)
    lines.append(_common.markdown_table(["problem", "trials", *methods], table))
    mean = _stats.mean_ranks(ranks, 1.0) if ranks else {}
    lines += [
        "",
        "Mean rank over problem-budget cells (1 is best): "
        + ", ".join(f"`{m}` {r:.2f}" for m, r in sorted(mean.items(), key=lambda p: p[1])),
        "",
        f"`{BASE}`'s median at least that of the best Optuna sampler: {gp_cells} of {cells} cells.",
    ]
    _write_block("synthetic", lines)


if __name__ == "__main__":
    main()

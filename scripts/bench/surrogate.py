"""How well a model of the results ranks configurations it has not seen, on real tuning runs.

A screen for the GP's model, offline and in seconds: no training. It reads the
run directories ``real.py`` leaves (``--runs``, its ``--out``), pools every
completed trial of every run of a task (about 1,000-1,500 distinct
configurations per task over all strategies and seeds), fits a model to the
first ``n`` trials of one run, predicts the pool's other configurations, and
scores the prediction against their measured validation loss:

* ``rho``: Spearman rank correlation of the prediction with the (negated) loss;
* ``top1`` / ``top5``: how far the loss of the model's best pick (the mean of
  its five best picks) is above the pool's best loss.

Training sets: the first 10 and the first 20 trials of each random-search run
(unbiased samples of the space), and the first 12 trials of each run of a
model-based strategy (``bayes``, ``kt_bayes``, ``tpe``: the biased sample a
search has in hand halfway). Medians over runs.

Models (:data:`MODELS`): the GP as the oracle fits it (``gp``: ``output_warping``
``auto``; :func:`kt_ext.oracles._ucb.fit_outputs`), the same with ``none`` and
``power`` warping, the GP with the sparse length-scale prior
(:func:`kt_ext.gp.fit_params` with ``sparse=True``), an additive GP (one
kernel per feature column, :class:`_additive.AdditiveGP`), and two references that
are not GPs: a random forest (as SMAC models results) and ridge regression on
the same features. A model that ranks unseen configurations better at these
sizes is a candidate for the search; the search itself is judged by
``real.py``, not here.

Usage::

    python scripts/bench/real.py --seeds 10 --out bench/real      # the runs, if not at hand
    python scripts/bench/surrogate.py --runs bench/real
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _additive import AdditiveGP
from _common import Report, command_line
from real import run_strategy
from scipy import stats

from kt_ext.gp import (
    GaussianProcess,
    OutputTransform,
    SpaceEncoder,
    clip_bad_tail,
    fit_params,
)
from kt_ext.oracles._ucb import fit_outputs

# (label, strategies whose runs give the training sets, trials taken from each run)
REGIMES: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("first 10 trials of random search", ("random",), 10),
    ("first 20 trials of random search", ("random",), 20),
    ("first 12 trials of a model-based search", ("bayes", "kt_bayes", "tpe"), 12),
)


@dataclass
class Task:
    """Every completed trial of one task's runs.

    Attributes:
        space: KerasTuner's saved search space (``HyperParameters.get_config()["space"]``).
        losses: Mean validation loss of each distinct configuration, by its JSON key.
        runs: Each run's completed trials in order, as ``(key, values, loss)``, by run name.
    """

    space: list[dict[str, Any]]
    losses: dict[str, float]
    runs: dict[str, list[tuple[str, dict[str, Any], float]]]


def load_task(task_dir: Path) -> Task | None:
    """The completed trials of every run directory under ``task_dir`` (``None``: no runs)."""
    space: list[dict[str, Any]] | None = None
    scores: dict[str, list[float]] = {}
    runs: dict[str, list[tuple[str, dict[str, Any], float]]] = {}
    for run in sorted(p for p in task_dir.iterdir() if (p / "kt" / "oracle.json").is_file()):
        if space is None:
            oracle = json.loads((run / "kt" / "oracle.json").read_text())
            space = oracle["hyperparameters"]["space"]
        trials = []
        for path in sorted((run / "kt").glob("trial_*/trial.json")):
            trial = json.loads(path.read_text())
            score = trial.get("score")
            if trial.get("status") != "COMPLETED" or score is None or not math.isfinite(score):
                continue
            values = trial["hyperparameters"]["values"]
            key = json.dumps(values, sort_keys=True)
            scores.setdefault(key, []).append(float(score))
            trials.append((key, values, float(score)))
        runs[run.name] = trials
    if space is None:
        return None
    return Task(space, {k: float(np.mean(v)) for k, v in scores.items()}, runs)


def _gp(warping: str) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    def predict(x: np.ndarray, g: np.ndarray, x_test: np.ndarray) -> np.ndarray:
        _, gp = fit_outputs(x, clip_bad_tail(g), warping, np.random.default_rng(0), None)
        return gp.predict(x_test)[0]

    return predict


def _sparse_gp(x: np.ndarray, g: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    y, _ = OutputTransform.fit(clip_bad_tail(g), False)
    params = fit_params(x, y, np.random.default_rng(0), restarts=1, sparse=True)
    return GaussianProcess(x, y, params).predict(x_test)[0]


def _additive_gp(x: np.ndarray, g: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    y, _ = OutputTransform.fit(clip_bad_tail(g), False)
    return AdditiveGP(x, y).predict(x_test)[0]


def _forest(x: np.ndarray, g: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    from sklearn.ensemble import RandomForestRegressor

    model = RandomForestRegressor(n_estimators=100, max_features=0.8, random_state=0)
    return model.fit(x, g).predict(x_test)


def _ridge(x: np.ndarray, g: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import RidgeCV

    return RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(x, g).predict(x_test)


REFERENCE = "gp"  # the model as the oracle fits it; the others are counted against it
# name -> predict(features of the training trials, their g = -loss, features to rank)
MODELS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "gp": _gp("auto"),
    "gp_nowarp": _gp("none"),
    "gp_power": _gp("power"),
    "gp_sparse": _sparse_gp,
    "gp_additive": _additive_gp,
    "forest": _forest,
    "ridge": _ridge,
}


def ranking(predicted: np.ndarray, losses: np.ndarray, best: float) -> tuple[float, float, float]:
    """``rho``, ``top1`` and ``top5`` (module docstring) of a prediction of ``-loss``."""
    order = np.argsort(-predicted, kind="stable")
    rho = float(stats.spearmanr(predicted, -losses).statistic)
    return rho, float(losses[order[0]] - best), float(np.mean(losses[order[:5]]) - best)


def screen(
    task: Task, models: list[str], strategies: tuple[str, ...], n: int
) -> dict[str, list[tuple[float, float, float]]]:
    """Each model's :func:`ranking` for every run of ``strategies`` with at least ``n`` trials."""
    encoder = SpaceEncoder(task.space)
    keys = list(task.losses)
    best = min(task.losses.values())
    out: dict[str, list[tuple[float, float, float]]] = {m: [] for m in models}
    for name, trials in task.runs.items():
        if run_strategy(Path(name)) not in strategies or len(trials) < n:
            continue
        seen = {key for key, _, _ in trials[:n]}
        x = encoder.features(np.array([encoder.encode(v) for _, v, _ in trials[:n]]))
        g = -np.array([loss for _, _, loss in trials[:n]])
        unseen = [k for k in keys if k not in seen]
        x_test = encoder.features(np.array([encoder.encode(json.loads(k)) for k in unseen]))
        losses = np.array([task.losses[k] for k in unseen])
        for model in models:
            out[model].append(ranking(MODELS[model](x, g, x_test), losses, best))
    return out


def main(argv: list[str] | None = None) -> int:
    """Screen the models on every task under ``--runs``; the tables go to ``surrogate.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True, help="real.py's --out")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    args = parser.parse_args(argv)
    tasks = {p.name: t for p in sorted(args.runs.iterdir()) if p.is_dir() and (t := load_task(p))}
    if not tasks:
        print(f"no run directories under {args.runs}", file=sys.stderr)
        return 2
    report = Report("surrogate")
    report.add(
        "Medians over runs of rho (rank correlation with -val_loss over the unseen pool) / "
        "top1 / top5 (val_loss of the model's best pick, mean of its best five, above the "
        f"pool's best); in brackets, the runs in which rho is above {REFERENCE}'s:"
    )
    for label, strategies, n in REGIMES:
        report.add("", f"### Trained on the {label}", "")
        rows = []
        for name, task in tasks.items():
            result = screen(task, args.models, strategies, n)
            runs = len(result[args.models[0]])
            if not runs:
                continue
            cells = []
            for m in args.models:
                cell = " / ".join(f"{np.median([r[i] for r in result[m]]):.3f}" for i in range(3))
                if m != REFERENCE and REFERENCE in result:
                    above = sum(
                        a[0] > b[0] for a, b in zip(result[m], result[REFERENCE], strict=True)
                    )
                    cell += f" ({above}/{runs})"
                cells.append(cell)
            rows.append([f"{name} ({runs} runs, pool {len(task.losses)})", *cells])
        report.table(["task", *args.models], rows)
    report.write(command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())

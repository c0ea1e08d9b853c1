"""Benchmark search oracles on standard test functions, without training any model.

Every method minimises the same functions through its own ask/tell interface:

* ``gpucb``: kt-ext's :class:`kt_ext.oracles.GPUCBOracle` (default β = 1);
* ``gpucb_blind``: the same without the failure model (``failure_aware=False``);
* ``gpucb_b2`` / ``gpucb_b05``: the same with β = 2 or 0.5 (more or less exploration);
* ``gpucb_final``: the same with β tapered to 0 over the last fifth of the budget;
* ``gp_ei`` / ``gp_logei``: the same GP with expected improvement or log EI
  (``strategy=bayes strategy.acquisition=ei|log_ei``);
* ``kt_ext_tpe``: kt-ext's :class:`kt_ext.oracles.OptunaOracle` with TPE
  (``strategy=tpe``), to compare with Optuna's own loop (``optuna_tpe``);
* ``kt_bayes`` / ``kt_random``: KerasTuner's BayesianOptimizationOracle and
  RandomSearchOracle;
* ``optuna_tpe`` / ``optuna_gp``: Optuna's TPESampler and GPSampler (the
  latter needs PyTorch);
* ``skopt``: scikit-optimize's ``gp_minimize`` loop (``Optimizer`` ask/tell,
  default GP and acquisition).

Functions: Branin (2-D), Hartmann6 (6-D), Hartmann6 in a 12-D box whose
other 6 coordinates are ignored, Ackley (5-D) and a mixed space (a
log-scale float, an integer and an unordered choice); two more with ignored
coordinates, Hartmann6 in a 20-D box and Branin with 6 more, were held out
when the GP proposer's polish rule was chosen (``--problems hartmann6_20d
branin_8d``). Reported per
function and method: median simple regret (best value found minus the
global minimum) after 25 and 50 evaluations, median milliseconds per
suggestion (ask plus tell; over the last ten of 50 for the 6-D function, i.e.
at ~45-50 observations), duplicate proposals (summed over seeds) and, for
the 12-D function, the share of ignored coordinates proposed within 1% of a
bound (edge over-exploration; uniform sampling gives 2%). When ``gpucb``
ran, every problem also gets each method against it seed by seed (paired
bootstrap intervals) and mean ranks of the medians, per role.

Real tuning tasks that run in milliseconds (``--problems tabular``,
:mod:`_tabular`): scikit-learn models on bundled tables, the cross-validated
error or log loss as the objective, split into tasks to choose on and tasks
held out (the roles of the mean ranks); for them the tables add how many
evaluations scored exactly what an earlier one had (plateaus revisited). ``gpucb_rank``,
``gpucb_pess``, ``gpucb_noplateau``, ``gpucb_meancentres``, ``gpucb_linmean`` (a linear
trend as the prior mean), ``gpucb_lintrend`` (a linear kernel beside the Matérn one,
:mod:`_trend`) and ``gpucb_additive`` (the additive
GP of :mod:`_additive` as the model) are the GP with one
step of its proposal replaced (``VARIANTS``), for ablations; ``gpucb_warp`` and ``gpucb_nowarp``
are the GP with ``output_warping="power"`` and ``"none"`` (``gpucb`` is the
oracle as shipped, ``"auto"``).

Noisy variants (``<name>_noise1``, ``<name>_noise10``) add Gaussian noise of 1 %
or 10 % of the function's spread to every observation; the regret is that of
the best observation's configuration on the function without noise. Failure
variants (``branin_fail``, ``mixed_fail``, held out: ``hartmann6_fail``)
return no observation in a region next to the optimum, as diverging learning
rates sit above good ones; the tables add the failed trials per method
(scikit-optimize cannot be told of a failure and is not run on them).

Usage::

    python scripts/bench/oracles.py --seeds 10 --jobs 2 --out bench/oracles.jsonl
    python scripts/bench/oracles.py --first-seed 10 --seeds 20 --block replicate  # seeds 10-19

By default every run is single-threaded (BLAS, torch), the fair setting
for ``--jobs 2`` on two cores; ``--native-threads`` (with ``--jobs 1``)
times each library with its own threading, as users get it.

Results are appended to ``--out`` one JSON line per (method, function, seed)
and reused on a re-run (``--fresh`` ignores them); the tables are printed and
written to ``<--report>.md`` beside this script (``oracles.md``). Peers are
optional: ``pip install -e ".[bench]"`` (plus a CPU build of ``torch`` for
``optuna_gp``); missing ones are skipped with a note.
"""

from __future__ import annotations

import os
import sys

# One thread per run, so parallel runs (--jobs) do not slow each other down
# and every method's timing is single-threaded; set before numpy is imported.
# --native-threads keeps each library's own threading, as users get it.
NATIVE_THREADS = "--native-threads" in sys.argv
if not NATIVE_THREADS:
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from _common import (  # noqa: E402
    Cache,
    Report,
    command_line,
    common_arguments,
    replicate_arguments,
    seed_words,
)
from _functions import PROBLEMS, Problem, active_values  # noqa: E402
from _stats import mean_ranks, paired, paired_cell  # noqa: E402
from _tabular import ROLES, TASKS  # noqa: E402

SYNTHETIC = [p for p in PROBLEMS if not PROBLEMS[p].noise and not PROBLEMS[p].fails]
PROBLEMS.update(TASKS)

METHODS = (
    "gpucb",
    "gpucb_blind",
    "gpucb_plain_beta",
    "gpucb_warp",
    "gpucb_rank",
    "gpucb_pess",
    "gpucb_noplateau",
    "gpucb_meancentres",
    "gpucb_additive",
    "gpucb_linmean",
    "gpucb_lintrend",
    "gpucb_jointtrend",
    "gpucb_inwarp",
    "gpucb_inwarp_tight",
    "gpucb_nowarp",
    "gpucb_b2",
    "gpucb_b05",
    "gpucb_final",
    "gpucb_addfew",
    "gp_ei",
    "gp_logei",
    "kt_ext_tpe",
    "kt_bayes",
    "kt_random",
    "optuna_tpe",
    "optuna_gp",
    "skopt",
)
KT_METHODS = METHODS[: METHODS.index("optuna_tpe")]  # driven through KerasTuner's oracle API
BUDGETS = (25, 50)


# ------------------------------------------------------------------- runners
def _kt_space(problem: Problem) -> Any:
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    for d in problem.dims:
        parent = {} if d.when is None else {"parent_name": d.when[0], "parent_values": d.when[1]}
        if d.kind == "float":
            hp.Float(d.name, d.low, d.high, sampling="log" if d.log else "linear", **parent)
        elif d.kind == "int":
            hp.Int(d.name, int(d.low), int(d.high), **parent)
        else:
            hp.Choice(d.name, list(d.choices), **parent)
    return hp


def _run_kt(method: str, problem: Problem, seed: int, budget: int) -> list[tuple[dict, float]]:
    import keras_tuner
    from keras_tuner.engine.trial import TrialStatus

    from kt_ext.oracles import GPUCBOracle, OptunaOracle
    from kt_ext.tuners._trial import independent_draws

    objective = keras_tuner.Objective("f", "min")
    kwargs = {"objective": objective, "max_trials": budget, "hyperparameters": _kt_space(problem)}
    kwargs["max_consecutive_failed_trials"] = budget  # failure regions: count, do not stop
    if method == "gpucb":
        oracle = GPUCBOracle(seed=seed, **kwargs)
    elif method == "gpucb_blind":  # failed trials left out of the model, as before
        oracle = GPUCBOracle(seed=seed, failure_aware=False, **kwargs)
    elif method in VARIANTS:  # the GP with one step replaced (see VARIANTS)
        oracle = GPUCBOracle(seed=seed, **kwargs)
    elif method == "gpucb_addfew":  # the additive GP while n <= D (real.md, twelfth session)
        oracle = GPUCBOracle(seed=seed, output_warping="auto_addfew", **kwargs)
    elif method in ("gpucb_warp", "gpucb_nowarp"):
        warping = "power" if method == "gpucb_warp" else "none"
        oracle = GPUCBOracle(seed=seed, output_warping=warping, **kwargs)
    elif method in ("gpucb_b2", "gpucb_b05"):
        oracle = GPUCBOracle(seed=seed, beta=2.0 if method == "gpucb_b2" else 0.5, **kwargs)
    elif method == "gpucb_final":  # β tapered to 0 over the last fifth of the budget
        oracle = GPUCBOracle(seed=seed, **kwargs)
        oracle._beta = lambda n, dim: final_beta(oracle.beta, len(oracle.trials), budget)
    elif method in ("gp_ei", "gp_logei"):
        oracle = GPUCBOracle(seed=seed, acquisition=method[3:].replace("logei", "log_ei"), **kwargs)
    elif method == "kt_ext_tpe":
        oracle = OptunaOracle(seed=seed, sampler="tpe", **kwargs)
    elif method == "kt_bayes":
        # seed + 1: KerasTuner turns seed 0 into a random one; the draws of each trial
        # come from a hash of (seed, trial), as kt-ext runs it, so nearby seeds share nothing
        oracle = keras_tuner.oracles.BayesianOptimizationOracle(seed=seed + 1, **kwargs)
        independent_draws(oracle, seed)
    else:
        oracle = keras_tuner.oracles.RandomSearchOracle(seed=seed + 1, **kwargs)
        independent_draws(oracle, seed)
    oracle.verbose = 0
    out = []
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as d:
        oracle._set_project_dir(d, "bench")
        for _ in range(budget):
            start = time.perf_counter()
            trial = oracle.create_trial("bench")
            if trial.status == TrialStatus.STOPPED:
                break
            values = active_values(problem.dims, dict(trial.hyperparameters.values))
            ask = time.perf_counter() - start
            y = problem.observe(values, seed)
            start = time.perf_counter()
            if y is None:
                trial.status = TrialStatus.FAILED
                trial.message = "failed"
            else:
                oracle.update_trial(trial.trial_id, {"f": y})
                trial.status = TrialStatus.COMPLETED
            oracle.end_trial(trial)
            out.append((values, y, ask + time.perf_counter() - start))
    return out


def _run_optuna(method: str, problem: Problem, seed: int, budget: int) -> list:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if method == "optuna_tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    else:
        import torch

        if not NATIVE_THREADS:
            torch.set_num_threads(1)
        sampler = optuna.samplers.GPSampler(seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    dists: dict[str, Any] = {}
    for d in problem.dims:
        if d.kind == "float":
            dists[d.name] = optuna.distributions.FloatDistribution(d.low, d.high, log=d.log)
        elif d.kind == "int":
            dists[d.name] = optuna.distributions.IntDistribution(int(d.low), int(d.high))
        else:
            dists[d.name] = optuna.distributions.CategoricalDistribution(d.choices)
    conditional = any(d.when for d in problem.dims)
    out = []
    for _ in range(budget):
        start = time.perf_counter()
        if conditional:  # define-by-run: suggest only the active dimensions, in order
            trial = study.ask()
            for d in problem.dims:
                if d.active(trial.params):
                    _suggest(trial, d)
        else:
            trial = study.ask(dists)
        values = dict(trial.params)
        ask = time.perf_counter() - start
        y = problem.observe(values, seed)
        start = time.perf_counter()
        if y is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, y)
        out.append((values, y, ask + time.perf_counter() - start))
    return out


def _suggest(trial: Any, d: Any) -> None:
    """Optuna's define-by-run suggestion of dimension ``d``."""
    if d.kind == "float":
        trial.suggest_float(d.name, d.low, d.high, log=d.log)
    elif d.kind == "int":
        trial.suggest_int(d.name, int(d.low), int(d.high))
    else:
        trial.suggest_categorical(d.name, list(d.choices))


def _run_skopt(problem: Problem, seed: int, budget: int) -> list:
    import skopt

    space = []
    for d in problem.dims:
        if d.kind == "float":
            prior = "log-uniform" if d.log else "uniform"
            space.append(skopt.space.Real(d.low, d.high, prior=prior, name=d.name))
        elif d.kind == "int":
            space.append(skopt.space.Integer(int(d.low), int(d.high), name=d.name))
        else:
            space.append(skopt.space.Categorical(list(d.choices), name=d.name))
    # gp_minimize's defaults: GP with gp_hedge acquisition, 10 initial points.
    opt = skopt.Optimizer(
        space, base_estimator="GP", acq_func="gp_hedge", n_initial_points=10, random_state=seed
    )
    out = []
    for _ in range(budget):
        start = time.perf_counter()
        x = opt.ask()
        ask = time.perf_counter() - start
        values = {d.name: _plain(v) for d, v in zip(problem.dims, x, strict=True)}
        values = active_values(problem.dims, values)  # skopt has no conditions: drop inactive
        y = problem.observe(values, seed)  # skopt cannot be told of failures: not run on them
        start = time.perf_counter()
        opt.tell(x, y)
        out.append((values, y, ask + time.perf_counter() - start))
    return out


def final_beta(beta: float, trial: int, max_trials: int, share: float = 0.2) -> float:
    """``gpucb_final``'s β: as configured, then tapered linearly to 0 over the last ``share``.

    ``β · min(1, r / max(1, share · max_trials))`` with ``r = max_trials - trial``
    the trials left counting this one (``trial`` from 0): a run is judged by
    its best trial, and the last proposals have little time left to profit
    from exploring. Measured in ``oracles.md`` ("UCB's weight tapered over the
    last fifth of the budget"); not adopted.
    """
    return beta * min(1.0, max(0, max_trials - trial) / max(1.0, share * max_trials))


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _plain_beta() -> tuple[str, Callable]:
    """β as configured, whatever the fitted noise."""
    return "noise_adjusted_beta", lambda beta, params: beta


def _normal_scores() -> tuple[str, Callable]:
    """Outputs replaced by the normal scores of their ranks (ties share a rank)."""
    from scipy import stats

    def warp(g: np.ndarray) -> np.ndarray:
        return stats.norm.ppf((stats.rankdata(g) - 0.5) / len(g))

    return "clip_bad_tail", warp


def _pessimistic() -> tuple[str, Callable]:
    """The prior mean at the lower quartile of the outputs instead of their mean."""

    def standardise(g: np.ndarray) -> tuple[np.ndarray, float, float]:
        low, scale = float(np.percentile(g, 25)), float(g.std()) or 1.0
        return (g - low) / scale, low, scale

    return "standardise", standardise


def _no_plateau_switch() -> tuple[str, Callable]:
    """UCB whatever the ties (before ``kt_ext.oracles._ucb.plateau_acquisition``)."""
    return "plateau_acquisition", lambda name, g: name


def _mean_centres() -> tuple[str, Callable]:
    """Local candidates around the observations of best posterior mean, not best value."""
    from kt_ext.oracles._candidates import LOCAL_CENTRES

    def centres(encoder: Any, gp: Any, u_obs: np.ndarray, y: np.ndarray) -> np.ndarray:
        mean, _ = gp.predict(encoder.features(u_obs))
        return u_obs[np.argsort(-mean)[:LOCAL_CENTRES]]

    return "local_centres", centres


def _linear_mean() -> tuple[str, Callable]:
    """A linear trend as the GP's prior mean: ridge regression of the outputs on the features.

    The shipped GP's prior mean is constant, so far from every trial it predicts
    the average; with a trend, the prediction follows the data's slope out to the
    bounds (universal kriging with the trend's coefficients fixed at their ridge
    estimate). The GP models the residuals, refitted to them. ``gpucb_lintrend``
    (:mod:`_trend`) puts the trend's coefficients under a prior instead.
    """
    from kt_ext.gp import GaussianProcess
    from kt_ext.oracles import _ucb

    original = _ucb.fit_outputs

    class RidgeTrendGP:
        def __init__(self, gp: GaussianProcess, w: np.ndarray, b: float, y: np.ndarray) -> None:
            self.gp, self.w, self.b, self.y, self.params = gp, w, b, y, gp.params

        def trend(self, xs: np.ndarray) -> np.ndarray:
            return np.asarray(xs, dtype=float) @ self.w + self.b

        def log_posterior(self) -> float:
            return self.gp.log_posterior()

        def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            mean, std = self.gp.predict(xs)
            return mean + self.trend(xs), std

        def predict_with_gradient(self, xs: np.ndarray) -> tuple[np.ndarray, ...]:
            mean, std, d_mean, d_std = self.gp.predict_with_gradient(xs)
            return mean + self.trend(xs), std, d_mean + self.w[None, :], d_std

        def condition_on(self, xs: np.ndarray, ys: np.ndarray) -> RidgeTrendGP:
            gp = self.gp.condition_on(xs, ys - self.trend(xs))
            return RidgeTrendGP(gp, self.w, self.b, np.concatenate([self.y, ys]))

    def fit_outputs(
        x: np.ndarray, g: np.ndarray, warping: str, rng: Any, warm_start: Any, warped: Any = None
    ) -> tuple[Any, RidgeTrendGP]:
        outputs, gp = original(x, g, warping, rng, warm_start, warped)
        y = gp.y
        centre = x.mean(axis=0)
        xc = x - centre
        w = np.linalg.solve(xc.T @ xc + np.eye(x.shape[1]), xc.T @ (y - y.mean()))
        b = float(y.mean() - centre @ w)
        residual = y - (x @ w + b)
        params = _ucb.refit(x, residual, rng, [float(v) for v in gp.params.to_vector()])
        return outputs, RidgeTrendGP(GaussianProcess(x, residual, params), w, b, y)

    return "fit_outputs", fit_outputs


def _linear_kernel() -> tuple[str, Callable]:
    """The Matérn kernel plus a linear one whose variance the evidence sets (:mod:`_trend`)."""
    from _trend import TrendGP, fit_trend

    from kt_ext.oracles import _ucb

    original = _ucb.fit_outputs

    def fit_outputs(x: np.ndarray, g: np.ndarray, *args: Any) -> tuple[Any, TrendGP]:
        outputs, gp = original(x, g, *args)
        return outputs, TrendGP(x, gp.y, gp.params, fit_trend(x, gp.y, gp.params))

    return "fit_outputs", fit_outputs


def _joint_linear_kernel() -> tuple[str, Callable]:
    """As ``gpucb_lintrend``, with the Matérn part fitted together with the trend."""
    from _trend import TrendGP, fit_joint

    from kt_ext.oracles import _ucb

    original = _ucb.fit_outputs

    def fit_outputs(x: np.ndarray, g: np.ndarray, *args: Any) -> tuple[Any, TrendGP]:
        outputs, gp = original(x, g, *args)
        params, s = fit_joint(x, gp.y, gp.params)
        return outputs, TrendGP(x, gp.y, params, s)

    return "fit_outputs", fit_outputs


def _input_warping(**prior: float) -> tuple[str, Callable]:
    """The shipped GP on Kumaraswamy-warped inputs, warps fitted with the kernel (:mod:`_warp`).

    ``prior``: ``variance=`` of the prior on the warps' log shapes (default :mod:`_warp`'s).
    """
    from _warp import WarpedGP, fit_warped

    from kt_ext.oracles import _ucb

    original = _ucb.fit_outputs

    def fit_outputs(x: np.ndarray, g: np.ndarray, *args: Any) -> tuple[Any, WarpedGP]:
        outputs, gp = original(x, g, *args)
        return outputs, fit_warped(x, gp.y, gp.params, **prior)

    return "fit_outputs", fit_outputs


def _additive() -> tuple[str, Callable]:
    """The additive GP (:mod:`_additive`) in the full kernel's place; warping as ``auto``."""
    from _additive import AdditiveGP

    from kt_ext.gp import OutputTransform

    def fit_outputs(x: np.ndarray, g: np.ndarray, *args: Any) -> tuple[Any, AdditiveGP]:
        best = None
        for warp in (False, True):
            y, outputs = OutputTransform.fit(g, warp)
            gp = AdditiveGP(x, y)
            evidence = gp.log_posterior() + outputs.log_jacobian(g)
            if best is None or evidence > best[0]:
                best = (evidence, outputs, gp)
        return best[1], best[2]

    return "fit_outputs", fit_outputs


# The GP with one step of the proposal replaced: method -> (name in _ucb, replacement).
VARIANTS: dict[str, Callable[[], tuple[str, Callable]]] = {
    "gpucb_plain_beta": _plain_beta,
    "gpucb_rank": _normal_scores,
    "gpucb_pess": _pessimistic,
    "gpucb_noplateau": _no_plateau_switch,
    "gpucb_meancentres": _mean_centres,
    "gpucb_additive": _additive,
    "gpucb_linmean": _linear_mean,
    "gpucb_lintrend": _linear_kernel,
    "gpucb_jointtrend": _joint_linear_kernel,
    "gpucb_inwarp": _input_warping,
    "gpucb_inwarp_tight": lambda: _input_warping(variance=0.1),
}


def run_one(method: str, problem_name: str, seed: int, budget: int) -> dict[str, Any]:
    """Run one method on one problem with one seed; regret curve, timings, duplicates."""
    problem = PROBLEMS[problem_name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method in VARIANTS:
            from kt_ext.oracles import _ucb

            name, replacement = VARIANTS[method]()
            original = getattr(_ucb, name)
            setattr(_ucb, name, replacement)
            try:
                history = _run_kt(method, problem, seed, budget)
            finally:
                setattr(_ucb, name, original)
        elif method in KT_METHODS:
            history = _run_kt(method, problem, seed, budget)
        elif method.startswith("optuna"):
            history = _run_optuna(method, problem, seed, budget)
        else:
            history = _run_skopt(problem, seed, budget)
    # The recommendation is the best observation so far; its regret is measured on the
    # function without noise (the same as the best observation's when there is none).
    best_seen, best_true, regrets, seen, duplicates = math.inf, math.inf, [], set(), 0
    scores: set[float] = set()
    repeats = 0  # observations equal to an earlier one (a plateau revisited)
    for values, y, _ in history:
        if y is not None:
            repeats += y in scores
            scores.add(y)
        if y is not None and y < best_seen:
            best_seen, best_true = y, problem.fn(values)
        regrets.append(best_true - problem.optimum)
        key = json.dumps(values, sort_keys=True)
        duplicates += key in seen
        seen.add(key)
    return {
        "method": method,
        "problem": problem_name,
        "seed": seed,
        "regret": regrets,
        "seconds": [s for _, _, s in history],
        "duplicates": duplicates,
        "repeats": repeats,
        "failed": sum(y is None for _, y, _ in history),
        "edge": edge_count(problem, [values for values, _, _ in history]),
    }


EDGE = 0.01  # "at the edge": within this share of the range from a bound


def edge_count(problem: Problem, proposals: list[dict[str, Any]]) -> list[int]:
    """``[at the edge, all]`` over the inert coordinates of ``proposals``.

    A method that does not over-explore the box's edges puts an ignored
    coordinate within ``EDGE`` of a bound about ``2 · EDGE`` of the time,
    as uniform sampling does.
    """
    dims = {d.name: d for d in problem.dims}
    at_edge = total = 0
    for values in proposals:
        for name in problem.inert:
            d, v = dims[name], float(values[name])
            share = (v - d.low) / (d.high - d.low)
            at_edge += share <= EDGE or share >= 1 - EDGE
            total += 1
    return [at_edge, total]


# ------------------------------------------------------------------- report
def _available(method: str) -> str | None:
    """``None`` if the method can run here, else why not."""
    modules = {
        "optuna_tpe": ["optuna"],
        "kt_ext_tpe": ["optuna"],
        "optuna_gp": ["optuna", "torch"],
        "skopt": ["skopt"],
    }
    for module in modules.get(method, []):
        try:
            __import__(module)
        except ImportError:
            return f"{method}: skipped ({module} not installed)"
    return None


def _table(title: str, methods: list[str], problems: list[str], cell: Callable) -> list[str]:
    """A Markdown table with one row per problem and one column per method."""
    lines = [f"\n{title}\n", "| function | " + " | ".join(methods) + " |"]
    lines.append("|---" * (len(methods) + 1) + "|")
    for p in problems:
        lines.append(f"| {p} | " + " | ".join(cell(m, p) for m in methods) + " |")
    return lines


def tables(rows: list[dict[str, Any]], budgets: tuple[int, ...], suggestions: int) -> str:
    """Markdown tables: median regret per budget, ms per suggestion, duplicates.

    Suggestion times on ``hartmann6`` are those of the last 10 of ``suggestions``,
    i.e. with ``suggestions - 10`` to ``suggestions`` observations in 6-D.
    """
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    problems = [p for p in PROBLEMS if any(r["problem"] == p for r in rows)]
    seeds = seed_words(sorted({r["seed"] for r in rows}))

    def regret(m: str, p: str, budget: int) -> float | None:
        regs = [
            r["regret"][budget - 1]
            for r in rows
            if r["method"] == m and r["problem"] == p and len(r["regret"]) >= budget
        ]
        return statistics.median(regs) if regs else None

    def ms(m: str, p: str) -> float | None:
        secs = [
            s
            for r in rows
            if r["method"] == m and r["problem"] == p
            for s in (r["seconds"][-10:] if p == "hartmann6" else r["seconds"])
        ]
        return 1000 * statistics.median(secs) if secs else None

    def fmt(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    lines = []
    for budget in budgets:
        lines += _table(
            f"Median simple regret after {budget} evaluations, {seeds} (lower is better)",
            methods,
            problems,
            lambda m, p, b=budget: fmt(regret(m, p, b), ".3g"),
        )
    lines += _table(
        f"Median ms per suggestion (ask + tell); hartmann6: the last 10 of {suggestions}",
        methods,
        problems,
        lambda m, p: fmt(ms(m, p), ".1f"),
    )
    edged = [p for p in problems if PROBLEMS[p].inert]

    def edge_share(m: str, p: str) -> str:
        counts = [r["edge"] for r in rows if r["method"] == m and r["problem"] == p and "edge" in r]
        total = sum(c[1] for c in counts)
        return f"{100 * sum(c[0] for c in counts) / total:.0f}%" if total else "-"

    if edged:
        lines += _table(
            f"Inert coordinates within {EDGE:.0%} of a bound, all proposals "
            f"(uniform sampling: {2 * EDGE:.0%})",
            methods,
            edged,
            edge_share,
        )
    failing = [p for p in problems if PROBLEMS[p].fails]

    def failed(m: str, p: str) -> str:
        counts = [r.get("failed", 0) for r in rows if r["method"] == m and r["problem"] == p]
        return str(sum(counts)) if counts else "-"

    if failing:
        lines += _table(
            f"Failed trials, summed over {seeds} (the configurations whose training fails)",
            methods,
            failing,
            failed,
        )
    tasks = [p for p in problems if p in ROLES]
    if budgets and REFERENCE in methods and len(methods) > 1:
        lines += _against_reference(rows, methods, problems, max(budgets))
    dup = {m: sum(r["duplicates"] for r in rows if r["method"] == m) for m in methods}
    lines.append(
        "\nDuplicate proposals, all runs: " + ", ".join(f"{m} {n}" for m, n in dup.items())
    )
    if tasks:
        rep = {
            m: sum(r.get("repeats", 0) for r in rows if r["method"] == m and r["problem"] in tasks)
            for m in methods
        }
        total = {
            m: sum(len(r["regret"]) for r in rows if r["method"] == m and r["problem"] in tasks)
            for m in methods
        }
        lines.append(
            "\nscikit-learn tasks, evaluations scoring exactly what an earlier one of the run "
            "scored (a plateau revisited), all runs: "
            + ", ".join(f"{m} {rep[m]}/{total[m]}" for m in methods)
        )
    return "\n".join(lines)


REFERENCE = "gpucb"
FUNCTION_ROLE = "test function"  # the role of a problem that is not a scikit-learn task


def _against_reference(
    rows: list[dict[str, Any]], methods: list[str], problems: list[str], budget: int
) -> list[str]:
    """Each method against ``gpucb`` seed by seed, and mean ranks.

    Positive differences mean better than ``gpucb``; ranks are those of the
    medians per task (1 = best), averaged over the tasks of each role (the
    scikit-learn tasks' ``choose`` and ``confirm``, and the test functions).
    """
    final = {
        (r["method"], r["problem"], r["seed"]): r["regret"][budget - 1]
        for r in rows
        if len(r["regret"]) >= budget
    }
    peers = [m for m in methods if m != REFERENCE]
    lines = [
        f"\nAgainst {REFERENCE} after {budget} evaluations, seed by seed (difference of the "
        "median regrets, positive: better than it; 95 % paired bootstrap interval; seeds "
        "won/lost/tied)\n",
        "| task (role) | " + " | ".join(peers) + " |",
        "|---" * (len(peers) + 1) + "|",
    ]
    medians: dict[str, dict[str, dict[str, float]]] = {}
    for p in problems:
        seeds = sorted(
            {s for (m, q, s) in final if q == p} & {s for (m, q, s) in final if m == REFERENCE}
        )
        common = [s for s in seeds if all((m, p, s) in final for m in methods)]
        if not common:
            continue
        ref = [final[(REFERENCE, p, s)] for s in common]
        cells = []
        for m in peers:
            cells.append(paired_cell(paired([final[(m, p, s)] for s in common], ref, -1.0), ".4f"))
        role = ROLES.get(p, FUNCTION_ROLE)
        lines.append(f"| {p} ({role}) | " + " | ".join(cells) + " |")
        medians.setdefault(role, {})[p] = {
            m: statistics.median(final[(m, p, s)] for s in common) for m in methods
        }
    for role, by_task in medians.items():
        ranks = mean_ranks(by_task, sign=-1.0)
        order = sorted(ranks, key=ranks.get)
        lines.append(
            f"\nMean rank of the median over the {len(by_task)} {role} tasks: "
            + ", ".join(f"{m} {ranks[m]:.2f}" for m in order)
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the missing (method, function, seed) cells, then write the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common_arguments(parser, "oracles.jsonl", seeds=10, jobs=1)
    replicate_arguments(parser)
    parser.add_argument("--budget", type=int, default=max(BUDGETS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument(
        "--problems",
        nargs="+",
        default=SYNTHETIC,
        choices=[*PROBLEMS, "tabular"],
        help="default: the noiseless functions; also <name>_noise1|10, <name>_fail, and the "
        "scikit-learn tasks by name or all of them as 'tabular'",
    )
    parser.add_argument("--report", default="oracles", help="name of the markdown file written")
    parser.add_argument(
        "--native-threads", action="store_true", help="leave BLAS/torch threading as shipped"
    )
    args = parser.parse_args(argv)
    if "tabular" in args.problems:
        args.problems = [p for p in args.problems if p != "tabular"] + list(TASKS)

    cache = Cache(args.out, ("method", "problem", "seed"), args.fresh)
    keys = {k for k, r in cache.rows.items() if len(r["regret"]) >= args.budget}
    methods = []
    for m in args.methods:
        reason = _available(m)
        if reason:
            print(reason, file=sys.stderr)
        else:
            methods.append(m)
    todo = [
        (m, p, s)
        for s in range(args.first_seed, args.seeds)
        for p in args.problems
        for m in methods
        if (m, p, s) not in keys and not (m == "skopt" and PROBLEMS[p].fails)
    ]
    print(f"{len(todo)} runs to do, {len(keys)} reused", file=sys.stderr)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, m, p, s, args.budget) for m, p, s in todo]
        try:
            for future in futures:
                row = future.result()
                cache.add(row)
                print(
                    f"  {row['method']:<10} {row['problem']:<9} seed {row['seed']}: "
                    f"regret {row['regret'][-1]:.3g}",
                    file=sys.stderr,
                )
        except BaseException:  # a run that fails stops the benchmark now, not after the queue
            pool.shutdown(cancel_futures=True)
            raise
    rows = [
        r
        for r in cache.rows.values()
        if r["method"] in methods
        and r["problem"] in args.problems
        and args.first_seed <= r["seed"] < args.seeds
    ]
    budgets = tuple(b for b in BUDGETS if b <= args.budget)
    report = Report(args.report, args.block)
    report.add(tables(rows, budgets, args.budget))
    report.write(command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())

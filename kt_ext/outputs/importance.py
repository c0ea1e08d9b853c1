"""Which hyperparameters mattered: total effects on a sparse GP surrogate, conditional entries too.

Method. kt-ext's GP (:mod:`kt_ext.gp`, the oracle's core: Matérn-5/2 with
one length scale per feature, inactive conditional entries as a constant)
is fitted to every completed trial's objective, with the sparse (SAAS)
length-scale prior of :func:`kt_ext.gp.fit_params` so that an entry the
data do not need is switched off rather than kept at the prior's length
scale. Each hyperparameter's importance is its total effect on that fit:
Jansen's estimator ``½ E[(f(x) - f(x with the entry taken from x'))²]``
(Jansen 1999; Saltelli et al. 2010) over every ordered pair of trials
``(x, x')``, in units of the objective's variance over the trials. The exchange is
*conditional*, so that every configuration evaluated is one the space can
produce (after Strobl et al., 2008, who permute within groups of the
conditioning variables):

* an entry active only under a parent's value (``when:``) is exchanged only
  between trials where it is active, so its importance is its effect where
  it exists, weighted by how often it does;
* a parent is exchanged together with every entry that depends on it (the
  trials exchange the whole block), so its importance includes what its
  choice switches on, and no trial gets a child value its parent disables.

An effect is not a share that must stay below 1. Exchanging every entry at
once moves the objective by its variance on average (``½ E[(f(x) - f(x'))²]``
over pairs of trials is the fitted values' variance), so 1 means "as much as
going to another trial altogether". Exchanging one entry alone makes
configurations no trial tried, and where that entry interacts with others
the fit can put them beyond the trials' range: with a few trials and one
diverged run, exchanging ``optimizer`` alone (``sgd`` is bad only with some
other settings) gave 1.29 on a real ``model=cnn1d`` run of 8 trials. Above 1
reads as "matters, through an interaction the trials cannot separate";
its leave-one-out range says how firmly.

Optuna's fANOVA and PED-ANOVA evaluators instead leave out hyperparameters
that are not active in every trial. The objective enters as a cost
(:meth:`kt_ext.objectives.Objective.cost`); with several objectives the
report computes one ranking per objective. How much a ranking hangs on
single trials is shown by refitting without one trial at a time
(``refits``): each entry's lowest and highest effect over those fits; and
entries whose values moved together across the trials are named, since no
estimator can tell their effects apart from those trials.

Why this estimator, measured (``scripts/bench/importance.py``, results in
``importance.md``; 10 seeds of random trials; "top" = the entry ranked
first is one that matters, "all" = every entry that matters ranks above
every one that does not; the earlier estimator, Breiman's permutation
importance on held-out folds of a GP with the search's centred prior, in
brackets). Chosen on the tests' two synthetic problems (7 entries, 4 matter,
one conditional) and the parameter count of the default ``model=mlp`` space
(11 entries, ``units`` and ``num_layers`` matter): at 8 trials top 8, 9, 9
(8, 8, 5), all 1, 4, 8 (0, 4, 1); at 15 trials all 5, 8, 10 (2, 5, 7); at
40 trials all 10/10 (10/10). Confirmed, after the choice, on Keras's own
parameter counts of ``model=cnn`` and ``model=cnn1d``, whose entries
interact: at 8 trials top 6 and 7 (5, 7), all 0 and 5 (0, 0); at 15 trials
all 3 and 10 (0, 8). So from :data:`MIN_TRIALS` trials the first entry is
usually, not always, one that matters; every ranking is
shown with its trial count and its leave-one-out range. On a real default
run (``search.objectives=[val_loss,params] strategy=bayes``, 8 trials) the
GP's proposals made smaller models with larger learning rates and less
weight decay, and the fit credited the parameter count to ``lr`` and
``weight_decay``: the ranking then names them as moved with ``units``
rather than claim a cause the trials cannot show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kt_ext.gp import GaussianProcess, SpaceEncoder, fit_params, standardise

RESTARTS = 4  # extra starting points of the one MAP fit on all trials
MAX_PAIRS = 2000  # pairs of trials per entry, at most (all of them up to 45 trials)
TOGETHER = 0.8  # |correlation| across trials from which two entries "moved together"
PAIRED = 6  # trials where both are active, at least, to say so
MIN_TRIALS = 8  # fewer completed trials: no importance (see the module docstring)


@dataclass(frozen=True)
class Importance:
    """One hyperparameter's importance.

    Attributes:
        effect: Total effect on the fit to every trial, in units of the objective's
            variance over the trials (may exceed 1: see the module docstring).
        low: The smallest effect over the leave-one-out refits (``effect`` without refits).
        high: The largest effect over them.
        moved_with: Entries whose values moved with this one's across the trials
            (:func:`moved_together`): the data cannot tell their effects apart.
    """

    effect: float
    low: float
    high: float
    moved_with: tuple[str, ...] = ()


def _blocks(encoder: SpaceEncoder) -> list[list[int]]:
    """For each raw coordinate, the coordinates permuted with it: itself and its dependants."""
    index = {d.name: d.raw for d in encoder.dims}
    children: dict[int, list[int]] = {d.raw: [] for d in encoder.dims}
    for d in encoder.dims:
        for parent, _ in d.conditions:
            if parent in index:
                children[index[parent]].append(d.raw)
    out = []
    for d in encoder.dims:
        block, todo = [], [d.raw]
        while todo:
            k = todo.pop()
            if k not in block:
                block.append(k)
                todo += children[k]
        out.append(block)
    return out


def importance(
    space: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
    costs: Sequence[float] | np.ndarray,
    seed: int = 0,
    refits: int = 0,
) -> dict[str, Importance] | None:
    """Each tunable hyperparameter's importance (total effect over the variance), largest first.

    Args:
        space: KerasTuner's space config entries (``oracle.json``), parents first.
        rows: The completed trials' values (inactive entries absent).
        costs: Their objective as a cost (lower is better); non-finite ones are left out.
        seed: Seed of the GP fits and of which trials the refits leave out.
        refits: Fits leaving out one trial each, for the ranges (at most one per trial).

    Returns:
        ``{name: Importance}``; ``None`` with fewer than :data:`MIN_TRIALS`
        finite results, a constant objective or no tunable entry.
    """
    encoder = SpaceEncoder(space)
    y_all = np.asarray(costs, dtype=float)
    keep = np.flatnonzero(np.isfinite(y_all))
    y = y_all[keep]
    if len(y) < MIN_TRIALS or encoder.n_raw == 0 or float(np.var(y)) <= 0:
        return None
    u = encoder.snap(np.array([encoder.encode(rows[int(i)]) for i in keep], dtype=float))
    rng = np.random.default_rng(seed)
    effects = _effects(encoder, u, y, rng)
    spread = [effects]
    for left in rng.choice(len(y), size=min(refits, len(y)), replace=False):
        others = np.delete(np.arange(len(y)), left)
        if float(np.var(y[others])) > 0:
            spread.append(_effects(encoder, u[others], y[others], rng))
    low, high = np.min(spread, axis=0), np.max(spread, axis=0)
    together = moved_together(encoder, u)
    order = np.argsort(-effects, kind="stable")
    return {
        encoder.names[k]: Importance(
            float(effects[k]), float(low[k]), float(high[k]), together[encoder.names[k]]
        )
        for k in order
    }


def moved_together(encoder: SpaceEncoder, u: np.ndarray) -> dict[str, tuple[str, ...]]:
    """For each entry, the others correlated with it across the trials (|r| >= :data:`TOGETHER`).

    A search that learns moves several hyperparameters at once (smaller
    models *and* larger learning rates), so a few trials may not hold the
    contrast that would separate their effects; the fit then credits one of
    them. Correlation is taken between feature columns (one-hot for a choice),
    over the trials where both entries are active, at least :data:`PAIRED`:
    two independent Gaussian columns reach ``|r| >= 0.8`` with probability
    0.41 over 3 trials, 0.056 over 6 and 0.017 over 8.
    """
    x, active = encoder.features(u), encoder.active(u)
    out: dict[str, list[str]] = {name: [] for name in encoder.names}
    for i, a in enumerate(encoder.dims):
        for b in encoder.dims[i + 1 :]:
            both = active[:, a.raw] & active[:, b.raw]
            if both.sum() < PAIRED:
                continue
            left = x[both, a.col : a.col + a.width]
            right = x[both, b.col : b.col + b.width]
            left, right = left[:, left.std(axis=0) > 0], right[:, right.std(axis=0) > 0]
            if not left.shape[1] or not right.shape[1]:
                continue
            r = np.corrcoef(left.T, right.T)[: left.shape[1], left.shape[1] :]
            if np.max(np.abs(r)) >= TOGETHER:
                out[a.name].append(b.name)
                out[b.name].append(a.name)
    return {name: tuple(others) for name, others in out.items()}


def _effects(
    encoder: SpaceEncoder, u: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Each raw coordinate's total effect on a sparse GP fitted to ``(u, y)``, over ``var(y)``."""
    g, _, _ = standardise(y)
    x = encoder.features(u)
    gp = GaussianProcess(x, g, fit_params(x, g, rng, restarts=RESTARTS, sparse=True))
    fitted = gp.predict(x)[0]
    active = encoder.active(u)
    out = np.zeros(encoder.n_raw)
    for d, block in zip(encoder.dims, _blocks(encoder), strict=True):
        on = np.flatnonzero(active[:, d.raw])
        if len(on) < 2:
            continue
        into, source = (a.ravel() for a in np.meshgrid(on, on, indexing="ij"))
        pairs = np.flatnonzero(into != source)
        if len(pairs) > MAX_PAIRS:  # a random sample of them (Monte Carlo Jansen)
            pairs = rng.choice(pairs, MAX_PAIRS, replace=False)
        into, source = into[pairs], source[pairs]
        swapped = u[into].copy()
        swapped[:, block] = u[np.ix_(source, np.asarray(block, dtype=int))]
        change = gp.predict(encoder.features(swapped))[0] - fitted[into]
        # weighted by the share of trials where the entry is active
        out[d.raw] = 0.5 * float(np.mean(change**2)) * len(on) / len(u)
    return out / float(np.var(g))

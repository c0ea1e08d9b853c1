"""Which hyperparameters mattered: conditional permutation importance on a GP surrogate.

Method. kt-ext's GP (:mod:`kt_ext.gp`, the oracle's core: Matérn-5/2 with
one length scale per feature, inactive conditional entries as a constant)
is fitted to the completed trials' objective, and each hyperparameter's
importance is how much the GP's held-out squared error grows when that
hyperparameter is permuted across trials (Breiman's permutation
importance, Breiman 2001), as a share of the objective's variance,
averaged over :data:`REPEATS` shuffled :data:`FOLDS`-fold splits. The
permutation is *conditional* so that every permuted configuration is one
the space can produce (after Strobl et al., 2008, who permute within
groups of the conditioning variables):

* an entry active only under a parent's value (``when:``) is permuted only
  among the trials where it is active, so its importance is its effect
  where it exists, weighted by how often it does;
* a parent is permuted together with every entry that depends on it (the
  trials exchange the whole block), so its importance includes what its
  choice switches on, and no trial gets a child value its parent disables.

Optuna's fANOVA and PED-ANOVA evaluators instead leave out hyperparameters
that are not active in every trial. The objective enters as a cost
(:meth:`kt_ext.objectives.Objective.cost`); with several objectives the
report computes one ranking per objective.

How many trials. On the two synthetic problems of the tests (7 entries, 4 of
which matter, one conditional), the entry ranked first is one that matters
in 8 of 10 seeds from 6 trials, 8-9 from 8 and 10 from 15; every entry that
matters ranks above every one that does not in at most 2 of 10 seeds below
10 trials, and in 9-10 of 10 at 40. On a real default run (digits, 8
trials, ``search.objectives=[val_loss,params]``) a ranking from 8 trials
put the initializer first for the parameter count, which it cannot change.
So no ranking below :data:`MIN_TRIALS` completed trials, and every ranking
is shown with its trial count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kt_ext.gp import GaussianProcess, SpaceEncoder, fit_params, standardise

FOLDS = 5
REPEATS = 4
MIN_TRIALS = 10  # fewer completed trials: no importance (see the module docstring)


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
    costs: Sequence[float],
    seed: int = 0,
) -> dict[str, float] | None:
    """Each tunable hyperparameter's importance (share of the objective's variance), largest first.

    Args:
        space: KerasTuner's space config entries (``oracle.json``), parents first.
        rows: The completed trials' values (inactive entries absent).
        costs: Their objective as a cost (lower is better); non-finite ones are left out.
        seed: Seed of the splits, the permutations and the GP fits.

    Returns:
        ``{name: importance}``; ``None`` with fewer than :data:`MIN_TRIALS`
        finite results, a constant objective or no tunable entry.
    """
    encoder = SpaceEncoder(space)
    y_all = np.asarray(costs, dtype=float)
    keep = np.flatnonzero(np.isfinite(y_all))
    y = y_all[keep]
    if len(y) < MIN_TRIALS or encoder.n_raw == 0 or float(np.var(y)) <= 0:
        return None
    u = encoder.snap(np.array([encoder.encode(rows[i]) for i in keep], dtype=float))
    active = encoder.active(u)
    blocks = _blocks(encoder)
    rng = np.random.default_rng(seed)
    gains, counts = np.zeros(encoder.n_raw), np.zeros(encoder.n_raw)
    for _ in range(REPEATS):
        folds = np.array_split(rng.permutation(len(y)), min(FOLDS, len(y)))
        for test in folds:
            train = np.setdiff1d(np.arange(len(y)), test)
            g, mean, scale = standardise(y[train])
            x = encoder.features(u[train])
            gp = GaussianProcess(x, g, fit_params(x, g, rng))

            def error(points: np.ndarray, fit: Any = (gp, mean, scale, test)) -> float:
                model, shift, unit, held = fit
                pred = model.predict(encoder.features(points))[0] * unit + shift
                return float(np.mean((pred - y[held]) ** 2))

            base = error(u[test])
            for d, block in zip(encoder.dims, blocks, strict=True):
                rows_on = test[active[test, d.raw]]
                if len(rows_on) < 2:
                    continue
                permuted = u.copy()
                order = rng.permutation(rows_on)
                permuted[np.ix_(rows_on, block)] = u[np.ix_(order, block)]
                gains[d.raw] += error(permuted[test]) - base
                counts[d.raw] += 1
    shares = gains / np.maximum(counts, 1) / float(np.var(y))
    ranked = sorted(zip(encoder.names, shares, strict=True), key=lambda p: -p[1])
    return {name: float(v) for name, v in ranked}

"""Pareto fronts on cost matrices (every column minimised; see :func:`kt_ext.objectives.as_costs`).

* :func:`pareto_ranks`: non-dominated sorting (Deb et al., 2002, NSGA-II):
  rank 0 is the front, rank 1 the front of the rest, and so on.
* :func:`crowding_distance`: NSGA-II's spread measure within one front
  (boundary points infinite), the tie-break that keeps a front spread.
* :func:`spread_order`: rank first, then crowding distance (largest first):
  the order in which multi-objective successive halving promotes.
* :func:`hypervolume`: the volume dominated by a set and bounded by a
  reference point, exact (slicing in the last objective; fine for the tens
  to hundreds of trials of a search in 2-3 objectives).
* :func:`chebyshev` with :func:`random_weights`: ParEGO's scalarisation
  (Knowles, 2006): ``max_i w_i f_i + ρ Σ_i w_i f_i`` on objectives scaled to
  ``[0, 1]``, a fresh weight vector per proposal, so a single-objective model
  covers the whole front over a search.
"""

from __future__ import annotations

import numpy as np

#: ParEGO's augmentation ``ρ`` (Knowles, 2006): keeps weakly dominated points behind.
RHO = 0.05


def _dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a <= b) and np.any(a < b))


def pareto_ranks(costs: np.ndarray) -> np.ndarray:
    """Non-dominated rank of each row (0: on the front). Rows with a non-finite cost rank last."""
    costs = np.asarray(costs, dtype=float)
    n = len(costs)
    ranks = np.full(n, -1, dtype=int)
    finite = np.all(np.isfinite(costs), axis=1)
    remaining = [i for i in range(n) if finite[i]]
    rank = 0
    while remaining:
        front = [i for i in remaining if not any(_dominates(costs[j], costs[i]) for j in remaining)]
        ranks[front] = rank
        remaining = [i for i in remaining if i not in front]
        rank += 1
    ranks[~finite] = rank
    return ranks


def crowding_distance(costs: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of each row among all rows (the extremes: ``inf``)."""
    costs = np.asarray(costs, dtype=float)
    n, m = costs.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        order = np.argsort(costs[:, k], kind="stable")
        col = costs[order, k]
        dist[order[0]] = dist[order[-1]] = np.inf
        span = col[-1] - col[0]
        if not np.isfinite(span) or span <= 0:
            continue
        dist[order[1:-1]] += (col[2:] - col[:-2]) / span
    return dist


def spread_order(costs: np.ndarray) -> list[int]:
    """Row indices best first: by non-dominated rank, then crowding distance within a rank."""
    costs = np.asarray(costs, dtype=float)
    ranks = pareto_ranks(costs)
    crowd = np.zeros(len(costs))
    for r in np.unique(ranks):
        members = np.flatnonzero(ranks == r)
        sub = costs[members]
        if np.all(np.isfinite(sub)):
            crowd[members] = crowding_distance(sub)
    return sorted(range(len(costs)), key=lambda i: (ranks[i], -crowd[i], i))


def hypervolume(costs: np.ndarray, reference: np.ndarray) -> float:
    """Volume dominated by the rows of ``costs`` and bounded by ``reference`` (all minimised).

    Rows not strictly better than ``reference`` in every objective add nothing.
    """
    costs = np.asarray(costs, dtype=float)
    ref = np.asarray(reference, dtype=float)
    pts = costs[np.all(costs < ref, axis=1)] if len(costs) else costs.reshape(0, len(ref))
    return _hv(pts, ref)


def _hv(pts: np.ndarray, ref: np.ndarray) -> float:
    if len(pts) == 0:
        return 0.0
    if pts.shape[1] == 1:
        return float(ref[0] - pts[:, 0].min())
    pts = pts[pts[:, -1].argsort(kind="stable")]
    volume = 0.0
    for i in range(len(pts)):
        top = pts[i + 1, -1] if i + 1 < len(pts) else ref[-1]
        height = top - pts[i, -1]
        if height > 0:
            volume += height * _hv(pts[: i + 1, :-1], ref[:-1])
    return volume


def normalise(costs: np.ndarray) -> np.ndarray:
    """Each column scaled to ``[0, 1]`` by its finite min and max (a constant column: 0).

    Non-finite entries become 1 (the worst observed).
    """
    costs = np.asarray(costs, dtype=float)
    out = np.ones_like(costs)
    for k in range(costs.shape[1]):
        col = costs[:, k]
        ok = np.isfinite(col)
        if not ok.any():
            continue
        lo, hi = col[ok].min(), col[ok].max()
        out[ok, k] = (col[ok] - lo) / (hi - lo) if hi > lo else 0.0
    return out


def random_weights(m: int, rng: np.random.Generator) -> np.ndarray:
    """A weight vector drawn uniformly from the simplex in ``m`` dimensions."""
    return rng.dirichlet(np.ones(m))


def chebyshev(costs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ParEGO's augmented Chebyshev scalarisation of normalised costs (lower is better)."""
    scaled = normalise(costs) * np.asarray(weights, dtype=float)
    return scaled.max(axis=1) + RHO * scaled.sum(axis=1)

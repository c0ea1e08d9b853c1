"""Pareto ranks, crowding distance, hypervolume and ParEGO's scalarisation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kt_ext.objectives import (
    chebyshev,
    crowding_distance,
    hypervolume,
    normalise,
    pareto_ranks,
    random_weights,
    spread_order,
)


def brute_front(costs: np.ndarray) -> set[int]:
    return {
        i for i, a in enumerate(costs) if not any(np.all(b <= a) and np.any(b < a) for b in costs)
    }


@pytest.mark.parametrize("m", [2, 3])
def test_rank_zero_is_exactly_the_non_dominated_set_and_ranks_peel_fronts(m):
    rng = np.random.default_rng(m)
    costs = rng.integers(0, 6, size=(40, m)).astype(float)  # ties and duplicates
    ranks = pareto_ranks(costs)
    assert set(np.flatnonzero(ranks == 0)) == brute_front(costs)
    rest = np.flatnonzero(ranks > 0)
    second = {rest[i] for i in brute_front(costs[rest])}
    assert set(np.flatnonzero(ranks == 1)) == second


def test_rows_with_a_missing_objective_rank_last():
    costs = np.array([[1.0, 1.0], [np.inf, 0.0], [2.0, 2.0]])
    assert list(pareto_ranks(costs)) == [0, 2, 1]


def test_hypervolume_matches_the_area_of_a_staircase_and_a_monte_carlo_estimate():
    front = np.array([[1.0, 5.0], [2.0, 3.0], [4.0, 1.0], [3.0, 4.0]])
    assert hypervolume(front, np.array([6.0, 6.0])) == pytest.approx(1 * 1 + 2 * 3 + 2 * 5)
    rng = np.random.default_rng(0)
    pts = rng.random((12, 3))
    ref = np.ones(3)
    samples = rng.random((200_000, 3))
    dominated = np.zeros(len(samples), bool)
    for p in pts:
        dominated |= np.all(samples >= p, axis=1)
    assert hypervolume(pts, ref) == pytest.approx(dominated.mean(), abs=0.005)
    assert hypervolume(np.array([[7.0, 0.0]]), np.array([6.0, 6.0])) == 0.0  # beyond the box


def test_crowding_keeps_the_extremes_and_prefers_isolated_points():
    front = np.array([[0.0, 1.0], [0.1, 0.9], [0.12, 0.88], [0.5, 0.5], [1.0, 0.0]])
    d = crowding_distance(front)
    assert np.isinf(d[0]) and np.isinf(d[-1])
    assert d[3] > d[1] and d[3] > d[2]
    order = spread_order(np.vstack([front, [[2.0, 2.0]]]))
    assert order[-1] == 5  # the dominated point comes last
    assert order.index(3) < order.index(2)  # the isolated one before the crowded one


def test_parego_weights_lie_on_the_simplex_and_the_scalarisation_ranks_the_front_first():
    rng = np.random.default_rng(1)
    for m in (2, 3):
        w = random_weights(m, rng)
        assert w.shape == (m,) and np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    costs = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.9]])
    assert np.all(normalise(costs) <= 1) and np.all(normalise(costs) >= 0)
    for w in itertools.product([0.1, 0.5, 0.9], repeat=1):
        s = chebyshev(costs, np.array([w[0], 1 - w[0]]))
        assert s.argmin() != 3  # a dominated point never minimises it

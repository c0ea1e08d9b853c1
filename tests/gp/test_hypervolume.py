"""Expected hypervolume improvement: the box partition, the closed form, its gradient."""

from __future__ import annotations

import numpy as np
import pytest

from kt_ext.gp import improvement_boxes, log_ehvi, log_ehvi_gradient, nondominated
from kt_ext.objectives import hypervolume


@pytest.mark.parametrize("m", [2, 3])
def test_the_boxes_fill_exactly_what_the_front_leaves_undominated(m: int) -> None:
    rng = np.random.default_rng(m)
    front = rng.random((7, m))
    ref = np.full(m, 1.2)
    lower, upper = improvement_boxes(front, ref)
    assert len(lower) == (len(nondominated(front)) + 1) ** (m - 1)
    inside = np.prod(np.clip(upper - np.maximum(lower, 0.0), 0.0, None), axis=1).sum()
    assert inside == pytest.approx(np.prod(ref) - hypervolume(front, ref), rel=1e-12)
    # no two boxes overlap: points drawn in the box [0, ref] fall in at most one
    z = rng.random((2000, m)) * ref
    hits = np.all((z[:, None, :] >= lower[None]) & (z[:, None, :] < upper[None]), axis=2)
    assert hits.sum(axis=1).max() == 1


def test_nondominated_keeps_the_front_once() -> None:
    costs = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 2.0], [2.0, 2.0], [3.0, 0.5]])
    assert sorted(map(tuple, nondominated(costs))) == [(1.0, 2.0), (2.0, 1.0), (3.0, 0.5)]


@pytest.mark.parametrize("m", [2, 3])
def test_closed_form_matches_monte_carlo(m: int) -> None:
    rng = np.random.default_rng(10 + m)
    front, ref = rng.random((5, m)), np.full(m, 1.2)
    mean, std = rng.random((3, m)), 0.1 + 0.3 * rng.random((3, m))
    exact = np.exp(log_ehvi(mean, std, *improvement_boxes(front, ref)))
    base = hypervolume(front, ref)
    samples = mean[:, None, :] + std[:, None, :] * rng.standard_normal((3, 3000, m))
    mc = [np.mean([hypervolume(np.vstack([front, y]), ref) - base for y in s]) for s in samples]
    np.testing.assert_allclose(exact, mc, rtol=0.08, atol=2e-4)


def test_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(3)
    boxes = improvement_boxes(rng.random((6, 2)), np.array([1.1, 1.1]))
    mean, std = rng.random((4, 2)), 0.05 + 0.3 * rng.random((4, 2))
    d_mean, d_std = log_ehvi_gradient(mean, std, *boxes)
    base, eps = log_ehvi(mean, std, *boxes), 1e-6
    for d in range(2):
        step = np.zeros_like(mean)
        step[:, d] = eps
        np.testing.assert_allclose(
            (log_ehvi(mean + step, std, *boxes) - base) / eps, d_mean[:, d], rtol=1e-4, atol=1e-4
        )
        np.testing.assert_allclose(
            (log_ehvi(mean, std + step, *boxes) - base) / eps, d_std[:, d], rtol=1e-4, atol=1e-4
        )


def test_candidates_far_behind_the_front_still_rank() -> None:
    boxes = improvement_boxes(np.array([[0.2, 0.8], [0.5, 0.4], [0.9, 0.1]]), np.array([1.1, 1.1]))
    far = np.array([[3.0, 3.0], [30.0, 30.0], [40.0, 40.0]])
    value = log_ehvi(far, np.full((3, 2), 0.1), *boxes)  # EHVI itself underflows to 0
    assert np.all(np.isfinite(value)) and value[0] > value[1] > value[2]
    assert np.all(np.isfinite(np.concatenate(log_ehvi_gradient(far, np.full((3, 2), 0.1), *boxes))))


def test_a_candidate_in_a_gap_of_the_front_beats_one_on_it() -> None:
    front = np.array([[0.0, 1.0], [1.0, 0.0]])
    boxes = improvement_boxes(front, np.array([1.5, 1.5]))
    mean = np.array([[0.4, 0.4], [0.0, 1.0], [0.9, 0.9]])
    value = log_ehvi(mean, np.full((3, 2), 0.05), *boxes)
    assert value[0] == pytest.approx(np.log(0.6 * 0.6), abs=1e-3)  # the gap [0.4, 1)²
    assert value[0] > max(value[1], value[2]) + 2.0  # on the front; just inside its corner


def test_many_boxes_are_evaluated_in_chunks_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kt_ext.gp import _hypervolume

    rng = np.random.default_rng(5)
    boxes = improvement_boxes(rng.random((8, 3)), np.full(3, 1.2))
    mean, std = rng.random((50, 3)), 0.1 + rng.random((50, 3))
    whole = (log_ehvi(mean, std, *boxes), *log_ehvi_gradient(mean, std, *boxes))
    monkeypatch.setattr(_hypervolume, "_CHUNK", 3 * len(boxes[0]) * 7)  # 7 candidates a chunk
    chunked = (log_ehvi(mean, std, *boxes), *log_ehvi_gradient(mean, std, *boxes))
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)

"""Sobol candidates and the batched L-BFGS-B polish."""

from __future__ import annotations

import numpy as np

from kt_ext.gp import polish, sobol


def test_sobol_is_seeded_and_in_the_unit_cube() -> None:
    a = sobol(10, 3, np.random.default_rng(0))
    assert a.shape == (10, 3) and a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, sobol(10, 3, np.random.default_rng(0)))
    assert not np.array_equal(a, sobol(10, 3, np.random.default_rng(1)))
    assert sobol(4, 0, np.random.default_rng(0)).shape == (4, 0)


def test_sobol_covers_every_stratum() -> None:
    points = sobol(16, 1, np.random.default_rng(5))[:, 0]
    # a (0, m, 1)-net: 16 points, exactly one per interval [i/16, (i+1)/16)
    assert sorted((points * 16).astype(int)) == list(range(16))


def test_polish_climbs_each_start_to_its_own_maximum() -> None:
    targets = np.array([[0.3, 0.8], [0.6, 0.1]])

    def value_and_grad(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return -np.sum((z - targets) ** 2, axis=1), -2 * (z - targets)

    points, values = polish(value_and_grad, np.full((2, 2), 0.5))
    np.testing.assert_allclose(points, targets, atol=1e-4)
    np.testing.assert_allclose(values, 0.0, atol=1e-7)


def test_polish_stays_in_bounds() -> None:
    def value_and_grad(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return -np.sum((z - 2.0) ** 2, axis=1), -2 * (z - 2.0)

    points, _ = polish(value_and_grad, np.array([[0.2]]))
    np.testing.assert_allclose(points, [[1.0]])

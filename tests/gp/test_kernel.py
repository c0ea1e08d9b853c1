"""Matérn-5/2 kernel values and derivatives against hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np

from kt_ext.gp import matern52, matern52_g, scaled_distance, squared_differences


def test_matern52_hand_values() -> None:
    # k(0) = 1; k(1) = (1 + √5 + 5/3) e^{-√5} = 4.902734 · 0.106878 = 0.523994
    assert matern52(np.array([0.0]))[0] == 1.0
    assert math.isclose(matern52(np.array([1.0]))[0], 0.5239941, rel_tol=1e-6)
    # g(0) = 5/3; g(1) = (5/3)(1 + √5) e^{-√5} = 0.576440
    assert math.isclose(matern52_g(np.array([0.0]))[0], 5 / 3)
    assert math.isclose(matern52_g(np.array([1.0]))[0], 0.5764404, rel_tol=1e-6)


def test_g_is_minus_dk_dr_over_r() -> None:
    r = np.array([0.3, 1.0, 2.5])
    eps = 1e-6
    dk_dr = (matern52(r + eps) - matern52(r - eps)) / (2 * eps)
    np.testing.assert_allclose(-dk_dr / r, matern52_g(r), rtol=1e-6)


def test_scaled_distance_uses_one_lengthscale_per_dimension() -> None:
    a = np.array([[0.0, 0.0]])
    b = np.array([[3.0, 4.0], [0.0, 1.0]])
    sq = squared_differences(a, b)
    assert sq.shape == (1, 2, 2)
    # r² = 3²/1² + 4²/2² = 9 + 4 = 13; second point: 1/4
    np.testing.assert_allclose(scaled_distance(sq, np.array([1.0, 2.0])), [[math.sqrt(13.0), 0.5]])

"""Output clipping and standardisation against hand-computed numbers."""

from __future__ import annotations

import numpy as np

from kt_ext.gp import clip_bad_tail, standardise


def test_clip_bad_tail_raises_outliers_to_the_fence() -> None:
    g = np.array([-1000.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    # numpy's linear quartiles of g: Q1 = 1.25, Q3 = 3.75, fence = 1.25 - 1.5 * 2.5 = -2.5
    np.testing.assert_allclose(clip_bad_tail(g), [-2.5, 1, 2, 3, 4, 5])
    # the good tail (large g) is never touched, nor short inputs
    np.testing.assert_array_equal(clip_bad_tail(-g), -g)
    np.testing.assert_array_equal(clip_bad_tail(g[:3]), g[:3])


def test_standardise() -> None:
    y, mean, scale = standardise(np.array([1.0, 3.0]))
    np.testing.assert_allclose(y, [-1.0, 1.0])
    assert (mean, scale) == (2.0, 1.0)
    y, mean, scale = standardise(np.array([4.0, 4.0]))
    np.testing.assert_array_equal(y, [0.0, 0.0])
    assert scale == 1.0
    y, worst, scale = standardise(np.array([1.0, 3.0]), at_worst=True)
    np.testing.assert_allclose(y, [0.0, 2.0])  # the prior mean 0 is the lowest value
    assert (worst, scale) == (1.0, 1.0)

"""UCB and the Srinivas β_t schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kt_ext.gp import srinivas_beta, ucb, ucb_gradient


def test_ucb_is_mean_plus_beta_std() -> None:
    np.testing.assert_allclose(ucb(np.array([1.0, 2.0]), np.array([0.5, 0.0]), 2.0), [2.0, 2.0])
    # β = 0 is pure exploitation
    np.testing.assert_allclose(ucb(np.array([1.0, 3.0]), np.array([9.0, 0.0]), 0.0), [1.0, 3.0])


def test_ucb_gradient() -> None:
    d_mean, d_std = np.array([[1.0, 0.0]]), np.array([[0.5, -1.0]])
    np.testing.assert_allclose(ucb_gradient(d_mean, d_std, 2.0), [[2.0, -2.0]])


def test_srinivas_beta_hand_value_and_growth() -> None:
    # t = 1, D = 1, δ = 0.1: sqrt(2 log(π² / 0.6)) = sqrt(2 · 2.800284) = 2.366553
    assert math.isclose(srinivas_beta(1, 1, 0.1), 2.366553, rel_tol=1e-6)
    assert srinivas_beta(10, 6) > srinivas_beta(2, 6) > srinivas_beta(2, 1)


@pytest.mark.parametrize(
    ("t", "delta", "match"), [(0, 0.1, "`t` is 0"), (1, 1.0, "`delta` is 1.0")]
)
def test_srinivas_beta_rejects(t: int, delta: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        srinivas_beta(t, 2, delta)

"""Acquisitions (UCB, EI, log EI), their gradients, and the Srinivas β_t schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kt_ext.gp import final_beta, srinivas_beta, ucb, ucb_gradient


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


def test_expected_improvement_matches_its_closed_form_and_log_ei_its_log():
    from scipy.stats import norm

    from kt_ext.gp import expected_improvement, log_expected_improvement

    mean = np.array([0.0, 1.0, -2.0, -10.0, 3.0])
    std = np.array([1.0, 0.5, 1.0, 1.0, 2.0])
    z = (mean - 0.5) / std
    reference = std * (z * norm.cdf(z) + norm.pdf(z))
    assert np.allclose(expected_improvement(mean, std, 0.5), reference, rtol=1e-9, atol=0)
    assert np.allclose(log_expected_improvement(mean, std, 0.5), np.log(reference), rtol=1e-9)


def test_log_ei_stays_finite_and_ordered_where_ei_underflows():
    from kt_ext.gp import expected_improvement, log_expected_improvement

    mean = np.array([-40.0, -60.0, -1e4, -1e6])
    std = np.ones(4)
    assert np.all(expected_improvement(mean, std, 0.0)[:2] == 0.0)  # underflow
    log_ei = log_expected_improvement(mean, std, 0.0)
    assert np.all(np.isfinite(log_ei)) and np.all(np.diff(log_ei) < 0)
    # asymptotically log EI ~ -z^2/2 - log(2π)/2 - 2 log|z|
    z = mean[-1]
    assert log_ei[-1] == pytest.approx(-(z**2) / 2 - 0.5 * np.log(2 * np.pi) - 2 * np.log(-z))


@pytest.mark.parametrize("name", ["ucb", "ei", "log_ei"])
def test_acquisition_gradients_match_finite_differences(name):
    from kt_ext.gp import acquisition, acquisition_gradient

    mean = np.array([0.0, 1.0, -2.0, -10.0, -40.0, 3.0])
    std = np.array([1.0, 0.5, 1.0, 1.0, 1.0, 2.0])
    eps = 1e-6
    ones, zeros = np.ones((6, 1)), np.zeros((6, 1))
    d_mu = acquisition_gradient(name, mean, std, ones, zeros, 1.5, 0.5)[:, 0]
    d_sigma = acquisition_gradient(name, mean, std, zeros, ones, 1.5, 0.5)[:, 0]
    num_mu = (
        acquisition(name, mean + eps, std, 1.5, 0.5) - acquisition(name, mean - eps, std, 1.5, 0.5)
    ) / (2 * eps)
    num_sigma = (
        acquisition(name, mean, std + eps, 1.5, 0.5) - acquisition(name, mean, std - eps, 1.5, 0.5)
    ) / (2 * eps)
    assert np.allclose(d_mu, num_mu, rtol=1e-5, atol=1e-8)
    assert np.allclose(d_sigma, num_sigma, rtol=1e-5, atol=1e-8)


def test_log_ei_in_objective_units_is_minus_infinity_where_the_warp_is_flat() -> None:
    """A prediction past the warp's range has a flat tangent: its log EI in units of g is -inf.

    The clamped inverse of a power transform has slope 0 past the data; log EI's figure in
    the objective's units adds the slope's log, which used to raise (math domain error) and
    stop the search in the middle of a proposal.
    """
    from kt_ext.gp import ACQUISITIONS, OutputTransform

    losses = np.array([0.05, 0.1, 0.2, 0.4, 1.5, 2.3, 2.3, 2.5])  # a good cluster, a bad tail
    y, warp = OutputTransform.fit(-losses, warp=True)
    assert warp.kind != "none"
    centre, slope = warp.linear_at(float(y.max()) + 100.0)  # far past the best trial
    assert slope == 0.0
    assert ACQUISITIONS["log_ei"].in_units(-3.0, centre, slope) == -math.inf
    inside = warp.linear_at(float(y[2]))
    assert ACQUISITIONS["log_ei"].in_units(-3.0, *inside) == pytest.approx(math.log(inside[1]) - 3)


def test_final_beta_tapers_over_the_last_fifth_of_the_budget() -> None:
    tapered = [final_beta(2.0, t, 20) for t in range(20)]
    assert tapered[:17] == [2.0] * 17  # 4 trials left at trial 16: the window's start
    assert tapered[17:] == pytest.approx([1.5, 1.0, 0.5])
    assert final_beta(1.0, 2, 3) == 1.0  # a budget under 5 trials has no window to taper in
    assert final_beta(1.0, 25, 20) == 0.0  # retried trials past the budget: pure exploitation

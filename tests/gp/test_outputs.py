"""Output clipping, standardisation and warping against hand-computed numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from kt_ext.gp import OutputTransform, clip_bad_tail, standardise
from kt_ext.gp._outputs import fit_power, yeo_johnson_inverse

# Validation losses of a real run (digits CNN): a cluster of good ones, a tail at chance level.
LOSSES = np.array([2.807, 0.1608, 2.312, 1.546, 0.2216, 2.304, 0.5658, 0.1724, 0.3567, 1.554])


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


def test_without_warping_the_transform_is_standardise() -> None:
    g = -LOSSES
    y, t = OutputTransform.fit(g)
    expected, centre, scale = standardise(g)
    np.testing.assert_array_equal(y, expected)
    assert (t.kind, t.centre, t.scale) == ("none", centre, scale)
    assert t.linear_at(0.3) == (centre, scale)


def test_losses_are_box_cox_warped_near_a_log_and_the_good_ones_spread_out() -> None:
    g = -LOSSES  # maximised
    y, t = OutputTransform.fit(g, warp=True)
    assert t.kind == "box-cox" and abs(t.lam) < 0.3  # near log: the MLE on these losses
    assert np.allclose(y.mean(), 0.0) and np.allclose(y.std(), 1.0)
    assert list(np.argsort(y)) == list(np.argsort(g))  # monotone: no ranking changes
    good = LOSSES < 0.4  # the good cluster takes a larger share of the range than unwarped
    plain, _ = OutputTransform.fit(g)
    assert np.ptp(y[good]) / np.ptp(y) > 3 * np.ptp(plain[good]) / np.ptp(plain)
    np.testing.assert_allclose(t.to_g(y), g)  # and back


def test_values_of_both_signs_are_yeo_johnson_warped_and_invert() -> None:
    g = np.array([-3.0, -1.0, -0.5, 0.0, 0.2, 0.3, 0.35, 0.4])
    y, t = OutputTransform.fit(g, warp=True)
    assert t.kind == "yeo-johnson"
    np.testing.assert_allclose(t.to_g(y), g)
    centre, slope = t.linear_at(float(y[3]))  # the tangent at a point passes through it
    assert slope > 0 and np.isclose(centre + slope * y[3], g[3])


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng: np.exp(rng.normal(0.0, 2.0, 400)),  # heavy right tail: Box-Cox, λ < 0
        lambda rng: 50.0 + rng.normal(0.0, 1.0, 60),  # far from 0, near constant: large |λ|
        lambda rng: rng.standard_t(2, 300),  # both signs, heavy tails: Yeo-Johnson
        lambda rng: -np.exp(rng.normal(0.0, 1.0, 40)),  # all negative: Yeo-Johnson
        lambda rng: np.abs(rng.normal(0.0, 1.0, 5)),  # a handful of points
        # accuracies over their spread, as costs: all negative, far from 0 (the
        # search meets an underflowing variance, and must not warn about it)
        lambda rng: -37.0 + rng.normal(0.0, 1.0, 5),
    ],
)
@pytest.mark.filterwarnings("error")
def test_the_power_fit_finds_scipys_lambda(draw) -> None:
    c = draw(np.random.default_rng(7))
    kind, lam = fit_power(c)
    positive = c.min() > 0
    _, expected = stats.boxcox(c) if positive else stats.yeojohnson(c)
    llf = stats.boxcox_llf if positive else stats.yeojohnson_llf
    assert kind == ("box-cox" if positive else "yeo-johnson")
    assert llf(lam, c) == pytest.approx(llf(expected, c), abs=1e-9)  # as likely, by scipy
    assert lam == pytest.approx(expected, abs=1e-4)  # and as close as the flat optimum allows


@pytest.mark.parametrize("lam", [-1.5, -0.3, 0.0, 0.5, 1.0, 2.0, 2.7])
def test_yeo_johnson_inverse_undoes_scipys_transform(lam: float) -> None:
    x = np.linspace(-3.0, 3.0, 13)
    np.testing.assert_allclose(yeo_johnson_inverse(stats.yeojohnson(x, lmbda=lam), lam), x)
    # past the transform's range (a prediction beyond the data): finite, not NaN
    assert np.isfinite(yeo_johnson_inverse(np.array([-50.0, 50.0]), lam)).all()


@pytest.mark.parametrize("warp", [False, True])
@pytest.mark.parametrize("sign", [-1.0, 0.0])  # losses (all negative g) and values of both signs
def test_log_jacobian_is_the_sum_of_log_slopes_of_g_to_y(warp: bool, sign: float) -> None:
    rng = np.random.default_rng(3)
    g = -(rng.gamma(2.0, 1.0, 30) + 0.5) if sign else rng.normal(0.0, 1.0, 30)
    y, outputs = OutputTransform.fit(g, warp)
    step = 1e-6
    dg = outputs.to_g(y + step) - outputs.to_g(y - step)  # the inverse's slope, numerically
    assert outputs.log_jacobian(g) == pytest.approx(np.sum(np.log(2 * step / dg)), rel=1e-6)
    assert outputs.kind == ("none" if not warp else "box-cox" if sign else "yeo-johnson")

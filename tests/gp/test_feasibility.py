"""The failure model: where trials fail, and the acquisition weighted by it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr


def test_feasibility_is_low_where_trials_failed_and_high_where_they_succeeded():
    from kt_ext.gp import FeasibilityModel

    x = np.linspace(0.0, 1.0, 11)[:, None]
    succeeded = x[:, 0] < 0.55  # 0.0 ... 0.5 trained, 0.6 ... 1.0 diverged
    model = FeasibilityModel(x, succeeded, np.random.default_rng(0))
    p = model.probability(np.array([[0.1], [0.3], [0.8], [0.95]]))
    assert p[0] > 0.9 and p[1] > 0.9
    assert p[2] < 0.1 and p[3] < 0.1
    far = FeasibilityModel(x[:3], np.array([True, False, True]), np.random.default_rng(0))
    # far from every trial it leans to the success rate seen (2 of 3), tempered by the
    # prior's uncertainty there
    assert 0.5 < far.probability(np.array([[50.0]]))[0] < ndtr(2.0 / 3.0)


@pytest.mark.parametrize("name", ["ucb", "ei", "log_ei"])
def test_weighting_keeps_the_order_where_nothing_fails_and_ranks_a_failure_last(name):
    from kt_ext.gp import ACQUISITIONS, acquisition

    mean, std = np.array([0.2, 0.5, -0.3, 0.9]), np.array([0.3, 0.1, 0.6, 0.2])
    acq = acquisition(name, mean, std, 1.0, 0.4)
    weigh = ACQUISITIONS[name].weigh
    sure = weigh(acq, np.ones(4))
    assert list(np.argsort(sure)) == list(np.argsort(acq))
    risky = weigh(acq, np.array([1.0, 1.0, 1.0, 1e-6]))  # the best candidate will likely fail
    assert np.argmax(risky) != 3
    assert risky[3] <= np.sort(risky)[1]  # at most the worst candidate ranks below it

"""GP posterior and hyperparameter fit against hand-computed numbers and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize

from kt_ext.gp import (
    GaussianProcess,
    GPParams,
    cholesky,
    fit_params,
    neg_log_posterior,
    squared_differences,
)

K1 = 0.5239941  # Matérn-5/2 at r = 1


def unit_gp(noise: float = 0.01) -> GaussianProcess:
    """One observation y = 1 at x = 0, amplitude 1, length scale 1."""
    return GaussianProcess(np.array([[0.0]]), np.array([1.0]), GPParams(1.0, np.ones(1), noise))


def test_posterior_one_point_by_hand() -> None:
    gp = unit_gp()
    mean, std = gp.predict(np.array([[0.0], [1.0]]))
    # μ(x) = k(x, 0) · 1 / (1 + 0.01); σ²(x) = 1 - k(x, 0)² / 1.01
    np.testing.assert_allclose(mean, [1 / 1.01, K1 / 1.01], rtol=1e-6)
    np.testing.assert_allclose(
        std, [math.sqrt(1 - 1 / 1.01), math.sqrt(1 - K1**2 / 1.01)], rtol=1e-6
    )


def test_far_from_data_the_prior_returns() -> None:
    mean, std = unit_gp().predict(np.array([[50.0]]))
    assert abs(mean[0]) < 1e-9 and math.isclose(std[0], 1.0, rel_tol=1e-9)


def test_predict_with_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((12, 3))
    gp = GaussianProcess(
        x, np.sin(5 * x[:, 0]) + x[:, 1], GPParams(1.5, np.array([0.3, 0.7, 2.0]), 1e-3)
    )
    xs = rng.random((4, 3))
    mean, std, d_mean, d_std = gp.predict_with_gradient(xs)
    mean2, std2 = gp.predict(xs)
    np.testing.assert_allclose(mean, mean2)
    np.testing.assert_allclose(std, std2)
    eps = 1e-6
    for d in range(3):
        step = np.zeros(3)
        step[d] = eps
        (mp, sp), (mm, sm) = gp.predict(xs + step), gp.predict(xs - step)
        np.testing.assert_allclose(d_mean[:, d], (mp - mm) / (2 * eps), rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(d_std[:, d], (sp - sm) / (2 * eps), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("sparse", [False, True])
def test_neg_log_posterior_gradient_matches_finite_differences(sparse: bool) -> None:
    rng = np.random.default_rng(1)
    x = rng.random((20, 3))
    y = np.sin(6 * x[:, 0]) + x[:, 1] ** 2
    y = (y - y.mean()) / y.std()
    sq = squared_differences(x, x)
    theta = np.array([0.1, -1.0, 0.2, 0.5, -3.0])
    _, grad = neg_log_posterior(theta, sq, y, sparse)
    numeric = scipy.optimize.approx_fprime(
        theta, lambda t: neg_log_posterior(t, sq, y, sparse)[0], 1e-6
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-4)


def test_with_few_points_the_sparse_prior_switches_off_the_dimensions_not_needed() -> None:
    """8 points in 6 dimensions, one of which matters: the centred prior keeps the other five
    near its mode (in the model); the sparse one sends them to long length scales."""
    rng = np.random.default_rng(4)
    x = rng.random((8, 6))
    y = np.sin(3 * x[:, 0])
    y = (y - y.mean()) / y.std()
    centred = fit_params(x, y, np.random.default_rng(0), restarts=4)
    sparse = fit_params(x, y, np.random.default_rng(0), restarts=4, sparse=True)
    assert np.min(sparse.lengthscales[1:]) > 10 * sparse.lengthscales[0]
    assert np.min(sparse.lengthscales[1:]) > 3 * np.max(centred.lengthscales[1:])


def test_fit_finds_the_relevant_dimension_and_the_noise() -> None:
    rng = np.random.default_rng(2)
    x = rng.random((30, 2))
    clean = np.sin(6 * x[:, 0])  # depends on dimension 0 only
    standardise = lambda v: (v - v.mean()) / v.std()  # noqa: E731
    params = fit_params(x, standardise(clean), rng)
    assert params.lengthscales[1] > 5 * params.lengthscales[0]
    noisy = fit_params(x, standardise(clean + rng.normal(0, 0.5, 30)), rng)
    assert noisy.noise > 10 * params.noise


def test_fit_warm_start_from_the_optimum_stays_there() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((15, 2))
    y = np.cos(4 * x[:, 0]) * x[:, 1]
    y = (y - y.mean()) / y.std()
    first = fit_params(x, y, np.random.default_rng(0), restarts=3)
    again = fit_params(x, y, np.random.default_rng(1), warm_start=first, restarts=0)
    sq = squared_differences(x, x)
    assert (
        neg_log_posterior(again.to_vector(), sq, y)[0]
        <= neg_log_posterior(first.to_vector(), sq, y)[0] + 1e-6
    )


def test_params_vector_round_trip() -> None:
    params = GPParams(2.0, np.array([0.5, 3.0]), 1e-4)
    back = GPParams.from_vector(params.to_vector())
    assert math.isclose(back.amplitude, 2.0) and math.isclose(back.noise, 1e-4)
    np.testing.assert_allclose(back.lengthscales, [0.5, 3.0])


def test_cholesky_adds_jitter_to_a_singular_matrix() -> None:
    singular = np.ones((3, 3))  # rank 1
    chol = cholesky(singular)
    np.testing.assert_allclose(chol @ chol.T, singular, atol=1e-6)
    with pytest.raises(np.linalg.LinAlgError):
        cholesky(-np.eye(2))


def test_log_posterior_is_what_the_fit_minimises_negated() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(size=(15, 2))
    y = np.sin(4.0 * x[:, 0]) + 0.1 * rng.normal(size=15)
    params = fit_params(x, y, rng)
    value, _ = neg_log_posterior(params.to_vector(), squared_differences(x, x), y)
    assert GaussianProcess(x, y, params).log_posterior() == pytest.approx(-value, rel=1e-9)

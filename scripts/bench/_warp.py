"""The shipped GP on inputs warped by Kumaraswamy CDFs (an ablation in ``oracles.py``).

Each feature ``u ∈ [0, 1]`` enters the Matérn-5/2 kernel as
``w(u) = 1 - (1 - u^a)^b`` (Snoek et al., ICML 2014, with the Kumaraswamy CDF
in the Beta CDF's place as BoTorch's ``Warp`` and HEBO do), one ``(a, b)``
per feature, so the GP can be non-stationary along a range: ``a < 1``
stretches the low end (a function that moves fast near the lower bound and
slowly elsewhere), ``b < 1`` the high end. ``a = b = 1`` is the identity,
the shipped GP. ``log a`` and ``log b`` are fitted together with the kernel's
hyperparameters by MAP under normal priors centred on the identity
(BoTorch's ``LogNormal(0, 0.75)``); a one-hot column, at 0 or 1, is (to
within ``ε``) a fixed point of every warp and leaves its warp near the prior.
Inputs are squeezed into ``[ε, 1 - ε]`` first so that the warp's slope stays
finite at the bounds.
"""

from __future__ import annotations

import math

import numpy as np

from kt_ext.gp import GaussianProcess, GPParams
from kt_ext.gp._gp import _bounds, _log_prior, best_of, log_likelihood
from kt_ext.gp._kernel import squared_differences

EPS = 1e-6
# log a, log b ~ N(0, variance), within bounds.
LOG_WARP_PRIOR_VARIANCE = 0.75
LOG_WARP_BOUNDS = (math.log(0.1), math.log(10.0))


def warp(u: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``w(u)`` per column."""
    v = EPS + (1.0 - 2.0 * EPS) * np.clip(u, 0.0, 1.0)
    return 1.0 - (1.0 - v**a) ** b


def warp_slope(u: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``∂w/∂u`` per column."""
    v = EPS + (1.0 - 2.0 * EPS) * np.clip(u, 0.0, 1.0)
    va = v**a
    return (1.0 - 2.0 * EPS) * a * b * va / v * (1.0 - va) ** (b - 1.0)


def _warp_parameter_slopes(
    u: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``∂w/∂log a`` and ``∂w/∂log b`` per entry."""
    v = EPS + (1.0 - 2.0 * EPS) * np.clip(u, 0.0, 1.0)
    va = v**a
    one_minus = 1.0 - va
    d_log_a = a * b * one_minus ** (b - 1.0) * va * np.log(v)
    d_log_b = -b * one_minus**b * np.log(one_minus)
    return d_log_a, d_log_b


def _split(theta: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernel's ``θ``, ``a`` and ``b`` from the joint vector."""
    gp_theta = theta[: dim + 2]
    return gp_theta, np.exp(theta[dim + 2 : 2 * dim + 2]), np.exp(theta[2 * dim + 2 :])


def neg_log_posterior(
    theta: np.ndarray, x: np.ndarray, y: np.ndarray, variance: float = LOG_WARP_PRIOR_VARIANCE
) -> tuple[float, np.ndarray]:
    """The shipped GP's negative log posterior on warped inputs, with the warps' priors.

    ``θ = (log σ_f², log ℓ_1..D, log σ_n², log a_1..D, log b_1..D)``. The
    gradient in an input ``x'_id`` is ``Σ_j W_ij ∂K_ij/∂x'_id`` with
    ``W = α αᵀ - K⁻¹`` (both copies of the symmetric entry), chained through
    the warp's slopes in ``log a`` and ``log b``.
    """
    dim = x.shape[1]
    gp_theta, a, b = _split(theta, dim)
    xw = warp(x, a, b)
    inv_ls2 = np.exp(-2.0 * gp_theta[1:-1])
    mll, kernel_grad, _, wg = log_likelihood(gp_theta, squared_differences(xw, xw), y)
    grad = np.concatenate([kernel_grad, np.empty(2 * dim)])
    # ∂K_ij/∂x'_id = -σ_f² g(r_ij) (x'_id - x'_jd) / ℓ_d²
    d_x = -(wg.sum(axis=1)[:, None] * xw - wg @ xw) * inv_ls2  # (n, D)
    d_log_a, d_log_b = _warp_parameter_slopes(x, a, b)
    grad[dim + 2 : 2 * dim + 2] = np.sum(d_x * d_log_a, axis=0)
    grad[2 * dim + 2 :] = np.sum(d_x * d_log_b, axis=0)
    log_prior, grad_prior = _log_prior(gp_theta)
    warps = theta[dim + 2 :]
    log_prior -= 0.5 * float(np.sum(warps**2)) / variance
    grad_prior = np.concatenate([grad_prior, -warps / variance])
    return float(-(mll + log_prior)), -(grad + grad_prior)


def fit_warped(
    x: np.ndarray, y: np.ndarray, params: GPParams, variance: float = LOG_WARP_PRIOR_VARIANCE
) -> WarpedGP:
    """The warps and the kernel by MAP, started from the shipped fit and identity warps.

    ``variance`` is the variance of the normal prior on each ``log a`` and ``log b``.
    """
    dim = x.shape[1]
    start = np.concatenate([params.to_vector(), np.zeros(2 * dim)])
    bounds = [*_bounds(dim), *([LOG_WARP_BOUNDS] * (2 * dim))]
    theta = best_of([start], (x, y, variance), bounds, neg_log_posterior)
    gp_theta, a, b = _split(theta, dim)
    return WarpedGP(x, y, GPParams.from_vector(gp_theta), a, b)


class WarpedGP:
    """The shipped GP on warped inputs, with the shipped GP's interface.

    Args:
        x: Features ``(n, D)`` in ``[0, 1]``.
        y: Standardised outputs ``(n,)``.
        params: The kernel's hyperparameters.
        a: The warps' first shape parameters ``(D,)``.
        b: Their second ``(D,)``.
    """

    def __init__(
        self, x: np.ndarray, y: np.ndarray, params: GPParams, a: np.ndarray, b: np.ndarray
    ) -> None:
        self.x, self.a, self.b = np.asarray(x, dtype=float), a, b
        self.gp = GaussianProcess(warp(self.x, a, b), y, params)
        self.y, self.params = self.gp.y, params

    def log_posterior(self) -> float:
        """The kernel's log posterior on the warped inputs (the warps' prior left out)."""
        return self.gp.log_posterior()

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at ``xs`` ``(m, D)``."""
        return self.gp.predict(warp(np.asarray(xs, dtype=float), self.a, self.b))

    def predict_with_gradient(
        self, xs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, standard deviation and their gradients in ``xs`` (chained through the warps)."""
        xs = np.asarray(xs, dtype=float)
        mean, std, d_mean, d_std = self.gp.predict_with_gradient(warp(xs, self.a, self.b))
        slope = warp_slope(xs, self.a, self.b)
        return mean, std, d_mean * slope, d_std * slope

    def condition_on(self, xs: np.ndarray, ys: np.ndarray) -> WarpedGP:
        """The same model with extra observations (kriging-believer fantasies)."""
        x = np.vstack([self.x, xs])
        return WarpedGP(x, np.concatenate([self.y, ys]), self.params, self.a, self.b)

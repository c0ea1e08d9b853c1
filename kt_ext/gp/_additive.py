"""An additive Gaussian process (an ablation to measure: ``output_warping=auto_addfew``).

The kernel is the mean of one Matérn-5/2 per feature column,
``k(x, x') = σ_f² / D · Σ_d m(|x_d - x'_d| / ℓ_d)``, so each hyperparameter's
effect is learnt on its own, as a random forest splits on one hyperparameter at
a time and TPE models each one apart (Duvenaud et al., "Additive Gaussian
Processes", NeurIPS 2011, first order). Everything else follows
:mod:`kt_ext.gp._gp`: outputs standardised, MAP hyperparameters by L-BFGS-B
with the analytic gradient, the same log-normal priors on amplitude and noise,
and the same length-scale penalty, centred at ``ℓ₀`` of one dimension (each
term sees one column).

:class:`AdditiveGP` offers what :class:`kt_ext.oracles._ucb.UCBProposer` uses
of :class:`kt_ext.gp.GaussianProcess` (``y``, ``params``, ``predict``,
``predict_with_gradient``, ``condition_on``, ``log_posterior``), so a benchmark
variant can put it in the proposer's place.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import scipy.optimize

from kt_ext.gp import GPParams, prior_lengthscale
from kt_ext.gp._gp import (  # the shipped GP's priors and bounds, so the two differ in kernel only
    _AMPLITUDE_PRIOR,
    _LENGTHSCALE_PENALTY,
    _LOG_AMPLITUDE_BOUNDS,
    _LOG_LENGTHSCALE_BOUNDS,
    _LOG_NOISE_BOUNDS,
    _NOISE_PRIOR,
)

_SQRT5 = math.sqrt(5.0)
_LOG_2PI = math.log(2.0 * math.pi)


def _terms(gaps: np.ndarray, lengthscales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's Matérn-5/2 ``m(r)`` and ``(5/3)(1 + √5 r) e^{-√5 r}``, shapes ``(..., D)``."""
    sr = _SQRT5 * gaps / lengthscales
    e = np.exp(-sr)
    return (1.0 + sr + sr * sr / 3.0) * e, (5.0 / 3.0) * (1.0 + sr) * e


def _neg_log_posterior(
    theta: np.ndarray, gaps: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    n, dim = gaps.shape[0], gaps.shape[-1]
    amplitude, noise, lengthscales = math.exp(theta[0]), math.exp(theta[-1]), np.exp(theta[1:-1])
    m, g = _terms(gaps, lengthscales)
    k = amplitude * m.mean(axis=-1)
    cov = k + (noise + 1e-9) * np.eye(n)
    chol = np.linalg.cholesky(cov)
    inv = scipy.linalg.cho_solve((chol, True), np.eye(n))
    alpha = inv @ y
    w = np.outer(alpha, alpha) - inv
    grad = np.empty(dim + 2)
    grad[0] = 0.5 * np.sum(w * k)
    # ∂K/∂log ℓ_d = σ_f² / D · g(r_d) r_d²
    r2 = (gaps / lengthscales) ** 2
    grad[1:-1] = 0.5 * amplitude / dim * np.einsum("ij,ijd->d", w, g * r2)
    grad[-1] = 0.5 * noise * np.trace(w)
    mll = -0.5 * float(y @ alpha) - float(np.sum(np.log(np.diag(chol)))) - 0.5 * n * _LOG_2PI
    log_ls = theta[1:-1] - math.log(prior_lengthscale(1))
    up, down = np.exp(2.0 * log_ls), np.exp(-2.0 * log_ls)
    prior, grad_prior = 0.0, np.empty(dim + 2)
    for i, (mean, var) in ((0, _AMPLITUDE_PRIOR), (-1, _NOISE_PRIOR)):
        prior -= 0.5 * (theta[i] - mean) ** 2 / var
        grad_prior[i] = -(theta[i] - mean) / var
    prior -= _LENGTHSCALE_PENALTY * float(np.sum(up + down))
    grad_prior[1:-1] = -2.0 * _LENGTHSCALE_PENALTY * (up - down)
    return -(mll + prior), -(grad + grad_prior)


class AdditiveGP:
    """Posterior of the additive model; hyperparameters fitted unless ``params`` is given.

    Args:
        x: Features ``(n, D)``.
        y: Standardised outputs ``(n,)``.
        params: Hyperparameters to use as they are (``None``: fit them).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, params: GPParams | None = None) -> None:
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        gaps = np.abs(self.x[:, None, :] - self.x[None, :, :])
        if params is None:
            dim = self.x.shape[1]
            centre = math.log(prior_lengthscale(1))
            start = np.array([_AMPLITUDE_PRIOR[0], *([centre] * dim), _NOISE_PRIOR[0]])
            bounds = [_LOG_AMPLITUDE_BOUNDS, *([_LOG_LENGTHSCALE_BOUNDS] * dim), _LOG_NOISE_BOUNDS]
            result = scipy.optimize.minimize(
                _neg_log_posterior, start, args=(gaps, self.y), jac=True, method="L-BFGS-B",
                bounds=bounds, options={"maxiter": 200},
            )  # fmt: skip
            params = GPParams.from_vector(result.x)
            self._value = float(result.fun)
        else:
            self._value = _neg_log_posterior(params.to_vector(), gaps, self.y)[0]
        self.params = params
        cov = self._kernel(gaps) + (params.noise + 1e-9) * np.eye(len(self.y))
        self._chol = np.linalg.cholesky(cov)
        self._alpha = scipy.linalg.cho_solve((self._chol, True), self.y)

    def _kernel(self, gaps: np.ndarray) -> np.ndarray:
        return self.params.amplitude * _terms(gaps, self.params.lengthscales)[0].mean(axis=-1)

    def log_posterior(self) -> float:
        """Log marginal likelihood plus log prior at the hyperparameters."""
        return -self._value

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at ``xs`` ``(m, D)``."""
        ks = self._kernel(np.abs(np.asarray(xs, float)[:, None, :] - self.x[None, :, :]))
        v = scipy.linalg.solve_triangular(self._chol, ks.T, lower=True)
        var = np.maximum(self.params.amplitude - np.sum(v * v, axis=0), 1e-12)
        return ks @ self._alpha, np.sqrt(var)

    def predict_with_gradient(
        self, xs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, standard deviation and their gradients in ``x*`` (as the shipped GP's)."""
        xs = np.asarray(xs, dtype=float)
        diff = xs[:, None, :] - self.x[None, :, :]  # (m, n, D)
        ls = self.params.lengthscales
        m, g = _terms(np.abs(diff), ls)
        amp_d = self.params.amplitude / xs.shape[1]
        ks = amp_d * m.sum(axis=-1)
        dk = -amp_d * g * diff / ls**2  # ∂k(x*, x_i)/∂x*_d
        k_inv_ks = scipy.linalg.cho_solve((self._chol, True), ks.T)
        var = np.maximum(self.params.amplitude - np.sum(ks.T * k_inv_ks, axis=0), 1e-12)
        std = np.sqrt(var)
        d_mean = np.einsum("mnd,n->md", dk, self._alpha)
        d_std = -np.einsum("mnd,nm->md", dk, k_inv_ks) / std[:, None]
        return ks @ self._alpha, std, d_mean, d_std

    def condition_on(self, xs: np.ndarray, ys: np.ndarray) -> AdditiveGP:
        """The same model with extra observations (the proposer's pending trials)."""
        return AdditiveGP(np.vstack([self.x, xs]), np.concatenate([self.y, ys]), self.params)

"""A GP whose kernel adds a linear trend to the shipped Matérn-5/2 (an ablation in ``oracles.py``).

``k(x, x') = a · Matérn(x, x'; ℓ) + s · (x - c)·(x' - c)`` plus the noise: a
linear prior mean whose coefficients have a Gaussian prior of variance ``s``
(Bayesian universal kriging, R&W section 2.7), so far from the trials the
prediction can follow the data's slope and the posterior σ grows with the
slope's uncertainty. ``a``, ``ℓ`` and the noise are the shipped fit's; only
``log s`` is fitted, by the log marginal likelihood plus a normal prior on it,
so the evidence decides how much trend the data carry (``s`` near 0 is the
shipped GP). ``c`` is the training features' mean, kept when conditioning.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.optimize

from kt_ext.gp import GPParams
from kt_ext.gp._gp import _bounds, _log_prior, best_of, cholesky, log_likelihood
from kt_ext.gp._kernel import matern52, matern52_g, scaled_distance, squared_differences

# log s ~ N(mean, sd²): a weak trend unless the data ask for more.
LOG_S_PRIOR = (-3.0, 2.0)
LOG_S_BOUNDS = (-12.0, 3.0)


def _matern(params: GPParams, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return params.amplitude * matern52(
        scaled_distance(squared_differences(a, b), params.lengthscales)
    )


def _centred_outer(x: np.ndarray) -> np.ndarray:
    """``(x - c)·(x - c)ᵀ`` with ``c`` the mean of ``x``: the trend's kernel on the trials."""
    centred = x - x.mean(axis=0)
    return centred @ centred.T


def fit_trend(
    x: np.ndarray, y: np.ndarray, params: GPParams, outer: np.ndarray | None = None
) -> float:
    """``s``, the trend's variance, by MAP with the kernel's other hyperparameters fixed.

    ``outer`` is :func:`_centred_outer` of ``x`` when the caller has it already.
    """
    base = _matern(params, x, x) + params.noise * np.eye(len(y))
    outer = _centred_outer(x) if outer is None else outer
    mean, sd = LOG_S_PRIOR

    def loss(log_s: float) -> float:
        chol = cholesky(base + np.exp(log_s) * outer)
        alpha = scipy.linalg.cho_solve((chol, True), y, check_finite=False)
        mll = -0.5 * float(y @ alpha) - float(np.sum(np.log(np.diag(chol))))
        return -(mll - 0.5 * ((log_s - mean) / sd) ** 2)

    result = scipy.optimize.minimize_scalar(loss, bounds=LOG_S_BOUNDS, method="bounded")
    return float(np.exp(result.x))


def _neg_log_posterior(
    theta: np.ndarray, sq_diff: np.ndarray, outer: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """The shipped negative log posterior with ``log s`` appended to ``θ``, and its gradient."""
    s = np.exp(theta[-1])
    mll, kernel_grad, w, _ = log_likelihood(theta[:-1], sq_diff, y, extra=s * outer)
    grad = np.append(kernel_grad, 0.5 * s * np.sum(w * outer))
    log_prior, grad_prior = _log_prior(theta[:-1])
    mean, sd = LOG_S_PRIOR
    log_prior -= 0.5 * ((theta[-1] - mean) / sd) ** 2
    grad_prior = np.append(grad_prior, -(theta[-1] - mean) / sd**2)
    return float(-(mll + log_prior)), -(grad + grad_prior)


def fit_joint(x: np.ndarray, y: np.ndarray, params: GPParams) -> tuple[GPParams, float]:
    """All hyperparameters by MAP: the Matérn part, the noise and ``s`` together.

    Started from the shipped fit with ``s`` from :func:`fit_trend`, and from the
    shipped fit with a strong trend (``s = 1``), so the optimiser can find the
    fit in which the trend carries the slope and the Matérn part only the rest.
    """
    outer = _centred_outer(x)
    sq_diff = squared_differences(x, x)
    bounds = [*_bounds(x.shape[1]), LOG_S_BOUNDS]
    base = params.to_vector()
    fitted = np.append(base, np.log(fit_trend(x, y, params, outer)))
    starts = [fitted, np.append(base, 0.0)]
    best = best_of(starts, (sq_diff, outer, y), bounds, _neg_log_posterior)
    return GPParams.from_vector(best[:-1]), float(np.exp(best[-1]))


class TrendGP:
    """Posterior under the Matérn-plus-linear kernel; the shipped GP's interface.

    Args:
        x: Features ``(n, D)``.
        y: Standardised outputs ``(n,)``.
        params: The Matérn part's fitted hyperparameters (and the noise).
        s: The trend's variance.
        centre: ``c``; the mean of ``x`` when ``None``.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        params: GPParams,
        s: float,
        centre: np.ndarray | None = None,
    ) -> None:
        self.x, self.y, self.params, self.s = np.asarray(x, float), np.asarray(y, float), params, s
        self.centre = self.x.mean(axis=0) if centre is None else centre
        self._xc = self.x - self.centre
        k = _matern(params, self.x, self.x) + s * self._xc @ self._xc.T
        self._chol = cholesky(k + params.noise * np.eye(len(self.y)))
        self._alpha = scipy.linalg.cho_solve((self._chol, True), self.y, check_finite=False)

    def _cross(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r = scaled_distance(squared_differences(xs, self.x), self.params.lengthscales)
        xsc = xs - self.centre
        ks = self.params.amplitude * matern52(r) + self.s * xsc @ self._xc.T
        prior = self.params.amplitude + self.s * np.sum(xsc * xsc, axis=1)
        return r, ks, prior

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at ``xs`` ``(m, D)``."""
        _, ks, prior = self._cross(np.asarray(xs, float))
        v = scipy.linalg.solve_triangular(self._chol, ks.T, lower=True, check_finite=False)
        return ks @ self._alpha, np.sqrt(np.maximum(prior - np.sum(v * v, axis=0), 1e-12))

    def predict_with_gradient(
        self, xs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, standard deviation and their gradients in ``xs``."""
        xs = np.asarray(xs, float)
        r, ks, prior = self._cross(xs)
        diff = xs[:, None, :] - self.x[None, :, :]
        slope = -(self.params.amplitude * matern52_g(r))[:, :, None]
        dk = slope * diff / self.params.lengthscales**2
        dk = dk + self.s * self._xc[None, :, :]
        k_inv_ks = scipy.linalg.cho_solve((self._chol, True), ks.T, check_finite=False)
        std = np.sqrt(np.maximum(prior - np.sum(ks.T * k_inv_ks, axis=0), 1e-12))
        d_mean = np.einsum("mnd,n->md", dk, self._alpha)
        d_var = 2.0 * self.s * (xs - self.centre) - 2.0 * np.einsum("mnd,nm->md", dk, k_inv_ks)
        return ks @ self._alpha, std, d_mean, d_var / (2.0 * std[:, None])

    def condition_on(self, xs: np.ndarray, ys: np.ndarray) -> TrendGP:
        """The same model with extra observations (kriging-believer fantasies)."""
        x = np.vstack([self.x, xs])
        return TrendGP(x, np.concatenate([self.y, ys]), self.params, self.s, self.centre)

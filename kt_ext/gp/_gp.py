"""Exact Gaussian-process regression: posterior, and hyperparameters by MAP marginal likelihood.

Model: ``y = f(x) + ε`` with ``f ~ GP(0, σ_f² k(r))`` (Matérn-5/2 ARD, see
:mod:`._kernel`) and ``ε ~ N(0, σ_n²)``, on outputs standardised to mean 0
and variance 1. The free parameters ``θ = (log σ_f², log ℓ_1..D, log σ_n²)``
maximise the log marginal likelihood (R&W eq. 5.8) plus log-normal priors on
each, by L-BFGS-B with the analytic gradient (R&W eq. 5.9)::

    ∂ log p(y|θ) / ∂θ_j = ½ tr((α αᵀ - K⁻¹) ∂K/∂θ_j),   α = K⁻¹ y

Priors (inputs live in ``[0, 1]``): each length scale is penalised by
``0.1 · ((ℓ/ℓ₀)² + (ℓ₀/ℓ)²)`` (the form of Optuna's GPSampler prior on
``ℓ⁻²``), which peaks at ``ℓ₀ = max(1, sqrt(D / 6))`` and keeps few-point fits away from both the
"one dimension explains everything" (tiny ``ℓ``) and "flat, extrapolating"
(huge ``ℓ``) extremes. Measured on our benchmark, the dimension-scaled
log-normal prior of Hvarfner et al. (ICML 2024) extrapolated to the corners
of the cube far too often under UCB. ``log σ_f² ~ N(0, 1)``; the noise prior
``log σ_n² ~ N(-8, 4)`` is wide and low, so the fine structure near an
optimum is not written off as noise (a tighter ``N(-4, 1)`` cost about 3x in
regret at 25 evaluations) while noisy objectives still fit their noise.

``sparse=True`` swaps the length-scale penalty for the sparsity prior of
SAAS (Eriksson and Jankowiak, UAI 2021), used at its MAP: each inverse
squared length scale ``ρ = ℓ⁻²`` is half-Cauchy with scale ``τ = 0.1``,
``log p = -log(1 + ρ²/τ²)``, which costs nothing for a flat dimension
(``ρ → 0``) and a few nats for each one the data use. With fewer trials than
dimensions the centred penalty keeps every dimension at ``ℓ₀`` and so in the
model; the sparse prior switches off those the data do not need. It is for
explaining a fit (:mod:`kt_ext.outputs.importance`), not for searching: a
search wants every dimension kept in play.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.linalg.lapack
import scipy.optimize

from kt_ext.gp._kernel import matern52, matern52_g, scaled_distance, squared_differences
from kt_ext.gp._threads import single_threaded_blas

# Bounds of the log parameters: amplitude σ_f², length scales ℓ, noise σ_n².
_LOG_AMPLITUDE_BOUNDS = (math.log(0.05), math.log(20.0))
_LOG_LENGTHSCALE_BOUNDS = (math.log(1e-2), math.log(1e2))
_LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(1.0))
# Log-normal priors (mean, variance of the log) on the amplitude and the noise.
_AMPLITUDE_PRIOR = (0.0, 1.0)
_NOISE_PRIOR = (-8.0, 4.0)
# Weight of the length-scale penalty c · (ℓ² + ℓ⁻²).
_LENGTHSCALE_PENALTY = 0.1
# Scale τ of the sparse (SAAS) prior's half-Cauchy on ρ = ℓ⁻².
_SPARSE_SCALE = 0.1
_LOG_2PI = math.log(2.0 * math.pi)
_SQRT5 = math.sqrt(5.0)


@dataclass(frozen=True)
class GPParams:
    """Kernel hyperparameters, on standardised outputs.

    Attributes:
        amplitude: Signal variance ``σ_f²``.
        lengthscales: One length scale per input dimension, shape ``(D,)``.
        noise: Observation-noise variance ``σ_n²``.
    """

    amplitude: float
    lengthscales: np.ndarray
    noise: float

    def to_vector(self) -> np.ndarray:
        """``θ = (log σ_f², log ℓ_1..D, log σ_n²)``, shape ``(D + 2,)``."""
        return np.concatenate(
            [[math.log(self.amplitude)], np.log(self.lengthscales), [math.log(self.noise)]]
        )

    @classmethod
    def from_vector(cls, theta: np.ndarray) -> GPParams:
        """Inverse of :meth:`to_vector`."""
        theta = np.asarray(theta, dtype=float)
        return cls(float(np.exp(theta[0])), np.exp(theta[1:-1]), float(np.exp(theta[-1])))


def cholesky(matrix: np.ndarray, max_tries: int = 6) -> np.ndarray:
    """Lower Cholesky factor, adding growing diagonal jitter if ``matrix`` is not numerically PD.

    Args:
        matrix: Symmetric matrix, shape ``(n, n)``.
        max_tries: Attempts; jitter starts at ``1e-9 · mean(diag)`` and grows 10x.

    Returns:
        ``L`` with ``L Lᵀ ≈ matrix``.

    Raises:
        numpy.linalg.LinAlgError: Still not PD after the last attempt.
    """
    jitter = 0.0
    scale = float(np.mean(np.diag(matrix))) if matrix.size else 1.0
    for attempt in range(max_tries):
        shifted = matrix if jitter == 0.0 else matrix + jitter * np.eye(len(matrix))
        chol, info = scipy.linalg.lapack.dpotrf(shifted, lower=True, clean=True)
        if info == 0:
            return chol
        jitter = scale * 1e-9 * 10.0**attempt
    raise np.linalg.LinAlgError(f"matrix not positive definite even with jitter {jitter:g}")


def _inverse_from_cholesky(chol: np.ndarray) -> np.ndarray:
    """``K⁻¹`` from the lower Cholesky factor of ``K`` (LAPACK ``potri``), symmetric."""
    inv, info = scipy.linalg.lapack.dpotri(chol, lower=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"potri failed with info={info}")
    return np.tril(inv) + np.tril(inv, -1).T


def _log_prior(theta: np.ndarray, sparse: bool = False) -> tuple[float, np.ndarray]:
    """Log prior density of ``θ`` (up to a constant) and its gradient; see the module docstring."""
    grad = np.empty_like(theta)
    value = 0.0
    for i, (mean, var) in ((0, _AMPLITUDE_PRIOR), (-1, _NOISE_PRIOR)):
        value -= 0.5 * (theta[i] - mean) ** 2 / var
        grad[i] = -(theta[i] - mean) / var
    if sparse:  # -log(1 + q), q = ρ²/τ² with ρ = e^(-2 log ℓ): dq/dθ = -4q
        q = np.exp(-4.0 * theta[1:-1]) / _SPARSE_SCALE**2
        value -= float(np.sum(np.log1p(q)))
        grad[1:-1] = 4.0 * q / (1.0 + q)
        return value, grad
    centre = _log_centre(len(theta) - 2)
    up, down = np.exp(2.0 * (theta[1:-1] - centre)), np.exp(-2.0 * (theta[1:-1] - centre))
    value -= _LENGTHSCALE_PENALTY * float(np.sum(up + down))
    grad[1:-1] = -2.0 * _LENGTHSCALE_PENALTY * (up - down)
    return value, grad


def _log_centre(dim: int) -> float:
    """``log ℓ₀``: the length-scale prior's mode, ``max(1, sqrt(D / 6))``.

    ``sqrt(D / 6)`` is the root-mean-square distance between two uniform
    points of ``[0, 1]^D``: in a many-dimensional space (one-hot choices
    included) the few trials are far apart, and a prior at ``ℓ = 1`` would
    make the GP forget them between trials.
    """
    return 0.5 * math.log(max(1.0, dim / 6.0))


def prior_lengthscale(dim: int) -> float:
    """``ℓ₀``, the length-scale prior's mode in ``dim`` input dimensions (see :func:`_log_centre`).

    A fitted length scale well below ``ℓ₀`` marks a dimension the data say
    matters; one near or above it, a dimension the model found flat.
    """
    return math.exp(_log_centre(dim))


def _start(dim: int) -> np.ndarray:
    """The prior's mode: ``σ_f² = 1``, ``ℓ = ℓ₀``, ``σ_n² = e⁻⁸``."""
    return np.array([_AMPLITUDE_PRIOR[0], *([_log_centre(dim)] * dim), _NOISE_PRIOR[0]])


def _bounds(dim: int) -> list[tuple[float, float]]:
    return [_LOG_AMPLITUDE_BOUNDS, *([_LOG_LENGTHSCALE_BOUNDS] * dim), _LOG_NOISE_BOUNDS]


def neg_log_posterior(
    theta: np.ndarray, sq_diff: np.ndarray, y: np.ndarray, sparse: bool = False
) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood plus negative log prior, and its gradient in ``θ``.

    Args:
        theta: ``(log σ_f², log ℓ_1..D, log σ_n²)``, shape ``(D + 2,)``.
        sq_diff: Pairwise squared differences of the inputs, shape ``(n, n, D)``.
        y: Standardised outputs, shape ``(n,)``.
        sparse: The sparse length-scale prior instead of the centred one.

    Returns:
        The value and the gradient, shape ``(D + 2,)``.
    """
    mll, grad, _, _ = log_likelihood(theta, sq_diff, y)
    mll -= 0.5 * len(y) * _LOG_2PI
    log_prior, grad_prior = _log_prior(theta, sparse)
    return float(-(mll + log_prior)), -(grad + grad_prior)


def log_likelihood(
    theta: np.ndarray, sq_diff: np.ndarray, y: np.ndarray, extra: np.ndarray | None = None
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The log marginal likelihood less ``n/2 log 2π``, its gradient in ``θ``, and weights.

    The one place the Matérn-5/2 likelihood and its gradient are written; the
    benchmark's ablations that fit more than ``θ`` (a linear trend, input
    warps: ``scripts/bench/_trend.py``, ``_warp.py``) chain the returned
    weights into their own parameters' gradients.

    Args:
        theta: ``(log σ_f², log ℓ_1..D, log σ_n²)``, shape ``(D + 2,)``.
        sq_diff: Pairwise squared differences of the inputs, shape ``(n, n, D)``.
        y: Standardised outputs, shape ``(n,)``.
        extra: A covariance ``(n, n)`` added to the kernel's, or ``None``.

    Returns:
        The value; its gradient in ``θ``, shape ``(D + 2,)``; ``W = α αᵀ - K⁻¹``
        (``½ tr(W ∂K/∂φ)`` is the gradient in any parameter ``φ`` of ``extra``);
        and ``W ∘ σ_f² g(r)`` with ``g = -k'(r)/r``, whose sums give the
        gradient in the inputs.
    """
    n, dim = len(y), sq_diff.shape[-1]
    amplitude, noise = math.exp(theta[0]), math.exp(theta[-1])
    inv_ls2 = np.exp(-2.0 * theta[1:-1])
    flat = sq_diff.reshape(n * n, dim)
    r = np.sqrt(np.maximum(flat @ inv_ls2, 0.0)).reshape(n, n)
    sr = _SQRT5 * r
    e = np.exp(-sr)
    k = (1.0 + sr + sr * sr / 3.0) * e
    cov = amplitude * k
    if extra is not None:
        cov = cov + extra
    cov[np.diag_indices(n)] += noise
    chol = cholesky(cov)
    k_inv = _inverse_from_cholesky(chol)
    alpha = k_inv @ y
    w = np.outer(alpha, alpha) - k_inv  # (n, n)
    grad = np.empty(dim + 2)
    grad[0] = 0.5 * amplitude * np.sum(w * k)
    wg = w * (amplitude * (5.0 / 3.0) * (1.0 + sr) * e)  # W ∘ σ_f² g(r)
    grad[1:-1] = 0.5 * (wg.ravel() @ flat) * inv_ls2
    grad[-1] = 0.5 * noise * np.trace(w)
    mll = -0.5 * y @ alpha - np.sum(np.log(np.diag(chol)))
    return float(mll), grad, w, wg


def fit_params(
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    warm_start: GPParams | None = None,
    restarts: int = 2,
    sparse: bool = False,
) -> GPParams:
    """MAP kernel hyperparameters by L-BFGS-B from the warm start and ``restarts`` prior draws.

    Args:
        x: Inputs, shape ``(n, D)``.
        y: Standardised outputs, shape ``(n,)``.
        rng: Source of the random restarts.
        warm_start: Previous fit (used if its dimension matches ``D``).
        restarts: Extra starting points drawn from the prior.
        sparse: The sparse length-scale prior (see the module docstring).

    Returns:
        The best parameters found.
    """
    dim = x.shape[1]
    sq_diff = squared_differences(x, x)
    bounds = _bounds(dim)
    lower, upper = np.array(bounds).T
    starts = [_start(dim)]
    if warm_start is not None and len(warm_start.lengthscales) == dim:
        starts[0] = np.clip(warm_start.to_vector(), lower, upper)
    for _ in range(restarts):  # around the prior's mode, one unit of log scale wide
        starts.append(np.clip(_start(dim) + rng.normal(0.0, 1.0, dim + 2), lower, upper))
    with single_threaded_blas():
        best_theta = best_of(starts, (sq_diff, y, sparse), bounds)
    return GPParams.from_vector(best_theta)


def best_of(
    starts: list[np.ndarray],
    args: tuple,
    bounds: list[tuple[float, float]],
    objective: Callable[..., tuple[float, np.ndarray]] = neg_log_posterior,
) -> np.ndarray:
    """The L-BFGS-B result with the lowest ``objective`` (value and gradient) over ``starts``.

    A start whose Cholesky factorisation fails is skipped; with no finite
    result the first start is returned.
    """
    best_theta, best_value = starts[0], math.inf
    for start in starts:
        try:
            result = scipy.optimize.minimize(
                objective,
                start,
                args=args,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": 200, "ftol": 1e-6, "gtol": 1e-4},
            )
        except np.linalg.LinAlgError:
            continue
        if np.isfinite(result.fun) and result.fun < best_value:
            best_theta, best_value = result.x, float(result.fun)
    return best_theta


class GaussianProcess:
    """Posterior of the latent ``f`` given standardised data and fixed hyperparameters.

    Args:
        x: Inputs, shape ``(n, D)``.
        y: Standardised outputs, shape ``(n,)``.
        params: Kernel hyperparameters.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, params: GPParams) -> None:
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.params = params
        n = len(self.y)
        k = params.amplitude * matern52(
            scaled_distance(squared_differences(self.x, self.x), params.lengthscales)
        )
        self._chol = cholesky(k + params.noise * np.eye(n))
        self._alpha = scipy.linalg.cho_solve((self._chol, True), self.y, check_finite=False)
        self._x_scaled = self.x / params.lengthscales
        self._x_sq = np.sum(self._x_scaled**2, axis=1)

    def log_posterior(self) -> float:
        """Log marginal likelihood of ``y`` plus the log prior of the hyperparameters.

        What :func:`fit_params` maximises (up to a constant), from the
        Cholesky factor the posterior needs anyway.
        """
        n = len(self.y)
        mll = -0.5 * float(self.y @ self._alpha) - float(np.sum(np.log(np.diag(self._chol))))
        return mll - 0.5 * n * _LOG_2PI + _log_prior(self.params.to_vector())[0]

    def _cross(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``r`` and ``k(x*, X)`` for query points ``(m, D)``; both ``(m, n)``.

        ``r² = |a|² + |b|² - 2 a·b`` on inputs divided by the length scales:
        one matrix product instead of an ``(m, n, D)`` array of differences.
        """
        a = xs / self.params.lengthscales
        b = self._x_scaled
        r2 = np.sum(a * a, axis=1)[:, None] + self._x_sq[None, :] - 2.0 * (a @ b.T)
        r = np.sqrt(np.maximum(r2, 0.0))
        return r, self.params.amplitude * matern52(r)

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of ``f`` at ``xs`` ``(m, D)``; each ``(m,)``."""
        _, ks = self._cross(np.asarray(xs, dtype=float))
        mean = ks @ self._alpha
        v = scipy.linalg.solve_triangular(self._chol, ks.T, lower=True, check_finite=False)
        var = np.maximum(self.params.amplitude - np.sum(v * v, axis=0), 1e-12)
        return mean, np.sqrt(var)

    def predict_with_gradient(
        self, xs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, standard deviation and their gradients in ``x*``.

        Uses ``∇μ = (∂k*/∂x*)ᵀ α`` and ``∇σ = -(K⁻¹ k*)ᵀ (∂k*/∂x*) / σ``.

        Args:
            xs: Query points, shape ``(m, D)``.

        Returns:
            ``mean (m,)``, ``std (m,)``, ``d_mean (m, D)``, ``d_std (m, D)``.
        """
        xs = np.asarray(xs, dtype=float)
        r, ks = self._cross(xs)
        diff = xs[:, None, :] - self.x[None, :, :]  # (m, n, D)
        dk = (
            -(self.params.amplitude * matern52_g(r))[:, :, None]
            * diff
            / self.params.lengthscales**2
        )
        mean = ks @ self._alpha
        k_inv_ks = scipy.linalg.cho_solve((self._chol, True), ks.T, check_finite=False)  # (n, m)
        var = np.maximum(self.params.amplitude - np.sum(ks.T * k_inv_ks, axis=0), 1e-12)
        std = np.sqrt(var)
        d_mean = np.einsum("mnd,n->md", dk, self._alpha)
        d_std = -np.einsum("mnd,nm->md", dk, k_inv_ks) / std[:, None]
        return mean, std, d_mean, d_std

    def condition_on(self, xs: np.ndarray, ys: np.ndarray) -> GaussianProcess:
        """The same model with extra observations (e.g. kriging-believer fantasies)."""
        return GaussianProcess(np.vstack([self.x, xs]), np.concatenate([self.y, ys]), self.params)

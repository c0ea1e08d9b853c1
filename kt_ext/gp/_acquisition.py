"""Acquisition functions (UCB, expected improvement, log EI) and UCB's exploration schedule.

Everything here *maximises*: callers minimising an objective negate it first
(the oracle does), so that a high acquisition value always means "try here".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import erfcx, log_ndtr, ndtr

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_HALF_PI = math.sqrt(math.pi / 2.0)


def ucb(mean: np.ndarray, std: np.ndarray, beta: float) -> np.ndarray:
    """Upper confidence bound ``α(x) = μ(x) + β · σ(x)``.

    The objective is maximised: a large posterior mean ``μ`` (exploitation)
    or a large posterior standard deviation ``σ`` (exploration) both raise
    ``α``; ``β >= 0`` trades one against the other. For a minimised
    objective ``f``, pass the moments of ``-f``: ``α = -μ_f + β · σ_f``,
    i.e. the lower confidence bound of ``f`` with its sign flipped.

    Args:
        mean: Posterior means ``μ``, shape ``(m,)``.
        std: Posterior standard deviations ``σ >= 0``, shape ``(m,)``.
        beta: Exploration weight ``β`` (a multiplier of ``σ``, not of ``σ²``).

    Returns:
        ``α``, shape ``(m,)``.
    """
    return mean + beta * std


def ucb_gradient(d_mean: np.ndarray, d_std: np.ndarray, beta: float) -> np.ndarray:
    """``∇α = ∇μ + β ∇σ`` for gradients of shape ``(m, D)``."""
    return d_mean + beta * d_std


def srinivas_beta(t: int, dim: int, delta: float = 0.1) -> float:
    """Exploration weight from GP-UCB's regret bound for finite spaces.

    Srinivas et al., "Gaussian Process Optimization in the Bandit Setting"
    (ICML 2010), Theorem 1 uses ``β_t = 2 log(|D| t² π² / (6 δ))`` as a
    multiplier of ``σ²``; we take ``|D|`` to be the number of input
    dimensions (their continuous-space variant scales the same way) and return
    the multiplier of ``σ``, ``sqrt(β_t)``, which grows like ``sqrt(log t)``.

    Args:
        t: Iteration, ``>= 1`` (number of observations plus one).
        dim: Input dimension, ``>= 1``.
        delta: Failure probability of the bound, in ``(0, 1)``.

    Returns:
        ``sqrt(2 log(dim · t² · π² / (6 δ)))``.
    """
    if t < 1:
        raise ValueError(f"The value of `t` is {t}, but must be >= 1.")
    if not 0.0 < delta < 1.0:
        raise ValueError(f"The value of `delta` is {delta}, but must be in (0, 1).")
    return math.sqrt(2.0 * math.log(max(dim, 1) * t * t * math.pi**2 / (6.0 * delta)))


def _z(
    mean: np.ndarray, std: np.ndarray, best: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    sigma = np.maximum(std, 1e-12)
    return (mean - best) / sigma, sigma


def _h_over_phi(z: np.ndarray) -> np.ndarray:
    """``h(z) / φ(z)`` with ``h(z) = φ(z) + z Φ(z)``: ``1 + z · Φ(z)/φ(z)``, computed stably.

    ``Φ(z)/φ(z) = sqrt(π/2) · erfcx(-z/√2)``; for very negative ``z`` the
    sum cancels and the asymptotic ``1/z² - 3/z⁴`` takes over.
    """
    z = np.asarray(z, dtype=float)
    out = 1.0 + z * _SQRT_HALF_PI * erfcx(-z / math.sqrt(2.0))
    far = z < -1e3
    if far.any():
        zf = z[far]
        out[far] = (1.0 - 3.0 / zf**2) / zf**2
    return out


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float | np.ndarray) -> np.ndarray:
    """``EI(x) = E[max(g(x) - best, 0)] = σ (φ(z) + z Φ(z))``, ``z = (μ - best) / σ``.

    Maximised objective ``g``; ``best`` is the best value observed (one for
    all candidates or one per candidate, as for :func:`log_expected_improvement`).
    """
    z, sigma = _z(mean, std, best)
    return sigma * np.exp(-0.5 * z**2 - _LOG_SQRT_2PI) * _h_over_phi(z)


def log_expected_improvement(
    mean: np.ndarray, std: np.ndarray, best: float | np.ndarray
) -> np.ndarray:
    """``log EI(x)``, finite even where EI underflows to 0 (Ament et al., NeurIPS 2023).

    ``best`` is the incumbent, one for all candidates or one per candidate
    (the hypervolume's boxes pass theirs).

    ``log EI = log σ + log φ(z) + log(h(z)/φ(z))``, with the last term from
    :func:`_h_over_phi`, so far below the incumbent the value keeps ranking
    candidates instead of being a flat 0.
    """
    z, sigma = _z(mean, std, best)
    positive = z > 0  # h/φ > 1: no cancellation, but exp(-z²/2) may underflow the other way
    out = np.empty_like(z)
    zp = z[positive]
    out[positive] = np.log(zp * ndtr(zp) + np.exp(-0.5 * zp**2 - _LOG_SQRT_2PI))
    zn = z[~positive]
    out[~positive] = -0.5 * zn**2 - _LOG_SQRT_2PI + np.log(_h_over_phi(zn))
    return np.log(sigma) + out


def _ei_gradient(
    mean: np.ndarray, std: np.ndarray, d_mean: np.ndarray, d_std: np.ndarray, best: float
) -> np.ndarray:
    """``∇EI = Φ(z) ∇μ + φ(z) ∇σ``."""
    z, _ = _z(mean, std, best)
    return ndtr(z)[:, None] * d_mean + np.exp(-0.5 * z**2 - _LOG_SQRT_2PI)[:, None] * d_std


def _log_ei_gradient(
    mean: np.ndarray, std: np.ndarray, d_mean: np.ndarray, d_std: np.ndarray, best: float
) -> np.ndarray:
    """``∇ log EI = ∇EI / EI``, with ratios that stay finite where EI underflows."""
    z, sigma = _z(mean, std, best)
    # Φ/EI and φ/EI with EI = σ φ (h/φ).
    ratio = _h_over_phi(z)
    phi_over_ei = 1.0 / (sigma * ratio)
    big_phi_over_ei = np.exp(log_ndtr(z) + 0.5 * z**2 + _LOG_SQRT_2PI) / (sigma * ratio)
    return big_phi_over_ei[:, None] * d_mean + phi_over_ei[:, None] * d_std


@dataclass(frozen=True)
class Acquisition:
    """One acquisition function: value, gradient, value in the objective's units, weighting.

    All three take the moments of the *standardised* maximised objective.

    Attributes:
        value: ``(mean, std, beta, best) -> α``, shapes ``(m,)``.
        gradient: ``(mean, std, d_mean, d_std, beta, best) -> ∇α``, ``(m, D)``.
        in_units: ``(α, g_mean, g_scale) -> α`` in the objective's units, for
            the proposal's log (UCB is a value of the objective, EI an amount
            of it, log EI the log of an amount).
        weigh: ``(α, p) -> α'``: the acquisition of ``m`` candidates weighted by
            their probability ``p`` of not failing (:mod:`kt_ext.gp._feasibility`),
            so that a likely failure ranks last and ``p = 1`` keeps the order.
    """

    value: Callable[[np.ndarray, np.ndarray, float, float], np.ndarray]
    gradient: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float], np.ndarray]
    in_units: Callable[[float, float, float], float]
    weigh: Callable[[np.ndarray, np.ndarray], np.ndarray]


def weigh_ucb(acq: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``p · (α - min α)``: UCB may be negative, so it is shifted to 0 at the worst candidate."""
    return p * (acq - acq.min())


def _log_ei_in_units(a: float, g_scale: float) -> float:
    """Log EI in the objective's units: ``log(g_scale) + a``, or ``-inf`` where ``g_scale <= 0``.

    ``g_scale`` is the slope of the outputs' warp at the predicted mean. A
    prediction past the range of a power transform sits where its clamped
    inverse is flat (:meth:`kt_ext.gp.OutputTransform.linear_at` gives slope
    0): there the improvement in the objective's units, to first order, is
    0, and its log is ``-inf``. The figure is only reported (board and state
    skip or keep it as it is); the proposal itself was ranked on ``a``.
    """
    return math.log(g_scale) + a if g_scale > 0 else -math.inf


#: Every acquisition a GP strategy may select (``strategy.acquisition``), by name.
#: Adding one here makes it available to bayes, bohb and zoom's inner search.
ACQUISITIONS: dict[str, Acquisition] = {
    "ucb": Acquisition(
        value=lambda mean, std, beta, best: ucb(mean, std, beta),
        gradient=lambda mean, std, d_mean, d_std, beta, best: ucb_gradient(d_mean, d_std, beta),
        in_units=lambda a, g_mean, g_scale: g_mean + g_scale * a,
        weigh=weigh_ucb,
    ),
    "ei": Acquisition(
        value=lambda mean, std, beta, best: expected_improvement(mean, std, best),
        gradient=lambda mean, std, d_mean, d_std, beta, best: _ei_gradient(
            mean, std, d_mean, d_std, best
        ),
        in_units=lambda a, g_mean, g_scale: g_scale * a,
        weigh=lambda a, p: a * p,  # EI x P(feasible) (Gardner et al., 2014)
    ),
    "log_ei": Acquisition(
        value=lambda mean, std, beta, best: log_expected_improvement(mean, std, best),
        gradient=lambda mean, std, d_mean, d_std, beta, best: _log_ei_gradient(
            mean, std, d_mean, d_std, best
        ),
        in_units=lambda a, g_mean, g_scale: _log_ei_in_units(a, g_scale),
        weigh=lambda a, p: a + np.log(np.maximum(p, 1e-300)),
    ),
}


def _lookup(name: str) -> Acquisition:
    try:
        return ACQUISITIONS[name]
    except KeyError:
        raise ValueError(
            f"The value of `acquisition` is {name!r}, but must be one of {', '.join(ACQUISITIONS)}."
        ) from None


def acquisition(
    name: str, mean: np.ndarray, std: np.ndarray, beta: float, best: float
) -> np.ndarray:
    """The acquisition ``name`` (a key of :data:`ACQUISITIONS`) at posterior moments.

    Args:
        name: ``"ucb"`` (uses ``beta``), ``"ei"`` or ``"log_ei"`` (use ``best``).
        mean: Posterior means of the maximised objective, ``(m,)``.
        std: Posterior standard deviations, ``(m,)``.
        beta: UCB's exploration weight.
        best: The best observed value (EI's incumbent).
    """
    return _lookup(name).value(mean, std, beta, best)


def acquisition_gradient(
    name: str,
    mean: np.ndarray,
    std: np.ndarray,
    d_mean: np.ndarray,
    d_std: np.ndarray,
    beta: float,
    best: float,
) -> np.ndarray:
    """Gradient of :func:`acquisition` from the moments' gradients ``(m, D)``.

    ``∂EI/∂μ = Φ(z)`` and ``∂EI/∂σ = φ(z)``; log EI divides both by EI.
    """
    return _lookup(name).gradient(mean, std, d_mean, d_std, beta, best)

"""Upper confidence bound acquisition and its exploration schedule.

Everything here *maximises*: callers minimising an objective negate it first
(the oracle does), so that a high acquisition value always means "try here".
"""

from __future__ import annotations

import math

import numpy as np


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

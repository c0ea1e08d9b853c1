"""Matérn-5/2 kernel with one length scale per dimension (ARD), and its derivatives.

For inputs ``x, x'`` and length scales ``ℓ`` the scaled distance is
``r = sqrt(Σ_d (x_d - x'_d)² / ℓ_d²)`` and the kernel (unit amplitude) is::

    k(r) = (1 + √5 r + 5 r² / 3) · exp(-√5 r)

(Rasmussen & Williams, *Gaussian Processes for Machine Learning*, eq. 4.17).
Two derivatives are needed and both avoid dividing by ``r``::

    g(r) = (5/3) (1 + √5 r) exp(-√5 r)          so that  dk/dr = -r · g(r)
    ∂k/∂log ℓ_d = g(r) · (x_d - x'_d)² / ℓ_d²
    ∂k/∂x_d     = -g(r) · (x_d - x'_d) / ℓ_d²
"""

from __future__ import annotations

import numpy as np

_SQRT5 = np.sqrt(5.0)


def squared_differences(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-dimension squared differences.

    Args:
        a: Points, shape ``(n, D)``.
        b: Points, shape ``(m, D)``.

    Returns:
        ``(a_i,d - b_j,d)²``, shape ``(n, m, D)``.
    """
    diff = a[:, None, :] - b[None, :, :]
    return diff * diff


def scaled_distance(sq_diff: np.ndarray, lengthscales: np.ndarray) -> np.ndarray:
    """``r`` from squared differences ``(n, m, D)`` and length scales ``(D,)``; shape ``(n, m)``."""
    return np.sqrt(np.maximum(sq_diff @ (1.0 / lengthscales**2), 0.0))


def matern52(r: np.ndarray) -> np.ndarray:
    """``k(r)`` elementwise (unit amplitude)."""
    sr = _SQRT5 * r
    return (1.0 + sr + sr * sr / 3.0) * np.exp(-sr)


def matern52_g(r: np.ndarray) -> np.ndarray:
    """``g(r) = -(dk/dr) / r`` elementwise, finite at ``r = 0`` (value 5/3)."""
    sr = _SQRT5 * r
    return (5.0 / 3.0) * (1.0 + sr) * np.exp(-sr)

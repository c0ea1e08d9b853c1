"""Expected hypervolume improvement of independent Gaussian objectives, exactly, in log space.

Several objectives, all *minimised* here (costs). Given the current front and
a reference point, the region a new point ``y`` would add to the dominated
hypervolume is the part of ``[y, reference]`` that no front member
dominates. :func:`improvement_boxes` partitions the non-dominated region
below the reference into axis-aligned boxes ``[l, u)`` (lower bounds may be
``-inf``), so that the hypervolume improvement is a sum of products::

    HVI(y) = Σ_boxes Π_d max(0, u_d - max(l_d, y_d))

With ``y_d`` independent Gaussians (one GP per objective), each factor's
expectation has a closed form, so the expectation of the sum is exact
(Yang, Emmerich, Deutz and Bäck, "Efficient computation of expected
hypervolume improvement using box decomposition algorithms", J. Glob.
Optim. 2019)::

    ψ(l, u) = E[max(0, u - max(l, Y))] = E[max(0, u - Y)] - E[max(0, l - Y)]
            = ∫_l^u Φ((t - μ) / σ) dt,

where each ``E[max(0, t - Y)]`` is an expected improvement below ``t``.
Far from the front EHVI underflows to 0 like EI, so everything is computed
in log space (``log ψ`` from :func:`log_expected_improvement`, boxes summed
by log-sum-exp), as log EI does for one objective (Ament et al., 2023): a
candidate far behind still ranks above one farther behind.

The partition (:func:`improvement_boxes`) slices the first ``m - 1``
objectives at every front member's coordinate; in each cell the members
that dominate the cell's lower corner in those objectives bound the last
objective, so the cell holds one box, ``(k + 1)^(m - 1)`` boxes for ``k``
front members (``k + 1`` for two objectives): exact, and small for the
fronts of a tuning run in two or three objectives.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.special import logsumexp, ndtr

from kt_ext.gp._acquisition import log_expected_improvement

_CHUNK = 2_000_000  # entries of one (candidates, boxes, objectives) array, ~16 MB


def nondominated(costs: np.ndarray) -> np.ndarray:
    """The rows of ``costs`` no other row dominates (all columns minimised), duplicates once."""
    costs = np.unique(np.asarray(costs, dtype=float), axis=0)
    keep = [
        i
        for i, c in enumerate(costs)
        if not np.any(np.all(costs <= c, axis=1) & np.any(costs < c, axis=1))
    ]
    return costs[keep]


def improvement_boxes(front: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes partitioning the region below ``reference`` that no row of ``front`` dominates.

    Args:
        front: Costs ``(k, m)`` (dominated rows and rows not below the
            reference add nothing and may be included).
        reference: The reference point ``(m,)``.

    Returns:
        ``(lower, upper)``, each ``(b, m)``; ``lower`` may hold ``-inf``.
    """
    ref = np.asarray(reference, dtype=float)
    m = len(ref)
    front = np.asarray(front, dtype=float).reshape(-1, m)
    pts = nondominated(front[np.all(front < ref, axis=1)]) if len(front) else front
    edges = [np.concatenate([[-np.inf], np.unique(pts[:, d]), [ref[d]]]) for d in range(m - 1)]
    lower, upper = [], []
    for cell in itertools.product(*(range(len(e) - 1) for e in edges)):
        lo = np.array([edges[d][i] for d, i in enumerate(cell)])
        hi = np.array([edges[d][i + 1] for d, i in enumerate(cell)])
        over = np.all(pts[:, : m - 1] <= lo, axis=1) if len(pts) else np.zeros(0, bool)
        top = min(ref[-1], pts[over, -1].min()) if over.any() else ref[-1]
        lower.append(np.append(lo, -np.inf))
        upper.append(np.append(hi, top))
    return np.array(lower).reshape(-1, m), np.array(upper).reshape(-1, m)


def _log_psi(mean: np.ndarray, std: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``log ψ`` for candidates ``(c, 1, m)`` against boxes ``(1, b, m)``: ``(c, b, m)``."""
    shape = np.broadcast_shapes(mean.shape, lower.shape)
    mu, sd = np.broadcast_to(-mean, shape).ravel(), np.broadcast_to(std, shape).ravel()
    up = np.broadcast_to(-upper, shape).ravel()
    log_up = log_expected_improvement(mu, sd, up)  # log E[max(0, u - Y)]
    lo = np.broadcast_to(-lower, shape).ravel()
    bounded = np.isfinite(lo)
    out = log_up.copy()
    if bounded.any():
        log_lo = log_expected_improvement(mu[bounded], sd[bounded], lo[bounded])
        gap = np.minimum(log_lo - log_up[bounded], -1e-300)
        out[bounded] = log_up[bounded] + np.log(-np.expm1(gap))
    return out.reshape(shape)


def log_ehvi(mean: np.ndarray, std: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``log E[HVI]`` of candidates whose costs are independent Gaussians.

    Args:
        mean: Posterior means of the costs ``(c, m)``.
        std: Posterior standard deviations ``(c, m)``, ``> 0``.
        lower: Lower corners of :func:`improvement_boxes`, ``(b, m)``.
        upper: Upper corners, ``(b, m)``.

    Returns:
        ``(c,)``.
    """
    out = np.empty(len(mean))
    for part in _chunks(len(mean), lower.size):
        log_psi = _log_psi(
            mean[part, None, :], np.maximum(std[part], 1e-12)[:, None, :], lower[None], upper[None]
        )
        out[part] = logsumexp(log_psi.sum(axis=2), axis=1)
    return out


def _chunks(n: int, per_candidate: int) -> list[slice]:
    """Candidate slices whose ``(c, b, m)`` arrays stay under :data:`_CHUNK` entries each.

    Three objectives and a front of ``k`` trials give ``(k + 1)²`` boxes: a
    long search's front would otherwise need gigabytes per array.
    """
    step = max(1, _CHUNK // max(per_candidate, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def log_ehvi_gradient(
    mean: np.ndarray, std: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``∂ log EHVI / ∂μ`` and ``∂ log EHVI / ∂σ``, each ``(c, m)``.

    ``∂ψ/∂μ = Φ(z_l) - Φ(z_u)`` and ``∂ψ/∂σ = φ(z_u) - φ(z_l)`` with
    ``z_t = (t - μ)/σ`` (``0`` at ``l = -inf``); each box's share of the sum
    weighs its ``∂ log ψ``.
    """
    d_mean, d_std = np.empty_like(mean), np.empty_like(mean)
    for part in _chunks(len(mean), lower.size):
        d_mean[part], d_std[part] = _gradient(mean[part], std[part], lower, upper)
    return d_mean, d_std


def _gradient(
    mean: np.ndarray, std: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`log_ehvi_gradient` for one chunk of candidates."""
    sd = np.maximum(std, 1e-12)[:, None, :]
    mu = mean[:, None, :]
    log_psi = _log_psi(mu, sd, lower[None], upper[None])
    per_box = log_psi.sum(axis=2)
    # each box's share of EHVI over its ψ_d, as one exponent (finite where ψ underflows)
    weight = np.exp(
        np.minimum(
            (per_box - logsumexp(per_box, axis=1, keepdims=True))[:, :, None] - log_psi, 700.0
        )
    )
    z_u = (upper[None] - mu) / sd
    z_l = (lower[None] - mu) / sd
    d_mu = ndtr(z_l) - ndtr(z_u)
    d_sd = np.exp(-0.5 * z_u**2) - np.where(np.isfinite(z_l), np.exp(-0.5 * z_l**2), 0.0)
    d_sd = d_sd / np.sqrt(2.0 * np.pi)
    return (weight * d_mu).sum(axis=1), (weight * d_sd).sum(axis=1)


__all__ = [
    "improvement_boxes",
    "log_ehvi",
    "log_ehvi_gradient",
    "nondominated",
]

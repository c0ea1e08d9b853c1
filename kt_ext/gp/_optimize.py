"""Acquisition maximisation helpers: quasi-random candidates and batched gradient polish."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.optimize


def sobol(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """The first ``n`` points of a scrambled Sobol sequence in ``[0, 1]^dim``.

    Args:
        n: Number of points, ``>= 0``.
        dim: Dimension, ``>= 0`` (``0`` gives an ``(n, 0)`` array).
        rng: Seeds the scrambling.

    Returns:
        Shape ``(n, dim)``.
    """
    if dim == 0 or n == 0:
        return np.zeros((n, dim))
    # Imported here: scipy.stats costs about 0.4 s, and a command that only checks a
    # config (``kt_ext.config`` reaches this module through the oracles' argument rules)
    # should not pay it.
    import scipy.stats.qmc

    engine = scipy.stats.qmc.Sobol(d=dim, scramble=True, seed=rng)
    return engine.random_base2(max(0, math.ceil(math.log2(n))))[:n]


def polish(
    value_and_grad: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    starts: np.ndarray,
    max_iter: int = 25,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximise a function of independent points in ``[0, 1]^q`` from several starts at once.

    The ``k`` starting points are optimised jointly as one L-BFGS-B problem in
    ``k · q`` variables on the sum of their values; since the terms do not
    interact, this is ``k`` independent ascents sharing one set of Python
    calls (the batching BoTorch uses for acquisition optimisation).

    Args:
        value_and_grad: Maps points ``(k, q)`` to values ``(k,)`` and
            gradients ``(k, q)``.
        starts: Starting points, shape ``(k, q)``.
        max_iter: L-BFGS-B iteration cap.

    Returns:
        The final points ``(k, q)`` and their values ``(k,)``.
    """
    k, q = starts.shape
    if k == 0 or q == 0:
        values, _ = value_and_grad(starts)
        return starts, values

    def negated(flat: np.ndarray) -> tuple[float, np.ndarray]:
        values, grads = value_and_grad(flat.reshape(k, q))
        return -float(np.sum(values)), -grads.ravel()

    result = scipy.optimize.minimize(
        negated,
        starts.ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * (k * q),
        options={"maxiter": max_iter},
    )
    points = np.clip(result.x.reshape(k, q), 0.0, 1.0)
    values, _ = value_and_grad(points)
    return points, values

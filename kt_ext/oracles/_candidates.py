"""Where a GP oracle looks for the acquisition's maximum: candidates, then a gradient polish.

Shared by the single-objective proposal (:mod:`._ucb`) and the front's
(:mod:`._ehvi`): scrambled Sobol points over the whole box plus Gaussian
steps around the best trials, snapped to valid values; the best few are then
polished by L-BFGS-B on their numeric coordinates. Fixed here, not user settings.
Also the random untaken configurations oracles fall back on when no model proposes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from kt_ext.gp import INACTIVE, SpaceEncoder, polish, prior_lengthscale, sobol

POLISH_STARTS = 3  # best candidates the polish starts from
LOCAL_CENTRES = 3  # trials whose neighbourhood gets local candidates
_LOCAL_PER_CENTRE = 64
_LOCAL_SCALES = (0.02, 0.1)
# The polish moves only coordinates whose fitted length scale is below this share of the
# prior's mode: along a flat one the posterior σ grows towards the box's edge, and an
# unrestricted polish drifts there (a third of ignored coordinates ended at a bound).
_POLISH_BELOW = 0.7
_ENUMERATE_LIMIT = 20_000  # finite spaces up to this size are listed, not sampled

IsTaken = Callable[[dict[str, Any]], bool]


def relevant_features(lengthscales: np.ndarray) -> np.ndarray:
    """Feature columns the polish may move: fitted length scale below ``_POLISH_BELOW · ℓ₀``."""
    return np.asarray(lengthscales) < _POLISH_BELOW * prior_lengthscale(len(lengthscales))


def reflect(z: np.ndarray) -> np.ndarray:
    """``z`` folded back into ``[0, 1]`` at the bounds (``-0.1 → 0.1``, ``1.2 → 0.8``).

    Local candidates around a trial near a bound are reflected, not clipped:
    clipping would put every step past the bound exactly on it.
    """
    return 1.0 - np.abs(1.0 - np.abs(z) % 2.0)


def polish_points(
    encoder: SpaceEncoder,
    relevant: np.ndarray,
    starts: np.ndarray,
    active: np.ndarray,
    score: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Gradient ascent of an acquisition on the numeric coordinates of ``starts``, snapped.

    Only active coordinates whose feature is ``relevant`` (a fitted length
    scale below ``_POLISH_BELOW · ℓ₀``) move; the others keep the start's
    value (see ``_POLISH_BELOW``).

    Args:
        encoder: Encoder of the search space.
        relevant: One flag per feature column ``(D,)``.
        starts: Raw points ``(k, p)``.
        active: Which raw coordinates of ``starts`` are active ``(k, p)``.
        score: Features ``(k, D)`` to acquisition values ``(k,)`` and their gradients ``(k, D)``.

    Returns:
        The polished raw points (``(0, p)`` when nothing may move).
    """
    numeric = encoder.numeric
    if not numeric.any():
        return np.zeros((0, encoder.n_raw))
    columns = encoder.numeric_columns
    movable = active[:, numeric]
    free = movable & relevant[columns][None, :]
    if not free.any():
        return np.zeros((0, encoder.n_raw))
    base = encoder.features(starts, active)

    def value_and_grad(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # numeric feature columns are the raw coordinates themselves (or INACTIVE)
        x = base.copy()
        x[:, columns] = np.where(movable, np.clip(z, 0.0, 1.0), INACTIVE)
        values, grad = score(x)
        return values, grad[:, columns] * free

    z, _ = polish(value_and_grad, starts[:, numeric])
    u = starts.copy()
    u[:, numeric] = z
    return encoder.snap(u)


def candidate_points(
    encoder: SpaceEncoder, centres: np.ndarray, num_candidates: int, rng: np.random.Generator
) -> np.ndarray:
    """Snapped raw candidates: ``num_candidates`` Sobol points plus local ones around ``centres``.

    Around each centre (raw points ``(c, p)``, the best trials so far),
    ``_LOCAL_PER_CENTRE`` Gaussian steps at two scales, reflected at the bounds.
    """
    p = encoder.n_raw
    parts = [sobol(num_candidates, p, rng)]
    for scale in _LOCAL_SCALES:
        noise = rng.normal(0.0, scale, (len(centres), _LOCAL_PER_CENTRE // 2, p))
        parts.append(reflect(centres[:, None, :] + noise).reshape(-1, p))
    return encoder.snap(np.vstack(parts))


def leftover_values(
    encoder: SpaceEncoder, rng: np.random.Generator, is_taken: IsTaken
) -> dict[str, Any] | None:
    """A random untaken configuration of a finite space; ``None`` when all are taken.

    Args:
        encoder: Encoder of the search space.
        rng: Picks among the untaken configurations.
        is_taken: True for values that must not be proposed again.

    Returns:
        Values, or ``None`` if the space is exhausted. Spaces too large to
        enumerate fall back to 256 uniform draws (``None`` if all are taken).
    """
    rows = encoder.enumerate(_ENUMERATE_LIMIT)
    if rows is None:
        return random_values(encoder, rng, is_taken, attempts=256)
    fresh = [values for values in map(encoder.decode, rows) if not is_taken(values)]
    if not fresh:
        return None
    return fresh[int(rng.integers(len(fresh)))]


def random_values(
    encoder: SpaceEncoder, rng: np.random.Generator, is_taken: IsTaken, attempts: int
) -> dict[str, Any] | None:
    """The first untaken configuration among ``attempts`` uniform draws in the encoded box.

    Uniform in the encoding means log-uniform for log-scale numbers and
    uniform over the values of ints and choices.
    """
    for u in rng.random((attempts, encoder.n_raw)):
        values = encoder.decode(u)
        if not is_taken(values):
            return values
    return None

"""The multi-objective proposal step: one GP per objective, log expected hypervolume improvement.

Plain numpy over :mod:`kt_ext.gp`, as :mod:`._ucb` is for one objective:
encoded observations and their costs in, one proposed configuration out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kt_ext.gp import (
    ACQUISITIONS,
    GaussianProcess,
    SpaceEncoder,
    clip_bad_tail,
    improvement_boxes,
    log_ehvi,
    log_ehvi_gradient,
    single_threaded_blas,
    standardise,
)
from kt_ext.objectives import pareto_ranks
from kt_ext.oracles._candidates import (
    POLISH_STARTS,
    IsTaken,
    candidate_points,
    polish_points,
)
from kt_ext.oracles._ucb import refit, success_probability

#: The reference point lies this share of each objective's observed range beyond the worst
#: observed value (BoTorch's ``infer_reference_point`` rule), so the front's extremes count.
REFERENCE_MARGIN = 0.1
FRONT_STARTS = 5  # random front members: local candidates around them, and polish starts


@dataclass(frozen=True)
class FrontProposal:
    """One front proposal; costs in the units of :func:`kt_ext.objectives.as_costs`."""

    values: dict[str, Any]
    cost_mean: list[float]
    cost_std: list[float]
    acquisition: float  # log EHVI in standardised costs
    success: float | None = None

    def record(self, names: list[str]) -> dict[str, Any]:
        """What an oracle keeps of the proposal; ``names`` are the objectives' names."""
        out: dict[str, Any] = {
            "rule": "log_ehvi",
            "acquisition": self.acquisition,
            "cost_mean": dict(zip(names, self.cost_mean, strict=True)),
            "cost_std": dict(zip(names, self.cost_std, strict=True)),
        }
        if self.success is not None:
            out["success"] = self.success
        return out


class FrontProposer:
    """Proposes the untried configuration of largest expected hypervolume improvement.

    Each objective, as a cost (lower is better), gets its own GP from the
    same core as the single-objective search (bad tail clipped, standardised,
    hyperparameters refitted by :func:`kt_ext.oracles._ucb.refit`), with one
    difference: its prior mean is the worst observed cost, not the average
    (``standardise(..., at_worst=True)``). With the average, EHVI values the
    unexplored corners of the box, where every GP reverts to an average cost
    with its largest deviation: on DTLZ2 (6-D, tail optimum inside the box)
    the proposals after the initial design went to corners (every tail
    coordinate at a bound) and 30 trials reached random search's hypervolume
    (median 4.74 against 4.74); with the worst cost as prior mean, 5.20 (10
    seeds), ZDT1/ZDT2 unchanged within 0.01. (GP-UCB keeps the average: for one
    noisy or real objective the worst value explored too little;
    ``scripts/bench/oracles.md``.) In the
    standardised costs, the front of the observed trials, and of running ones
    at their predicted means (the kriging believer, so parallel proposals
    differ), bounds the region a new trial could add; the reference point lies
    :data:`REFERENCE_MARGIN` of each range beyond the worst observed cost.
    Candidates (Sobol points plus local steps around :data:`FRONT_STARTS`
    random front members) rank by log EHVI (:func:`kt_ext.gp.log_ehvi`: exact
    for independent Gaussian costs); the best few and those front members
    are polished along its gradient, and with failures modelled each is
    weighted by its probability of not failing, as log EI is.

    The polish moves every active numeric coordinate, unlike the
    single-objective one, which moves only those with a short fitted length
    scale (``kt_ext.oracles._candidates.relevant_features``): a coordinate
    that matters to one objective may look flat to the others, and the
    front's improvement often lies at a bound. Chosen on ZDT1 and ZDT2 in
    5-D (3 seeds each, 30 trials: median hypervolume 11.61 → 11.70 and
    10.98 → 11.30); the full comparison is in ``scripts/bench/pareto.md``.

    Unlike ParEGO, which improves one random direction of the front per
    proposal, EHVI values every gain in the volume the front dominates, so
    consecutive proposals fill the front's widest gaps and extend its ends.

    Args:
        num_candidates: Sobol candidates per proposal.
    """

    def __init__(self, num_candidates: int) -> None:
        self.num_candidates = num_candidates
        self.warm_start: list[list[float]] | None = None

    def propose(
        self,
        encoder: SpaceEncoder,
        u_obs: np.ndarray,
        costs: np.ndarray,
        u_pending: np.ndarray,
        rng: np.random.Generator,
        is_taken: IsTaken,
        outcomes: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> FrontProposal | None:
        """The best untaken candidate under log EHVI.

        Args:
            encoder: Encoder of the search space.
            u_obs: Raw points ``(n, p)`` of the observations, ``n >= 2``.
            costs: Their costs ``(n, m)`` (lower is better; a non-finite cost
                counts as the worst finite one of its objective).
            u_pending: Raw points ``(k, p)`` still being evaluated.
            rng: Source of all randomness of this proposal.
            is_taken: True for values that must not be proposed again.
            outcomes: As for :meth:`kt_ext.oracles._ucb.UCBProposer.propose`.

        Returns:
            The proposal, or ``None`` if every candidate is taken or an
            objective has no finite cost yet.
        """
        costs = np.array(costs, dtype=float)
        finite = np.isfinite(costs)
        if not finite.any(axis=0).all():
            return None
        worst = np.where(finite, costs, -np.inf).max(axis=0)
        costs = np.where(finite, costs, worst)
        with single_threaded_blas():
            x_obs = encoder.features(u_obs)
            x_pending = encoder.features(u_pending) if len(u_pending) else None
            gps, scales, observed, believed = self._fit(x_obs, costs, x_pending, rng)
            nadir, best = observed.max(axis=0), observed.min(axis=0)
            reference = nadir + REFERENCE_MARGIN * np.maximum(nadir - best, 1e-9)
            front = observed if believed is None else np.vstack([observed, believed])
            lower, upper = improvement_boxes(front, reference)
            on_front = np.flatnonzero(pareto_ranks(observed) == 0)
            centres = u_obs[rng.permutation(on_front)[:FRONT_STARTS]]
            u = candidate_points(encoder, centres, self.num_candidates, rng)
            active = encoder.active(u)
            mean, std = _moments(gps, encoder.features(u, active))
            acq = log_ehvi(mean, std, lower, upper)
            top = np.argsort(-acq)[:POLISH_STARTS]

            def score(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                moments = [gp.predict_with_gradient(x) for gp in gps]
                m = np.column_stack([-mo[0] for mo in moments])
                s = np.column_stack([mo[1] for mo in moments])
                g_mean, g_std = log_ehvi_gradient(m, s, lower, upper)
                grad = sum(
                    -g_mean[:, [d]] * mo[2] + g_std[:, [d]] * mo[3] for d, mo in enumerate(moments)
                )
                return log_ehvi(m, s, lower, upper), grad

            every = np.ones(x_obs.shape[1], dtype=bool)  # see the class docstring
            starts = np.vstack([u[top], centres])
            polished = polish_points(encoder, every, starts, encoder.active(starts), score)
            if len(polished):
                mean_p, std_p = _moments(gps, encoder.features(polished))
                u = np.vstack([polished, u])
                mean, std = np.vstack([mean_p, mean]), np.vstack([std_p, std])
                acq = np.concatenate([log_ehvi(mean_p, std_p, lower, upper), acq])
            success = success_probability(encoder, outcomes, u, rng)
            ranked = acq if success is None else ACQUISITIONS["log_ei"].weigh(acq, success)
            for i in np.argsort(-ranked, kind="stable"):
                values = encoder.decode(u[i])
                if is_taken(values):
                    continue
                centre, scale = scales[:, 0], scales[:, 1]  # of g = -cost
                return FrontProposal(
                    values=values,
                    cost_mean=[float(v) for v in -(centre - scale * mean[i])],
                    cost_std=[float(v) for v in scale * std[i]],
                    acquisition=float(acq[i]),
                    success=None if success is None else float(success[i]),
                )
        return None

    def _fit(
        self,
        x_obs: np.ndarray,
        costs: np.ndarray,
        x_pending: np.ndarray | None,
        rng: np.random.Generator,
    ) -> tuple[list[GaussianProcess], np.ndarray, np.ndarray, np.ndarray | None]:
        """One GP per objective on ``g = -cost`` (clipped, standardised), running trials believed.

        Returns:
            The GPs (conditioned on the running trials), each objective's
            ``(mean, scale)`` of ``g`` ``(m, 2)``, the observations'
            standardised costs ``(n, m)`` and the running trials' believed
            ones ``(k, m)`` (``None`` without any).
        """
        m = costs.shape[1]
        warm = self.warm_start if self.warm_start and len(self.warm_start) == m else [None] * m
        gps, scales, observed, believed, fits = [], [], [], [], []
        for d in range(m):
            y, centre, scale = standardise(clip_bad_tail(-costs[:, d]), at_worst=True)
            observed.append(-y)
            params = refit(x_obs, y, rng, warm[d])
            fits.append([float(v) for v in params.to_vector()])
            gp = GaussianProcess(x_obs, y, params)
            if x_pending is not None:
                guess = gp.predict(x_pending)[0]
                believed.append(-guess)
                gp = gp.condition_on(x_pending, guess)
            gps.append(gp)
            scales.append((centre, scale))
        self.warm_start = fits
        pending = np.column_stack(believed) if believed else None
        return gps, np.array(scales), np.column_stack(observed), pending


def _moments(gps: list[GaussianProcess], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and deviations of the standardised costs, each ``(c, m)``."""
    moments = [gp.predict(x) for gp in gps]
    return np.column_stack([-mo[0] for mo in moments]), np.column_stack([mo[1] for mo in moments])

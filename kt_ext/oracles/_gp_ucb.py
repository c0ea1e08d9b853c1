"""GP-UCB Bayesian optimisation as a KerasTuner oracle (a thin layer over :mod:`kt_ext.gp`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from keras_tuner.engine.trial import TrialStatus

from kt_ext.gp import SpaceEncoder, final_beta, sobol, srinivas_beta
from kt_ext.objectives import chebyshev, random_weights
from kt_ext.oracles._base import SeededOracle, succeeded
from kt_ext.oracles._candidates import leftover_values
from kt_ext.oracles._ehvi import FrontProposer
from kt_ext.oracles._ucb import DEFAULT_BETA, DEFAULT_OUTPUT_WARPING, EncoderCache, UCBProposer
from kt_ext.oracles.checks import (
    GP_UCB_ARGUMENTS,
    check_arguments,
    first_untried,
    output_warping_name,
)

_INITIAL_WINDOW = 256


class GPUCBOracle(SeededOracle):
    """Bayesian optimisation with a Gaussian process and the upper confidence bound.

    Let ``g`` be the objective as maximised: ``g = score`` if the objective's
    direction is ``"max"`` and ``g = -score`` if it is ``"min"``. After
    ``num_initial_points`` quasi-random (scrambled Sobol) trials, each new
    trial maximises::

        α(x) = μ(x) + β · σ(x)

    where ``μ`` and ``σ`` are the posterior mean and standard deviation of
    ``g`` under a GP (Matérn-5/2, one length scale per feature, fitted by MAP
    marginal likelihood each trial, warm-started from the previous fit, with
    a random restart every fifth fit) on ``g`` with its bad tail clipped
    (:func:`kt_ext.gp.clip_bad_tail`), power-transformed where that makes
    the results likelier (``output_warping``) and standardised. For a
    minimised loss this is the familiar lower confidence bound
    ``score_μ - β · score_σ``, minimised.

    Search-space encoding (:class:`kt_ext.gp.SpaceEncoder`): log-scale
    numbers in log space, ints/steps/ordered choices on their grids, unordered
    choices one-hot, inactive conditional values as a constant outside
    ``[0, 1]``. The acquisition is maximised over ``num_candidates`` Sobol
    points plus perturbations of the best trials (reflected at the bounds),
    and the best few are polished by L-BFGS-B on the numeric coordinates
    whose fitted length scale is well below the prior's (the ones the data
    say matter; a flat coordinate would drift to the box's edge), then
    snapped to valid values.

    Guarantees: a proposal is never the values of a trial already created
    (completed, failed or running); when every configuration of a finite
    space has been tried the oracle returns ``STOPPED``. Running trials
    (parallel workers) enter the model at their predicted mean (the "kriging
    believer" of Ginsbourger et al., 2010), so concurrent proposals differ.
    Failed trials are left out of the model; completed trials with a
    non-finite score count as the worst finite score seen.

    With several objectives (``objectives``) the search targets the Pareto
    front. ``multi_objective="ehvi"`` (the default) models each objective
    with its own GP from the same core and maximises the log expected
    hypervolume improvement (:class:`kt_ext.oracles._ehvi.FrontProposer`).
    ``"parego"`` is ParEGO (Knowles, 2006): each proposal draws a weight
    vector uniformly from the simplex and models ``g = -(augmented Chebyshev
    scalarisation)`` of the trials' objectives, each scaled to ``[0, 1]``
    over the trials so far (:func:`kt_ext.objectives.chebyshev`), so
    successive proposals aim at different parts of the front. Measured in
    ``scripts/bench/pareto.md``. Every random choice comes from a generator
    seeded by ``(seed, trial index)``, so a reloaded oracle proposes exactly
    what the uninterrupted one would.

    Args:
        num_initial_points: Quasi-random trials before the GP is used;
            ``None`` means ``max(3, p + 1)`` for ``p`` tunable hyperparameters.
        beta: ``β`` of the ``"constant"`` schedule, ``>= 0``; each proposal
            widens it by the fitted noise share
            (:func:`kt_ext.oracles._ucb.noise_adjusted_beta`).
        beta_schedule: ``"constant"``, ``"srinivas"``
            (:func:`kt_ext.gp.srinivas_beta`, which grows like ``sqrt(log t)``)
            or ``"final"`` (``beta`` tapered to 0 over the last fifth of
            ``max_trials``, :func:`kt_ext.gp.final_beta`).
        delta: ``δ`` of the ``"srinivas"`` schedule, in ``(0, 1)``.
        num_candidates: Sobol candidates per proposal, ``>= 16``.
        acquisition: ``"ucb"`` (``α = μ + β·σ``, the default), ``"ei"``
            (expected improvement over the best trial, as scikit-optimize's
            ``gp_minimize(acq_func="EI")``) or ``"log_ei"`` (its logarithm,
            computed stably, so candidates far below the best still rank;
            Ament et al., 2023). ``beta`` only affects ``"ucb"``.
        failure_aware: Model where trials fail (a second GP on failed against
            completed trials, :class:`kt_ext.gp.FeasibilityModel`) and weigh
            the acquisition by the probability of not failing, so the search
            leaves regions where training diverges. Failed trials and completed
            ones with a non-finite score count as failures.
        multi_objective: With several objectives, ``"ehvi"`` (log expected
            hypervolume improvement, one GP per objective) or ``"parego"``
            (a random Chebyshev scalarisation per proposal, one GP).
        output_warping: ``"auto"`` (the default): power-transform the
            observations before the GP sees them, as HEBO does
            (:class:`kt_ext.gp.OutputTransform`), only when the GP explains
            them better so (:func:`kt_ext.oracles._ucb.fit_outputs`);
            ``"power"``: always; ``"none"``: never. ``False`` and ``True``
            mean ``"none"`` and ``"power"``. Measured in
            ``scripts/bench/real.md`` and ``scripts/bench/oracles.md``.
        **oracle_args: ``objective``, ``max_trials``, ``hyperparameters``,
            ``seed`` (``0`` is a seed) and KerasTuner's other oracle
            arguments, as for :class:`kt_ext.oracles.SeededOracle`.
    """

    def __init__(
        self,
        num_initial_points: int | None = None,
        beta: float = DEFAULT_BETA,
        beta_schedule: str = "constant",
        delta: float = 0.1,
        num_candidates: int = 1024,
        acquisition: str = "ucb",
        failure_aware: bool = True,
        multi_objective: str = "ehvi",
        output_warping: str | bool = DEFAULT_OUTPUT_WARPING,
        **oracle_args: Any,
    ) -> None:
        check_arguments(GP_UCB_ARGUMENTS, {"max_trials": 10, **locals(), **oracle_args})
        super().__init__(**oracle_args)
        self.num_initial_points = num_initial_points
        self.beta = float(beta)
        self.beta_schedule = beta_schedule
        self.delta = float(delta)
        self.num_candidates = num_candidates
        self._gp_params: list[float] | None = None
        self.failure_aware = failure_aware
        self.multi_objective = multi_objective
        self._proposer = UCBProposer(
            num_candidates, acquisition, output_warping_name(output_warping)
        )
        self._front = FrontProposer(num_candidates)
        self._proposals: dict[str, dict[str, float]] = {}
        self._encoder_key: str | None = None
        self._encoders = EncoderCache()
        # Raw points of completed trials, by (space key, trial id): values never change.
        self._encoded: dict[tuple[str | None, str], np.ndarray] = {}

    @property
    def acquisition(self) -> str:
        """What each proposal maximises: ``"ucb"``, ``"ei"`` or ``"log_ei"`` (the proposer's)."""
        return self._proposer.acquisition

    @property
    def output_warping(self) -> str:
        """How results are warped before the GP, a word of ``OUTPUT_WARPINGS`` (the proposer's)."""
        return self._proposer.output_warping

    # ------------------------------------------------------------------ state
    def get_state(self) -> dict[str, Any]:
        """KerasTuner's state plus the last GP fit (the warm start) and per-proposal figures."""
        state = super().get_state()
        state["gp_params"] = self._gp_params
        state["front_params"] = self._front.warm_start
        state["proposals"] = self._proposals
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`get_state`."""
        super().set_state(state)
        self._gp_params = state.get("gp_params")
        self._front.warm_start = state.get("front_params")
        self._proposals = dict(state.get("proposals", {}))

    @property
    def proposals(self) -> dict[str, dict[str, float]]:
        """Figures of each model-based proposal, by trial id.

        ``mean`` and ``std`` of the score in score units, ``acquisition`` in
        the units of the maximised ``g``, ``beta``, and the fitted ``lengthscales``.
        """
        return self._proposals

    # --------------------------------------------------------------- proposals
    def populate_space(self, trial_id: str) -> dict[str, Any]:
        """Values for the next trial: an initial point, a Sobol point, else the GP's choice."""
        start = first_untried(self.initial_points, self._duplicate)
        if start is not None:
            return {"status": TrialStatus.RUNNING, "values": start}
        encoder = self._space_encoder()
        index = len(self.trials)  # trials created before this one
        rng = np.random.default_rng([self.seed, index])
        u_obs, g, costs = self._observations(encoder)
        n_initial = self.num_initial_points or max(3, encoder.n_raw + 1)
        values = None
        if index < n_initial or len(u_obs) < 2:
            values = self._initial_values(encoder, index)
        if values is None and len(u_obs) >= 2:
            values = self._model_values(encoder, u_obs, g, costs, rng, trial_id)
        if values is None:
            values = leftover_values(encoder, rng, self._duplicate)
        if values is None:
            return {"status": TrialStatus.STOPPED, "values": None}
        return {"status": TrialStatus.RUNNING, "values": values}

    def _space_encoder(self) -> SpaceEncoder:
        encoder = self._encoders.get(self.hyperparameters)
        self._encoder_key = self._encoders.key
        return encoder

    def _observations(
        self, encoder: SpaceEncoder
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Raw points ``(n, p)`` of completed trials and what the proposer models of them.

        One objective: its maximised value ``g`` ``(n,)`` and ``None``. Several
        with ParEGO: ``g`` is this proposal's scalarisation. Several with EHVI:
        ``None`` and the costs ``(n, m)`` the front proposer models.
        """
        sign = 1.0 if self.objective.direction == "max" else -1.0
        rows, g, done = [], [], []
        for trial_id, trial in sorted(self.trials.items()):  # file order differs after reload
            if trial.status != TrialStatus.COMPLETED or trial.score is None:
                continue
            cache_key = (self._encoder_key, trial_id)
            if cache_key not in self._encoded:
                self._encoded[cache_key] = encoder.encode(trial.hyperparameters.values)
            rows.append(self._encoded[cache_key])
            g.append(sign * float(trial.score))
            done.append(trial)
        g_arr = np.array(g, dtype=float)
        if self.multi and done and self.multi_objective == "ehvi":  # the costs, not g
            costs = self.cost_matrix(done)
            usable = np.isfinite(costs).any(axis=1)
            u_arr = np.array(rows, dtype=float).reshape(len(done), encoder.n_raw)
            return u_arr[usable], None, costs[usable]
        if self.multi and done:  # ParEGO: this proposal's scalarisation
            weights = random_weights(len(self.objectives), self._weights_rng())
            costs = self.cost_matrix(done)
            g_arr = np.where(np.isfinite(g_arr), -chebyshev(costs, weights), np.nan)
        finite = np.isfinite(g_arr)
        if not finite.any():
            return np.zeros((0, encoder.n_raw)), np.zeros(0), None
        g_arr[~finite] = g_arr[finite].min()  # diverged trials count as the worst seen
        return np.array(rows, dtype=float).reshape(len(g_arr), encoder.n_raw), g_arr, None

    def _weights_rng(self) -> np.random.Generator:
        """ParEGO's weights for the trial being proposed: seeded by ``(seed, trial index)``."""
        return np.random.default_rng([self.seed, len(self.trials), 1])

    def _initial_values(self, encoder: SpaceEncoder, index: int) -> dict[str, Any] | None:
        """The first new configuration among Sobol points ``index, index + 1, ...``."""
        points = sobol(index + _INITIAL_WINDOW, encoder.n_raw, np.random.default_rng(self.seed))
        for u in points[index:]:
            values = encoder.decode(u)
            if not self._duplicate(values):
                return values
        return None

    def _beta(self, n_observations: int, dim: int) -> float:
        if self.beta_schedule == "srinivas":
            return srinivas_beta(n_observations + 1, dim, self.delta)
        if self.beta_schedule == "final" and self.max_trials:
            return final_beta(self.beta, len(self.trials), self.max_trials)
        return self.beta

    def _model_values(
        self,
        encoder: SpaceEncoder,
        u_obs: np.ndarray,
        g: np.ndarray | None,
        costs: np.ndarray | None,
        rng: np.random.Generator,
        trial_id: str,
    ) -> dict[str, Any] | None:
        """Maximise the acquisition (EHVI given ``costs``, else on ``g``); best untried values."""
        pending = [
            encoder.encode(t.hyperparameters.values)
            for t in sorted(self.ongoing_trials.values(), key=lambda t: t.trial_id)
            if t.trial_id != trial_id
        ]
        u_pending = np.array(pending).reshape(len(pending), encoder.n_raw)
        outcomes = self._outcomes(encoder) if self.failure_aware else None
        if costs is not None:
            front = self._front.propose(
                encoder, u_obs, costs, u_pending, rng, self._duplicate, outcomes
            )
            if front is None:
                return None
            self._proposals[trial_id] = front.record([o.name for o in self.objectives])
            return front.values
        assert g is not None  # one objective or ParEGO
        beta = self._beta(len(g), encoder.n_features)
        self._proposer.warm_start = self._gp_params
        last = next(reversed(self._proposals.values()), None)  # state a reload restores
        self._proposer.warped = None if last is None else "warp_lambda" in last
        proposal = self._proposer.propose(
            encoder, u_obs, g, u_pending, beta, rng, self._duplicate, outcomes
        )
        self._gp_params = self._proposer.warm_start
        if proposal is None:
            return None
        sign = -1.0 if self.multi else 1.0 if self.objective.direction == "max" else -1.0
        self._proposals[trial_id] = proposal.record(sign, scalarised=self.multi)
        return proposal.values

    def _outcomes(self, encoder: SpaceEncoder) -> tuple[np.ndarray, np.ndarray]:
        """Raw points ``(k, p)`` of ended trials and whether each succeeded (a finite score)."""
        rows, ok = [], []
        for _, trial in sorted(self.trials.items()):
            outcome = succeeded(trial)
            if outcome is not None:
                ok.append(outcome)
                rows.append(encoder.encode(trial.hyperparameters.values))
        return np.array(rows, dtype=float).reshape(len(ok), encoder.n_raw), np.array(ok, bool)

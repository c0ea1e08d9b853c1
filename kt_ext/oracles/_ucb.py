"""The GP-UCB proposal step, shared by :class:`GPUCBOracle` and the GP sampler of halving.

Plain numpy over :mod:`kt_ext.gp`: encoded observations in, one proposed
configuration out. No KerasTuner or TensorFlow objects pass through here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from kt_ext.gp import (
    ACQUISITIONS,
    FeasibilityModel,
    GaussianProcess,
    GPParams,
    OutputTransform,
    SpaceEncoder,
    acquisition,
    acquisition_gradient,
    clip_bad_tail,
    fit_params,
    single_threaded_blas,
)
from kt_ext.oracles._candidates import (
    LOCAL_CENTRES,
    POLISH_STARTS,
    IsTaken,
    candidate_points,
    polish_points,
    relevant_features,
)

DEFAULT_BETA = 1.0  # UCB exploration weight of every GP strategy (beta in the strategy configs)
DEFAULT_OUTPUT_WARPING = "auto"  # the GP strategy's output_warping (conf/strategy/bayes.yaml)
_FIT_RESTARTS = 1
_RESTART_EVERY = 5  # fits between random restarts (the warm start is usually enough)
_REFIT_EVERY_OBSERVATION = 100  # refit every max(1, n // this)-th call
_MAX_NOISE_BOOST = 4.0  # cap of noise_adjusted_beta's factor

# strategy.output_warping: word -> the transforms fit_outputs compares (warped or not).
OUTPUT_WARPINGS: dict[str, tuple[bool, ...]] = {
    "none": (False,),
    "power": (True,),
    "auto": (False, True),
    "auto_addfew": (False, True),  # an ablation: the additive GP while n <= D (real.md)
}


@dataclass(frozen=True)
class Proposal:
    """One GP-UCB proposal; figures in units of the maximised objective ``g``."""

    values: dict[str, Any]
    mean: float
    std: float
    acquisition: float
    beta: float
    lengthscales: list[float]
    rule: str = "ucb"  # the acquisition used (see plateau_acquisition)
    success: float | None = None  # probability of not failing, when failures were modelled
    warp_lambda: float | None = None  # λ of the outputs' power transform, when they were warped

    def record(self, sign: float, scalarised: bool = False) -> dict[str, Any]:
        """What an oracle keeps of the proposal; ``sign`` turns ``g`` back into the score.

        ``scalarised``: ``g`` was ParEGO's scalarisation of several objectives, so
        ``mean``, ``std`` and ``acquisition`` are in its units, not the score's (the
        record says so: TensorBoard files them apart).
        """
        out: dict[str, Any] = {
            "mean": sign * self.mean,
            "std": self.std,
            "acquisition": self.acquisition,
            "rule": self.rule,
            "beta": self.beta,
            "lengthscales": self.lengthscales,
        }
        if self.success is not None:
            out["success"] = self.success
        if self.warp_lambda is not None:
            out["warp_lambda"] = self.warp_lambda
        if scalarised:
            out["scalarised"] = True
        return out


class EncoderCache:
    """The :class:`SpaceEncoder` of a search space, rebuilt only when the space changes."""

    def __init__(self) -> None:
        self.key: str | None = None
        self._encoder: SpaceEncoder | None = None

    def get(self, hyperparameters: Any) -> SpaceEncoder:
        """The encoder of ``hyperparameters`` (a ``keras_tuner.HyperParameters``)."""
        space = hyperparameters.get_config()["space"]
        key = hashlib.sha256(json.dumps(space, sort_keys=True, default=str).encode()).hexdigest()
        if key != self.key or self._encoder is None:
            self._encoder, self.key = SpaceEncoder(space), key
        return self._encoder


class UCBProposer:
    """Fits a GP to encoded observations and returns the untried acquisition maximiser.

    The acquisition is UCB by default, or expected improvement (``"ei"``) or
    its logarithm (``"log_ei"``) over the best observation.

    The GP's hyperparameters follow :func:`refit`, warm-started from the
    previous fit (:attr:`warm_start`, a plain list an oracle can persist).
    The observations' bad tail is clipped (:func:`kt_ext.gp.clip_bad_tail`)
    and, as ``output_warping`` says (:func:`fit_outputs`), power-transformed
    as HEBO does (:class:`kt_ext.gp.OutputTransform`) before they are
    standardised.

    Args:
        num_candidates: Sobol candidates per proposal (plus local ones
            around the three best observations).
        acquisition: ``"ucb"``, ``"ei"`` or ``"log_ei"``.
        output_warping: ``"none"``, ``"power"`` or ``"auto"`` (:func:`fit_outputs`).
    """

    def __init__(self, num_candidates: int, acquisition: str, output_warping: str) -> None:
        self.num_candidates = num_candidates
        self.acquisition = acquisition
        self.output_warping = output_warping
        self.warm_start: list[float] | None = None
        self.warped: bool | None = None  # the last proposal's choice, kept between refits

    def propose(
        self,
        encoder: SpaceEncoder,
        u_obs: np.ndarray,
        g: np.ndarray,
        u_pending: np.ndarray,
        beta: float,
        rng: np.random.Generator,
        is_taken: IsTaken,
        outcomes: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Proposal | None:
        """The best candidate under the acquisition whose values are not taken.

        Args:
            encoder: Encoder of the search space.
            u_obs: Raw points ``(n, p)`` of the observations, ``n >= 2``.
            g: Objective values ``(n,)``, larger is better.
            u_pending: Raw points ``(m, p)`` still being evaluated; they enter
                the model at their predicted mean (kriging believer).
            beta: Exploration weight.
            rng: Source of all randomness of this proposal.
            is_taken: True for values that must not be proposed again.
            outcomes: Raw points ``(k, p)`` of every trial with an outcome and
                whether each succeeded ``(k,)``; once at least one failed and
                one succeeded, the acquisition is weighted by the probability
                of not failing (:class:`kt_ext.gp.FeasibilityModel`).

        Returns:
            The proposal, or ``None`` if every candidate is taken.
        """
        name = plateau_acquisition(self.acquisition, g)
        with single_threaded_blas():
            x_obs = encoder.features(u_obs)
            outputs, gp = fit_outputs(
                x_obs, clip_bad_tail(g), self.output_warping, rng, self.warm_start, self.warped
            )
            y, params = gp.y, gp.params
            additive = type(gp).__name__ == "AdditiveGP"  # its fit is no start for the full one
            self.warm_start = None if additive else [float(v) for v in params.to_vector()]
            beta = noise_adjusted_beta(beta, params)
            if len(u_pending):
                x_pending = encoder.features(u_pending)
                gp = gp.condition_on(x_pending, gp.predict(x_pending)[0])
            u_cand, acq = self._candidates(encoder, gp, name, beta, u_obs, y, rng)
            success = success_probability(encoder, outcomes, u_cand, rng)
            ranked = acq if success is None else ACQUISITIONS[name].weigh(acq, success)
            for i in np.argsort(-ranked, kind="stable"):
                values = encoder.decode(u_cand[i])
                if is_taken(values):
                    continue
                mean, std = gp.predict(encoder.features(u_cand[i : i + 1]))
                g_mean, g_scale = outputs.linear_at(float(mean[0]))  # exact unless warped
                scaled = ACQUISITIONS[name].in_units(float(acq[i]), g_mean, g_scale)
                return Proposal(
                    values=values,
                    mean=g_mean + g_scale * float(mean[0]),
                    std=g_scale * float(std[0]),
                    acquisition=scaled,
                    beta=beta,
                    lengthscales=[float(v) for v in params.lengthscales],
                    rule=name,
                    success=None if success is None else float(success[i]),
                    warp_lambda=None if outputs.kind == "none" else outputs.lam,
                )
        return None

    def _candidates(
        self,
        encoder: SpaceEncoder,
        gp: GaussianProcess,
        name: str,
        beta: float,
        u_obs: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Snapped candidate raw points ``(m, p)`` and their acquisition values ``(m,)``."""
        u = candidate_points(
            encoder, local_centres(encoder, gp, u_obs, y), self.num_candidates, rng
        )
        active = encoder.active(u)
        mean, std = gp.predict(encoder.features(u, active))
        best = float(y.max())
        acq = acquisition(name, mean, std, beta, best)
        top = np.argsort(-acq)[:POLISH_STARTS]

        def score(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            mean, std, d_mean, d_std = gp.predict_with_gradient(x)
            grad = acquisition_gradient(name, mean, std, d_mean, d_std, beta, best)
            return acquisition(name, mean, std, beta, best), grad

        relevant = relevant_features(gp.params.lengthscales)
        polished = polish_points(encoder, relevant, u[top], active[top], score)
        if len(polished):
            mean_p, std_p = gp.predict(encoder.features(polished))
            u = np.vstack([polished, u])
            acq = np.concatenate([acquisition(name, mean_p, std_p, beta, best), acq])
        return u, acq


def local_centres(
    encoder: SpaceEncoder, gp: GaussianProcess, u_obs: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Raw points whose neighbourhoods get local candidates: the best observations.

    Under noise the best observations are partly lucky draws. Centring on the
    observations of best posterior mean instead (``gpucb_meancentres`` in
    ``scripts/bench/oracles.py``) was measured over 30 seeds: a lower median
    on 5 of the 8 noisy test functions and on 1 of the 5 noiseless ones, no
    paired interval excluding 0 either way, so it was not adopted
    (``oracles.md``, "Local candidates around the posterior mean"). ``encoder`` and ``gp`` are what
    such a rule needs.
    """
    return u_obs[np.argsort(-y)[:LOCAL_CENTRES]]


def plateau_acquisition(name: str, g: np.ndarray) -> str:
    """The acquisition of this proposal: log EI instead of UCB while the best value is tied.

    Real objectives have plateaus: a decision tree whose leaves must hold a
    large share of the data is a stump whatever its other settings, and an
    error rate on a few hundred examples takes few values. When the best
    observation has been matched exactly, the best region is flat at that
    value. UCB cannot tell "uncertain but flat at the best" from "may be
    better": the mean there is the best value, so ``μ + β·σ`` keeps ranking
    the plateau's neighbourhood first and the search re-scores it trial
    after trial (on ``tree_wine_error`` in ``scripts/bench/oracles.py`` the
    GP scored its best value 20 more times and never left that region).
    Expected improvement values only what could beat the best, which is
    nothing on a flat region the model is sure of, so it sends the search
    elsewhere; UCB comes back as soon as a new best stands alone. A
    continuous objective (a validation loss) practically never ties, so
    nothing changes there.

    Args:
        name: The configured acquisition (only ``"ucb"`` is switched).
        g: Objective values, larger is better, shape ``(n,)``.

    Returns:
        ``"log_ei"`` or ``name``.
    """
    if name != "ucb" or len(g) < 2:
        return name
    ties = int(np.sum(g == g.max()))
    return "log_ei" if ties >= 2 else name


def noise_adjusted_beta(beta: float, params: GPParams) -> float:
    """The exploration weight divided by the share of the outputs' variance the model calls signal.

    On a noisy objective (a real training run: seed, data order, early
    stopping) the best observations are partly luck, and UCB with the plain
    weight keeps sampling around them: the posterior deviation ``σ`` of the
    latent function says nothing about how much of the observed spread was
    noise. Dividing ``β`` by ``σ_f² / (σ_f² + σ_n²)`` widens exploration in
    proportion to the fitted noise, leaves a noiseless fit (``σ_n²`` at its
    floor) exactly as it was, and is capped at ``4 β``.

    Chosen on Branin and Hartmann6 at 1 % and 10 % noise; measured against
    the plain weight in ``scripts/bench/oracles.md`` ("The noise-widened β"):
    a small effect, mostly inside the seed noise, never behind beyond it, and
    it removes the worst case (Branin at 10 % noise: median regret 8.7 → 2.0).

    Args:
        beta: The configured weight.
        params: The fitted kernel hyperparameters (standardised outputs).

    Returns:
        The weight UCB uses for this proposal.
    """
    signal = params.amplitude / (params.amplitude + params.noise)
    return beta / max(signal, 1.0 / _MAX_NOISE_BOOST)


def success_probability(
    encoder: SpaceEncoder,
    outcomes: tuple[np.ndarray, np.ndarray] | None,
    u_cand: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray | None:
    """Each candidate's probability of not failing (``None`` until a trial failed, one did not)."""
    if outcomes is None:
        return None
    u_out, succeeded = outcomes
    if succeeded.all() or not succeeded.any():
        return None
    model = FeasibilityModel(encoder.features(u_out), succeeded, rng)
    return model.probability(encoder.features(u_cand))


def fit_outputs(
    x: np.ndarray,
    g: np.ndarray,
    warping: str,
    rng: np.random.Generator,
    warm_start: list[float] | None,
    warped: bool | None = None,
) -> tuple[OutputTransform, GaussianProcess]:
    """The transform of ``g`` into the GP's outputs, and the GP fitted to them.

    ``warping`` is a word of :data:`OUTPUT_WARPINGS`:

    * ``"none"``: ``g`` standardised.
    * ``"power"``: power-transformed first, always, as HEBO does
      (:class:`kt_ext.gp.OutputTransform`). On a validation loss this spreads
      out the cluster of good trials that the chance-level tail squashes
      flat; on a function whose values come close to 0 relative to their
      spread (Branin: minimum 0.398, range about 300) its near-logarithm
      can turn the best point into a spike the GP cannot follow.
    * ``"auto"``: both, each with its own fitted kernel; the one under which
      ``g`` itself is the more likely wins: the GP's log posterior of its
      outputs plus the transform's log Jacobian
      (:meth:`kt_ext.gp.OutputTransform.log_jacobian`), the warped GP's
      likelihood (Snelson, Rasmussen and Ghahramani, NeurIPS 2003) with
      the transform chosen between two instead of learnt. A spike the GP
      explains badly loses; a tail the warp makes Gaussian wins. Between
      refits (:func:`refit`; every call below 200 observations refits) the
      kernel is kept, and so is ``warped``, the previous proposal's choice:
      one more point barely moves either, and comparing costs a second GP
      and a ``λ`` fit (at 500 observations a third of the proposal's time).

    Args:
        x: Features of the observations ``(n, D)``.
        g: Objective values ``(n,)``, larger is better.
        warping: How to warp (above).
        rng: Source of the fits' random restarts.
        warm_start: The previous fit, as for :func:`refit`.
        warped: Whether the previous proposal warped (``None``: none yet),
            kept by ``"auto"`` until the next refit.
    """
    best: tuple[float, OutputTransform, GaussianProcess] | None = None
    if warping == "auto_addfew" and len(g) <= x.shape[1]:
        from kt_ext.gp._additive import AdditiveGP

        for warp in (False, True):
            y, outputs = OutputTransform.fit(g, warp)
            additive = AdditiveGP(x, y)
            evidence = additive.log_posterior() + outputs.log_jacobian(g)
            if best is None or evidence > best[0]:
                best = (evidence, outputs, additive)  # type: ignore[assignment]
        assert best is not None
        return best[1], best[2]
    warps = OUTPUT_WARPINGS[warping]
    if len(warps) > 1 and warped is not None and not refits(len(g), x.shape[1], warm_start):
        warps = (warped,)
    compared = len(warps) > 1
    for warp in warps:
        y, outputs = OutputTransform.fit(g, warp)
        gp = GaussianProcess(x, y, refit(x, y, rng, warm_start))
        evidence = gp.log_posterior() + outputs.log_jacobian(g) if compared else 0.0
        if best is None or evidence > best[0]:
            best = (evidence, outputs, gp)
    assert best is not None
    return best[1], best[2]


def refit(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, warm_start: list[float] | None
) -> GPParams:
    """The GP's hyperparameters for this proposal: refitted, or the previous fit kept.

    Refitted warm-started from the previous fit (``warm_start``, a plain list
    an oracle can persist), with a random restart on the first fit and every
    fifth one. With ``n`` observations they are refitted on every
    ``max(1, n // 100)``-th call (every call below 200; beyond, whenever the
    data have grown by about 1 %), since one more point barely moves them
    while a fit costs ``O(n³)`` per step: with 500 observations in 6-D a fit
    is about 10 L-BFGS steps of 10 ms. The rule depends only on ``n``, so a
    resumed oracle refits exactly where the uninterrupted one would.

    Args:
        x: Features ``(n, D)``.
        y: Standardised outputs ``(n,)``.
        rng: Source of the random restarts.
        warm_start: The previous fit as :meth:`GPParams.to_vector`, or ``None``.
    """
    if refits(len(y), x.shape[1], warm_start):
        warm = None if warm_start is None else GPParams.from_vector(np.array(warm_start))
        first = warm is None or len(y) % (_refit_period(len(y)) * _RESTART_EVERY) == 0
        return fit_params(x, y, rng, warm_start=warm, restarts=_FIT_RESTARTS if first else 0)
    return GPParams.from_vector(np.array(warm_start))


def refits(n: int, dim: int, warm_start: list[float] | None) -> bool:
    """Whether :func:`refit` fits the kernel anew for ``n`` observations of ``dim`` features."""
    if warm_start is None:
        return True
    warm = GPParams.from_vector(np.array(warm_start))
    return len(warm.lengthscales) != dim or n % _refit_period(n) == 0


def _refit_period(n: int) -> int:
    """With ``n`` observations the kernel is refitted on every this-many-th proposal."""
    return max(1, n // _REFIT_EVERY_OBSERVATION)

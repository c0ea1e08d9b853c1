"""Successive halving (asynchronous or synchronous), Hyperband brackets and BOHB as an oracle.

Every KerasTuner trial is one *segment*: a configuration trained from one
epoch to another. A configuration's segments form a *lineage* (each
promoted segment names its parent in ``tuner/trial_id`` and continues from
the parent's checkpoint). All rung bookkeeping is recomputed from the
trials themselves (their values and per-epoch objective history), so a
reloaded oracle resumes mid-bracket exactly where it stopped; the only
extra state is which running segments were allowed past a rung.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import keras_tuner
import numpy as np
from keras_tuner.engine.trial import Trial, TrialStatus

from kt_ext.oracles._base import SeededOracle
from kt_ext.oracles._rung_front import rung_costs, top_by_front
from kt_ext.oracles._sampling import ConfigurationSampler, Lineage
from kt_ext.oracles._ucb import DEFAULT_BETA, EncoderCache, UCBProposer
from kt_ext.oracles.checks import HALVING_ARGUMENTS, check_arguments
from kt_ext.oracles.schedule import (
    BRACKET,
    EPOCHS,
    FRACTION,
    INITIAL_EPOCH,
    ITERATION,
    PARENT,
    RUNG,
    HalvingSchedule,
    config_values,
)


class HalvingOracle(ConfigurationSampler, SeededOracle):
    """Successive halving with early stopping at rungs, Hyperband brackets, BOHB sampling.

    Rungs are epoch budgets ``min_epochs·η^k`` (the top one ``max_epochs``)
    or, with ``budget="data"``, training-data fractions ``min_fraction·η^k``
    (the top one the whole data). A bracket samples its configurations at
    its lowest rung and keeps the best ``1/η`` at each rung above; with
    ``brackets`` > 1 the brackets are Hyperband's (Li et al., 2018).

    ``mode="async"`` is ASHA (Li et al., 2020): a configuration whose result
    at a rung is in the top ``floor(n/η)`` of the ``n`` results there so far
    is promoted at once (it simply keeps training in the same trial);
    otherwise its trial is stopped at that rung boundary (the tuner sees the
    status ``STOPPED`` from ``update_trial``), and it may still be promoted
    later, as a new trial that continues from its checkpoint, when more
    results arrive. Workers never wait. ``mode="sync"`` is textbook
    successive halving: a rung is promoted only when all its trials have
    ended; meanwhile idle workers start the next bracket. With several
    ``objectives``, rungs rank by front and spread (:mod:`._rung_front`).

    Promotions from a rung never exceed the synchronous schedule's count,
    so :attr:`schedule` bounds the trials and epochs of either mode. Failed
    trials simply have no result: they never block a rung. New
    configurations are never repeated; they come from ``sampler``:
    ``"random"`` (uniform, log-uniform for log-scale entries) or ``"gp"``
    (BOHB-style: GP-UCB fitted on the highest rung with at least
    ``min_points_in_model`` results, random before that and for a
    ``random_fraction`` of the configurations after). Configurations with no
    result at the model's rung yet are pending points of the GP (kriging
    believer), so consecutive proposals from unchanged data differ; failed
    ones feed its failure model (``failure_aware``).

    Trial values carry the segment in ``tuner/`` keys: ``tuner/epochs``,
    ``tuner/initial_epoch``, ``tuner/trial_id`` (the parent to continue),
    ``tuner/bracket``, ``tuner/iteration``, ``tuner/rung`` and, under the
    data budget, ``tuner/fraction``. A trial reports its objective per
    epoch with ``update_trial(..., step=epoch)``.

    Args:
        min_epochs: Epoch budget of the lowest rung (epoch budget).
        max_epochs: Epoch budget of the top rung; under the data budget,
            the epochs every trial trains.
        reduction_factor: ``η``, an integer ``>= 2``.
        brackets: Hyperband brackets, ``1`` (plain successive halving) up to
            all of them (``None``).
        iterations: Repetitions of the brackets.
        mode: ``"async"`` or ``"sync"``.
        budget: ``"epochs"`` or ``"data"``.
        min_fraction: Data fraction of the lowest rung (data budget).
        sampler: ``"random"`` or ``"gp"``.
        min_points_in_model: Results a rung needs before the GP sampler
            fits it; ``None`` means ``p + 1`` for ``p`` tunable hyperparameters
            (BOHB's ``d + 1``; at least 3).
        random_fraction: Share of the GP sampler's new configurations drawn at
            random anyway (BOHB's safeguard against a misleading model), in ``[0, 1]``.
        beta: ``β`` of the GP sampler's UCB, ``>= 0``.
        num_candidates: Sobol candidates per GP proposal, ``>= 16``.
        acquisition: The GP sampler's acquisition function, a name of
            :data:`kt_ext.gp.ACQUISITIONS` (``beta`` only affects ``"ucb"``).
        failure_aware: The GP sampler weighs its acquisition by the probability
            of not failing, as :class:`kt_ext.oracles.GPUCBOracle` does.
        schedule: The run's schedule, built once by the config layer
            (:meth:`HalvingSchedule.from_arguments`, which preview and the run
            log describe); when given, ``min_epochs``, ``max_epochs``,
            ``reduction_factor``, ``brackets``, ``iterations``, ``budget`` and
            ``min_fraction`` are not used.
        **oracle_args: ``objective``, ``hyperparameters``, ``seed`` (``0`` is a
            seed) and KerasTuner's other oracle arguments, as for
            :class:`kt_ext.oracles.SeededOracle` (``max_trials`` follows from the schedule).
    """

    def __init__(
        self,
        min_epochs: int = 1,
        max_epochs: int = 27,
        reduction_factor: int = 3,
        brackets: int | None = 1,
        iterations: int = 1,
        mode: str = "async",
        budget: str = "epochs",
        min_fraction: float = 1 / 9,
        sampler: str = "random",
        min_points_in_model: int | None = None,
        random_fraction: float = 0.0,
        beta: float = DEFAULT_BETA,
        num_candidates: int = 1024,
        acquisition: str = "ucb",
        failure_aware: bool = True,
        schedule: HalvingSchedule | None = None,
        **oracle_args: Any,
    ) -> None:
        check_arguments(HALVING_ARGUMENTS, locals())
        if schedule is None:
            schedule = HalvingSchedule.from_arguments(
                min_epochs, max_epochs, reduction_factor, brackets, iterations, budget, min_fraction
            )
        max_epochs = int(
            schedule.epochs_per_rung if schedule.budget == "data" else schedule.max_budget
        )
        oracle_args.pop("max_trials", None)  # the schedule decides
        super().__init__(max_trials=schedule.trials, **oracle_args)
        self.schedule = schedule
        self.max_epochs = max_epochs
        self.mode = mode
        self.sampler = sampler
        self.min_points_in_model = min_points_in_model
        self.random_fraction = float(random_fraction)
        self.beta = float(beta)
        self._encoders = EncoderCache()
        self.acquisition = acquisition
        self.failure_aware = failure_aware
        self._proposer = UCBProposer(num_candidates, acquisition, output_warping="none")
        self._passed: dict[str, int] = {}  # running trial id -> highest rung it may pass
        self._exhausted = False
        self._proposals: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ state
    def get_state(self) -> dict[str, Any]:
        """KerasTuner's state plus the rungs running trials may pass and the GP figures."""
        state = super().get_state()
        state["passed"] = dict(self._passed)
        state["proposals"] = self._proposals
        state["gp_params"] = self._proposer.warm_start
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`get_state`."""
        super().set_state(state)
        self._passed = {k: int(v) for k, v in state.get("passed", {}).items()}
        self._proposals = dict(state.get("proposals", {}))
        self._proposer.warm_start = state.get("gp_params")

    @property
    def proposals(self) -> dict[str, dict[str, Any]]:
        """Figures of each GP-sampled configuration, by trial id (as :class:`GPUCBOracle`'s)."""
        return self._proposals

    # ------------------------------------------------------------ bookkeeping
    def _sign(self) -> float:
        return 1.0 if self.objective.direction == "max" else -1.0

    def _history(self, trial: Trial) -> dict[int, float]:
        """Objective by step (epoch index) reported by ``trial``."""
        name = self.objective.name
        if not trial.metrics.exists(name):
            return {}
        return {int(obs.step): float(np.mean(obs.value)) for obs in trial.metrics.get_history(name)}

    def lineages(self) -> list[Lineage]:
        """Every configuration's lineage with its rung results, in trial-id order of roots."""
        budgets = self.schedule.budgets
        sign = self._sign()
        by_root: dict[str, Lineage] = {}
        root_of: dict[str, str] = {}
        for trial_id, trial in sorted(self.trials.items()):
            values = trial.hyperparameters.values
            parent = values.get(PARENT)
            if parent and parent in root_of:
                root = root_of[parent]
            else:
                root = trial_id
                group = (int(values.get(ITERATION, 0)), int(values.get(BRACKET, 0)))
                by_root[root] = Lineage(root, group, config_values(values))
            root_of[trial_id] = root
            by_root[root].segments.append(trial)
        for lineage in by_root.values():
            if self.schedule.budget == "data":
                for seg in lineage.segments:
                    if seg.status == TrialStatus.COMPLETED and seg.score is not None:
                        lineage.results[int(seg.hyperparameters.values[RUNG])] = float(seg.score)
                continue
            steps: dict[int, float] = {}
            for seg in lineage.segments:
                steps.update(self._history(seg))
            best = -math.inf
            for step in sorted(steps):
                value = sign * steps[step]
                best = max(best, value if math.isfinite(value) else -math.inf)
                for rung, b in enumerate(budgets):
                    if int(b) - 1 == step:
                        lineage.results[rung] = sign * best if math.isfinite(best) else steps[step]
        data, objectives = self.schedule.budget == "data", self.objectives
        for lin in by_root.values() if self.multi else ():
            lin.costs = rung_costs(lin.segments, budgets, objectives, lin.results, data)
        return list(by_root.values())

    def _rank_key(self, value: float) -> float:
        v = self._sign() * value
        return v if math.isfinite(v) else -math.inf

    def _promoted_from(self, lineage: Lineage, rung: int) -> bool:
        """Whether the lineage went (or is going) beyond ``rung``."""
        for seg in lineage.segments:
            if int(seg.hyperparameters.values.get(RUNG, 0)) > rung:
                return True
            if self._passed.get(seg.trial_id, -1) >= rung:
                return True
        return False

    def _top(self, lineages: list[Lineage], rung: int, count: int) -> list[Lineage]:
        """The ``count`` best lineages by their result at ``rung`` (ties: older first)."""
        ranked = [lin for lin in lineages if rung in lin.results]
        if self.multi:  # several objectives: by front, then spread (kt_ext.oracles._rung_front)
            ranked.sort(key=lambda lin: lin.root)
            return [ranked[i] for i in top_by_front([lin.costs[rung] for lin in ranked], count)]
        ranked.sort(key=lambda lin: (-self._rank_key(lin.results[rung]), lin.root))
        return ranked[:count]

    def _groups(self) -> Iterator[tuple[tuple[int, int], Any]]:
        for it in range(self.schedule.iterations):
            for bracket in self.schedule.bracket_list:
                yield (it, bracket.index), bracket

    def _group_of_new(self, index: int) -> tuple[tuple[int, int], Any] | None:
        """The (iteration, bracket) of the ``index``-th new configuration."""
        for group, bracket in self._groups():
            if index < bracket.configs[0]:
                return group, bracket
            index -= bracket.configs[0]
        return None

    # ----------------------------------------------------------- early stops
    @keras_tuner.synchronized
    def update_trial(self, trial_id: str, metrics: dict[str, float], step: int = 0) -> Trial:
        """Record ``metrics`` at ``step``; at a rung boundary, stop the trial unless promoted.

        Returns:
            The trial; its status is ``STOPPED`` when it should stop training now.
        """
        trial = super().update_trial(trial_id, metrics, step=step)
        if self.mode != "async" or self.schedule.budget != "epochs":
            return trial
        if trial.status != TrialStatus.RUNNING or self.objective.name not in metrics:
            return trial
        values = trial.hyperparameters.values
        budgets = self.schedule.budgets
        rung = next((k for k, b in enumerate(budgets) if int(b) - 1 == int(step)), None)
        if rung is None or int(step) + 1 >= int(values.get(EPOCHS, budgets[-1])):
            return trial
        if rung < int(values.get(RUNG, 0)) or self._passed.get(trial_id, -1) >= rung:
            return trial
        lineages = self.lineages()
        lineage = next(lin for lin in lineages if trial in lin.segments)
        if self._may_promote(lineage, rung, lineages):
            self._passed[trial_id] = rung
        else:
            trial.status = TrialStatus.STOPPED
        self._save_trial(trial)
        return trial

    def _may_promote(self, lineage: Lineage, rung: int, lineages: list[Lineage]) -> bool:
        """ASHA's rule: in the top ``floor(n/η)`` at ``rung``, within the planned count."""
        peers = [lin for lin in lineages if lin.group == lineage.group]
        bracket = self.schedule.bracket_list[lineage.group[1]]
        cap = bracket.planned(rung + 1)
        if sum(self._promoted_from(lin, rung) for lin in peers) >= cap:
            return False
        n = sum(rung in lin.results for lin in peers)
        top = self._top(peers, rung, n // self.schedule.reduction_factor)
        return any(lin.root == lineage.root for lin in top)

    # --------------------------------------------------------------- proposals
    def populate_space(self, trial_id: str) -> dict[str, Any]:
        """A promotion if one is due, else a new configuration, else IDLE or STOPPED."""
        lineages = self.lineages()
        job = self._promotion(lineages)
        if job is None:
            exhausted = self._exhausted
            job = self._new_configuration(lineages, trial_id)
            if job is None and self._exhausted and not exhausted:
                job = self._promotion(lineages)  # sync rungs no longer wait for new configs
        if job is not None:
            return {"status": TrialStatus.RUNNING, "values": job}
        if self.ongoing_trials:  # their results may still allow promotions
            return {"status": TrialStatus.IDLE, "values": None}
        return {"status": TrialStatus.STOPPED, "values": None}

    def _promotion(self, lineages: list[Lineage]) -> dict[str, Any] | None:
        ongoing = set(self.ongoing_trials)
        eta = self.schedule.reduction_factor
        for group, bracket in self._groups():
            peers = [lin for lin in lineages if lin.group == group]
            if not peers:
                continue
            rungs = bracket.rungs[:-1]
            started_all = len(peers) >= bracket.configs[0] or self._exhausted
            order = rungs if self.mode == "sync" else tuple(reversed(rungs))
            for rung in order:
                cap = bracket.planned(rung + 1)
                promoted = sum(self._promoted_from(lin, rung) for lin in peers)
                n = sum(rung in lin.results for lin in peers)
                # Final: no result can still arrive at this rung (all sampled, none running).
                final = started_all and not any(
                    seg.trial_id in ongoing and int(seg.hyperparameters.values.get(RUNG, 0)) <= rung
                    for lin in peers
                    for seg in lin.segments
                )
                if self.mode == "sync" and not final:
                    break
                # A final rung gets its planned promotions (ASHA's floor(n/η) could leave the
                # top rungs of a finite search empty); before that, ASHA's rule.
                count = min(cap, n) if final else n // eta
                if promoted >= cap:
                    continue
                for lin in self._top(peers, rung, count):
                    if self._promoted_from(lin, rung) or lin.last.trial_id in ongoing:
                        continue
                    if not self._resumable_at(lin, rung):
                        continue
                    return self._segment_values(lin, group, rung + 1)
                if self.mode == "sync" and promoted < count:
                    break  # the rest of this rung is still to be promoted
        return None

    def _resumable_at(self, lineage: Lineage, rung: int) -> bool:
        """The lineage's last trial completed and (epoch budget) stopped exactly at ``rung``."""
        if lineage.last.status != TrialStatus.COMPLETED:
            return False
        if self.schedule.budget == "data":
            return True
        steps = self._history(lineage.last)
        return bool(steps) and max(steps) == int(self.schedule.budgets[rung]) - 1

    def _segment_values(
        self, lineage: Lineage, group: tuple[int, int], rung: int
    ) -> dict[str, Any]:
        """Trial values promoting ``lineage`` to ``rung``."""
        budgets = self.schedule.budgets
        bracket = self.schedule.bracket_list[group[1]]
        values = dict(lineage.values)
        values.update({BRACKET: group[1], ITERATION: group[0], RUNG: rung})
        if self.schedule.budget == "data":
            values.update(
                {
                    EPOCHS: self.max_epochs,
                    INITIAL_EPOCH: 0,
                    FRACTION: float(budgets[rung]),
                    PARENT: lineage.last.trial_id,
                }
            )
            return values
        top = bracket.rungs[-1] if self.mode == "async" else rung
        values.update(
            {
                EPOCHS: int(budgets[top]),
                INITIAL_EPOCH: int(budgets[rung - 1]),
                PARENT: lineage.last.trial_id,
            }
        )
        return values

    # ----------------------------------------------------------------- report
    def rung_rows(self) -> list[dict[str, Any]]:
        """One row per trial: its configuration's bracket and the rungs its segment reached."""
        budgets = self.schedule.budgets
        rows = []
        for lin in self.lineages():
            for seg in lin.segments:
                values = seg.hyperparameters.values
                first = int(values.get(RUNG, 0))
                if self.schedule.budget == "data":
                    reached = [first] if first in lin.results and seg.score is not None else []
                else:
                    steps = self._history(seg)
                    reached = [
                        k for k, b in enumerate(budgets) if k >= first and int(b) - 1 in steps
                    ]
                rows.append(
                    {
                        "trial_id": seg.trial_id,
                        "config": lin.root,
                        "iteration": lin.group[0],
                        "bracket": lin.group[1],
                        "parent": values.get(PARENT, ""),
                        "status": str(seg.status),
                        "from_epoch": int(values.get(INITIAL_EPOCH, 0)),
                        "rung": max(reached) if reached else -1,
                        "budget": budgets[max(reached)] if reached else 0.0,
                    }
                )
        return sorted(rows, key=lambda r: r["trial_id"])

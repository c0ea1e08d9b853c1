"""Coarse-to-fine search: stages whose ranges shrink around the best trials so far."""

from __future__ import annotations

import copy
import json
import logging
import math
from typing import Any

import keras_tuner
from keras_tuner.engine.trial import TrialStatus

from kt_ext.oracles._base import SeededOracle
from kt_ext.oracles.checks import ZOOM_ARGUMENTS, check_arguments, first_untried

log = logging.getLogger(__name__)


def _finite_score(trial: Any) -> bool:
    return (
        trial.status == TrialStatus.COMPLETED
        and trial.score is not None
        and math.isfinite(float(trial.score))
    )


class ZoomOracle(SeededOracle):
    """Coarse to fine: ``stages`` rounds of search, each in the region of the best trials.

    The ``max_trials`` trials are split into ``stages`` equal stages. Stage 0
    searches the whole space. Before stage ``s`` starts, every range shrinks to
    the region of the ``top_k`` best trials so far: a number's new range spans
    their values (in log space for log-scale entries), widened on each side by
    ``margin`` times that span (``margin`` times half the previous range when
    the best values coincide), kept inside the space and snapped to the
    entry's grid; a choice keeps the values found among the ``top_k``. Best
    trials at the edge of a stage's range thus move the next stage beyond it
    (the classic advice: never let the best value sit at the edge of a range).

    Within a stage the ``inner`` strategy proposes: ``"random"`` (quasi-random:
    scrambled Sobol points, which cover a stage more evenly than independent
    draws), ``"bayes"`` (:class:`kt_ext.oracles.GPUCBOracle`) or
    ``"tpe"`` (:class:`kt_ext.oracles.OptunaOracle`), each fitted to the
    stage's own trials; when a finite region has no untried configuration
    left, the previous stage's region is searched. Ranges are a function of
    the trials, so a reloaded
    oracle zooms exactly as the uninterrupted one; no configuration is
    proposed twice. :meth:`stage_rows` gives each stage's ranges.

    Args:
        stages: Number of stages, ``>= 1`` (at most ``max_trials``).
        top_k: Best trials whose region the next stage searches, ``>= 1``.
        margin: Widening of the region on each side, as a fraction of its span, ``>= 0``.
        inner: ``"random"``, ``"bayes"`` or ``"tpe"``.
        acquisition: The acquisition function of the ``"bayes"`` inner search, a
            name of :data:`kt_ext.gp.ACQUISITIONS`.
        **oracle_args: ``objective``, ``max_trials``, ``hyperparameters``,
            ``seed`` (``0`` is a seed) and KerasTuner's other oracle
            arguments, as for :class:`kt_ext.oracles.SeededOracle`.
    """

    def __init__(
        self,
        stages: int = 3,
        top_k: int = 3,
        margin: float = 0.25,
        inner: str = "random",
        acquisition: str = "ucb",
        **oracle_args: Any,
    ) -> None:
        check_arguments(ZOOM_ARGUMENTS, {**locals(), **oracle_args})
        super().__init__(**oracle_args)
        self.stages = min(stages, self.max_trials)  # every stage runs at least one trial
        self.top_k = top_k
        self.margin = float(margin)
        self.inner = inner
        self.acquisition = acquisition
        self._stage_of: dict[str, int] = {}  # trial id -> the stage whose region it lies in
        self._spaces: dict[int, dict[str, Any]] = {}  # stage -> narrowed space config

    @property
    def per_stage(self) -> int:
        """Trials per stage (the last stage takes what is left)."""
        return math.ceil(self.max_trials / self.stages)

    def get_state(self) -> dict[str, Any]:
        """KerasTuner's state plus each trial's stage and each stage's space."""
        state = super().get_state()
        state["zoom"] = {
            "stage_of": self._stage_of,
            "spaces": {str(k): v for k, v in self._spaces.items()},
        }
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`get_state`."""
        super().set_state(state)
        zoom = state.get("zoom", {})
        self._stage_of = dict(zoom.get("stage_of", {}))
        self._spaces = {int(k): v for k, v in zoom.get("spaces", {}).items()}

    # ------------------------------------------------------------------ ranges
    def _best(self, k: int) -> list[Any]:
        sign = -1.0 if self.objective.direction == "max" else 1.0
        done = [t for t in self.trials.values() if _finite_score(t)]
        done.sort(key=lambda t: (sign * float(t.score), t.trial_id))
        return done[:k]

    def _space(self, stage: int) -> keras_tuner.HyperParameters:
        """The (narrowed) search space of ``stage``, computed once and kept."""
        if stage not in self._spaces:
            if stage == 0:
                config = self.hyperparameters.get_config()
            else:
                config = narrow(
                    self.hyperparameters.get_config(),
                    [t.hyperparameters.values for t in self._best(self.top_k)],
                    self.margin,
                    previous=self._space(stage - 1).get_config(),
                )
            self._spaces[stage] = json.loads(json.dumps(config))  # plain JSON, for the state
            log.info("zoom stage %d of %d:\n%s", stage + 1, self.stages, describe(config))
        # from_config turns the config's conditions into objects: give it a copy
        return keras_tuner.HyperParameters.from_config(copy.deepcopy(self._spaces[stage]))

    def stage_rows(self) -> list[dict[str, Any]]:
        """One row per stage and hyperparameter: ``low``/``high`` or the kept ``values``."""
        rows = []
        for stage in sorted(self._spaces):
            for entry in self._spaces[stage]["space"]:
                c = entry["config"]
                row = {"stage": stage, "name": c["name"], "type": entry["class_name"]}
                if "min_value" in c:
                    row.update(low=c["min_value"], high=c["max_value"], values="")
                else:
                    values = c.get("values", [c.get("value")])
                    row.update(low="", high="", values=" ".join(str(v) for v in values))
                rows.append(row)
        return rows

    # --------------------------------------------------------------- proposals
    def populate_space(self, trial_id: str) -> dict[str, Any]:
        """Values from the inner strategy, in the space of the current stage."""
        start = first_untried(self.initial_points, self._duplicate)
        if start is not None:
            self._stage_of[trial_id] = 0
            return {"status": TrialStatus.RUNNING, "values": start}
        index = len(self.trials)
        stage = min(index // self.per_stage, self.stages - 1)
        # A finite region may run out of untried configurations: fall back to the wider ones.
        for region in range(stage, -1, -1):
            response = self._propose(region, trial_id)
            if response["status"] != TrialStatus.STOPPED:
                if response["status"] == TrialStatus.RUNNING:
                    self._stage_of[trial_id] = region  # its values lie in this region
                return response
        return response

    def _propose(self, region: int, trial_id: str) -> dict[str, Any]:
        """The inner strategy's answer in the space of stage ``region``."""
        inner = self._inner(region, self._space(region))
        for tid, trial in self.trials.items():  # the stage's trials, for the inner model
            if self._stage_of.get(tid) == region and tid != trial_id:
                inner.trials[tid] = trial
        inner.ongoing_trials = {
            k: t for k, t in self.ongoing_trials.items() if self._stage_of.get(t.trial_id) == region
        }
        inner._tried_so_far = set(self._tried_so_far)  # never repeat any earlier trial
        inner._id_to_hash = self._id_to_hash
        return inner.populate_space(trial_id)

    def _inner(self, stage: int, space: keras_tuner.HyperParameters) -> keras_tuner.Oracle:
        from kt_ext.oracles._gp_ucb import GPUCBOracle
        from kt_ext.oracles._optuna import OptunaOracle

        seed = (self.seed or 0) * 1000 + stage + 1
        kwargs = {"objective": self.objective, "max_trials": 10**6, "hyperparameters": space}
        initial = max(2, self.per_stage // 3)
        if self.inner == "bayes":
            oracle = GPUCBOracle(
                seed=seed, num_initial_points=initial, acquisition=self.acquisition, **kwargs
            )
        elif self.inner == "tpe":
            oracle = OptunaOracle(seed=seed, num_initial_points=initial, **kwargs)
        else:  # quasi-random: scrambled Sobol points cover a stage evenly
            oracle = GPUCBOracle(seed=seed, num_initial_points=10**6, **kwargs)
        oracle.verbose = 0
        return oracle


def narrow(
    config: dict[str, Any],
    best: list[dict[str, Any]],
    margin: float,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``HyperParameters`` config shrunk to the region of ``best`` (values of the best trials).

    See :class:`ZoomOracle` for the rule. ``config`` is the whole space: the
    region may reach beyond the ``previous`` stage's range (best trials at its
    edge) but never beyond the space. Entries none of ``best`` sets (an
    inactive condition) keep their ``previous`` range.
    """
    before = {e["config"]["name"]: e for e in (previous or config)["space"]}
    out: dict[str, Any] = {"space": [], "values": dict(config.get("values", {}))}
    for entry in config["space"]:
        entry = {"class_name": entry["class_name"], "config": dict(entry["config"])}
        c = entry["config"]
        seen = [b[c["name"]] for b in best if c["name"] in b]
        if not seen and c["name"] in before:
            entry = {"class_name": entry["class_name"], "config": dict(before[c["name"]]["config"])}
            c = entry["config"]
        elif entry["class_name"] in ("Float", "Int"):
            old = before.get(c["name"], entry)["config"]
            c["min_value"], c["max_value"] = _shrink(entry["class_name"], c, old, seen, margin)
        elif entry["class_name"] == "Choice":
            kept = [v for v in c["values"] if v in seen]
            c["values"] = kept
            if c.get("default") not in kept:
                c["default"] = kept[0]
        out["space"].append(entry)
        if c["name"] in out["values"] and entry["class_name"] != "Fixed":
            out["values"][c["name"]] = c.get("default", c.get("min_value"))
    return out


def _shrink(
    kind: str, c: dict[str, Any], old: dict[str, Any], seen: list[float], margin: float
) -> tuple[Any, Any]:
    """The new ``(min_value, max_value)`` of a ``Float`` or ``Int`` entry ``c`` of the space.

    ``old`` is the entry in the previous stage: coinciding best values widen
    by ``margin`` times half its span on each side.
    """
    lo0, hi0 = float(c["min_value"]), float(c["max_value"])
    log_scale = c.get("sampling") == "log" and lo0 > 0

    def to(v: float) -> float:
        return math.log(v) if log_scale else v

    def back(v: float) -> float:
        return math.exp(v) if log_scale else v

    a, b = to(min(seen)), to(max(seen))
    old_span = to(float(old["max_value"])) - to(float(old["min_value"]))
    pad = margin * (b - a) if b > a else margin * old_span / 2
    lo, hi = back(max(to(lo0), a - pad)), back(min(to(hi0), b + pad))
    step = c.get("step")
    if step and not log_scale:  # stay on the entry's grid
        lo = lo0 + math.floor((lo - lo0) / step + 1e-9) * step
        hi = lo0 + math.ceil((hi - lo0) / step - 1e-9) * step
    lo, hi = max(lo, lo0), min(hi, hi0)
    if kind == "Int":
        return int(round(lo)), max(int(round(lo)), int(round(hi)))
    if hi <= lo:  # all best values at a bound: keep a sliver of range
        hi = min(hi0, lo + (hi0 - lo0) * 1e-6)
    return lo, hi


def describe(config: dict[str, Any]) -> str:
    """One line per entry of a ``HyperParameters`` config: its range or values."""
    lines = []
    for entry in config["space"]:
        c = entry["config"]
        if "min_value" in c:
            scale = " (log)" if c.get("sampling") == "log" else ""
            lines.append(f"  {c['name']}: [{c['min_value']:.4g}, {c['max_value']:.4g}]{scale}")
        elif "values" in c:
            lines.append(f"  {c['name']}: {', '.join(str(v) for v in c['values'])}")
    return "\n".join(lines)

"""Objectives, the costs kt-ext measures, and the selection of the trial a search hands on."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PARAMS = "params"
LATENCY_MS = "latency_ms"
TRAIN_SECONDS = "train_seconds"
#: Costs kt-ext measures per trial when an objective names them (all minimised), with what
#: each is; ``kt_ext.tuners.hypermodel.CostLogger`` measures them.
COSTS: dict[str, str] = {
    PARAMS: "parameters of the model (trainable and not)",
    LATENCY_MS: "median milliseconds to predict one validation batch, after warm-up",
    TRAIN_SECONDS: "seconds spent in training (all segments of a configuration)",
}
#: Costs that span orders of magnitude: compared on a log scale (normalisation, plots).
LOG_COSTS = (PARAMS, LATENCY_MS)
#: Costs a configuration accumulates over the trials that continue it (successive halving).
ADDITIVE_COSTS = (TRAIN_SECONDS,)


@dataclass(frozen=True)
class Objective:
    """One objective of a search: a metric name and whether it is maximised or minimised.

    Attributes:
        name: A compiled metric or loss (``val_loss``, ``val_accuracy``) or one
            of :data:`COSTS`.
        direction: ``"min"`` or ``"max"``.
    """

    name: str
    direction: str

    @property
    def is_cost(self) -> bool:
        """Whether kt-ext measures it (one of :data:`COSTS`) rather than Keras."""
        return self.name in COSTS

    @property
    def additive(self) -> bool:
        """Whether a configuration's value is the sum over the trials that continue it."""
        return self.name in ADDITIVE_COSTS

    @property
    def log(self) -> bool:
        """Whether it is compared on a log scale (costs spanning orders of magnitude)."""
        return self.name in LOG_COSTS

    def cost(self, value: float | None) -> float:
        """The value as a cost (lower is better): negated if maximised, log10 if :attr:`log`.

        A missing or non-finite value is ``+inf`` (worse than any measured one).
        """
        if value is None or not math.isfinite(float(value)):
            return math.inf
        v = float(value)
        if self.log:
            v = math.log10(max(v, 1e-12))
        return v if self.direction == "min" else -v

    def as_tuple(self) -> tuple[str, str]:
        """``(name, direction)``: how oracles receive it (plain values for their state)."""
        return (self.name, self.direction)


def as_costs(rows: Sequence[Mapping[str, Any]], objectives: Sequence[Objective]) -> np.ndarray:
    """Matrix ``(n, m)`` of costs (lower is better) of ``rows`` (metric name -> value)."""
    out = np.array(
        [[o.cost(r.get(o.name)) for o in objectives] for r in rows], dtype=float
    ).reshape(len(rows), len(objectives))
    return out


def trial_vector(trial: Any, objectives: Sequence[Objective]) -> dict[str, float | None]:
    """A KerasTuner trial's last reported value of each objective (``None`` if missing)."""
    out: dict[str, float | None] = {}
    for o in objectives:
        value = trial.metrics.get_last_value(o.name) if trial.metrics.exists(o.name) else None
        out[o.name] = None if value is None else float(value)
    return out


@dataclass(frozen=True)
class Selection:
    """``search.select``: the trial a search hands on, among completed ones.

    The best trial by ``by`` among those within every limit (an upper bound
    for a minimised objective, a lower one for a maximised one); a tie on
    ``by`` goes to the better trial on the other objectives in their order
    (so the trial chosen is on the Pareto front), then to the earlier one.
    With one objective and no limits this is the best trial, as it always was.

    Attributes:
        by: The objective to optimise (its name).
        limits: Bounds on objectives, by name (``{"params": 100000}``).
    """

    by: str
    limits: Mapping[str, float] = field(default_factory=dict)

    def choose(
        self, rows: Sequence[Mapping[str, Any]], objectives: Sequence[Objective]
    ) -> int | None:
        """Index of the chosen row (``None`` if no row meets the limits).

        Args:
            rows: Completed trials' objective values (metric name -> value).
            objectives: The search's objectives (directions and names).
        """
        by_name = {o.name: o for o in objectives}
        best: int | None = None
        best_cost: tuple[float, ...] = (math.inf,)
        for i, row in enumerate(rows):
            ok = True
            for name, bound in self.limits.items():
                o, v = by_name[name], row.get(name)
                if v is None or not math.isfinite(float(v)):
                    ok = False
                elif o.direction == "min" and float(v) > bound:
                    ok = False
                elif o.direction == "max" and float(v) < bound:
                    ok = False
            cost: tuple[float, ...] = (by_name[self.by].cost(row.get(self.by)),)
            cost += tuple(o.cost(row.get(o.name)) for o in objectives if o.name != self.by)
            if ok and math.isfinite(cost[0]) and cost < best_cost:
                best, best_cost = i, cost
        return best

    def describe(self) -> str:
        """In words: ``best val_loss with params <= 100000``."""
        text = f"best {self.by}"
        if self.limits:
            text += " with " + ", ".join(f"{k} within {v:g}" for k, v in self.limits.items())
        return text

"""Successive halving with several objectives: each configuration's costs at a rung, and the order.

A configuration's result at a rung is a vector (:func:`rung_costs`): its
first objective as the single-objective oracle has it (the best value up to
the rung's epoch), every other objective at that epoch (costs are constant
per configuration; an additive cost such as ``train_seconds`` adds the
segments before). Promotion
ranks a rung's results by non-dominated rank, then by crowding distance
(NSGA-II, Deb et al., 2002: :func:`kt_ext.objectives.spread_order`), so
the configurations promoted both lie on the best fronts and stay spread
along them, and bad trials stop early as in a single-objective search.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from keras_tuner.engine.trial import TrialStatus

from kt_ext.objectives import Objective, spread_order, trial_vector
from kt_ext.oracles.schedule import RUNG


def _history(trial: Any, name: str) -> dict[int, float]:
    if not trial.metrics.exists(name):
        return {}
    return {int(o.step): float(np.mean(o.value)) for o in trial.metrics.get_history(name)}


def rung_costs(
    segments: Sequence[Any],
    budgets: Sequence[float],
    objectives: Sequence[Objective],
    primary: dict[int, float],
    data_budget: bool,
) -> dict[int, np.ndarray]:
    """Cost vectors (lower is better) of one configuration, by rung.

    Args:
        segments: The configuration's trials, in order.
        budgets: The schedule's rung budgets.
        objectives: Every objective; the first is the primary.
        primary: The configuration's first-objective result by rung (as the
            single-objective oracle computes it).
        data_budget: Rungs are data fractions (one completed trial per rung).
    """
    out: dict[int, np.ndarray] = {}
    if data_budget:
        for seg in segments:
            if seg.status != TrialStatus.COMPLETED:
                continue
            rung = int(seg.hyperparameters.values.get(RUNG, 0))
            if rung in primary:
                values = trial_vector(seg, objectives)
                values[objectives[0].name] = primary[rung]
                out[rung] = np.array([o.cost(values[o.name]) for o in objectives])
        return out
    series: dict[str, dict[int, float]] = {}
    for o in objectives[1:]:
        steps: dict[int, float] = {}
        offset = 0.0
        for seg in segments:
            h = _history(seg, o.name)
            steps.update({k: v + offset for k, v in h.items()} if o.additive else h)
            if o.additive and h:
                offset += h[max(h)]
        series[o.name] = steps
    for rung, value in primary.items():
        step = int(budgets[rung]) - 1
        row = [objectives[0].cost(value)]
        for o in objectives[1:]:
            known = [k for k in series[o.name] if k <= step]
            row.append(o.cost(series[o.name][max(known)]) if known else math.inf)
        out[rung] = np.array(row)
    return out


def top_by_front(vectors: Sequence[np.ndarray], count: int) -> list[int]:
    """Indices of the ``count`` best vectors: by front, then crowding (ties: earlier first)."""
    if not vectors:
        return []
    return spread_order(np.array(vectors))[:count]

"""``search.objective``/``direction``, ``search.objectives`` and ``search.select``.

One objective (``search.objective``, direction inferred from its name) is
the default and works as it always did. ``search.objectives`` lists
several, each a name (direction inferred) or ``{name, direction}``; it
replaces ``search.objective``/``direction``, and its first entry becomes
the one KerasTuner scores trials by, early stopping follows and each
trial's best-epoch checkpoint keeps: so it must be a metric Keras computes.
The others may be costs kt-ext measures (:data:`kt_ext.objectives.COSTS`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kt_ext.errors import ConfigError
from kt_ext.objectives import COSTS, Objective, Selection

DIRECTIONS = ("max", "min")
_MIN_PATTERN = re.compile(r"(loss|error|crossentropy|mae|mse|rmse|hinge)$")
_MAX_PATTERN = re.compile(r"(accuracy|acc|auc|precision|recall|f1_score)$")


def objective_name(value: Any, metrics: tuple[str, ...], key: str = "search.objective") -> str:
    """A compiled metric or loss, optionally with ``val_`` (``key`` names it in errors)."""
    allowed = ["loss", *metrics]
    allowed += [f"val_{m}" for m in allowed]
    if value not in allowed:
        raise ConfigError(key, value, f"must be one of {', '.join(allowed)}")
    return value


def direction(objective: str, value: Any, key: str = "search.direction") -> str:
    """``value`` if given, else inferred from the objective's name (costs: ``min``)."""
    if value is None:
        name = objective.removeprefix("val_")
        if objective in COSTS or _MIN_PATTERN.search(name):
            return "min"
        if _MAX_PATTERN.search(name):
            return "max"
        raise ConfigError(key, None, f"cannot infer it for {objective!r}; set max or min")
    if value not in DIRECTIONS:
        raise ConfigError(key, value, "must be max, min or null (inferred from the objective)")
    return value


def objectives(search: Mapping[str, Any], metrics: tuple[str, ...]) -> tuple[Objective, ...]:
    """The search's objectives: ``search.objectives`` if set, else the single objective."""
    raw = search.get("objectives")
    if raw is None:
        single = objective_name(search.get("objective"), metrics)
        return (Objective(single, direction(single, search.get("direction"))),)
    if not isinstance(raw, list) or not raw:
        raise ConfigError(
            "search.objectives", raw, "must be a non-empty list such as [val_loss, params]"
        )
    out: list[Objective] = []
    for i, entry in enumerate(raw):
        key = f"search.objectives[{i}]"
        if isinstance(entry, Mapping):
            unknown = set(entry) - {"name", "direction"}
            if unknown:
                raise ConfigError(key, dict(entry), "may hold only name and direction")
            name, given = entry.get("name"), entry.get("direction")
        else:
            name, given = entry, None
        if name not in COSTS:
            objective_name(name, metrics, key)
        if any(o.name == name for o in out):
            raise ConfigError(key, name, "listed twice")
        out.append(Objective(str(name), direction(str(name), given, key)))
    if out[0].is_cost:
        raise ConfigError(
            "search.objectives[0]",
            out[0].name,
            "must be a metric of training (loss, val_loss, val_accuracy, ...): early stopping "
            "and each trial's best-epoch checkpoint follow it; list costs after it",
        )
    return tuple(out)


def selection(search: Mapping[str, Any], chosen: tuple[Objective, ...]) -> Selection:
    """``search.select``: ``by`` (null: the first objective) and ``limits`` on objectives."""
    raw = search.get("select") or {}
    if not isinstance(raw, Mapping) or set(raw) - {"by", "limits"}:
        raise ConfigError("search.select", raw, "must be a mapping with by and limits")
    names = [o.name for o in chosen]
    by = raw.get("by") or names[0]
    if by not in names:
        raise ConfigError("search.select.by", by, f"must be an objective: {', '.join(names)}")
    limits = raw.get("limits") or {}
    if not isinstance(limits, Mapping):
        raise ConfigError("search.select.limits", limits, "must map objectives to bounds")
    out: dict[str, float] = {}
    for name, bound in limits.items():
        key = f"search.select.limits.{name}"
        if name not in names:
            raise ConfigError(key, bound, f"not an objective: {', '.join(names)}")
        if isinstance(bound, bool) or not isinstance(bound, (int, float)):
            raise ConfigError(key, bound, "must be a number")
        out[str(name)] = float(bound)
    return Selection(str(by), out)

"""What a search will do, before it spends any time: ``scripts/tune.py ... preview=true``.

:func:`describe_space` and :func:`describe_cost` need no TensorFlow;
:func:`corner_builds` builds the model at the corners of the space (each
entry at each extreme with the others at their defaults, plus all entries at
their low and at their high ends together) to catch shape errors and to
report parameter counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from kt_ext.config import RunSettings
from kt_ext.config.strategies import strategy_of
from kt_ext.space import Param, Scalar, SearchSpace


def _domain_text(p: Param) -> str:
    if p.kind in ("float", "int"):
        text = f"[{p.low:g}, {p.high:g}]"
        if p.step is not None:
            text += f" step {p.step:g}"
        return text + (" log" if p.log else "")
    if p.kind == "bool":
        return "false, true"
    return ", ".join(str(v) for v in p.values)


def describe_space(space: SearchSpace) -> str:
    """One line per entry: name, type, domain, default and condition."""
    rows = [("name", "type", "values", "default", "active when")]
    for p in space:
        when = "; ".join(f"{c.parent} in {list(c.values)}" for c in p.when)
        rows.append((p.name, p.kind, _domain_text(p), str(space.default(p.name)), when))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def describe_cost(settings: RunSettings) -> str:
    """Trials and epochs the strategy implies (its registry entry's words)."""
    return strategy_of(settings.strategy["_target_"]).describe_cost(
        settings.strategy, settings.search, settings.space, settings.schedule
    )


def corners(space: SearchSpace) -> list[tuple[str, dict[str, Any]]]:
    """Configurations at the corners of ``space``, named, defaults first.

    Each entry at each end of its domain (every value of a choice) with the
    others at their defaults, then every entry at its low end together and
    every entry at its high end together. Duplicates are dropped.
    """

    def ends(p: Param) -> list[Scalar]:
        if p.kind in ("float", "int"):
            low = p.bounds[0]
            return [low if p.kind == "float" else int(low), _high(p)]
        return list(p.domain() or ())

    out: list[tuple[str, dict[str, Any]]] = [("defaults", space.resolve({}))]
    for p in space:
        for v in ends(p):
            corner: dict[str, Any] = {p.name: v}
            for c in p.when:  # make it active
                corner[c.parent] = c.values[0]
            out.append((f"{p.name}={v}", space.resolve(corner)))
    for label, pick in (("all low", 0), ("all high", -1)):
        given: dict[str, Any] = {}
        for p in space:
            if all(given.get(c.parent, space.default(c.parent)) in c.values for c in p.when):
                given[p.name] = ends(p)[pick]
        out.append((label, space.resolve(given)))
    seen, unique = set(), []
    for label, values in out:
        key = tuple(sorted(values.items()))
        if key not in seen:
            seen.add(key)
            unique.append((label, values))
    return unique


def _high(p: Param) -> Scalar:
    """The largest value on the entry's grid."""
    if p.kind == "int":
        domain = p.domain()
        return int(domain[-1]) if domain else int(p.bounds[1])
    low, high = p.bounds
    if p.step is not None and not p.log:
        return low + math.floor((high - low) / p.step + 1e-9) * p.step
    return float(high)


@dataclass(frozen=True)
class Corner:
    """One corner build: its label, values, parameter count or error."""

    label: str
    values: dict[str, Any]
    params: int | None
    error: str | None


def corner_builds(hypermodel: Any, space: SearchSpace) -> list[Corner]:
    """Build (without training) the model of every corner of ``space``."""
    import keras

    built = []
    for label, values in corners(space):
        keras.backend.clear_session()
        try:
            model = hypermodel.build_from_values(values)
            built.append(Corner(label, values, int(model.count_params()), None))
        except Exception as e:  # noqa: BLE001 - reported per corner
            message = str(e).strip().splitlines()[0] if str(e).strip() else ""
            built.append(Corner(label, values, None, f"{type(e).__name__}: {message}"))
    keras.backend.clear_session()
    return built


def describe_corners(built: list[Corner]) -> str:
    """The corner builds that differ from the defaults, failures included, and the range."""
    base = built[0].params if built else None
    lines, same = [], 0
    for i, c in enumerate(built):
        if c.error is not None:
            lines.append(f"  {c.label:<28} FAILS: {c.error}")
        elif i == 0 or c.params != base:
            lines.append(f"  {c.label:<28} {c.params:>12,} parameters")
        else:
            same += 1
    if same:
        lines.append(f"  ({same} more corners build the same model as the defaults)")
    sizes = [c.params for c in built if c.params is not None]
    if sizes:
        lines.append(f"  parameters: {min(sizes):,} to {max(sizes):,}")
    return "\n".join(lines)


def run_preview(settings: RunSettings) -> str:
    """The whole preview: space, cost, data and corner builds.

    Raises:
        ConfigError: A corner of the space fails to build (the search would
            have failing trials); the text up to then is in ``error.preview``.
    """
    from kt_ext.errors import ConfigError
    from kt_ext.run import prepare

    spec, distribution, data, hypermodel = prepare(settings)
    strategy_name = settings.strategy["_target_"].rsplit(".", 1)[-1]
    search = settings.search
    objectives = ", ".join(f"{o.name} ({o.direction})" for o in search.all_objectives)
    if search.multi:
        objectives += f", handing on the {search.selection.describe()}"
    parts = [
        f"search space ({len(settings.space.names)} hyperparameters):",
        describe_space(settings.space),
        "",
        f"strategy {strategy_name}: {describe_cost(settings)}",
        f"objective: {objectives}; data: {len(data.y_train)} train / {len(data.y_val)} val / "
        f"{len(data.y_test)} test, "
        f"input {data.input_shape}, {data.num_classes} classes; distribute: {spec.name} "
        f"({distribution.num_replicas_in_sync} replica(s))",
        "",
        "models at the corners of the space:",
    ]
    with distribution.scope():
        built = corner_builds(hypermodel, settings.space)
    parts.append(describe_corners(built))
    text = "\n".join(parts)
    failed = [c for c in built if c.error is not None]
    if failed:
        print(text, flush=True)
        first = failed[0]
        raise ConfigError(
            "model.space",
            None,
            f"{len(failed)} of {len(built)} corner configurations fail to build "
            f"(first: {first.label}: {first.error}); trials there would fail",
        )
    return text + "\n\npreview only: nothing was trained or written"

"""Parsing a YAML search space: every entry checked, with errors that name the key."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from kt_ext.errors import ConfigError
from kt_ext.space._model import Condition, Param, SearchSpace

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Keys each entry type accepts besides `type` and `when`.
_KEYS: dict[str, frozenset[str]] = {
    "float": frozenset({"low", "high", "log", "step", "default"}),
    "int": frozenset({"low", "high", "log", "step", "default"}),
    "choice": frozenset({"values", "ordered", "default"}),
    "bool": frozenset({"default"}),
    "fixed": frozenset({"value"}),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "float": ("low", "high"),
    "int": ("low", "high"),
    "choice": ("values",),
    "bool": (),
    "fixed": ("value",),
}


def parse_space(raw: Mapping[str, Any], key: str = "model.space") -> SearchSpace:
    """Validate a YAML search space and return it as a :class:`SearchSpace`.

    Args:
        raw: Mapping from hyperparameter name to entry (plain Python containers).
        key: Dotted config path of ``raw``, used in error messages.

    Returns:
        The space with entries topologically ordered (parents before children).

    Raises:
        ConfigError: An entry breaks a rule; the message names the dotted key.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(key, raw, "must be a mapping from hyperparameter name to entry")
    params = {name: _parse_entry(name, entry, f"{key}.{name}") for name, entry in raw.items()}
    for p in params.values():
        _check_conditions(p, params, f"{key}.{p.name}.when")
    return SearchSpace(_topological(params, key))


def _parse_entry(name: Any, entry: Any, key: str) -> Param:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            key, name, "hyperparameter names must be identifiers (letters, digits, _)"
        )
    if _is_scalar(entry):
        return Param(name=name, kind="fixed", values=(entry,))
    if isinstance(entry, (list, tuple)):
        raise ConfigError(
            key, entry, f"a list is ambiguous; write {{type: choice, values: {list(entry)}}}"
        )
    if not isinstance(entry, Mapping):
        raise ConfigError(key, entry, "must be a scalar (fixed value) or a mapping with a `type`")
    kind = entry.get("type")
    if kind not in _KEYS:
        raise ConfigError(f"{key}.type", kind, f"must be one of {', '.join(_KEYS)}")
    for k in entry:
        if k not in _KEYS[kind] and k not in ("type", "when"):
            allowed = ", ".join(sorted(_KEYS[kind] | {"type", "when"}))
            raise ConfigError(
                f"{key}.{k}", entry[k], f"unknown key for type {kind}; allowed: {allowed}"
            )
    for k in _REQUIRED[kind]:
        if entry.get(k) is None:
            raise ConfigError(f"{key}.{k}", None, f"required for type {kind}")
    when = _parse_when(entry.get("when"), f"{key}.when")
    parser = {
        "float": _parse_float,
        "int": _parse_int,
        "choice": _parse_choice,
        "bool": _parse_bool,
        "fixed": _parse_fixed,
    }[kind]
    return parser(name, entry, key, when)


def _parse_number(
    kind: str, name: str, e: Mapping[str, Any], key: str, when: tuple[Condition, ...]
) -> Param:
    """A ``float`` or ``int`` entry: the same rules, on its own kind of number."""
    convert = _number if kind == "float" else _integer
    low = convert(e["low"], f"{key}.low")
    high = convert(e["high"], f"{key}.high")
    log = _flag(e.get("log", False), f"{key}.log")
    _check_bounds(low, high, log, key)
    step = None if e.get("step") is None else convert(e["step"], f"{key}.step")
    _check_step(step, low, high, log, key)
    default = None if e.get("default") is None else convert(e["default"], f"{key}.default")
    _check_default_in(default, low, high, key)
    return Param(
        name=name, kind=kind, low=low, high=high, log=log, step=step, default=default, when=when
    )


def _parse_float(name: str, e: Mapping[str, Any], key: str, when: tuple[Condition, ...]) -> Param:
    return _parse_number("float", name, e, key, when)


def _parse_int(name: str, e: Mapping[str, Any], key: str, when: tuple[Condition, ...]) -> Param:
    return _parse_number("int", name, e, key, when)


def _parse_choice(name: str, e: Mapping[str, Any], key: str, when: tuple[Condition, ...]) -> Param:
    values = e["values"]
    if not isinstance(values, (list, tuple)) or not values:
        raise ConfigError(f"{key}.values", values, "must be a non-empty list")
    for i, v in enumerate(values):
        if not _is_scalar(v):
            raise ConfigError(
                f"{key}.values[{i}]", v, "choices must be numbers, strings or booleans"
            )
    kinds = {_scalar_kind(v) for v in values}
    if len(kinds) > 1:
        raise ConfigError(f"{key}.values", list(values), "all choices must have the same type")
    if len(set(values)) != len(values):
        raise ConfigError(f"{key}.values", list(values), "choices must be unique")
    ordered = e.get("ordered")
    if ordered is not None:
        ordered = _flag(ordered, f"{key}.ordered")
        if ordered and kinds & {"str", "bool"}:
            raise ConfigError(f"{key}.ordered", ordered, "only numeric choices can be ordered")
    default = e.get("default")
    if default is not None and default not in values:
        raise ConfigError(f"{key}.default", default, f"must be one of the values {list(values)}")
    return Param(
        name=name, kind="choice", values=tuple(values), ordered=ordered, default=default, when=when
    )


def _parse_bool(name: str, e: Mapping[str, Any], key: str, when: tuple[Condition, ...]) -> Param:
    default = e.get("default")
    if default is not None:
        default = _flag(default, f"{key}.default")
    return Param(name=name, kind="bool", default=default, when=when)


def _parse_fixed(name: str, e: Mapping[str, Any], key: str, when: tuple[Condition, ...]) -> Param:
    value = e["value"]
    if not _is_scalar(value):
        raise ConfigError(f"{key}.value", value, "must be a number, string or boolean")
    return Param(name=name, kind="fixed", values=(value,), when=when)


def _parse_when(when: Any, key: str) -> tuple[Condition, ...]:
    if when is None:
        return ()
    if not isinstance(when, Mapping) or not when:
        raise ConfigError(
            key, when, "must map a parent hyperparameter to a value or list of values"
        )
    conds = []
    for parent, vals in when.items():
        vals = tuple(vals) if isinstance(vals, (list, tuple)) else (vals,)
        if not vals or not all(_is_scalar(v) for v in vals):
            raise ConfigError(
                f"{key}.{parent}", list(vals), "must be a value or a non-empty list of values"
            )
        conds.append(Condition(parent=str(parent), values=vals))
    return tuple(conds)


def _check_conditions(p: Param, params: Mapping[str, Param], key: str) -> None:
    for cond in p.when:
        ck = f"{key}.{cond.parent}"
        if cond.parent == p.name:
            raise ConfigError(ck, list(cond.values), "an entry cannot depend on itself")
        parent = params.get(cond.parent)
        if parent is None:
            raise ConfigError(
                ck, list(cond.values), f"names no hyperparameter; known: {', '.join(params)}"
            )
        domain = parent.domain()
        if domain is None:
            raise ConfigError(
                ck, list(cond.values), "a parent must be a choice, bool, fixed or linear int entry"
            )
        for v in cond.values:
            if v not in domain or _scalar_kind(v) != _scalar_kind(domain[0]):
                raise ConfigError(ck, v, f"is not a value {cond.parent} can take ({list(domain)})")


def _topological(params: Mapping[str, Param], key: str) -> tuple[Param, ...]:
    order: list[Param] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(name: str) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise ConfigError(f"{key}.{name}.when", name, "conditions form a cycle")
        state[name] = 1
        for cond in params[name].when:
            visit(cond.parent)
        state[name] = 2
        order.append(params[name])

    for name in params:
        visit(name)
    return tuple(order)


# ----------------------------------------------------------------------------- value checks


def grid_values(low: float, high: float, n: int, log: bool) -> list[float]:
    """``n`` evenly spaced points from ``low`` to ``high`` inclusive (log-spaced if ``log``).

    Values are rounded to 6 significant digits so they read well in tables.
    """
    if log:
        a, b = math.log(low), math.log(high)
        pts = [math.exp(a + i * (b - a) / (n - 1)) for i in range(n)]
    else:
        pts = [low + i * (high - low) / (n - 1) for i in range(n)]
    return list(dict.fromkeys(float(f"{p:.6g}") for p in pts))


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (bool, int, float, str))


def _scalar_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return "str"


def _number(v: Any, key: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(key, v, "must be a number (write floats like 1.0e-4, with a dot)")
    if not math.isfinite(v):
        raise ConfigError(key, v, "must be finite")
    return float(v)


def _integer(v: Any, key: str) -> int:
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(key, v, "must be an integer")
    return v


def _flag(v: Any, key: str) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(key, v, "must be true or false")
    return v


def _check_bounds(low: float, high: float, log: bool, key: str) -> None:
    if not low < high:
        raise ConfigError(
            f"{key}.low", low, f"must be < high ({high}); use a plain value for a fixed one"
        )
    if log and low <= 0:
        raise ConfigError(f"{key}.low", low, "must be > 0 when log: true")


def _check_step(step: float | None, low: float, high: float, log: bool, key: str) -> None:
    if step is None:
        return
    if log and step <= 1:
        raise ConfigError(
            f"{key}.step", step, "with log: true the step is a factor and must be > 1"
        )
    if step <= 0:
        raise ConfigError(f"{key}.step", step, "must be > 0")
    if not log and step > high - low:
        raise ConfigError(f"{key}.step", step, f"must be <= high - low ({high - low})")


def _check_default_in(default: float | None, low: float, high: float, key: str) -> None:
    if default is not None and not low <= default <= high:
        raise ConfigError(f"{key}.default", default, f"must lie in [{low}, {high}]")

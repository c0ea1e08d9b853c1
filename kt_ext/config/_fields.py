"""Typed reads of one config entry: each raises a one-line ConfigError naming the key."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from kt_ext.errors import ConfigError


def leaf(node: Mapping[str, Any], key: str) -> Any:
    return node.get(key.rsplit(".", 1)[-1])


def mapping(node: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = leaf(node, key)
    if not isinstance(value, Mapping):
        raise ConfigError(key, value, "must be a mapping")
    return dict(value)


def integer(
    node: Mapping[str, Any], key: str, minimum: int | None = None, maximum: int | None = None
) -> int:
    value = leaf(node, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, value, "must be an integer")
    if minimum is not None and value < minimum:
        raise ConfigError(key, value, f"must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(key, value, f"must be <= {maximum}")
    return value


def number(
    node: Mapping[str, Any],
    key: str,
    *,
    low: float,
    high: float,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    value = leaf(node, key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(key, value, "must be a finite number")
    if value < low or value > high or (low_open and value == low) or (high_open and value == high):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ConfigError(key, value, f"must lie in {interval}")
    return float(value)


def boolean(node: Mapping[str, Any], key: str, missing: bool | None = None) -> bool:
    """``node[key]`` if it is a boolean; ``missing`` stands in for an absent key if given."""
    value = leaf(node, key)
    if value is None and missing is not None and key.rsplit(".", 1)[-1] not in node:
        return missing
    if not isinstance(value, bool):
        raise ConfigError(key, value, "must be true or false")
    return value

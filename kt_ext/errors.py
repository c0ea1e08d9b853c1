"""Errors raised for bad configurations.

A :class:`ConfigError` always names the dotted config key, echoes the offending
value and states the rule, so the command line can print it as a single line.
"""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """A configuration value breaks a rule.

    Args:
        key: Dotted path of the offending key, e.g. ``model.space.lr.low``.
        value: The value found there.
        rule: What the value must satisfy, and where possible how to fix it.
    """

    def __init__(self, key: str, value: Any, rule: str) -> None:
        self.key = key
        self.value = value
        self.rule = rule
        super().__init__(f"{key} = {value!r}: {rule}")

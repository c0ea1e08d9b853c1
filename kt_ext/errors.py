"""Errors raised for bad configurations.

A :class:`ConfigError` always names the dotted config key, echoes the offending
value and states the rule, so the command line can print it as a single line.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from typing import Any, NoReturn


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
        self.rule = " ".join(str(rule).split())  # one line, whatever a library's message held
        super().__init__(f"{key} = {value!r}: {self.rule}")


_ARGUMENT_RULE = re.compile(r"The value of `(\w+)` is (.*?), but (.*?)\.?$", re.S)


def argument_error(error: ValueError, prefix: str) -> ConfigError | None:
    """The :class:`ConfigError` of an argument check, if ``error`` is one.

    kt-ext classes reject arguments with messages of the form
    ``The value of `name` is <value>, but <rule>.``; this maps such a message
    to ``<prefix>.name = <value>: <rule>``.

    Args:
        error: The error raised by a constructor.
        prefix: Config path of the constructed object, e.g. ``"strategy"``.

    Returns:
        The config error, or ``None`` if the message has another form.
    """
    match = _ARGUMENT_RULE.fullmatch(str(error).strip())
    if match is None:
        return None
    name, text, rule = match.groups()
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    return ConfigError(f"{prefix}.{name}", value, rule)


def fail(error: Exception, code: int) -> NoReturn:
    """Print ``error`` as one line on stderr and exit with ``code`` (the scripts' convention).

    Under ``HYDRA_FULL_ERROR=1`` the error is raised instead, with its traceback.
    """
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        raise error
    print(f"kt-ext: error: {error}", file=sys.stderr, flush=True)
    sys.exit(code)

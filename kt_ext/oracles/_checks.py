"""Argument checks shared by kt-ext's oracles.

Every message has the form ``The value of `name` is <value>, but <rule>.``,
which :func:`kt_ext.errors.argument_error` turns into a one-line config error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any


def check_int(name: str, value: Any, minimum: int, optional: bool = False) -> None:
    """``value`` is an integer ``>= minimum`` (or ``None`` if ``optional``)."""
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(
            f"The value of `{name}` is {value!r}, but must be an integer >= {minimum}."
        )


def check_number(
    name: str, value: Any, low: float, high: float, *, low_open: bool, high_open: bool
) -> None:
    """``value`` is a real number in the interval from ``low`` to ``high``."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float))
    ok = ok and (low < value if low_open else low <= value)
    ok = ok and (value < high if high_open else value <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"The value of `{name}` is {value!r}, but must be in {interval}.")


def check_choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    """``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(
            f"The value of `{name}` is {value!r}, but must be one of {', '.join(allowed)}."
        )


def check_beta(beta: Any) -> None:
    """``beta`` is a finite number ``>= 0``."""
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0 <= beta < math.inf:
        raise ValueError(f"The value of `beta` is {beta!r}, but must be a finite number >= 0.")


def first_untried(
    points: Sequence[dict[str, Any]], is_taken: Callable[[dict[str, Any]], bool]
) -> dict[str, Any] | None:
    """The first of the initial points (``model.initial``) not tried yet, or ``None``.

    Stateless: which points ran is read from the trials, so a resumed or
    parallel search evaluates each exactly once.
    """
    for values in points:
        if not is_taken(values):
            return dict(values)
    return None

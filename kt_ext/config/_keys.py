"""Which keys a run config may have: a misspelt key is an error, not a silent default.

Hydra refuses to override a key that does not exist, but ``+search.epoch=3``
adds one, and a config file can hold any key; either way the run would go on
with the default the user meant to change. :func:`check_known_keys` refuses
any key that kt-ext does not read under its own groups, and suggests the
closest known one. The known keys are the fields of the settings they fill
(:mod:`kt_ext.config._settings`), so a new setting is known where it is
declared. A strategy's, a loader's and a distribution's arguments are
checked by their own rules (:mod:`kt_ext.config.strategies`, ``_target_``
signatures); the space's entries by :mod:`kt_ext.space`.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any

from kt_ext.config._settings import DataSettings, ParallelSettings, SearchSettings
from kt_ext.errors import ConfigError


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


#: The groups kt-ext owns and the keys each may hold ("" is the top level).
KNOWN: dict[str, tuple[str, ...]] = {
    "": (
        "seed", "trial_id", "preview", "code_version",
        "model", "strategy", "data", "search", "train", "report", "parallel", "safety",
        "distribute",
    ),
    "search": _fields(SearchSettings),
    "data": _fields(DataSettings),
    "parallel": _fields(ParallelSettings),
    "train": ("metrics", "shuffle_buffer", "verbose", "steps_per_execution"),
    "report": ("top_n", "verbose"),
    "safety": ("allow_modules",),
    "model": ("builder", "space", "values", "initial"),
}  # fmt: skip


def check_known_keys(raw: Mapping[str, Any]) -> None:
    """Refuse the first key of :data:`KNOWN`'s groups that kt-ext does not read.

    Raises:
        ConfigError: Naming the key, with the closest known key when one is close.
    """
    for group, known in KNOWN.items():
        node = raw.get(group) if group else raw
        if not isinstance(node, Mapping):
            continue  # a missing or malformed group is reported by the group's own check
        for key in node:
            if key not in known:
                name = f"{group}.{key}" if group else str(key)
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = f"did you mean {group + '.' if group else ''}{close[0]}? " if close else ""
                raise ConfigError(
                    name, node[key], f"no such key; {hint}known: {', '.join(sorted(known))}"
                )

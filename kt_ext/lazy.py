"""Lazy package attributes (PEP 562), so light parts stay importable without TensorFlow."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports each name from its home module on first use.

    Args:
        package: The package's ``__name__`` (for the error message).
        homes: Each lazily exported name and the module that defines it.
    """

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's own name
        if name in homes:
            return getattr(importlib.import_module(homes[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__

"""Model builders for tests that need trials to fail the way user code does."""

from __future__ import annotations

from typing import Any

import keras

from models.mlp import build_mlp


def flaky_mlp(values: dict[str, Any], **kwargs: Any) -> keras.Model:
    """The MLP, except that building with ``optimizer=rmsprop`` raises (a user-code bug)."""
    if values.get("optimizer") == "rmsprop":
        raise RuntimeError("rmsprop is not supported by this builder")
    return build_mlp(values, **kwargs)

"""What every trial shares, whichever tuner runs it: its seed and the non-finite rule.

Pure Python (no TensorFlow), so the single-configuration path
(:mod:`kt_ext.run.train`) and the tuners apply the same rules.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any


def trial_seed(seed: int | None, trial_id: str) -> int:
    """A 31-bit seed derived from the run seed and a trial id (stable across processes)."""
    digest = hashlib.sha256(f"{seed}:{trial_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def non_finite(logs: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """Which of ``names`` in ``logs`` is NaN or infinite, as ``"loss = nan"``; ``None`` if none."""
    for name in names:
        value = logs.get(name)
        if value is not None and not math.isfinite(float(value)):
            return f"{name} = {float(value)}"
    return None


def first_non_finite(history: Any, names: tuple[str, ...]) -> str | None:
    """The first NaN or infinite value of ``names`` in a Keras ``History``.

    A plain metrics dict counts as one epoch. Returns it as
    ``"loss = nan at epoch 3"``, or ``None`` if every value is finite.
    """
    if isinstance(history, dict):
        epochs = [history]
    else:
        series = getattr(history, "history", {})
        n = len(getattr(history, "epoch", []))
        epochs = [{k: v[i] for k, v in series.items() if i < len(v)} for i in range(n)]
    for epoch, logs in enumerate(epochs):
        bad = non_finite(logs, names)
        if bad is not None:
            return f"{bad} at epoch {epoch + 1}"
    return None

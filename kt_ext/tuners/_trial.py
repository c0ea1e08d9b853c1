"""What every trial shares, whichever tuner runs it: its seeds and the non-finite rule.

Pure Python (no TensorFlow), so the single-configuration path
(:mod:`kt_ext.run.train`) and the tuners apply the same rules.

Seeds are hashes of ``(run seed, trial id)``: a trial's weights and data
order (:func:`trial_seed`) and, for KerasTuner's own oracles, the random
draws of its configuration (:func:`independent_draws`). Hashing makes runs
with different seeds independent: KerasTuner seeds the ``k``-th draw of a
run with ``seed + k``, so a run with seed ``s + 1`` would otherwise replay
the configurations of seed ``s``, one draw later.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any


def trial_seed(seed: int | None, trial_id: str) -> int:
    """A 31-bit seed derived from the run seed and a trial id (stable across processes)."""
    digest = hashlib.sha256(f"{seed}:{trial_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def independent_draws(oracle: Any, run_seed: int | None) -> None:
    """Seed a KerasTuner oracle's draws for each trial from a hash of (run seed, trial id).

    KerasTuner's oracles draw each value with ``random.Random(_seed_state)``
    and increment ``_seed_state`` after every draw, so runs whose seeds are
    close share long stretches of values. Before each ``populate_space``
    call the state is reset to a hash of ``(run_seed, trial_id)``; draws
    within a trial still increment it. A resumed oracle proposes the same
    values as before, since the hash depends on nothing else.

    Args:
        oracle: A KerasTuner oracle (kt-ext's own seed every trial this way already).
        run_seed: The run seed.
    """
    inner = oracle.populate_space

    def populate_space(trial_id: str) -> dict[str, Any]:
        oracle._seed_state = trial_seed(run_seed, f"{trial_id}/values")
        return inner(trial_id)

    oracle.populate_space = populate_space


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

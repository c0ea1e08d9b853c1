"""The statistics every benchmark reports: medians, paired bootstrap intervals, wins, ranks.

Methods are compared seed by seed: entry ``i`` of two result arrays comes
from seed ``i`` of the same run, so a gap can be told from seed noise.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

TIE = 1e-6  # results closer than this are equal (float32 averages)


def paired(values: np.ndarray, reference: np.ndarray, sign: float, seed: int = 0) -> dict[str, Any]:
    """One method against a reference, seed by seed (entry i of both comes from seed i).

    Args:
        values: The method's result per seed.
        reference: The reference method's result per seed.
        sign: ``1`` if larger is better, ``-1`` if smaller is.
        seed: Seed of the bootstrap.

    Returns:
        ``diff``: the difference of the medians, signed so that positive means
        better than the reference; ``low``/``high``: its 95% percentile
        bootstrap interval over seeds resampled in pairs; ``wins``/``losses``/
        ``ties``: seeds where the method is better/worse/equal.
    """
    from scipy import stats

    a, b = sign * np.asarray(values, float), sign * np.asarray(reference, float)

    def diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.median(x, axis=axis) - np.median(y, axis=axis)

    ci = stats.bootstrap(
        (a, b),
        diff,
        paired=True,
        vectorized=True,
        method="percentile",
        n_resamples=9999,
        random_state=seed,
    ).confidence_interval
    return {
        "diff": float(diff(a, b)),
        "low": float(ci.low),
        "high": float(ci.high),
        "wins": int(np.sum(a > b)),
        "losses": int(np.sum(a < b)),
        "ties": int(np.sum(a == b)),
    }


def paired_cell(r: Mapping[str, Any], fmt: str) -> str:
    """``+0.012 [+0.003, +0.020] 7/2/1``: difference, interval, seeds won/lost/tied."""
    return (
        f"{r['diff']:+{fmt}} [{r['low']:+{fmt}}, {r['high']:+{fmt}}] "
        f"{r['wins']}/{r['losses']}/{r['ties']}"
    )


def median(values: Sequence[float]) -> float:
    """The median (NaN for no values)."""
    return statistics.median(values) if values else float("nan")


def mean_sd(values: Sequence[float], fmt: str = ".4f") -> str:
    """``mean ± sd`` (the value alone for one, ``-`` for none)."""
    if len(values) < 2:
        return format(values[0], fmt) if values else "-"
    return f"{statistics.mean(values):{fmt}} ± {statistics.stdev(values):{fmt}}"


def mean_ranks(scores: Mapping[str, Mapping[str, float]], sign: float) -> dict[str, float]:
    """Each method's rank per task (1 = best, ties share the mean rank), averaged over tasks.

    Args:
        scores: ``scores[task][method]``, e.g. the median over seeds.
        sign: ``1`` if larger is better, ``-1`` if smaller is.
    """
    from scipy.stats import rankdata

    totals: dict[str, list[float]] = {}
    for by_method in scores.values():
        methods = list(by_method)
        ranks = rankdata([-sign * by_method[m] for m in methods])
        for m, r in zip(methods, ranks, strict=True):
            totals.setdefault(m, []).append(float(r))
    return {m: float(np.mean(r)) for m, r in totals.items()}

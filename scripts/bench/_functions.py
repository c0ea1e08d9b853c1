"""Test functions the benchmarks share: Branin, Hartmann-6, Ackley, a mixed space, embeddings.

Each :class:`Problem` is minimised over its :class:`Dim` s and has a known
minimum, so a method's simple regret is exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Dim:
    """One search dimension: ``float`` (optionally log), ``int`` or unordered ``choice``."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    """A function to minimise over ``dims`` with known minimum ``optimum``."""

    name: str
    dims: tuple[Dim, ...]
    fn: Callable[[dict[str, Any]], float]
    optimum: float
    inert: tuple[str, ...] = ()  # dimensions the function ignores


def _branin(v: dict[str, Any]) -> float:
    x1, x2 = v["x1"], v["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def _hartmann6(v: dict[str, Any]) -> float:
    x = np.array([v[f"x{i}"] for i in range(6)])
    return float(-H6_ALPHA @ np.exp(-np.sum(H6_A * (x - H6_P) ** 2, axis=1)))


def _ackley5(v: dict[str, Any]) -> float:
    x = np.array([v[f"x{i}"] for i in range(5)])
    d = len(x)
    return float(
        -20 * math.exp(-0.2 * math.sqrt(np.sum(x * x) / d))
        - math.exp(np.sum(np.cos(2 * math.pi * x)) / d)
        + 20
        + math.e
    )


_MIXED_OFFSET = {"adam": 0.0, "sgd": 0.6, "rmsprop": 0.3}


def _mixed(v: dict[str, Any]) -> float:
    # The best log10(lr) depends on the choice, so the dimensions interact.
    shift = {"adam": 0.0, "sgd": 1.0, "rmsprop": -0.5}[v["opt"]]
    x = math.log10(v["lr"]) + 2.5 - shift
    return x * x / 4 + ((v["units"] - 37) / 40) ** 2 + _MIXED_OFFSET[v["opt"]]


def _embedded_hartmann6(dim: int) -> Problem:
    """Hartmann6 on x0..x5 of a ``dim``-D unit box; the other coordinates are ignored."""
    return Problem(
        f"hartmann6_{dim}d",
        tuple(Dim(f"x{i}", "float", 0, 1) for i in range(dim)),
        _hartmann6,
        -3.32236801,
        inert=tuple(f"x{i}" for i in range(6, dim)),
    )


PROBLEMS = {
    "branin": Problem(
        "branin", (Dim("x1", "float", -5, 10), Dim("x2", "float", 0, 15)), _branin, 0.397887357729
    ),
    "hartmann6": Problem(
        "hartmann6", tuple(Dim(f"x{i}", "float", 0, 1) for i in range(6)), _hartmann6, -3.32236801
    ),
    # Hartmann6 on x0..x5 of a 12-D box: x6..x11 do not matter, as many hyperparameters of a
    # real model barely do. Where a method puts them shows whether it over-explores the edges.
    "hartmann6_12d": _embedded_hartmann6(12),
    "ackley5": Problem(
        "ackley5", tuple(Dim(f"x{i}", "float", -32.768, 32.768) for i in range(5)), _ackley5, 0.0
    ),
    "mixed": Problem(
        "mixed",
        (
            Dim("lr", "float", 1e-5, 1.0, log=True),
            Dim("units", "int", 1, 128),
            Dim("opt", "choice", choices=("adam", "sgd", "rmsprop")),
        ),
        _mixed,
        0.0,
    ),
    # Held out: not used when the proposer's polish rule was chosen (see the docstring).
    "hartmann6_20d": _embedded_hartmann6(20),
    "branin_8d": Problem(
        "branin_8d",
        (
            Dim("x1", "float", -5, 10),
            Dim("x2", "float", 0, 15),
            *(Dim(f"z{i}", "float", 0, 1) for i in range(6)),
        ),
        _branin,
        0.397887357729,
        inert=tuple(f"z{i}" for i in range(6)),
    ),
}

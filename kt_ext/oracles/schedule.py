"""Successive-halving and Hyperband schedules: rung budgets and planned counts (pure Python).

Vocabulary: a *rung* is a budget level (epochs, or a fraction of the
training data); a *bracket* is one successive-halving run that starts its
configurations at some rung and keeps the best ``1/η`` at each rung above.
Hyperband is the set of brackets starting at rungs ``0, 1, ..., s_max``
with the configuration counts of Li et al. (2018), so that each bracket
spends about the same budget.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

BUDGETS = ("epochs", "data")
# Keys of a successive-halving trial's values that describe the segment, not the configuration:
# the contract between HalvingOracle (which sets them) and the tuner (which trains by them).
PREFIX = "tuner/"
EPOCHS = "tuner/epochs"  # train until this epoch (Keras ``epochs=``)
INITIAL_EPOCH = "tuner/initial_epoch"  # start at this epoch (Keras ``initial_epoch=``)
PARENT = "tuner/trial_id"  # previous segment (continued from its checkpoint if initial > 0)
BRACKET = "tuner/bracket"
ITERATION = "tuner/iteration"
RUNG = "tuner/rung"  # the global rung this segment reaches first
FRACTION = "tuner/fraction"  # training-data fraction (data budget only)


def config_values(values: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameter values of trial values, without the ``tuner/`` keys."""
    return {k: v for k, v in values.items() if not k.startswith(PREFIX)}


def config_key(values: dict[str, Any]) -> str:
    """A stable identity of a configuration (``tuner/`` keys ignored)."""
    return json.dumps(config_values(values), sort_keys=True, default=str)


@dataclass(frozen=True)
class Bracket:
    """One successive-halving bracket.

    Attributes:
        index: Bracket number; bracket ``b`` starts at global rung ``b``.
        rungs: Global rung indices of the bracket, lowest first.
        configs: Planned configurations at each of those rungs (the first
            is the number of new configurations the bracket samples).
    """

    index: int
    rungs: tuple[int, ...]
    configs: tuple[int, ...]

    def planned(self, rung: int) -> int:
        """Planned configurations at global rung ``rung`` (0 if outside the bracket)."""
        if rung not in self.rungs:
            return 0
        return self.configs[self.rungs.index(rung)]


@dataclass(frozen=True)
class HalvingSchedule:
    """Budgets of every rung and the brackets run per iteration.

    Args:
        min_budget: Budget of rung 0 (epochs, or a data fraction).
        max_budget: Budget of the top rung.
        reduction_factor: ``η``, ``>= 2``: each rung keeps the best ``1/η``.
        brackets: Brackets per iteration, ``1`` (plain successive halving) to
            ``s_max + 1`` (full Hyperband); ``None`` means all of them.
        iterations: Times the set of brackets is repeated.
        budget: ``"epochs"`` (rungs are epoch counts and promoted trials
            continue training) or ``"data"`` (rungs are fractions of the
            training data and every rung trains from scratch).
        epochs_per_rung: Epochs every trial trains under the ``"data"``
            budget (ignored for ``"epochs"``).
    """

    min_budget: float
    max_budget: float
    reduction_factor: int
    brackets: int | None = 1
    iterations: int = 1
    budget: str = "epochs"
    epochs_per_rung: int = 1

    @classmethod
    def from_arguments(
        cls,
        min_epochs: int,
        max_epochs: int,
        reduction_factor: int,
        brackets: int | None = 1,
        iterations: int = 1,
        budget: str = "epochs",
        min_fraction: float = 1 / 9,
    ) -> HalvingSchedule:
        """The schedule of a successive-halving strategy's arguments (its ``strategy`` config).

        The one place those arguments become rungs: the config layer builds
        the run's schedule with it, and :class:`kt_ext.oracles.HalvingOracle`
        uses that schedule (or builds its own the same way).

        Args:
            min_epochs: Epochs of the lowest rung (epoch budget).
            max_epochs: Epochs of the top rung; under the data budget, the
                epochs every rung trains.
            reduction_factor: ``η``.
            brackets: As for the class.
            iterations: As for the class.
            budget: ``"epochs"`` or ``"data"``.
            min_fraction: Data fraction of the lowest rung (data budget).

        Raises:
            ValueError: An argument breaks its rule (the message names it).
        """
        if (
            isinstance(min_fraction, bool)
            or not isinstance(min_fraction, (int, float))
            or not (0.0 < min_fraction <= 1.0)
        ):
            raise ValueError(
                f"The value of `min_fraction` is {min_fraction!r}, but must be in (0, 1]."
            )
        if budget == "epochs" and min_epochs > max_epochs:
            raise ValueError(
                f"The value of `min_epochs` is {min_epochs}, but must be <= max_epochs "
                f"({max_epochs})."
            )
        return cls(
            min_budget=min_epochs if budget == "epochs" else float(min_fraction),
            max_budget=max_epochs if budget == "epochs" else 1.0,
            reduction_factor=reduction_factor,
            brackets=brackets,
            iterations=iterations,
            budget=budget,
            epochs_per_rung=max_epochs,
        )

    def __post_init__(self) -> None:
        eta = self.reduction_factor
        if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
            raise ValueError(
                f"The value of `reduction_factor` is {eta!r}, but must be an integer >= 2."
            )
        if self.budget not in BUDGETS:
            raise ValueError(
                f"The value of `budget` is {self.budget!r}, but must be one of "
                f"{', '.join(BUDGETS)}."
            )
        if not 0 < self.min_budget <= self.max_budget:
            raise ValueError(
                f"The budgets are {self.min_budget!r} to {self.max_budget!r}, but must satisfy "
                "0 < min <= max."
            )
        if self.budget == "data" and self.max_budget != 1.0:
            raise ValueError("Under the data budget the top rung is the whole data (1.0).")
        if isinstance(self.iterations, bool) or self.iterations < 1:
            raise ValueError(
                f"The value of `iterations` is {self.iterations!r}, but must be an integer >= 1."
            )
        n = self.brackets
        if n is not None and (isinstance(n, bool) or not 1 <= n <= self.s_max + 1):
            raise ValueError(
                f"The value of `brackets` is {n!r}, but must be null or an integer in "
                f"[1, {self.s_max + 1}] for these budgets."
            )

    @property
    def s_max(self) -> int:
        """Halvings of the most aggressive bracket: ``floor(log_η(max / min))``."""
        ratio = self.max_budget / self.min_budget
        return int(math.floor(math.log(ratio) / math.log(self.reduction_factor) + 1e-9))

    @property
    def budgets(self) -> tuple[float, ...]:
        """Budget of each global rung: ``min·η^k``, the top one being ``max`` exactly.

        Epoch budgets are whole numbers, strictly increasing.
        """
        values = [self.min_budget * self.reduction_factor**k for k in range(self.s_max)]
        values.append(self.max_budget)
        if self.budget == "epochs":
            out: list[float] = []
            for v in values:
                out.append(float(max(round(v), (out[-1] + 1) if out else 1)))
            return tuple(out)
        return tuple(float(v) for v in values)

    @property
    def bracket_list(self) -> tuple[Bracket, ...]:
        """The brackets of one iteration, most aggressive (starting at rung 0) first."""
        eta, s_max = self.reduction_factor, self.s_max
        count = s_max + 1 if self.brackets is None else self.brackets
        out = []
        for b in range(count):
            s = s_max - b
            n = math.ceil((s_max + 1) / (s + 1) * eta**s)
            rungs = tuple(range(b, s_max + 1))
            configs = tuple(max(1, n // eta**i) for i in range(len(rungs)))
            out.append(Bracket(b, rungs, configs))
        return tuple(out)

    def cost(self, rung: int, from_rung: int | None) -> float:
        """Epochs to bring one configuration to ``rung`` from ``from_rung`` (``None``: scratch).

        Under the data budget a rung retrains from scratch on its fraction,
        and the cost is in full-data epochs.
        """
        budgets = self.budgets
        if self.budget == "data":
            return self.epochs_per_rung * budgets[rung]
        start = 0.0 if from_rung is None else budgets[from_rung]
        return budgets[rung] - start

    @property
    def configs(self) -> int:
        """New configurations over the whole search."""
        return self.iterations * sum(b.configs[0] for b in self.bracket_list)

    @property
    def trials(self) -> int:
        """KerasTuner trials of the synchronous schedule: one per configuration and rung.

        The asynchronous schedule needs at most as many (a configuration that
        stays in the top ``1/η`` keeps training in the same trial).
        """
        return self.iterations * sum(sum(b.configs) for b in self.bracket_list)

    @property
    def epochs(self) -> float:
        """Total epochs of the synchronous schedule (an upper bound for the asynchronous one)."""
        total = 0.0
        for b in self.bracket_list:
            previous = None
            for rung, n in zip(b.rungs, b.configs, strict=True):
                total += n * self.cost(rung, previous)
                previous = rung
        return self.iterations * total

    def describe(self) -> str:
        """A table of the schedule, one line per bracket, and its totals."""
        unit = "epochs" if self.budget == "epochs" else "data fraction"
        budgets = self.budgets
        lines = [
            f"successive halving: η={self.reduction_factor}, rungs ({unit}) "
            + ", ".join(_fmt(v) for v in budgets)
        ]
        for b in self.bracket_list:
            steps = " -> ".join(
                f"{n}×{_fmt(budgets[r])}" for r, n in zip(b.rungs, b.configs, strict=True)
            )
            lines.append(f"  bracket {b.index}: {steps}")
        lines.append(
            f"  per search: {self.configs} configurations, at most {self.trials} trials, "
            f"at most {_fmt(self.epochs)} epochs"
            + (f" ({self.iterations} iterations)" if self.iterations > 1 else "")
        )
        return "\n".join(lines)


def _fmt(v: float) -> str:
    return f"{v:g}" if v >= 1 else f"{v:.3g}"

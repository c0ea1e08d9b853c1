"""The rules of every search strategy's arguments: one table per oracle, checked in one place.

Each table lists an oracle's (or a KerasTuner tuner's) arguments with their
rule. The oracle checks its arguments against its table when it is built, and
the config layer (:mod:`kt_ext.config.strategies`) checks a ``strategy``
config against the same table before TensorFlow is imported, so a rule is
written once and a bad value fails in well under a second.

Every message has the form ``The value of `name` is <value>, but <rule>.``,
which :func:`kt_ext.errors.argument_error` turns into a one-line config error.
This module imports neither TensorFlow nor KerasTuner.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kt_ext.gp import ACQUISITIONS
from kt_ext.oracles._ucb import OUTPUT_WARPINGS
from kt_ext.oracles.schedule import BUDGETS


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


def check_choice(name: str, value: Any, allowed: Sequence[str] | Mapping[str, Any]) -> None:
    """``value`` is one of ``allowed`` (a mapping's keys)."""
    if not isinstance(value, str) or value not in allowed:
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


@dataclass(frozen=True)
class Int:
    """An integer argument ``>= minimum`` (``None`` allowed if ``optional``)."""

    name: str
    minimum: int
    optional: bool = False

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` if ``value`` breaks the rule."""
        check_int(self.name, value, self.minimum, optional=self.optional)


@dataclass(frozen=True)
class Number:
    """A real argument in an interval (``None`` allowed if ``optional``)."""

    name: str
    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    optional: bool = False

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` if ``value`` breaks the rule."""
        if self.optional and value is None:
            return
        check_number(
            self.name, value, self.low, self.high, low_open=self.low_open, high_open=self.high_open
        )


@dataclass(frozen=True)
class Choice:
    """An argument that takes one of a few words (the keys of ``allowed`` if a mapping).

    A mapping is read when the rule is checked, so a registry such as
    :data:`kt_ext.gp.ACQUISITIONS` stays the one list of what is allowed.
    """

    name: str
    allowed: Sequence[str] | Mapping[str, Any]

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` if ``value`` breaks the rule."""
        check_choice(self.name, value, self.allowed)


@dataclass(frozen=True)
class Beta:
    """UCB's exploration weight ``β``: a finite number ``>= 0``."""

    name: str = "beta"

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` if ``value`` breaks the rule."""
        check_beta(value)


@dataclass(frozen=True)
class Flag:
    """A true/false argument."""

    name: str

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` if ``value`` is not a bool."""
        if not isinstance(value, bool):
            raise ValueError(f"The value of `{self.name}` is {value!r}, but must be true or false.")


# The true/false that configs held before the words (a run directory's best_config.yaml).
_WARPING_FLAGS = {False: "none", True: "power"}


def output_warping_name(value: Any) -> str:
    """The word of ``OUTPUT_WARPINGS`` that ``value`` names; true/false as before the words.

    Raises:
        ValueError: ``value`` names none.
    """
    if isinstance(value, bool):
        return _WARPING_FLAGS[value]
    check_choice("output_warping", value, OUTPUT_WARPINGS)
    return str(value)


@dataclass(frozen=True)
class Warping:
    """The GP strategy's ``output_warping``: a word of ``kt_ext.oracles._ucb.OUTPUT_WARPINGS``."""

    name: str = "output_warping"

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` if ``value`` breaks the rule."""
        output_warping_name(value)


Rule = Int | Number | Choice | Beta | Flag | Warping


def check_arguments(rules: Sequence[Rule], values: Mapping[str, Any]) -> None:
    """Check each argument of ``values`` that a rule of ``rules`` names.

    Raises:
        ValueError: The first argument that breaks its rule.
    """
    for rule in rules:
        if rule.name in values:
            rule.check(values[rule.name])


BETA_SCHEDULES = ("constant", "srinivas", "final")
HALVING_MODES = ("async", "sync")
HALVING_SAMPLERS = ("random", "gp")
MULTI_OBJECTIVE_MODES = ("ehvi", "parego")  # the GP oracle with several objectives
OPTUNA_SAMPLERS = ("tpe", "cmaes", "gp")
OPTUNA_SINGLE_OBJECTIVE = ("cmaes",)  # Optuna samplers that search one objective only
ZOOM_INNER = ("random", "bayes", "tpe")

#: Any GP strategy's acquisition function: a name of :data:`kt_ext.gp.ACQUISITIONS`.
ACQUISITION = Choice("acquisition", ACQUISITIONS)
MAX_TRIALS = Int("max_trials", 1)
NUM_CANDIDATES = Int("num_candidates", 16)

GP_UCB_ARGUMENTS: tuple[Rule, ...] = (
    MAX_TRIALS,
    Int("num_initial_points", 1, optional=True),
    NUM_CANDIDATES,
    Beta(),
    Choice("beta_schedule", BETA_SCHEDULES),
    ACQUISITION,
    Number("delta", 0.0, 1.0, low_open=True, high_open=True),
    Flag("failure_aware"),
    Choice("multi_objective", MULTI_OBJECTIVE_MODES),
    Warping(),
)
# The schedule's own arguments (reduction_factor, brackets, min_fraction, the
# order of min and max) are HalvingSchedule.from_arguments's rules.
HALVING_ARGUMENTS: tuple[Rule, ...] = (
    Int("min_epochs", 1),
    Int("max_epochs", 1),
    Int("iterations", 1),
    NUM_CANDIDATES,
    Int("min_points_in_model", 2, optional=True),
    Choice("mode", HALVING_MODES),
    Choice("budget", BUDGETS),
    Choice("sampler", HALVING_SAMPLERS),
    Beta(),
    ACQUISITION,
    Number("random_fraction", 0.0, 1.0),
    Flag("failure_aware"),
)
OPTUNA_ARGUMENTS: tuple[Rule, ...] = (
    MAX_TRIALS,
    Choice("sampler", OPTUNA_SAMPLERS),
    Int("num_initial_points", 1),
)
ZOOM_ARGUMENTS: tuple[Rule, ...] = (
    MAX_TRIALS,
    Int("stages", 1),
    Int("top_k", 1),
    Number("margin", 0.0, math.inf, high_open=True),
    Choice("inner", ZOOM_INNER),
    ACQUISITION,
)
# KerasTuner's own tuners: their arguments as kt-ext's configs set them.
RANDOM_ARGUMENTS: tuple[Rule, ...] = (MAX_TRIALS,)
KT_BAYES_ARGUMENTS: tuple[Rule, ...] = (
    MAX_TRIALS,
    Int("num_initial_points", 1),
    Number("alpha", 0.0, math.inf, low_open=True, high_open=True),
    Beta(),
)
HYPERBAND_ARGUMENTS: tuple[Rule, ...] = (
    Int("max_epochs", 1),
    Int("factor", 2),
    Int("hyperband_iterations", 1),
)
GRID_ARGUMENTS: tuple[Rule, ...] = (MAX_TRIALS, Int("float_points", 2))

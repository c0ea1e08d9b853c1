"""The search strategies: one registry entry each, the one owner of a strategy's facts.

A strategy is a ``conf/strategy/<name>.yaml`` whose ``_target_`` names a
tuner class of :mod:`kt_ext.tuners`. Its :class:`Strategy` entry here says
everything the rest of kt-ext needs to know about it, without importing
TensorFlow:

* ``arguments``: the rules of its arguments, the same table its oracle
  checks when it is built (:mod:`kt_ext.oracles.checks`), so a bad value in a
  config fails in well under two seconds with one line naming the key;
* ``schedule``: successive halving's rungs, built once per run
  (:meth:`kt_ext.oracles.HalvingSchedule.from_arguments`) and handed to the
  oracle, to preview and to the run log;
* ``cost``: what the strategy will spend, for preview and the run log;
* ``outputs``: the files it adds to the run directory
  (:data:`kt_ext.outputs.files`);
* ``initial_points``: whether it can evaluate ``model.initial`` first;
* ``several_objectives``: whether it searches a Pareto front
  (``search.objectives``), given its arguments.

Adding a strategy: a tuner class (``kt_ext/tuners/``), its YAML and an entry
in :data:`STRATEGIES`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kt_ext.config._settings import SearchSettings
from kt_ext.errors import ConfigError, argument_error
from kt_ext.oracles import checks
from kt_ext.oracles.schedule import HalvingSchedule
from kt_ext.outputs import files
from kt_ext.space import Scalar, SearchSpace

Cost = Callable[[Mapping[str, Any], SearchSettings, SearchSpace, "HalvingSchedule | None"], "Plan"]


def grid_size(space: SearchSpace) -> int | None:
    """Configurations of a fully discrete space (conditions respected), else ``None``."""

    def count(i: int, values: dict[str, Scalar]) -> int:
        if i == len(space.params):
            return 1
        p = space.params[i]
        if not all(values.get(c.parent) in c.values for c in p.when):
            return count(i + 1, values)
        domain = p.domain()
        if domain is None:
            raise ValueError(p.name)
        return sum(count(i + 1, {**values, p.name: v}) for v in domain)

    try:
        return count(0, {})
    except ValueError:
        return None


def kt_hyperband_cost(max_epochs: int, factor: int) -> tuple[int, int]:
    """Trials and epochs of one iteration of KerasTuner's Hyperband (its 1.4 bracket sizes).

    Promoted trials continue their parent, so a round adds only its extra epochs.
    """
    brackets, e = 0, float(max_epochs)
    while e >= 1:
        e, brackets = e / factor, brackets + 1
    top = math.ceil(1 + math.log(max_epochs, factor))
    trials = epochs = 0
    for b in range(brackets):
        for r in range(b + 1):
            size = math.ceil(top / (b + 1) * factor ** (b - r))
            end = math.ceil(max_epochs / factor ** (b - r))
            start = 0 if r == 0 else math.ceil(max_epochs / factor ** (b - r + 1))
            trials, epochs = trials + size, epochs + size * (end - start)
    return trials, epochs


@dataclass(frozen=True)
class Plan:
    """What a strategy will spend: in words, and the counts a progress estimate needs.

    Attributes:
        text: The description (preview and the run log).
        trials: Trials it will run, if known in advance.
        epochs: Epochs it will train, if a schedule fixes them (halving, Hyperband).
    """

    text: str
    trials: int | None = None
    epochs: float | None = None


def _trials_cost(
    args: Mapping[str, Any],
    search: SearchSettings,
    space: SearchSpace,
    schedule: HalvingSchedule | None,
    note: str = "",
) -> Plan:
    """``max_trials`` trials of up to ``search.epochs`` epochs (fewer in a small space)."""
    trials = search.max_trials
    size = grid_size(space)
    if size is not None and size < trials:
        trials, note = size, f" (the space has only {size} configurations)" + note
    stop = (
        f", fewer with early stopping (patience {search.early_stopping_patience})"
        if search.early_stopping_patience
        else ""
    )
    text = (
        f"{trials} trials x up to {search.epochs} epochs = at most {trials * search.epochs} "
        f"epochs{stop}{note}; {search.executions_per_trial} execution(s) per trial"
    )
    return Plan(text, trials=trials)


def _grid_cost(
    args: Mapping[str, Any],
    search: SearchSettings,
    space: SearchSpace,
    schedule: HalvingSchedule | None,
) -> Plan:
    note = " - continuous floats are gridded by strategy.float_points"
    return _trials_cost(args, search, space, schedule, note)


def _hyperband_cost(
    args: Mapping[str, Any],
    search: SearchSettings,
    space: SearchSpace,
    schedule: HalvingSchedule | None,
) -> Plan:
    factor = int(args["factor"])
    max_epochs = int(args["max_epochs"])
    iterations = int(args["hyperband_iterations"])
    trials, epochs = kt_hyperband_cost(max_epochs, factor)
    trials, epochs = trials * iterations, epochs * iterations
    text = (
        f"KerasTuner Hyperband (factor {factor}, max_epochs {max_epochs}): "
        f"{trials} trials and {epochs} epochs"
    )
    return Plan(text, trials=trials, epochs=epochs)


def _schedule_cost(
    args: Mapping[str, Any],
    search: SearchSettings,
    space: SearchSpace,
    schedule: HalvingSchedule | None,
) -> Plan:
    if schedule is None:
        raise ValueError("a successive-halving strategy needs its schedule to describe its cost")
    return Plan(schedule.describe(), trials=schedule.trials, epochs=schedule.epochs)


def _halving_schedule(args: Mapping[str, Any]) -> HalvingSchedule:
    return HalvingSchedule.from_arguments(
        min_epochs=args["min_epochs"],
        max_epochs=args["max_epochs"],
        reduction_factor=args["reduction_factor"],
        brackets=args.get("brackets"),
        iterations=args.get("iterations", 1),
        budget=args.get("budget", "epochs"),
        min_fraction=args.get("min_fraction", 1 / 9),
    )


#: Keys every strategy config may hold besides its arguments' rules.
COMMON_KEYS = ("_target_", "_partial_", "seed")
#: The halving schedule's arguments (rules: ``HalvingSchedule.from_arguments``).
SCHEDULE_KEYS = (
    "min_epochs",
    "max_epochs",
    "reduction_factor",
    "brackets",
    "iterations",
    "budget",
    "min_fraction",
)
#: What kt-ext gives every tuner when it builds it (``kt_ext.run.build.make_tuner``): the
#: model, the search settings, and where and how the project is stored. A strategy config
#: that sets one (``strategy.directory``, ``strategy.overwrite``) is refused.
RUN_TIME_ARGUMENTS = (
    "hypermodel",
    "objective",
    "hyperparameters",
    "tune_new_entries",
    "allow_new_entries",
    "directory",
    "project_name",
    "overwrite",
    "executions_per_trial",
    "max_retries_per_trial",
    "max_consecutive_failed_trials",
    "distribution_strategy",
    "initial_points",
    "objectives",
    "schedule",
    "oracle",
    "tuner_id",
    "logger",
)


@dataclass(frozen=True)
class Strategy:
    """One search strategy's facts; see the module docstring.

    Attributes:
        target: The tuner class its YAML names (``_target_``).
        arguments: The rules of its arguments.
        cost: Describes what it will spend.
        schedule: Builds its successive-halving schedule from its arguments.
        outputs: Files it adds to the run directory.
        initial_points: Whether it evaluates ``model.initial`` first (KerasTuner's
            grid and Hyperband enumerate their own trials).
        keys: Arguments it reads whose rules live elsewhere (the schedule's);
            with the rules' names and :data:`COMMON_KEYS`, every key its
            config may hold (a registered strategy refuses any other).
        several_objectives: Whether, with these arguments, it searches
            several objectives (its oracle reads them, or it ignores scores).
    """

    target: str
    arguments: Sequence[checks.Rule]
    cost: Cost = _trials_cost
    keys: tuple[str, ...] = ()
    schedule: Callable[[Mapping[str, Any]], HalvingSchedule] | None = None
    outputs: tuple[str, ...] = ()
    initial_points: bool = True
    several_objectives: Callable[[Mapping[str, Any]], bool] = lambda args: False

    def check(self, args: Mapping[str, Any]) -> HalvingSchedule | None:
        """Check a ``strategy`` config's arguments; return its schedule, if it has one.

        Raises:
            ConfigError: The first argument that breaks its rule, as ``strategy.<name>``.
        """
        known = (*COMMON_KEYS, *(rule.name for rule in self.arguments), *self.keys)
        for name in args:
            if self.arguments and name not in known:
                close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
                hint = f"did you mean strategy.{close[0]}? " if close else ""
                raise ConfigError(
                    f"strategy.{name}",
                    args[name],
                    f"no such argument of {self.target}; {hint}known: {', '.join(sorted(known))}",
                )
            if name in RUN_TIME_ARGUMENTS:
                raise ConfigError(
                    f"strategy.{name}",
                    args[name],
                    "kt-ext sets it when it builds the tuner (the model, the search settings, "
                    "the run directory); remove it from the strategy config",
                )
        if args.get("_partial_") is not True:
            raise ConfigError(
                "strategy._partial_",
                args.get("_partial_"),
                "must be true: the tuner gets its model and directory at run time",
            )
        try:
            checks.check_arguments(self.arguments, args)
            return None if self.schedule is None else self.schedule(args)
        except ValueError as e:
            raise argument_error(e, "strategy") or ConfigError("strategy", None, str(e)) from None

    def describe_cost(
        self,
        args: Mapping[str, Any],
        search: SearchSettings,
        space: SearchSpace,
        schedule: HalvingSchedule | None,
    ) -> str:
        """What the strategy will spend, in words (preview and the run log)."""
        return self.cost(args, search, space, schedule).text

    def plan(
        self,
        args: Mapping[str, Any],
        search: SearchSettings,
        space: SearchSpace,
        schedule: HalvingSchedule | None,
    ) -> Plan:
        """What the strategy will spend, with the counts (the progress display's estimate)."""
        return self.cost(args, search, space, schedule)


def _any(args: Mapping[str, Any]) -> bool:
    return True


_TUNERS = "kt_ext.tuners."
#: Every strategy, by the tuner class its YAML names.
STRATEGIES: dict[str, Strategy] = {
    s.target: s
    for s in (
        Strategy(_TUNERS + "RandomSearch", checks.RANDOM_ARGUMENTS, several_objectives=_any),
        Strategy(
            _TUNERS + "GridSearch",
            checks.GRID_ARGUMENTS,
            _grid_cost,
            initial_points=False,
            several_objectives=_any,
        ),
        Strategy(_TUNERS + "BayesianOptimization", checks.KT_BAYES_ARGUMENTS),
        Strategy(_TUNERS + "GPUCB", checks.GP_UCB_ARGUMENTS, several_objectives=_any),
        Strategy(
            _TUNERS + "Optuna",
            checks.OPTUNA_ARGUMENTS,
            several_objectives=lambda args: (
                args.get("sampler", "tpe") not in checks.OPTUNA_SINGLE_OBJECTIVE
            ),
        ),
        Strategy(_TUNERS + "Zoom", checks.ZOOM_ARGUMENTS, outputs=(files.ZOOM_STAGES_CSV,)),
        Strategy(
            _TUNERS + "Hyperband",
            checks.HYPERBAND_ARGUMENTS,
            _hyperband_cost,
            initial_points=False,
        ),
        Strategy(
            _TUNERS + "Halving",
            checks.HALVING_ARGUMENTS,
            _schedule_cost,
            schedule=_halving_schedule,
            outputs=(files.RUNGS_CSV,),
            keys=SCHEDULE_KEYS,
            several_objectives=_any,
        ),
    )
}


def strategy_of(target: str) -> Strategy:
    """The registry entry of the tuner class ``target``.

    A tuner of the user's own (from a module in ``safety.allow_modules``) has
    no entry: its arguments are its own to check, and its cost is counted in trials.
    """
    return STRATEGIES.get(target) or Strategy(target, ())

"""Validate a composed Hydra config and turn it into plain :class:`RunSettings`.

This is the only module that sees a ``DictConfig``: everything after it takes
plain Python values. It imports neither TensorFlow nor KerasTuner, so a bad
config is reported in well under a second with one line naming the key. It
owns the run-level keys; a strategy's arguments are its registry entry's
(:mod:`kt_ext.config.strategies`).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from kt_ext.config import _objectives, resume, safety
from kt_ext.config._fields import boolean, integer, leaf, mapping, number
from kt_ext.config._keys import check_known_keys
from kt_ext.config._parallel import parallel_settings
from kt_ext.config._settings import DataSettings, RunSettings, SearchSettings
from kt_ext.config.strategies import strategy_of
from kt_ext.errors import ConfigError
from kt_ext.oracles.schedule import HalvingSchedule
from kt_ext.outputs import files
from kt_ext.space import SearchSpace, check_batch_size, parse_space

MISSING = "???"


def validate(cfg: DictConfig) -> RunSettings:
    """Check every user-facing key of a composed config.

    Args:
        cfg: The config Hydra composed from ``conf/`` and the command line.

    Returns:
        The settings as plain Python values.

    Raises:
        ConfigError: The first key that breaks a rule.
    """
    raw = _resolve(cfg)
    check_known_keys(raw)
    _check_no_missing(raw, "")
    allow = _modules(mapping(raw, "safety"), "safety.allow_modules")
    allow += _modules({safety.ALLOW_ENV: safety.env_modules()}, safety.ALLOW_ENV)
    safety.check_config(raw, allow)  # before anything a target names is imported
    safety.check_early(raw, allow)  # the loader's and distribution's signatures
    seed = integer(raw, "seed", minimum=0)
    search_raw = mapping(raw, "search")
    train = mapping(raw, "train")
    metrics = _str_list(train, "train.metrics")
    chosen = _objectives.objectives(search_raw, metrics)
    search = SearchSettings(
        max_trials=integer(search_raw, "search.max_trials", minimum=1),
        epochs=integer(search_raw, "search.epochs", minimum=1),
        objective=chosen[0].name,
        direction=chosen[0].direction,
        early_stopping_patience=integer(search_raw, "search.early_stopping_patience", minimum=0),
        executions_per_trial=integer(search_raw, "search.executions_per_trial", minimum=1),
        max_retries_per_trial=integer(search_raw, "search.max_retries_per_trial", minimum=0),
        max_consecutive_failed_trials=integer(
            search_raw, "search.max_consecutive_failed_trials", minimum=1
        ),
        allow_resume_changes=boolean(search_raw, "search.allow_resume_changes", missing=False),
        objectives=chosen,
        select=_objectives.selection(search_raw, chosen),
    )
    model = mapping(raw, "model")
    space = parse_space(mapping(model, "model.space"), "model.space")
    check_batch_size(space)
    strategy, schedule = _strategy(mapping(raw, "strategy"))
    if search.multi and not strategy_of(strategy["_target_"]).several_objectives(strategy):
        raise ConfigError(
            "search.objectives",
            [o.name for o in chosen],
            f"{strategy['_target_']} with these arguments searches one objective; for several "
            "use strategy=random, grid, bayes, tpe, halving or bohb",
        )
    return RunSettings(
        seed=seed,
        space=space,
        builder=_target(mapping(model, "model.builder"), "model.builder"),
        strategy=strategy,
        search=search,
        data=_data(mapping(raw, "data")),
        metrics=metrics,
        shuffle_buffer=integer(train, "train.shuffle_buffer", minimum=1),
        verbose=integer(train, "train.verbose", minimum=0, maximum=2),
        steps_per_execution=(  # absent from configs written before it (an old best_config):
            integer(train, "train.steps_per_execution", minimum=1)  # those trained as built
            if "steps_per_execution" in train
            else None
        ),
        top_n=integer(mapping(raw, "report"), "report.top_n", minimum=1),
        report_verbose=integer(mapping(raw, "report"), "report.verbose", minimum=0, maximum=2),
        distribute=_distribute(mapping(raw, "distribute")),
        schedule=schedule,
        allow_modules=allow,
        parallel=parallel_settings(mapping(raw, "parallel")),
        values=space.resolve(_values(model), "model.values"),
        trial_id=_trial_id(raw.get("trial_id")),
        preview=boolean(raw, "preview"),
        initial_points=_initial(model, space, strategy),
    )


def validate_or_exit(cfg: DictConfig, run_dir: Path) -> RunSettings:
    """:func:`validate` for the scripts: a bad config prints one line and exits with status 2.

    The run directory Hydra made is removed first (:func:`discard_run_dir`).
    """
    from kt_ext.errors import fail

    try:
        return validate(cfg)
    except ConfigError as e:
        discard_run_dir(run_dir)
        fail(e, 2)


def discard_run_dir(run_dir: Path) -> bool:
    """Remove a run directory holding nothing but Hydra's own files (and a settings record).

    Called when validation fails, so a bad config leaves nothing behind. A
    directory with any other content (results of an earlier run) is kept.
    Parents left empty (``outputs/<date>``) go too, as long as they lie
    inside the working directory.

    Returns:
        Whether the directory was removed.
    """
    run_dir = Path(run_dir).resolve()
    if not run_dir.is_dir() or resume.existed(run_dir):
        return False  # an existing run's files are put back by resume.protect_hydra_files
    own = (files.HYDRA, files.SEARCH_SETTINGS)
    if any(p.name not in own and p.suffix != ".log" for p in run_dir.iterdir()):
        return False
    shutil.rmtree(run_dir)
    cwd = Path.cwd().resolve()
    parent = run_dir.parent
    while parent != cwd and cwd in parent.parents and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
    return True


# ----------------------------------------------------------------------------- sections


def _resolve(cfg: DictConfig) -> dict[str, Any]:
    try:
        return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)  # type: ignore[return-value]
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None) or "config"
        raise ConfigError(
            str(key), None, f"cannot be resolved: {e.msg if hasattr(e, 'msg') else e}"
        ) from e


def _check_no_missing(node: Any, prefix: str) -> None:
    if node == MISSING:
        raise ConfigError(prefix, MISSING, f"required; set it on the command line ({prefix}=...)")
    if isinstance(node, Mapping):
        for k, v in node.items():
            if str(k) != "hydra":
                _check_no_missing(v, f"{prefix}.{k}" if prefix else str(k))


def _data(data: Mapping[str, Any]) -> DataSettings:
    val = number(data, "data.val_fraction", low=0.0, high=1.0, low_open=True, high_open=True)
    test = number(data, "data.test_fraction", low=0.0, high=1.0, high_open=True)
    if val + test >= 1.0:
        raise ConfigError("data.val_fraction", val, f"plus data.test_fraction ({test}) must be < 1")
    standardize = data.get("standardize")
    if not isinstance(standardize, bool):
        raise ConfigError("data.standardize", standardize, "must be true or false")
    return DataSettings(
        loader=_target(mapping(data, "data.loader"), "data.loader"),
        subset=number(data, "data.subset", low=0.0, high=1.0, low_open=True),
        val_fraction=val,
        test_fraction=test,
        standardize=standardize,
    )


def _strategy(strategy: Mapping[str, Any]) -> tuple[dict[str, Any], HalvingSchedule | None]:
    """The ``strategy`` node, checked by its registry entry, and its schedule (if any)."""
    target = _target(strategy, "strategy")
    schedule = strategy_of(target["_target_"]).check(target)
    return target, schedule


def _distribute(node: Mapping[str, Any]) -> dict[str, Any]:
    """Check the ``distribute`` group's values (the devices themselves are checked at run time)."""
    target = _target(node, "distribute")
    devices = node.get("devices")
    if devices is not None and (
        not isinstance(devices, list)
        or not devices
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in devices)
    ):
        raise ConfigError(
            "distribute.devices", devices, "must be null or a list of device indices >= 0"
        )
    integer(node, "distribute.virtual_cpus", minimum=0)
    for name in ("scale_lr", "mixed_precision", "memory_growth"):
        if not isinstance(node.get(name), bool):
            raise ConfigError(f"distribute.{name}", node.get(name), "must be true or false")
    return target


def _values(model: Mapping[str, Any]) -> dict[str, Any]:
    values = model.get("values")
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ConfigError("model.values", values, "must be a mapping of hyperparameter values")
    return dict(values)


def _initial(
    model: Mapping[str, Any], space: SearchSpace, strategy: Mapping[str, Any]
) -> tuple[dict[str, Any], ...]:
    points = model.get("initial") or []
    if points and not strategy_of(strategy["_target_"]).initial_points:
        raise ConfigError(
            "model.initial",
            points,
            f"not used by {strategy['_target_']}, which enumerates its own trials; "
            "use random, bayes, kt_bayes, halving, bohb, tpe or cmaes",
        )
    if not isinstance(points, list):
        raise ConfigError("model.initial", points, "must be a list of partial configurations")
    out = []
    for i, point in enumerate(points):
        if not isinstance(point, Mapping):
            raise ConfigError(f"model.initial[{i}]", point, "must be a mapping of values")
        out.append(space.resolve(dict(point), f"model.initial[{i}]"))
    return tuple(out)


def _trial_id(value: Any) -> str | None:
    if value is not None and not (isinstance(value, str) and re.fullmatch(r"[\w.-]+", value)):
        raise ConfigError("trial_id", value, "must be null or a trial id (letters, digits, . _ -)")
    return value


def _target(node: Mapping[str, Any], key: str) -> dict[str, Any]:
    target = node.get("_target_")
    if not isinstance(target, str) or "." not in target:
        raise ConfigError(f"{key}._target_", target, "must name a class or function as module.name")
    module = target.rsplit(".", 1)[0]
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ConfigError(f"{key}._target_", target, f"no module {module!r} is importable")
    return dict(node)


# ----------------------------------------------------------------------------- scalars


_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def _modules(node: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = leaf(node, key)
    if not isinstance(value, list) or not all(
        isinstance(v, str) and _MODULE.fullmatch(v) for v in value
    ):
        raise ConfigError(key, value, "must be a list of dotted module names")
    return tuple(value)


def _str_list(node: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = leaf(node, key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(key, value, "must be a list of metric names")
    return tuple(value)

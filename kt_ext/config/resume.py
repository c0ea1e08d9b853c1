"""Resuming a run directory only with the settings that started it.

A resumed run continues its KerasTuner project: finished trials count, the
oracle's state goes on. If the command line changed what defines the search
(the seed, the strategy or its arguments, the space, the objective, the
epochs, the data), the new trials would be ranked together with the old ones
as if they came from one search. On its first start a search records those
settings (:data:`FINGERPRINT`, resolved) in
:data:`kt_ext.outputs.files.SEARCH_SETTINGS`; every later start into the
same directory compares them and refuses a difference with one line listing
the keys, unless ``search.allow_resume_changes=true`` is given (then the
record follows the new settings). ``search.max_trials`` may grow: that is
what resuming is for.

The check runs before Hydra writes anything into the directory
(:mod:`kt_ext.config.cli`), so a refused command leaves an existing run's
files as they were. A command that passes it but fails later, before its
search starts (a broken data file, a metric Keras does not know), would
still leave Hydra's rewritten ``.hydra/*.yaml`` behind:
:func:`protect_hydra_files` keeps their bytes and puts them back when the
process exits unless :func:`release_hydra_files` was called when the search
started. The record is plain JSON, read without following a symbolic link.

A run directory from someone else may hold symbolic links planted to make
kt-ext write elsewhere (``kt/`` pointing at a directory of yours, a
``trials.csv`` pointing at a file of yours). :func:`check_no_links` refuses
a directory that holds any before anything is written into it.
"""

from __future__ import annotations

import atexit
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kt_ext.errors import ConfigError
from kt_ext.outputs.files import HYDRA, SEARCH_SETTINGS

#: The dotted keys whose values define a search.
FINGERPRINT = (
    "seed",
    "strategy",
    "model.space",
    "model.initial",
    "search.objective",
    "search.direction",
    "search.objectives",
    "search.epochs",
    "search.early_stopping_patience",
    "search.executions_per_trial",
    "data",
    "train.metrics",
)
ALLOW = "search.allow_resume_changes"


def fingerprint(config: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`FINGERPRINT` values of a resolved, plain config (JSON round-tripped)."""
    out = {}
    for key in FINGERPRINT:
        node: Any = config
        for part in key.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        out[key] = node
    if isinstance(out["strategy"], Mapping):  # its max_trials is search.max_trials, which may grow
        out["strategy"] = {k: v for k, v in out["strategy"].items() if k != "max_trials"}
    return json.loads(json.dumps(out, sort_keys=True, default=str))


def recorded(run_dir: Path) -> dict[str, Any] | None:
    """The settings recorded in ``run_dir``, or ``None`` if it has none.

    Raises:
        ConfigError: The record is a symbolic link or not a JSON mapping.
    """
    path = Path(run_dir) / SEARCH_SETTINGS
    if not path.exists() and not path.is_symlink():
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ConfigError(str(path), None, f"cannot be read as this run's settings ({e})") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), None, "must hold a JSON mapping of this run's settings")
    return data


def check_resume(run_dir: Path, config: Mapping[str, Any]) -> None:
    """Refuse to resume ``run_dir`` with settings other than those recorded there.

    Raises:
        ConfigError: Listing every differing key, unless ``search.allow_resume_changes``.
    """
    before = recorded(run_dir)
    if before is None or _allowed(config):
        return
    now = fingerprint(config)
    changed = [k for k in FINGERPRINT if before.get(k) != now.get(k)]
    if changed:
        shown = "; ".join(f"{k}: {_short(before.get(k))} -> {_short(now.get(k))}" for k in changed)
        raise ConfigError(
            "hydra.run.dir",
            str(run_dir),
            f"this run was started with other settings ({shown}); resume it with the same "
            f"settings, use a new directory, or add {ALLOW}=true to mix the trials",
        )


def record(run_dir: Path, config: Mapping[str, Any]) -> None:
    """Record the settings on a search's first start (again when changes were allowed)."""
    from kt_ext.outputs.results import write_json

    if recorded(run_dir) is None or _allowed(config):
        write_json(Path(run_dir) / SEARCH_SETTINGS, fingerprint(config))


def check_no_links(run_dir: Path, key: str = "hydra.run.dir") -> None:
    """Refuse a run directory (given as ``key``) that holds a symbolic link anywhere below it.

    Raises:
        ConfigError: Naming the first link and where it points.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return
    for root, dirs, names in os.walk(run_dir, followlinks=False):
        for name in sorted([*dirs, *names]):
            path = Path(root) / name
            if path.is_symlink():
                raise ConfigError(
                    key,
                    str(run_dir),
                    f"holds a symbolic link {path.relative_to(run_dir)} -> {os.readlink(path)}; "
                    "kt-ext never writes through links: remove it or use a new directory",
                )


def check_writable(run_dir: Path, key: str = "hydra.run.dir") -> None:
    """The run directory exists as a directory, or can be created where it is asked for.

    When it does not exist, a probe directory is made and removed at once in
    its nearest existing parent (permission bits do not tell for root or
    for read-only and virtual file systems).

    Raises:
        ConfigError: A part of the path is a file, or the directory cannot be created.
    """
    path = Path(run_dir).absolute()
    existing = path
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(key, str(run_dir), f"{existing} is a file, not a directory")
    if existing == path:
        return
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".kt-ext-probe-", dir=existing))
    except OSError as e:
        reason = f"cannot be created in {existing}: {e.strerror}"
        raise ConfigError(key, str(run_dir), reason) from None


def _allowed(config: Mapping[str, Any]) -> bool:
    group, _, key = ALLOW.partition(".")
    node = config.get(group)
    return isinstance(node, Mapping) and node.get(key) is True


def _short(value: Any, width: int = 40) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[: width - 3] + "..."


_kept: dict[Path, bytes] = {}
_logs: dict[Path, int] = {}
_folder: list[Path] = []
_existing: set[Path] = set()


def existed(run_dir: Path) -> bool:
    """Whether ``run_dir`` existed before this command (then a failure never removes it)."""
    return Path(run_dir).resolve() in _existing


def protect_hydra_files(run_dir: Path) -> None:
    """Keep an existing run's ``.hydra`` files and log sizes, to put back at exit (see above)."""
    run_dir = Path(run_dir)
    if run_dir.is_dir():
        _existing.add(run_dir.resolve())
    folder = run_dir / HYDRA
    if not folder.is_dir() or folder.is_symlink():
        return
    _folder[:] = [folder]
    for path in folder.iterdir():
        if path.is_file() and not path.is_symlink():
            _kept[path] = path.read_bytes()
    for path in run_dir.glob("*.log"):  # Hydra's job log, appended to by every command
        if path.is_file() and not path.is_symlink():
            _logs[path] = path.stat().st_size
    atexit.register(_put_back)


def release_hydra_files() -> None:
    """The search started: Hydra's files now describe the command that continues it."""
    _kept.clear()
    _logs.clear()
    _folder.clear()


def _put_back() -> None:
    try:
        for folder in _folder:
            for path in folder.iterdir():
                if path not in _kept:
                    path.unlink()
        for path, data in _kept.items():
            if path.is_symlink() or not path.is_file() or path.read_bytes() != data:
                path.unlink(missing_ok=True)
                path.write_bytes(data)
        for path, size in _logs.items():
            if path.is_file() and not path.is_symlink() and path.stat().st_size > size:
                os.truncate(path, size)
    except OSError:
        pass
    release_hydra_files()

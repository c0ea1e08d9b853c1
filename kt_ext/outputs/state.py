"""Crash-safe KerasTuner state: atomic JSON writes, clear errors for damaged files.

KerasTuner keeps its search state in JSON files (``oracle.json``,
``<tuner_id>.json``, ``trial_*/trial.json``, ``build_config.json``) and
rewrites them in place, so a kill in the middle of a write leaves a file that
breaks every restart. All of these go through two functions,
``keras_tuner.src.utils.save_json`` and ``load_json``; :func:`install`
replaces them with:

* :func:`save_json`: write to a temporary file in the same directory, fsync,
  rename over the old file. A reader sees the old or the new state, never half
  of one. A leftover temporary file (``.oracle.json.<random>.tmp``) is ignored.
* :func:`load_json`: a damaged file (empty, truncated, not JSON, not an
  object) raises :class:`StateError` naming the file; nothing is deleted.

:func:`load_yaml` gives the YAML files a run keeps beside them (Hydra's
``.hydra/*.yaml``) the same error, parsed with YAML's safe loader.

Remote paths (``gs://...``) keep KerasTuner's own functions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kt_ext.outputs.results import write_text

_ORIGINALS: dict[str, Any] = {}


class StateError(RuntimeError):
    """A state file of an existing run cannot be read.

    Args:
        path: The file.
        reason: What is wrong with it.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(
            f"damaged state file {path}: {reason}; nothing was deleted - restore the file, "
            "or move the run directory away to start afresh"
        )


def _remote(path: str | Path) -> bool:
    return "://" in str(path)


def save_json(path: str | Path, obj: Any) -> str:
    """Write ``obj`` as JSON to ``path`` atomically; returns the JSON text (as KerasTuner's)."""
    if _remote(path):
        return _ORIGINALS["save_json"](path, obj)
    text = json.dumps(obj)
    write_text(Path(path), text)
    return text


def load_json(path: str | Path) -> Any:
    """Read a JSON object from ``path``.

    Raises:
        StateError: The file is empty, truncated or not a JSON object.
    """
    if _remote(path):
        return _ORIGINALS["load_json"](path)
    try:
        text = Path(path).read_text()
    except UnicodeDecodeError as e:
        raise StateError(path, f"not text ({e.reason})") from None
    if not text.strip():
        raise StateError(path, "the file is empty")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise StateError(
            path, f"not valid JSON ({e.msg}: line {e.lineno}, column {e.colno})"
        ) from None
    if not isinstance(obj, dict):
        raise StateError(path, f"holds a JSON {type(obj).__name__}, not an object")
    return obj


def load_yaml(path: str | Path) -> Any:
    """The data of a YAML file, by YAML's safe loader (``None`` for an empty file).

    Raises:
        StateError: The file cannot be read, is not text or is not valid YAML.
    """
    import yaml

    try:
        return yaml.safe_load(Path(path).read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise StateError(path, f"not valid YAML ({type(e).__name__})") from None


def install() -> None:
    """Route KerasTuner's state files through :func:`save_json` and :func:`load_json`.

    Idempotent; remote paths keep KerasTuner's own functions.
    """
    from keras_tuner.src import utils

    if _ORIGINALS:
        return
    _ORIGINALS["save_json"] = utils.save_json
    _ORIGINALS["load_json"] = utils.load_json
    utils.save_json = save_json
    utils.load_json = load_json


def save_model(model: Any, path: str | Path) -> None:
    """``model.save(path)`` (a ``.keras`` file) atomically: save beside it, then rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)

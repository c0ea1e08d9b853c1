"""What a config may instantiate through ``_target_``.

Hydra's ``instantiate`` calls whatever a ``_target_`` names, so a config is
code. kt-ext instantiates a ``_target_`` only in one of four slots, each of
which accepts one kind of object (:data:`SLOTS`): a data loader, a model
builder, a tuner, a distribution strategy. It is checked twice:

1. :func:`check_config`, before anything is imported: every ``_target_`` in
   the config (nested ones included) must sit at a slot's key and lie in the
   slot's module with the slot's name pattern (``kt_ext.data.load_*``,
   ``models.*.build_*``, a registered tuner of ``kt_ext.tuners``,
   ``kt_ext.distribute.*``). Anything else (``os.system``,
   ``builtins.eval``, ``functools.partial``, a KerasTuner tuner, a class of
   Keras or TensorFlow that writes files or listens on a port, a target
   nested in an argument) is a :class:`ConfigError` naming the key; nothing
   has been imported or called.
2. :func:`instantiate`, before calling: every target is resolved and the
   object itself is checked (defined in the slot's module, a function or a
   subclass of the slot's base class as the slot requires), so an alias
   (``kt_ext.data.np.load``) is rejected too; and the arguments the config
   gives are bound to its signature, so a misspelt argument is named.

Users trust more modules with ``safety.allow_modules=[my_models]`` on the
command line (or in the repository's own ``conf/config.yaml``), or with the
environment variable :data:`ALLOW_ENV` (comma-separated): the classes
and functions of a listed module (and its submodules) are allowed in any
slot and nested.

Threat model: config files given with ``--config-dir``/``--config-name``
(a colleague's ``best_config.yaml``, a tutorial's config) and run
directories may come from someone else; the repository's ``conf/``, the
command line and the environment of the person running kt-ext are trusted.
Besides ``_target_``, Hydra runs code and chooses paths from its own node
(callbacks, logging handler factories, launcher, sweeper, environment
variables, the run and sweep directories, the job's name, which names its
log file, and the overrides handed to workers): :func:`check_trusted_keys`
refuses a composed config in which Hydra's node or ``safety``
(:data:`TRUSTED_KEYS`) differs from what the command line gives on top of
the repository's config or of Hydra's own defaults (what a
``best_config.yaml`` that kt-ext wrote composes to), before Hydra acts on
them. The corpora ``tests/config/test_malicious_corpus.py`` and
``test_malformed_corpus.py`` measure these promises case by case.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kt_ext.errors import ConfigError


@dataclass(frozen=True)
class Slot:
    """What the ``_target_`` at one config key may name.

    Attributes:
        module: The package the object must be defined in.
        prefix: How its name starts (``""``: any name).
        kind: ``"function"`` or ``"class"``.
        accepts: What the slot accepts, in words (error messages).
    """

    module: str
    prefix: str
    kind: str
    accepts: str


#: The config keys where a ``_target_`` may sit, and what each accepts.
SLOTS: dict[str, Slot] = {
    "data.loader": Slot(
        "kt_ext.data", "load_", "function", "a loader kt_ext.data.load_*(...) -> RawData"
    ),
    "model.builder": Slot(
        "models",
        "build_",
        "function",
        "a builder models.<file>.build_*(values, *, input_shape, num_classes, metrics, "
        "decay_steps) -> keras.Model",
    ),
    "strategy": Slot("kt_ext.tuners", "", "class", "a tuner of kt_ext.config.strategies"),
    "distribute": Slot(
        "kt_ext.distribute", "", "class", "a subclass of kt_ext.distribute.Distribute"
    ),
}
# Hydra's instantiate keywords, not arguments of the target
_HYDRA_KEYS = ("_target_", "_partial_", "_args_", "_recursive_", "_convert_")
TARGET = "_target_"
ALLOW_ENV = "KT_EXT_ALLOW_MODULES"  # more trusted modules, comma-separated (never from a file)
#: Keys only the repository's own config and the command line may set: Hydra runs code
#: from them (callbacks, logging factories, launcher, sweeper, job environment), they
#: choose where kt-ext writes, or they widen this allowlist.
TRUSTED_KEYS = ("hydra", "safety", "parallel.insecure")
"""Only the command line may set these; Hydra's whole node, since every part of it either
runs code (callbacks, logging factories, launcher, sweeper), chooses a path (run and sweep
directories, ``output_subdir``, ``job.name``, which names the job's log file), sets the
environment or the working directory, or becomes a worker's command line (``overrides``);
and ``parallel.insecure``, which opens the search to the network without authentication."""
SET_BY_HYDRA = (
    "hydra.runtime",
    "hydra.job.config_name",
    "hydra.job.override_dirname",
    "hydra.overrides",
)
"""Keys under ``hydra`` that Hydra fills from the command line while composing, so they differ
from a baseline without being set by a file; ``hydra.overrides`` is checked against the command
line itself (:func:`check_trusted_keys`), the others Hydra overwrites."""


def is_hydra_override(override: str) -> bool:
    """Whether a command-line override is Hydra's own: ``hydra.x=..`` or ``hydra/launcher=..``.

    Hydra records these in ``hydra.overrides.hydra``, the rest in ``.task``.
    """
    return re.split(r"[./=@]", override.lstrip("+~"), maxsplit=1)[0] == "hydra"


def env_modules() -> list[str]:
    """The modules :data:`ALLOW_ENV` lists (the environment is trusted, config files are not)."""
    return [m.strip() for m in os.environ.get(ALLOW_ENV, "").split(",") if m.strip()]


def under(name: str, modules: Sequence[str]) -> bool:
    """Whether the dotted ``name`` is one of ``modules`` or lies below one."""
    return any(name == m or name.startswith(m + ".") for m in modules)


def targets(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(key, target)`` for every ``_target_`` in ``node`` (Hydra's own node skipped)."""
    if isinstance(node, Mapping):
        if TARGET in node:
            yield (f"{prefix}.{TARGET}" if prefix else TARGET), node[TARGET]
        for k, v in node.items():
            if k != TARGET and not (not prefix and k == "hydra"):
                yield from targets(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from targets(v, f"{prefix}[{i}]")


def _rule(slot: Slot | None, allow: Sequence[str]) -> str:
    listed = f" or a class or function of {', '.join(allow)}" if allow else ""
    if slot is None:
        where = "_target_ may only name " + (f"{listed[4:]}" if allow else "nothing here")
        return f"not allowed: {where}; list trusted modules with safety.allow_modules=[...]"
    return (
        f"not allowed: must name {slot.accepts}{listed}; "
        "list trusted modules with safety.allow_modules=[...]"
    )


def _slot(key: str) -> Slot | None:
    """The slot of a ``..._target_`` key, or ``None`` if a target may not sit there."""
    return SLOTS.get(key[: -len(TARGET) - 1]) if key.endswith("." + TARGET) else None


def check_config(config: Mapping[str, Any], allow: Sequence[str] = ()) -> None:
    """Check every ``_target_`` path in ``config`` without importing anything.

    Raises:
        ConfigError: A target that is not a dotted string under an allowed module.
    """
    for key, target in targets(config):
        _check_path(key, target, allow)


def _check_path(key: str, target: Any, allow: Sequence[str]) -> None:
    if not isinstance(target, str) or "." not in target:
        raise ConfigError(key, target, "must name a class or function as module.name")
    if under(target, allow):
        return
    slot = _slot(key)
    module, _, name = target.rpartition(".")
    if slot is None or not under(module, (slot.module,)) or not name.startswith(slot.prefix):
        raise ConfigError(key, target, _rule(slot, allow))
    if slot is SLOTS["strategy"] and target not in _registered_tuners():
        raise ConfigError(key, target, _rule(slot, allow))


def _registered_tuners() -> set[str]:
    from kt_ext.config.strategies import STRATEGIES

    return set(STRATEGIES)


def check_object(obj: Any, key: str, target: str, allow: Sequence[str] = ()) -> None:
    """Check what ``target`` (at config key ``key``) resolved to.

    Raises:
        ConfigError: ``obj`` is not what the key's slot accepts (a function or
            class of an allowed module, of the slot's kind and base class).
    """
    module = getattr(obj, "__module__", None) or ""
    kind = "class" if inspect.isclass(obj) else "function" if inspect.isfunction(obj) else None
    slot = _slot(key)
    if kind is not None and under(module, allow):
        return
    ok = (
        slot is not None
        and kind == slot.kind
        and under(module, (slot.module,))
        and obj.__name__.startswith(slot.prefix)
        and (slot is not SLOTS["distribute"] or _is_distribute(obj))
    )
    if not ok:
        what = type(obj).__name__ if kind is None else kind
        name = getattr(obj, "__qualname__", getattr(obj, "__name__", "?"))
        raise ConfigError(key, target, f"resolves to {what} {module}.{name}, {_rule(slot, allow)}")


def _is_distribute(obj: type) -> bool:
    from kt_ext.distribute import Distribute

    return issubclass(obj, Distribute)


def check_arguments(obj: Any, node: Mapping[str, Any], key: str) -> None:
    """The config's arguments for ``obj`` bind to its signature.

    Raises:
        ConfigError: Naming the first argument ``obj`` does not take.
    """
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return
    kwargs = {k: v for k, v in node.items() if k not in _HYDRA_KEYS}
    try:
        signature.bind_partial(*node.get("_args_", ()), **kwargs)
    except TypeError:
        params = signature.parameters
        takes = ", ".join(n for n, p in params.items() if p.kind is not p.VAR_KEYWORD)
        takes = f"it takes {takes}" if takes else "it takes no arguments"
        for name, value in kwargs.items():
            if name not in params:
                raise ConfigError(
                    f"{key}.{name}", value, f"not an argument of {key}; {takes}"
                ) from None
        raise ConfigError(key, node.get(TARGET), f"arguments do not fit {signature}") from None


def instantiate(node: Mapping[str, Any], key: str, allow: Sequence[str] = (), **kwargs: Any) -> Any:
    """``hydra.utils.instantiate(node, **kwargs)`` after checking every target in ``node``.

    Args:
        node: A config mapping with a ``_target_`` (nested targets allowed).
        key: Its dotted config path, for error messages.
        allow: Extra trusted modules (``safety.allow_modules``).
        **kwargs: Passed to ``instantiate``.

    Raises:
        ConfigError: A target outside the allowlist, or one that cannot be imported.
    """
    from hydra.utils import instantiate as hydra_instantiate

    _check_resolved(node, key, allow, kwargs)
    return hydra_instantiate(node, **kwargs)


def _check_resolved(
    node: Mapping[str, Any], key: str, allow: Sequence[str], kwargs: Mapping[str, Any]
) -> None:
    """Resolve every target in ``node``, check each object and the outer one's arguments."""
    from hydra._internal.utils import _locate

    for sub_key, target in targets(node, key):
        _check_path(sub_key, target, allow)
        try:
            obj = _locate(target)
        except ImportError as e:
            raise ConfigError(sub_key, target, f"cannot be imported: {e}") from None
        check_object(obj, sub_key, target, allow)
    check_arguments(_locate(node[TARGET]), {**node, **kwargs}, key)


#: Slots whose shipped modules import without TensorFlow: their targets are resolved and
#: their arguments bound while the config is validated, so a misspelt loader or argument
#: is one line before TensorFlow starts; other targets are checked when instantiated.
EARLY_SLOTS = ("data.loader", "distribute")


def check_early(config: Mapping[str, Any], allow: Sequence[str] = ()) -> None:
    """:func:`instantiate`'s checks, without the call, for the :data:`EARLY_SLOTS`.

    Only targets in a slot's own module (``kt_ext.data``, ``kt_ext.distribute``)
    are resolved here; a trusted module of the user's is imported only when used.

    Raises:
        ConfigError: A target that does not exist, is not what its slot accepts,
            or is given an argument it does not take.
    """
    for key in EARLY_SLOTS:
        node: Any = config
        for part in key.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping) and under(str(node.get(TARGET, "")), (SLOTS[key].module,)):
            _check_resolved(node, key, allow, {})


def check_trusted_keys(
    composed: Any, trusted: Sequence[Any], source: str, overrides: Sequence[str]
) -> None:
    """Refuse ``composed`` if a :data:`TRUSTED_KEYS` entry differs from every ``trusted`` one.

    Args:
        composed: The config as the command line composes it (Hydra's node included).
        trusted: The same command line's ``hydra.*`` and ``safety.*`` overrides
            applied to trusted configs alone (the repository's, Hydra's defaults).
        source: What else took part in ``composed`` (for the message).
        overrides: The command line's overrides ``composed`` was made with; Hydra's
            record of them (``hydra.overrides``) must be exactly these.

    Raises:
        ConfigError: Naming the first key a config file changed.
    """
    from omegaconf import OmegaConf

    hydra_own = [o for o in overrides if is_hydra_override(o)]
    recorded = {"hydra": hydra_own, "task": [o for o in overrides if o not in hydra_own]}
    for part, expected in recorded.items():
        given = _plain(OmegaConf.select(composed, f"hydra.overrides.{part}", default=[]))
        if list(given or []) != expected:
            raise _set_by(source, f"hydra.overrides.{part}", given)
    for key in TRUSTED_KEYS:
        mine = _without(key, _plain(OmegaConf.select(composed, key, default=None)))
        theirs = [_without(key, _plain(OmegaConf.select(t, key, default=None))) for t in trusted]
        if all(mine != other for other in theirs):
            # name a key that differs (``hydra.callbacks.evil``), from the closest baseline
            where, value = min((_differences(key, mine, o) for o in theirs), key=len)[0]
            raise _set_by(source, where, value)


def _set_by(source: str, key: str, value: Any) -> ConfigError:
    return ConfigError(
        key,
        value,
        f"set by {source}; only the command line may set it (it runs code, chooses "
        "where kt-ext writes, or widens what configs may run)",
    )


def _without(root: str, node: Any) -> Any:
    """``node`` (the plain value at ``root``) without the :data:`SET_BY_HYDRA` keys."""
    if not isinstance(node, dict):
        return node
    node = dict(node)
    for key in SET_BY_HYDRA:
        parent, _, leaf = key.rpartition(".")
        if parent == root:
            node.pop(leaf, None)
        elif parent.startswith(f"{root}.") and isinstance(node.get(parent.split(".")[1]), dict):
            head = parent.split(".")[1]
            node[head] = _without(f"{root}.{head}", node[head])
    return node


def _differences(key: str, mine: Any, theirs: Any) -> list[tuple[str, Any]]:
    """The most specific keys below ``key`` where ``mine`` differs from ``theirs``, with values."""
    if not (isinstance(mine, dict) and isinstance(theirs, dict)):
        return [(key, mine)] if mine != theirs else []
    out = []
    for k in [*mine, *(k for k in theirs if k not in mine)]:
        out += _differences(f"{key}.{k}", mine.get(k), theirs.get(k))
    return out


def _plain(node: Any) -> Any:
    from omegaconf import OmegaConf

    if OmegaConf.is_config(node):
        return OmegaConf.to_container(node, resolve=False)
    return node

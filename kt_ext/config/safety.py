"""What a config may instantiate through ``_target_``.

Hydra's ``instantiate`` calls whatever a ``_target_`` names, so a config is
code. kt-ext only instantiates targets from an allowlist, checked twice:

1. :func:`check_config`, before anything is imported: every ``_target_`` in
   the config (nested ones included) must lie under an allowed module path.
   A target outside (``os.system``, ``subprocess.run``, ``builtins.eval``,
   ``pickle.loads``, ``logging.os.system``, ``functools.partial``, ...) is a
   :class:`ConfigError` naming the key; nothing has been imported or called.
2. :func:`instantiate`, before calling: every target is resolved and the
   object itself is checked, so an alias inside an allowed module
   (``kt_ext.tuners.os.system``) is rejected too. Allowed are classes defined
   in the allowed packages, and functions defined in kt-ext's config-facing
   modules, ``models`` or a module the user lists; never modules, builtins,
   instances or functions of the libraries (``keras``, ``tensorflow`` and
   ``keras_tuner`` contribute classes only).

Users trust more modules with ``safety.allow_modules=[my_models]`` on the
command line (or in the repository's own ``conf/config.yaml``); the objects
of a listed module (and its submodules) are all allowed.

Threat model: config files given with ``--config-dir``/``--config-name``
(a colleague's ``best_config.yaml``, a tutorial's config) and run
directories may come from someone else; the repository's ``conf/``, the
command line and the environment of the person running kt-ext are trusted.
Besides ``_target_``, Hydra runs code and chooses paths from its own node
(callbacks, logging handler factories, launcher, sweeper, environment
variables, the run and sweep directories): :func:`check_trusted_keys`
refuses a composed config in which any of :data:`TRUSTED_KEYS` differs from
what the command line gives on top of the repository's config or of Hydra's
own defaults (what a ``best_config.yaml`` that kt-ext wrote composes to),
before Hydra acts on them.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kt_ext.errors import ConfigError

#: Module paths whose classes and functions a config may name.
CODE_MODULES = ("kt_ext.data", "kt_ext.distribute", "kt_ext.tuners", "kt_ext.oracles", "models")
#: Library packages whose classes (not functions) a config may name.
CLASS_PACKAGES = ("kt_ext", "models", "keras", "tensorflow", "keras_tuner")
TARGET = "_target_"
#: Keys only the repository's own config and the command line may set: Hydra runs code
#: from them (callbacks, logging factories, launcher, sweeper, job environment), they
#: choose where kt-ext writes, or they widen this allowlist.
TRUSTED_KEYS = (
    "hydra.callbacks",
    "hydra.job_logging",
    "hydra.hydra_logging",
    "hydra.launcher",
    "hydra.sweeper",
    "hydra.searchpath",
    "hydra.run",
    "hydra.sweep",
    "hydra.output_subdir",
    "hydra.job.chdir",
    "hydra.job.env_set",
    "hydra.job.env_copy",
    "hydra.mode",
    "safety",
)


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


def _rule(allow: Sequence[str]) -> str:
    extra = f", {', '.join(allow)}" if allow else ""
    return (
        f"not allowed: _target_ must name a class or function of {', '.join(CODE_MODULES)}"
        f"{extra}, or a class of keras, tensorflow or keras_tuner; "
        "list trusted modules in safety.allow_modules"
    )


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
    if not under(target, (*CODE_MODULES, *CLASS_PACKAGES, *allow)):
        raise ConfigError(key, target, _rule(allow))


def check_object(obj: Any, key: str, target: str, allow: Sequence[str] = ()) -> None:
    """Check what ``target`` resolved to.

    Raises:
        ConfigError: ``obj`` is not a class of an allowed package or a function
            of an allowed module.
    """
    module = getattr(obj, "__module__", None) or ""
    if inspect.isclass(obj):
        ok = under(module, (*CLASS_PACKAGES, *allow))
    elif inspect.isfunction(obj):
        ok = under(module, (*CODE_MODULES, *allow))
    else:
        ok = False
    if not ok:
        kind = type(obj).__name__
        name = getattr(obj, "__qualname__", getattr(obj, "__name__", "?"))
        raise ConfigError(key, target, f"resolves to {kind} {module}.{name}, {_rule(allow)}")


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
    from hydra._internal.utils import _locate
    from hydra.utils import instantiate as hydra_instantiate

    for sub_key, target in targets(node, key):
        _check_path(sub_key, target, allow)
        try:
            obj = _locate(target)
        except ImportError as e:
            raise ConfigError(sub_key, target, f"cannot be imported: {e}") from None
        check_object(obj, sub_key, target, allow)
    return hydra_instantiate(node, **kwargs)


def check_trusted_keys(composed: Any, trusted: Sequence[Any], source: str) -> None:
    """Refuse ``composed`` if a :data:`TRUSTED_KEYS` entry differs from every ``trusted`` one.

    Args:
        composed: The config as the command line composes it (Hydra's node included).
        trusted: The same command line's ``hydra.*`` and ``safety.*`` overrides
            applied to trusted configs alone (the repository's, Hydra's defaults).
        source: What else took part in ``composed`` (for the message).

    Raises:
        ConfigError: Naming the first key a config file changed.
    """
    from omegaconf import OmegaConf

    for key in TRUSTED_KEYS:
        mine = _plain(OmegaConf.select(composed, key, default=None))
        theirs = [_plain(OmegaConf.select(t, key, default=None)) for t in trusted]
        if all(mine != other for other in theirs):
            # name a key that differs (``hydra.callbacks.evil``), from the closest baseline
            where, value = min((_differences(key, mine, o) for o in theirs), key=len)[0]
            raise ConfigError(
                where,
                value,
                f"set by {source}; only the command line may set it (it runs code, chooses "
                "where kt-ext writes, or widens what configs may run)",
            )


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

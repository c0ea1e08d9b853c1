"""One-line errors for command lines Hydra cannot compose.

Hydra reports a bad override (a misspelt key, an option a config group does
not have, broken override syntax, a sweep without ``-m``) in several lines,
with hints about its config search path. :func:`check_command_line` composes
the config the command line asks for before Hydra runs, and turns those
failures into a :class:`kt_ext.errors.ConfigError` that names the key and the
rule, which the scripts print as one line (exit status 2, nothing written).
Each composed config is then validated (:func:`kt_ext.config.validate`), so a
multirun with one bad job stops before its first job rather than mid-sweep.

It is also where configs from elsewhere are kept from running code:
whatever ``--config-dir`` and ``--config-name`` bring in is composed here
too, and refused if it sets a key only the command line may set
(:func:`kt_ext.config.safety.check_trusted_keys`: Hydra's callbacks,
logging, launcher, sweeper, job environment, run and output directories,
the allowlist), all before Hydra instantiates anything.
``--experimental-rerun`` (which unpickles a file of a run directory) is
refused.

Command lines this module cannot judge alone are left to Hydra: ``--help``,
``--info``, ``--cfg``, shell completion, ``--config-path``. For a multirun
(``-m``), every value of every sweep is checked, at most
:data:`MAX_SWEEP_VALUES` per sweep.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from kt_ext.config._keys import KNOWN
from kt_ext.errors import ConfigError, fail

if TYPE_CHECKING:
    from omegaconf import DictConfig

MAX_SWEEP_VALUES = 20  # values of one sweep composed to check them (the others share its key)
GRAMMAR = "https://hydra.cc/docs/advanced/override_grammar/basic/"
# Hydra's composition errors: (what names the key, the rule stated for it)
_COMPOSITION_RULES = (
    (
        re.compile(r"Could not override '([^']+)'"),
        "no such key; check the spelling (to add a new key write +{key}=...)",
    ),
    (
        re.compile(r"Could not delete from config\. '([^']+)' does not exist"),
        "no such key to delete; check the spelling",
    ),
    (
        re.compile(r"An item is already at '([^']+)'"),
        "exists already: drop the + to override it (or write ++{key}=...)",
    ),
)


def check_command_line(argv: Sequence[str], config_dir: str | Path, config_name: str) -> None:
    """Exit with status 2 and one line if Hydra could not compose ``argv``'s config.

    Args:
        argv: The command line's arguments (``sys.argv[1:]``).
        config_dir: The script's primary config directory.
        config_name: The script's primary config name.
    """
    try:
        check_overrides(argv, config_dir, config_name)
    except ConfigError as e:
        fail(e, 2)


def check_overrides(argv: Sequence[str], config_dir: str | Path, config_name: str) -> None:
    """Compose the config ``argv`` asks for; see the module docstring.

    Raises:
        ConfigError: An override has bad syntax, names no key or no option of
            its group, appends a key that exists, or sweeps without ``-m``.
    """
    from hydra._internal.utils import get_args_parser

    args = get_args_parser().parse_args(list(argv))  # a usage error exits here, as in Hydra
    if args.experimental_rerun:
        raise ConfigError(
            "--experimental-rerun",
            args.experimental_rerun,
            "not supported: it unpickles a file, which can run code; rerun the command instead",
        )
    if (
        args.help
        or args.hydra_help
        or args.info
        or args.cfg
        or args.shell_completion
        or args.config_path
    ):
        return
    from omegaconf import OmegaConf, open_dict

    from kt_ext.config import resume, safety, validate

    variants = _variants(args.overrides, multirun=args.multirun)
    name = args.config_name or config_name
    extra = None
    if args.config_dir:
        extra = Path(args.config_dir).resolve()
        if not extra.is_dir():
            raise ConfigError("--config-dir", args.config_dir, "no such directory")
    primary = str(Path(config_dir).resolve())
    source = "a config file" if extra is None else f"a config file in {extra}"
    roots = {key.split(".")[0] for key in safety.TRUSTED_KEYS}
    trusted: dict[tuple[str, ...], list[DictConfig]] = {}
    for overrides in variants:
        cfg = _compose(primary, name, overrides, extra)
        own = tuple(o for o in overrides if re.split(r"[./=@]", o.lstrip("+~"))[0] in roots)
        if own not in trusted:
            trusted[own] = _trusted(primary, config_name, list(own))
        safety.check_trusted_keys(cfg, trusted[own], source, overrides)
        run_dir = OmegaConf.select(cfg, "hydra.run.dir")
        with open_dict(cfg):
            del cfg["hydra"]  # what the scripts receive: the config without Hydra's node
        if OmegaConf.select(cfg, "search") is not None:  # a kt-ext run config
            validate(cfg)
            if not args.multirun and run_dir:  # before Hydra writes into an existing run
                resume.check_writable(Path(run_dir))
                resume.check_no_links(Path(run_dir))
                container = OmegaConf.to_container(cfg, resolve=True)  # a DictConfig's: a dict
                resume.check_resume(Path(run_dir), cast("dict[str, Any]", container))
                resume.protect_hydra_files(Path(run_dir))


def _variants(overrides: Sequence[str], multirun: bool) -> list[list[str]]:
    """Override lists to compose: one per sweep value, the other sweeps at their first value."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    parsed = []
    for text in overrides:
        try:
            parsed.append((text, parser.parse_override(text)))
        except HydraException as e:  # the grammar's errors
            key, _, value = text.partition("=")
            reason = str(e).strip().splitlines()[0]
            raise ConfigError(
                key, value, f"bad override syntax ({reason}); see {GRAMMAR}"
            ) from None
    fixed: list[str] = []
    sweeps: list[tuple[str, list[str]]] = []
    for text, o in parsed:
        if not o.is_sweep_override():
            fixed.append(text)
            continue
        element = o.get_key_element()
        if not multirun:
            raise ConfigError(
                element,
                text.partition("=")[2],
                "sweeps over values only with -m (--multirun); for a list write [a,b], "
                "for a string with commas quote it",
            )
        try:
            values = list(o.sweep_string_iterator())[:MAX_SWEEP_VALUES]
        except Exception:  # noqa: BLE001 - glob/interval sweeps: left to Hydra and its sweeper
            continue
        sweeps.append((element, values))
    first = [f"{key}={values[0]}" for key, values in sweeps if values]
    variants = [fixed + first]
    for i, (key, values) in enumerate(sweeps):
        for value in values[1:]:
            others = first[:i] + [f"{key}={value}"] + first[i + 1 :]
            variants.append(fixed + others)
    return variants


def _trusted(config_dir: str, config_name: str, overrides: list[str]) -> list[DictConfig]:
    """What trusted sources give: the repository's config and Hydra's defaults alone.

    Each with the command line's ``hydra.*``/``safety.*`` overrides, where they apply.
    """
    out = []
    for name in (config_name, None):
        try:
            out.append(_compose(config_dir, name, overrides, None))
        except ConfigError:  # an override needs a key that config lacks
            continue
    return out


def _compose(
    config_dir: str, config_name: str | None, overrides: list[str], extra_dir: Path | None
) -> DictConfig:
    """Compose as ``hydra.main`` would, ``extra_dir`` searched first (``--config-dir``)."""
    from hydra import compose
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.config_search_path import SearchPathQuery
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import ConfigCompositionException, MissingConfigException

    search_path = create_config_search_path(config_dir)
    if extra_dir is not None:  # where Hydra puts --config-dir
        search_path.prepend(
            provider="command-line",
            path=f"file://{extra_dir}",
            anchor=SearchPathQuery(provider="schema"),
        )
    GlobalHydra.instance().clear()
    try:
        Hydra.create_main_hydra2(task_name="kt_ext_check", config_search_path=search_path)
        return compose(config_name, overrides=overrides, return_hydra_config=True)
    except MissingConfigException as e:
        group, _, option = (e.missing_cfg_file or "").rpartition("/")
        if group and e.options:
            raise ConfigError(
                group, option, f"no such option; choose from {', '.join(e.options)}"
            ) from None
        raise ConfigError(str(config_name), e.missing_cfg_file, _one_line(str(e))) from None
    except ConfigCompositionException as e:
        message = str(e)
        value_of = {o.partition("=")[0].lstrip("+~"): o.partition("=")[2] for o in overrides}
        for pattern, rule in _COMPOSITION_RULES:
            found = pattern.search(message)
            if found:
                key = found.group(1)
                group, _, name = key.rpartition(".")
                if "Could not override" in message and not key.startswith("hydra."):
                    # kt-ext reads no key it does not know: name the one meant, not the +
                    rule = "no such key; check the spelling"
                    if group in KNOWN:
                        close = difflib.get_close_matches(name, KNOWN[group], n=1, cutoff=0.6)
                        meant = f"did you mean {group}.{close[0]}? " if close else ""
                        rule = f"no such key; {meant}known: {', '.join(sorted(KNOWN[group]))}"
                raise ConfigError(key, value_of.get(key, ""), rule.format(key=key)) from None
        raise ConfigError("overrides", " ".join(overrides), _one_line(message)) from None
    except Exception as e:  # noqa: BLE001 - anything else Hydra raises while composing
        what = f"{type(e).__name__}: {e}"
        raise ConfigError(config_name or "config", " ".join(overrides), _one_line(what)) from None
    finally:
        GlobalHydra.instance().clear()


def _one_line(message: str) -> str:
    """Hydra's message without blank lines and search-path details, joined with '; '."""
    lines = []
    for line in message.strip().splitlines():
        if line.startswith("Config search path") or line.startswith("\tprovider="):
            break
        if line.strip():
            lines.append(line.strip())
    return "; ".join(lines)

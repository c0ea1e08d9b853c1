"""The _target_ allowlist (kt_ext.config.safety): a malicious corpus, each rejected with its key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from kt_ext.config import safety, validate
from kt_ext.errors import ConfigError
from tests.conftest import TUNE


def touch(path: Path) -> str:
    return f"touch {path}"


def corpus(marker: Path) -> list[tuple[str, object, str]]:
    """(config key to set, value, key the error must name): each would create ``marker``."""
    cmd = touch(marker)
    return [
        ("model.builder", {"_target_": "os.system", "command": cmd}, "model.builder._target_"),
        (
            "data.loader",
            {"_target_": "subprocess.run", "args": cmd.split()},
            "data.loader._target_",
        ),
        ("strategy", {"_target_": "builtins.eval", "_args_": [f"os.system('{cmd}')"]}, "strategy"),
        ("distribute", {"_target_": "pickle.loads", "_args_": [b"x"]}, "distribute._target_"),
        ("model.builder", {"_target_": "logging.os.system", "command": cmd}, "model.builder"),
        (
            "data.loader",
            {
                "_target_": "functools.partial",
                "_args_": [{"_target_": "hydra.utils.get_method", "path": "os.system"}, cmd],
            },
            "data.loader._target_",
        ),
        (
            "data.loader.hook",
            {"_target_": "os.system", "command": cmd},
            "data.loader.hook._target_",
        ),
        ("model.builder", {"_target_": "posix.system", "command": cmd}, "model.builder._target_"),
        ("model.builder", {"_target_": "antigravity.geohash"}, "model.builder._target_"),
    ]


@pytest.mark.parametrize("case", range(9))
def test_validation_rejects_targets_outside_the_allowlist(compose_config, tmp_path, case):
    marker = tmp_path / "pwned"
    key, value, named = corpus(marker)[case]
    cfg = compose_config()
    OmegaConf.update(cfg, key, value, merge=False, force_add=True)
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    assert info.value.key.startswith(named), info.value.key
    assert "not allowed" in str(info.value) and "\n" not in str(info.value)
    assert "antigravity" not in sys.modules  # nothing was imported, let alone called
    assert not marker.exists()


# Targets under a slot's module that are not what the slot accepts.
ALIASES = [
    "kt_ext.tuners.halving.os.system",  # os imported by an allowed module
    "kt_ext.tuners.halving.os",  # a module, not a class or function
    "kt_ext.data.np.load",  # numpy.load (allow_pickle) through an allowed module
    "models.mlp.keras.saving.load_model",  # a library function
    "keras.src.utils.python_utils.func_load",  # marshal-loads code
    "tensorflow.io.write_file",  # writes any file
    "kt_ext.tuners.halving.keras_tuner.src.utils.save_json",
    "kt_ext.run.build.safety.instantiate",  # a kt-ext function, not of a slot's module
    "kt_ext.tuners.RandomSearch",  # a tuner, in the builder's slot
]


@pytest.mark.parametrize("target", ALIASES)
def test_a_slot_refuses_what_it_does_not_accept(tmp_path, target):
    marker = tmp_path / "pwned"
    node = {"_target_": target, "_args_": [touch(marker)]}
    with pytest.raises(ConfigError) as info:
        safety.check_config({"model": {"builder": node}})
    assert info.value.key == "model.builder._target_" and "not allowed" in str(info.value)
    with pytest.raises(ConfigError):
        safety.instantiate(node, "model.builder")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("key", "target"),
    [
        ("strategy", "keras_tuner.RandomSearch"),  # overwrite: true deletes a directory tree
        ("strategy", "kt_ext.tuners.SingleTrial"),  # a kt-ext class, but no registered tuner
        ("distribute", "tensorflow.distribute.Server"),  # listens on every interface
        ("distribute", "kt_ext.outputs.serve.TensorBoardProcess"),  # outlives the run
        ("data.loader", "tensorflow.io.TFRecordWriter"),  # writes where it is told
        ("data.loader", "kt_ext.outputs.board.EventLog"),
        ("model.builder", "keras.layers.Lambda"),
    ],
)
def test_classes_with_side_effects_are_refused_in_every_slot(key, target):
    node: dict = {"_target_": target}
    for part in reversed(key.split(".")):
        node = {part: node}
    with pytest.raises(ConfigError, match="not allowed"):
        safety.check_config(node)


def test_an_alias_with_the_slots_name_is_caught_once_resolved(tmp_path, monkeypatch):
    import os

    import kt_ext.distribute
    import models.mlp

    marker = tmp_path / "pwned"
    monkeypatch.setattr(models.mlp, "build_evil", os.system, raising=False)
    node = {"_target_": "models.mlp.build_evil", "_args_": [touch(marker)]}
    safety.check_config({"model": {"builder": node}})  # the path alone passes
    with pytest.raises(ConfigError, match="resolves to builtin_function_or_method posix.system"):
        safety.instantiate(node, "model.builder")
    monkeypatch.setattr(kt_ext.distribute, "Server", dict, raising=False)
    with pytest.raises(ConfigError, match="subclass of kt_ext.distribute.Distribute"):
        safety.instantiate({"_target_": "kt_ext.distribute.Server"}, "distribute")
    assert not marker.exists()


def test_a_misspelt_argument_is_named(tmp_path):
    node = {"_target_": "kt_ext.data.load_npz", "pth": str(tmp_path / "x.npz")}
    with pytest.raises(ConfigError) as info:
        safety.instantiate(node, "data.loader")
    assert info.value.key == "data.loader.pth" and "it takes path" in info.value.rule


def test_nested_targets_are_checked_before_the_outer_one_is_called(tmp_path):
    marker = tmp_path / "pwned"
    node = {
        "_target_": "kt_ext.distribute.Distribute",
        "devices": {"_target_": "kt_ext.tuners.halving.os.system", "_args_": [touch(marker)]},
    }
    with pytest.raises(ConfigError, match=r"distribute\.devices\._target_"):
        safety.instantiate(node, "distribute")
    assert not marker.exists()


def test_the_shipped_configs_and_listed_modules_are_allowed(compose_config):
    for overrides in (["model=cnn", "strategy=bayes"], ["strategy=halving", "data=mnist"]):
        validate(compose_config(overrides))
    cfg = compose_config(["model.builder._target_=tests.builders.flaky_mlp"])
    with pytest.raises(ConfigError, match="safety.allow_modules"):
        validate(cfg)
    settings = validate(
        compose_config(
            ["model.builder._target_=tests.builders.flaky_mlp", "safety.allow_modules=[tests]"]
        )
    )
    builder = safety.instantiate(settings.builder, "model.builder", settings.allow_modules)
    assert builder.func.__name__ == "flaky_mlp"
    with pytest.raises(ConfigError, match="safety.allow_modules"):
        validate(compose_config(["safety.allow_modules=[os system]"]))


@pytest.mark.slow
def test_tune_rejects_a_library_function_with_one_line_and_no_side_effect(tmp_path):
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            str(TUNE),
            # importable and under keras, but a function that unmarshals code
            "model.builder._target_=keras.src.utils.python_utils.func_load",
            f"hydra.run.dir={run_dir}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ},
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("kt-ext: error")]
    assert len(lines) == 1 and "model.builder._target_" in lines[0], lines
    assert "not allowed: must name a builder models.<file>.build_*" in lines[0]
    assert not run_dir.exists()


def test_the_environment_can_trust_a_module(compose_config, monkeypatch):
    cfg = compose_config(["model.builder._target_=tests.builders.flaky_mlp"])
    with pytest.raises(ConfigError, match="safety.allow_modules"):
        validate(cfg)
    monkeypatch.setenv(safety.ALLOW_ENV, "tests, other.pkg")
    assert validate(cfg).allow_modules == ("tests", "other.pkg")
    monkeypatch.setenv(safety.ALLOW_ENV, "os system")
    with pytest.raises(ConfigError, match=safety.ALLOW_ENV):
        validate(cfg)

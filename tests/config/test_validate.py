"""Compose every config group option, validate it, and instantiate what it names."""

import functools

import numpy as np
import pytest
from hydra.utils import instantiate

from kt_ext.config import discard_run_dir, validate
from kt_ext.data import RawData
from kt_ext.errors import ConfigError
from tests.conftest import option_names

OFFLINE_DATA = ["digits", "breast_cancer"]


def test_groups_have_the_documented_options():
    assert option_names("model") == ["cnn", "cnn1d", "mlp", "mlp_lr_wd"]
    assert option_names("distribute") == sorted(
        ["default", "one_device", "mirrored", "multi_worker", "auto"]
    )
    assert set(option_names("strategy")) >= {
        "random",
        "grid",
        "bayes",
        "kt_bayes",
        "hyperband",
        "halving",
        "bohb",
        "tpe",
        "cmaes",
        "zoom",
    }
    assert set(option_names("data")) >= {
        "digits",
        "breast_cancer",
        "mnist",
        "fashion_mnist",
        "cifar10",
        "npz",
        "mnist1d",
    }


def test_defaults_validate(compose_config):
    s = validate(compose_config())
    assert s.builder["_target_"] == "models.mlp.build_mlp"
    assert s.strategy["_target_"] == "kt_ext.tuners.RandomSearch"
    assert s.data.loader["_target_"] == "kt_ext.data.load_digits"
    assert s.search.objective == "val_accuracy" and s.search.direction == "max"
    assert s.strategy["max_trials"] == s.search.max_trials  # one source: interpolated
    assert "batch_size" in s.space.names


def test_a_config_written_before_steps_per_execution_existed_still_validates(compose_config):
    """An older run's best_config.yaml lacks the key: it retrains as it trained, one per call."""
    cfg = compose_config(["~train.steps_per_execution"])
    assert "steps_per_execution" not in cfg.train
    assert validate(cfg).steps_per_execution is None  # the model as built: Keras's default
    assert validate(compose_config()).steps_per_execution > 1  # conf/config.yaml's choice


@pytest.mark.parametrize("model", option_names("model"))
@pytest.mark.parametrize("strategy", option_names("strategy"))
def test_every_model_and_strategy_validates(compose_config, model, strategy):
    s = validate(compose_config([f"model={model}", f"strategy={strategy}"]))
    assert s.strategy["_partial_"] is True


@pytest.mark.parametrize("data", [d for d in option_names("data") if d != "npz"])
def test_every_data_option_validates(compose_config, data):
    s = validate(compose_config([f"data={data}"]))
    assert s.data.loader["_target_"].startswith("kt_ext.data.")


def test_npz_requires_a_path(compose_config, tmp_path):
    with pytest.raises(ConfigError, match=r"data\.loader\.path = '\?\?\?': required"):
        validate(compose_config(["data=npz"]))
    s = validate(compose_config(["data=npz", f"data.loader.path={tmp_path / 'd.npz'}"]))
    assert s.data.loader["path"].endswith("d.npz")


@pytest.mark.parametrize("data", OFFLINE_DATA)
def test_offline_data_instantiates(compose_config, data):
    raw = instantiate(validate(compose_config([f"data={data}"])).data.loader)
    assert isinstance(raw, RawData) and len(raw.x) == len(raw.y) > 100
    assert np.isfinite(raw.x).all()


@pytest.mark.parametrize("model", option_names("model"))
def test_every_model_builds_at_its_defaults(compose_config, digits_splits, model):
    import keras

    s = validate(compose_config([f"model={model}"]))
    builder = instantiate(s.builder)
    assert isinstance(builder, functools.partial)
    values = s.space.declare(s.space.to_hyperparameters())
    sequences = model == "cnn1d"  # built for signals such as MNIST-1D's
    m = builder(
        values,
        input_shape=(40,) if sequences else digits_splits.input_shape,
        num_classes=10,
        metrics=["accuracy"],
        decay_steps=10,
    )
    assert isinstance(m, keras.Model) and m.output_shape == (None, 10)
    keras.backend.clear_session()


@pytest.mark.parametrize("strategy", option_names("strategy"))
def test_every_strategy_instantiates_a_tuner(compose_config, digits_splits, strategy, tmp_path):
    import keras_tuner

    from kt_ext.tuners.hypermodel import SpaceHyperModel

    s = validate(compose_config([f"strategy={strategy}"]))
    hypermodel = SpaceHyperModel(
        s.space,
        instantiate(s.builder),
        digits_splits,
        metrics=s.metrics,
        max_epochs=1,
        shuffle_buffer=100,
        verbose=0,
    )
    tuner = instantiate(s.strategy)(
        hypermodel=hypermodel,
        objective=keras_tuner.Objective("val_accuracy", "max"),
        hyperparameters=s.space.to_hyperparameters(),
        directory=str(tmp_path),
        project_name="p",
    )
    assert isinstance(tuner, keras_tuner.Tuner)
    assert set(tuner.oracle.hyperparameters.values) >= {"lr", "batch_size"}


def test_cli_style_overrides_reach_the_space(compose_config):
    s = validate(compose_config(["model.space.lr.high=0.01", "model.space.units=128"]))
    assert s.space["lr"].high == 0.01
    assert s.space["units"].kind == "fixed" and s.space["units"].values == (128,)


def test_direction_inferred_or_explicit(compose_config):
    assert validate(compose_config(["search.objective=val_loss"])).search.direction == "min"
    assert (
        validate(compose_config(["search.objective=loss", "search.direction=max"])).search.direction
        == "max"
    )


def test_seed_zero_is_a_seed(compose_config):
    assert validate(compose_config(["seed=0"])).seed == 0


def test_discard_run_dir_keeps_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hydra_only = tmp_path / "a" / "run"
    (hydra_only / ".hydra").mkdir(parents=True)
    (hydra_only / "tune.log").write_text("")
    assert discard_run_dir(hydra_only) and not (tmp_path / "a").exists()
    with_results = tmp_path / "b"
    (with_results / ".hydra").mkdir(parents=True)
    (with_results / "trials.csv").write_text("x")
    assert not discard_run_dir(with_results) and (with_results / "trials.csv").exists()


@pytest.mark.parametrize("distribute", option_names("distribute"))
def test_every_distribute_option_instantiates_its_spec(compose_config, distribute):
    from kt_ext.distribute import Distribute

    s = validate(compose_config([f"distribute={distribute}", "distribute.virtual_cpus=2"]))
    spec = instantiate(s.distribute)
    assert isinstance(spec, Distribute) and spec.name == distribute
    assert (spec.virtual_cpus, spec.scale_lr, spec.memory_growth) == (2, False, True)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["parallel.role=boss"], "parallel.role"),
        (["parallel.workers=-1"], "parallel.workers"),
        (["parallel.role=worker"], "parallel.port"),
        (["parallel.role=worker", "parallel.port=7000"], "parallel.run_dir"),
        (["parallel.port=70000"], "parallel.port"),
        (["parallel.worker_id=chief1"], "parallel.worker_id"),
        (["parallel.worker_id='a b'"], "parallel.worker_id"),
        (["parallel.grace_seconds=4"], "parallel.grace_seconds"),
        (["parallel.heartbeat_seconds=0"], "parallel.heartbeat_seconds"),
        (["parallel.gpu_per_worker=1"], "parallel.gpu_per_worker"),
        (["parallel.recycle_after_trials=-1"], "parallel.recycle_after_trials"),
        (["parallel.recycle_after_trials=2.5"], "parallel.recycle_after_trials"),
        (["parallel.recycle_above_mib=-5"], "parallel.recycle_above_mib"),
        (["parallel.workers=2", "parallel.launcher=slurm"], "parallel.launcher"),
        (["parallel.launcher=ray"], "parallel.launcher"),  # starts no worker
        (["parallel.workers=2", "parallel.slurm.cluster=debug"], "parallel.slurm.cluster"),
        (["parallel.workers=2", "parallel.slurm.partition='a b'"], "parallel.slurm.partition"),
        (["parallel.workers=2", "parallel.slurm.time_min=0"], "parallel.slurm.time_min"),
        (["parallel.workers=2", "parallel.ray.gpus_per_worker=-1"], "parallel.ray.gpus_per_worker"),
        (["parallel.insecure=yes"], "parallel.insecure"),
        (["parallel.workers=2", "parallel.address=0.0.0.0"], "parallel.address"),
        (
            ["parallel.role=chief", "parallel.port=7000", "parallel.address=10.0.0.5"],
            "parallel.address",
        ),
        (
            [
                "parallel.role=worker",
                "parallel.port=7000",
                "parallel.run_dir=/r",
                "parallel.address=chief.example.org",
            ],
            "parallel.address",
        ),
        (
            [
                "parallel.role=worker",
                "parallel.port=7000",
                "parallel.run_dir=x",
                "parallel.workers=2",
            ],
            "parallel.workers",
        ),
    ],
)
def test_bad_parallel_settings_name_their_key(compose_config, overrides, key):
    with pytest.raises(ConfigError) as info:
        validate(compose_config(overrides))
    assert info.value.key == key


def test_beyond_loopback_needs_tls_and_a_token_or_insecure(compose_config, monkeypatch):
    for var in ("KT_EXT_TOKEN", "KT_EXT_TLS_CERT", "KT_EXT_TLS_KEY"):
        monkeypatch.delenv(var, raising=False)
    wide = ["parallel.workers=2", "parallel.address=0.0.0.0"]
    with pytest.raises(ConfigError, match="KT_EXT_TOKEN, KT_EXT_TLS_CERT, KT_EXT_TLS_KEY"):
        validate(compose_config(wide))
    assert validate(compose_config([*wide, "parallel.insecure=true"])).parallel.insecure
    monkeypatch.setenv("KT_EXT_TOKEN", "t")
    monkeypatch.setenv("KT_EXT_TLS_CERT", "chief.pem")
    worker = ["parallel.role=worker", "parallel.port=7000", "parallel.run_dir=/r"]
    assert validate(compose_config([*worker, "parallel.address=chief.example.org"]))
    with pytest.raises(ConfigError, match="KT_EXT_TLS_KEY"):  # the chief also needs its key
        validate(compose_config(wide))
    monkeypatch.setenv("KT_EXT_TLS_KEY", "chief.key")
    settings = validate(compose_config([*wide, "parallel.launcher=submitit"])).parallel
    assert (settings.launcher, settings.slurm.cluster, settings.insecure) == (
        "submitit",
        "slurm",
        False,
    )


@pytest.mark.parametrize("value", [-0.1, 1.5, "half"])
def test_random_fraction_is_a_fraction(compose_config, value):
    with pytest.raises(ConfigError) as info:
        validate(compose_config(["strategy=bohb", f"strategy.random_fraction={value}"]))
    assert info.value.key == "strategy.random_fraction"
    assert validate(compose_config(["strategy=bohb", "strategy.random_fraction=0.33"]))


def test_parallel_roles(compose_config):
    assert not validate(compose_config()).parallel.chief
    assert validate(compose_config(["parallel.workers=2"])).parallel.chief
    chief = validate(compose_config(["parallel.role=chief", "parallel.port=7000"])).parallel
    assert chief.chief and chief.workers == 0
    worker = validate(
        compose_config(["parallel.role=worker", "parallel.port=7000", "parallel.run_dir=/r"])
    ).parallel
    assert not worker.chief and worker.run_dir == "/r"
    # a recycling limit alone trains in one worker process the chief can replace
    recycled = validate(compose_config(["parallel.recycle_after_trials=10"])).parallel
    assert recycled.chief and recycled.workers == 1 and recycled.recycle_after_trials == 10
    assert validate(compose_config(["parallel.recycle_above_mib=2000"])).parallel.workers == 1
    three = validate(compose_config(["parallel.workers=3", "parallel.recycle_above_mib=2000"]))
    assert three.parallel.workers == 3


def test_initial_points_are_resolved_and_checked(compose_config):
    s = validate(compose_config(["model.initial=[{lr: 0.001, optimizer: sgd}, {units: 64}]"]))
    assert s.initial_points[0]["lr"] == 0.001 and s.initial_points[0]["momentum"] == 0.5
    assert s.initial_points[1]["units"] == 64 and "momentum" not in s.initial_points[1]
    with pytest.raises(ConfigError) as info:
        validate(compose_config(["model.initial=[{units: 64}, {lr: 3}]"]))
    assert info.value.key == "model.initial[1].lr"
    with pytest.raises(ConfigError, match="enumerates its own trials"):
        validate(compose_config(["strategy=grid", "model.initial=[{units: 64}]"]))

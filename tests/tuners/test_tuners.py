import numpy as np
import pytest

from kt_ext.outputs.board import TrialBoard, read_scalars
from kt_ext.outputs.curves import CurveLogger
from kt_ext.space import parse_space
from kt_ext.tuners import GridSearch, RandomSearch, discretise_floats, trial_seed
from tests.conftest import read_csv

SPACE = parse_space(
    {
        "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
        "dropout": {"type": "float", "low": 0.0, "high": 0.4, "step": 0.2},
        "optimizer": {"type": "choice", "values": ["adam", "sgd"]},
        "momentum": {"type": "float", "low": 0.5, "high": 0.9, "when": {"optimizer": "sgd"}},
        "batch_size": 32,
        "units": {"type": "int", "low": 8, "high": 16, "step": 8},
        "num_layers": 1,
        "batch_norm": False,
        "initializer": "glorot_uniform",
        "weight_decay": 1e-5,
        "lr_schedule": "constant",
    }
)


def test_trial_seed_is_stable_and_distinct():
    assert trial_seed(1, "00") == trial_seed(1, "00")
    assert len({trial_seed(1, f"{i:02d}") for i in range(50)}) == 50
    assert trial_seed(0, "00") != trial_seed(None, "00")
    assert 0 <= trial_seed(123, "7") < 2**31


def test_discretise_floats_keeps_stepped_and_conditions():
    hp = discretise_floats(SPACE.to_hyperparameters(), 3)
    by_name = {h.name: h for h in hp.space}
    assert type(by_name["lr"]).__name__ == "Choice"
    assert list(by_name["lr"].values) == pytest.approx([1e-4, 1e-3, 1e-2])
    assert type(by_name["dropout"]).__name__ == "Float"  # has a step: KerasTuner enumerates it
    assert type(by_name["momentum"]).__name__ == "Choice"
    assert list(by_name["momentum"].values) == pytest.approx([0.5, 0.7, 0.9])
    assert by_name["momentum"].conditions[0].name == "optimizer"


@pytest.fixture
def hypermodel(digits_splits):
    from kt_ext.tuners.hypermodel import SpaceHyperModel
    from models.mlp import build_mlp

    return SpaceHyperModel(
        SPACE,
        build_mlp,
        digits_splits,
        metrics=["accuracy"],
        max_epochs=1,
        shuffle_buffer=64,
        verbose=0,
    )


def make_tuner(cls, hypermodel, tmp_path, **kwargs):
    import keras_tuner

    return cls(
        hypermodel=hypermodel,
        objective=keras_tuner.Objective("val_accuracy", "max"),
        hyperparameters=SPACE.to_hyperparameters(),
        directory=str(tmp_path),
        project_name=cls.__name__,
        **kwargs,
    )


def test_grid_search_enumerates_the_discretised_grid(hypermodel, tmp_path):
    tuner = make_tuner(GridSearch, hypermodel, tmp_path, max_trials=100, float_points=2)
    seen = set()
    for i in range(100):
        trial = tuner.oracle.create_trial(f"w{i}")
        if trial.status == "STOPPED":
            break
        values = trial.hyperparameters.values
        seen.add(tuple(sorted((k, v) for k, v in values.items())))
        tuner.oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5})
        trial.status = "COMPLETED"
        tuner.oracle.end_trial(trial)
    # lr 2 x dropout 3 x units 2 x (adam + sgd with 2 momenta) = 36 combinations.
    assert len(seen) == 36


def test_each_trial_is_seeded_from_run_seed_and_trial_id(hypermodel, tmp_path):
    tuner = make_tuner(RandomSearch, hypermodel, tmp_path, max_trials=3, seed=5)
    hp = SPACE.to_hyperparameters()

    def first_kernel(trial_id):
        tuner._current_trial_id = trial_id
        return tuner._try_build(hp).layers[2].kernel.numpy()

    assert np.array_equal(first_kernel("0"), first_kernel("0"))
    assert not np.array_equal(first_kernel("0"), first_kernel("1"))


def test_float_points_validated():
    with pytest.raises(ValueError, match="float_points"):
        GridSearch(float_points=1)


def test_gpucb_tuner_trains_model_proposed_trials(hypermodel, tmp_path):
    from kt_ext.oracles import GPUCBOracle
    from kt_ext.tuners import GPUCB

    tuner = make_tuner(
        GPUCB, hypermodel, tmp_path, max_trials=4, num_initial_points=2, beta=1.5, seed=3
    )
    assert isinstance(tuner.oracle, GPUCBOracle) and tuner.oracle.beta == 1.5
    tuner.search(epochs=1, verbose=0)
    trials = tuner.oracle.trials.values()
    assert len(trials) == 4 and all(t.status == "COMPLETED" for t in trials)
    assert sorted(tuner.oracle.proposals) == ["2", "3"]  # the GP chose the last two
    assert len({str(sorted(t.hyperparameters.values.items())) for t in trials}) == 4


def test_halving_tuner_continues_promoted_trials_from_their_checkpoint(hypermodel, tmp_path):
    import keras

    from kt_ext.outputs.results import EPOCHS_RUN
    from kt_ext.tuners import Halving

    tuner = make_tuner(
        Halving, hypermodel, tmp_path, min_epochs=1, max_epochs=3, mode="sync", seed=3
    )
    tuner.board = TrialBoard(tmp_path / "tb", SPACE, ["accuracy"], max_epochs=3)
    stopper = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=0, min_delta=1.0)
    with pytest.warns(UserWarning, match="epochs=1"):  # epochs come from the schedule
        tuner.search(epochs=1, callbacks=[stopper, CurveLogger()], verbose=0)
    trials = tuner.oracle.trials
    assert len(trials) == 4 and all(t.status == "COMPLETED" for t in trials.values())
    promoted = [t for t in trials.values() if t.hyperparameters.values.get("tuner/trial_id")]
    assert len(promoted) == 1
    child = promoted[0]
    parent_id = child.hyperparameters.values["tuner/trial_id"]
    # the promoted trial trained epochs 1 and 2 (EarlyStopping is the schedule's job here)
    assert [o.step for o in child.metrics.get_history("val_accuracy")] == [1, 2]
    assert child.metrics.get_last_value(EPOCHS_RUN) == 2
    steps = -(-len(hypermodel.data.y_train) // 32)

    def iterations(trial_id):
        path = tmp_path / "Halving" / f"trial_{trial_id}" / "continue.keras"
        return int(keras.saving.load_model(path).optimizer.iterations.numpy())

    assert iterations(parent_id) == steps  # saved where the parent stopped
    assert iterations(child.trial_id) == 3 * steps  # optimizer state carried on, not reset
    assert tuner.get_best_models(1)[0] is not None

    # TensorBoard: the child's curve is the configuration's whole history, epochs 0-2.
    parent_curve = read_scalars(tmp_path / "tb" / parent_id / "validation")["epoch_accuracy"]
    child_curve = read_scalars(tmp_path / "tb" / child.trial_id / "validation")["epoch_accuracy"]
    assert [s for s, _ in parent_curve] == [0] and [s for s, _ in child_curve] == [0, 1, 2]
    assert child_curve[0] == parent_curve[0]
    history = {o.step: o.value[0] for o in child.metrics.get_history("val_accuracy")}
    assert [v for _, v in child_curve[1:]] == pytest.approx([history[1], history[2]])
    rungs = read_scalars(tmp_path / "tb" / "search")["halving/rung"]
    assert sorted(rungs) == sorted((int(t), 1.0 if t == child.trial_id else 0.0) for t in trials)


def test_halving_tuner_data_budget_trains_on_fractions(hypermodel, tmp_path):
    from kt_ext.tuners import Halving

    tuner = make_tuner(
        Halving, hypermodel, tmp_path, max_epochs=1, budget="data", min_fraction=1 / 3, seed=2
    )
    tuner.search(verbose=0)
    trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
    fractions = [round(t.hyperparameters.values["tuner/fraction"], 3) for t in trials]
    assert sorted(fractions) == [0.333, 0.333, 0.333, 1.0]
    assert all(t.status == "COMPLETED" for t in trials)
    assert not any((tmp_path / "Halving").rglob("continue.keras"))  # every rung from scratch


WORKER = """
import json, sys
from hydra import compose, initialize_config_dir
from kt_ext.config import validate
from kt_ext.run import load_data, make_hypermodel, make_tuner
with initialize_config_dir(config_dir=sys.argv[1], version_base="1.3"):
    settings = validate(compose(config_name="config", overrides=sys.argv[3:]))
data = load_data(settings)
tuner = make_tuner(settings, make_hypermodel(settings, data), sys.argv[2])
ran = []
run_trial = tuner.run_trial
def recording(trial, *args, **kwargs):
    ran.append(trial.trial_id)
    return run_trial(trial, *args, **kwargs)
tuner.run_trial = recording
tuner.search(verbose=0)
print(json.dumps(ran))
"""


@pytest.mark.slow
def test_halving_workers_over_grpc_continue_checkpoints(tmp_path, monkeypatch):
    """Two real worker processes train under a chief HalvingOracle served on 127.0.0.1."""
    import json
    import os
    import subprocess
    import sys

    from hydra import compose, initialize_config_dir

    from kt_ext.config import validate
    from kt_ext.oracles import HalvingOracle
    from kt_ext.outputs.files import PROJECT
    from tests.conftest import CONF
    from tests.oracles.contract import run_workers

    overrides = ["strategy=halving", "search.epochs=3", "strategy.mode=sync", "seed=4"]
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        settings = validate(compose(config_name="config", overrides=overrides))
    import keras_tuner

    def oracle() -> HalvingOracle:
        return HalvingOracle(
            objective=keras_tuner.Objective("val_accuracy", "max"),
            hyperparameters=settings.space.to_hyperparameters(),
            min_epochs=1,
            max_epochs=3,
            mode="sync",
            seed=4,
            allow_new_entries=False,
            tune_new_entries=False,
        )

    chief = oracle()
    chief._set_project_dir(str(tmp_path), PROJECT)
    outputs: dict[str, subprocess.CompletedProcess] = {}

    def work(_client, tuner_id: str) -> None:  # each worker is a real process
        env = {**os.environ, "KERASTUNER_TUNER_ID": tuner_id, "TF_CPP_MIN_LOG_LEVEL": "3"}
        outputs[tuner_id] = subprocess.run(
            [sys.executable, "-c", WORKER, str(CONF), str(tmp_path), *overrides],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    errors = run_workers(chief, oracle, work, 2, monkeypatch)
    assert not errors, errors
    ran = {}
    for tuner_id, proc in outputs.items():
        assert proc.returncode == 0, proc.stderr[-3000:]
        ran[tuner_id] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sorted(sum(ran.values(), [])) == sorted(chief.trials)  # each trial ran once
    assert all(t.status == "COMPLETED" for t in chief.trials.values())
    (child,) = [t for t in chief.trials.values() if t.hyperparameters.values.get("tuner/trial_id")]
    parent = child.hyperparameters.values["tuner/trial_id"]
    assert (tmp_path / PROJECT / f"trial_{parent}" / "continue.keras").is_file()
    assert [o.step for o in child.metrics.get_history("val_accuracy")] == [1, 2]


def test_failed_trials_get_sessions_and_search_scalars(hypermodel, tmp_path):
    """A trial whose fit raises is FAILED in TensorBoard too, with its hyperparameters."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.plugins.hparams import metadata

    class Flaky(type(hypermodel)):
        def fit(self, hp, model, *args, **kwargs):
            if hp.values["units"] == 16:
                raise RuntimeError("units=16 is not supported here")
            return super().fit(hp, model, *args, **kwargs)

    flaky = Flaky(
        SPACE,
        hypermodel.builder,
        hypermodel.data,
        metrics=["accuracy"],
        max_epochs=1,
        shuffle_buffer=64,
        verbose=0,
    )
    tuner = make_tuner(
        RandomSearch, flaky, tmp_path, max_trials=6, seed=5, max_consecutive_failed_trials=6
    )
    tuner.board = TrialBoard(tmp_path / "tb", SPACE, ["accuracy"], max_epochs=1)
    tuner.search(epochs=1, callbacks=[CurveLogger()], verbose=0)
    trials = tuner.oracle.trials.values()
    failed = {t.trial_id for t in trials if t.status == "FAILED"}
    assert failed and len(failed) < len(trials)
    for t in trials:
        acc = event_accumulator.EventAccumulator(str(tmp_path / "tb" / t.trial_id))
        acc.Reload()
        start = metadata.parse_session_start_info_plugin_data(
            acc.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content
        )
        end = metadata.parse_session_end_info_plugin_data(
            acc.SummaryMetadata(metadata.SESSION_END_INFO_TAG).plugin_data.content
        )
        status = start.hparams["trial_status"].string_value
        assert status == ("failed" if t.trial_id in failed else "completed")
        assert end.status == (2 if t.trial_id in failed else 1)
        assert start.hparams["units"].number_value == t.hyperparameters.values["units"]
        finals = read_scalars(tmp_path / "tb" / t.trial_id)
        assert ("val_accuracy" in finals) == (t.trial_id not in failed)
    search = read_scalars(tmp_path / "tb" / "search")
    assert {s for s, v in search["search/failed"] if v == 1.0} == {int(i) for i in failed}


def test_no_model_outlives_its_trial(hypermodel, tmp_path):
    """Models, curve loggers and writers are released between trials (RAM across a search)."""
    import gc

    import keras

    gc.collect()
    before = {id(o) for o in gc.get_objects() if isinstance(o, keras.Model)}
    tuner = make_tuner(RandomSearch, hypermodel, tmp_path, max_trials=3, seed=1)
    tuner.board = TrialBoard(tmp_path / "tb", SPACE, ["accuracy"], max_epochs=1)
    tuner.search(epochs=1, callbacks=[CurveLogger()], verbose=0)
    assert len(tuner.oracle.trials) == 3
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, keras.Model) and id(o) not in before]
    assert alive == []
    assert tuner._curve_loggers == []


FAILURES = ["none", "nan", "pos_inf", "neg_inf", "build", "fit", "oom"]
REASONS = {
    "nan": "non-finite loss = nan at epoch 1",
    "pos_inf": "non-finite loss = inf at epoch 1",
    "neg_inf": "non-finite loss = -inf at epoch 1",
    "build": "building the model failed: ValueError: no layer fits 7 units",
    "fit": "RuntimeError: fit exploded",
    "oom": "out of memory with batch_size=32: try a smaller model.space.batch_size",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "strategy",
    [
        ["strategy=grid"],
        ["strategy=bayes", "strategy.num_initial_points=3"],
        ["strategy=halving", "strategy.reduction_factor=2", "strategy.max_epochs=8"],
    ],
    ids=["grid", "bayes", "halving"],
)
def test_failure_matrix_every_failure_recorded_with_its_reason(compose_config, tmp_path, strategy):
    from omegaconf import OmegaConf

    from kt_ext.config import validate
    from kt_ext.run import run_search

    cfg = compose_config(
        [
            *strategy,
            "search.objective=val_loss",  # minimised: -inf would win if it counted
            "search.epochs=2",
            f"search.max_trials={len(FAILURES)}",
            "search.max_consecutive_failed_trials=10",
            "search.early_stopping_patience=0",
            "data.subset=0.3",
            "model.builder._target_=tests.builders.failing_model",
            "safety.allow_modules=[tests]",
        ]
    )
    OmegaConf.update(
        cfg,
        "model.space",
        {"failure": {"type": "choice", "values": FAILURES}, "batch_size": 32},
        merge=False,
    )
    result = run_search(validate(cfg), tmp_path)
    rows = read_csv(tmp_path / "trials.csv")
    seen = {r["failure"] for r in rows}
    assert seen == set(FAILURES), seen
    for row in rows:
        failure = row["failure"]
        if failure == "none":
            assert row["status"] == "COMPLETED"
            continue
        assert row["status"] == "FAILED", row
        assert REASONS[failure] in row["message"], row["message"]
        reason = (tmp_path / "kt" / f"trial_{row['trial_id']}" / "failure.txt").read_text()
        assert REASONS[failure] in reason
    assert result.best_values["failure"] == "none"
    assert np.isfinite(result.best_score) and result.best_score > 0


@pytest.mark.parametrize(
    "oracle_cls",
    ["RandomSearchOracle", "BayesianOptimizationOracle", "GridSearchOracle", "HyperbandOracle"],
)
def test_kerastuner_oracles_evaluate_the_initial_points_first(tmp_path, oracle_cls):
    """Grid search and Hyperband refuse them (their bookkeeping breaks on foreign trials)."""
    import keras_tuner

    from kt_ext.tuners import evaluate_first

    hp = keras_tuner.HyperParameters()
    hp.Choice("opt", ["adam", "sgd", "rmsprop"])
    hp.Int("units", 8, 64, step=8)
    kwargs = {"max_epochs": 3} if oracle_cls == "HyperbandOracle" else {"max_trials": 6}
    oracle = getattr(keras_tuner.oracles, oracle_cls)(
        objective=keras_tuner.Objective("loss", "min"), hyperparameters=hp, seed=3, **kwargs
    )
    oracle.verbose = 0
    oracle._set_project_dir(str(tmp_path), "p")
    points = [{"opt": "sgd", "units": 40}, {"opt": "rmsprop", "units": 8}]
    if oracle_cls in ("GridSearchOracle", "HyperbandOracle"):
        with pytest.raises(ValueError, match="enumerates its own trials"):
            evaluate_first(oracle, points)
        return
    evaluate_first(oracle, points)
    seen = []
    for i in range(4):
        trial = oracle.create_trial("t")
        seen.append({k: v for k, v in trial.hyperparameters.values.items() if "/" not in k})
        oracle.update_trial(trial.trial_id, {"loss": float(i)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    assert seen[:2] == points and points[0] not in seen[2:] and points[1] not in seen[2:]


def test_a_resumed_search_writes_the_sessions_a_kill_cut_off(hypermodel, tmp_path):
    import shutil

    def tuner_with_board():
        tuner = make_tuner(RandomSearch, hypermodel, tmp_path, max_trials=2, seed=4)
        tuner.board = TrialBoard(tmp_path / "tb", SPACE, ["accuracy"], max_epochs=1)
        return tuner

    tuner_with_board().search(epochs=1, verbose=0)
    first = tmp_path / "tb" / "0"
    assert "seconds" in read_scalars(first)
    shutil.rmtree(first)  # as if killed after the oracle recorded the trial, before its session
    tuner_with_board().search(epochs=1, verbose=0)  # nothing left to run: only the repair
    assert "seconds" in read_scalars(first)


def test_a_planted_model_file_with_code_is_refused_and_its_code_never_runs(tmp_path):
    """A shared run directory's parent checkpoint holding a Lambda layer: safe mode refuses it."""
    import types

    import keras
    import keras_tuner

    from kt_ext.oracles.schedule import INITIAL_EPOCH, PARENT
    from kt_ext.outputs.files import CHECKPOINT
    from kt_ext.tuners.halving import _HalvingTuner

    marker = tmp_path / "ran"
    code = f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]"
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(eval(code))])  # noqa: S307
    (tmp_path / "parent").mkdir()
    model.save(tmp_path / "parent" / CHECKPOINT)
    marker.unlink(missing_ok=True)  # saving traced the lambda once
    hp = keras_tuner.HyperParameters()
    hp.Fixed(PARENT, "parent")
    hp.Fixed(INITIAL_EPOCH, 3)
    tuner = types.SimpleNamespace(
        _loading=False, get_trial_dir=lambda t: str(tmp_path / t), distribution_strategy=None
    )
    with pytest.raises(ValueError, match="safe_mode"):
        _HalvingTuner._build_hypermodel(tuner, hp)
    assert not marker.exists()


def test_a_worker_whose_directory_is_not_the_chiefs_stops_at_its_first_trial(
    hypermodel, tmp_path, monkeypatch
):
    from keras_tuner.engine.trial import Trial

    from kt_ext.tuners import NotShared, _worker

    monkeypatch.setattr(_worker, "SHARED_WAIT", 0.3)
    tuner = make_tuner(RandomSearch, hypermodel, tmp_path, max_trials=1)
    tuner._is_worker = lambda: True  # a worker: its chief wrote trial 7 somewhere else
    with pytest.raises(NotShared, match="parallel.run_dir must be the chief's run directory"):
        tuner.on_trial_begin(Trial(SPACE.to_hyperparameters(), trial_id="7"))
    (tmp_path / "RandomSearch" / "trial_8").mkdir()
    (tmp_path / "RandomSearch" / "trial_8" / "trial.json").write_text("{}")
    tuner.on_trial_begin(Trial(SPACE.to_hyperparameters(), trial_id="8"))  # shared: it runs
    tuner._heartbeat.set()

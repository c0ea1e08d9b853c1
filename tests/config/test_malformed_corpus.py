"""The malformed corpus: broken settings, spaces, overrides, data and run directories.

Every case is a command line a user could type (or a file it points at) that
kt-ext must refuse with exit status 2 and one stderr line naming the key or
file, leaving nothing behind; those found without TensorFlow (all but the
data files, which are read after it starts) in under 2 seconds. Command
lines run through the scripts' check (:func:`tests.config.corpus.attempt`);
data files through the run's loader (:func:`kt_ext.run.build.load_data`),
whose :class:`ConfigError` the scripts print as that line before the first trial.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.config.corpus import attempt

# (command line, the key the one line names first)
SETTINGS = [
    ("data.subset=0", "data.subset"),
    ("data.subset=1.5", "data.subset"),
    ("data.val_fraction=0", "data.val_fraction"),
    ("data.val_fraction=1", "data.val_fraction"),
    ("data.val_fraction=0.9", "data.val_fraction"),
    ("data.test_fraction=1", "data.test_fraction"),
    ("data.test_fraction=-0.1", "data.test_fraction"),
    ("data.standardize=maybe", "data.standardize"),
    ("search.epochs=0", "search.epochs"),
    ("search.epochs=2.5", "search.epochs"),
    ("search.epochs=ten", "search.epochs"),
    ("search.max_trials=0", "search.max_trials"),
    ("search.max_trials=1.5", "search.max_trials"),
    ("search.max_trials=-3", "search.max_trials"),
    ("search.objective=''", "search.objective"),
    ("search.objective=val_nosuch", "search.objective"),
    ("search.objective=val_f1", "search.objective"),
    ("search.direction=up", "search.direction"),
    ("search.objectives=val_loss", "search.objectives"),
    ("search.objectives=[]", "search.objectives"),
    ("search.objectives=[params,val_loss]", "search.objectives[0]"),
    ("search.objectives=[val_loss,paramz]", "search.objectives[1]"),
    ("search.objectives=[val_loss,val_loss]", "search.objectives[1]"),
    ("search.objectives=[val_loss,{name:params,direction:up}]", "search.objectives[1]"),
    ("search.objectives=[val_loss,{name:params,sign:1}]", "search.objectives[1]"),
    ("search.objectives=[val_loss,params] strategy=kt_bayes", "search.objectives"),
    ("search.objectives=[val_loss,params] strategy=hyperband", "search.objectives"),
    ("search.objectives=[val_loss,params] strategy=cmaes", "search.objectives"),
    ("search.objectives=[val_loss,params] strategy=zoom", "search.objectives"),
    ("search.select.by=val_loss", "search.select.by"),
    ("search.select.limits={params:1000}", "search.select.limits.params"),
    (
        "search.objectives=[val_loss,params] search.select.limits={params:big}",
        "search.select.limits.params",
    ),
    ("search.early_stopping_patience=-1", "search.early_stopping_patience"),
    ("search.executions_per_trial=0", "search.executions_per_trial"),
    ("search.max_retries_per_trial=-1", "search.max_retries_per_trial"),
    ("search.max_consecutive_failed_trials=0", "search.max_consecutive_failed_trials"),
    ("search.allow_resume_changes=yes", "search.allow_resume_changes"),
    ("seed=-1", "seed"),
    ("seed=1.5", "seed"),
    ("preview=sometimes", "preview"),
    ("train.shuffle_buffer=0", "train.shuffle_buffer"),
    ("train.steps_per_execution=0", "train.steps_per_execution"),
    ("train.verbose=5", "train.verbose"),
    ("train.metrics=accuracy", "train.metrics"),
    ("train.metrics=[]", "search.objective"),
    ("report.top_n=0", "report.top_n"),
    ("report.top_n=-3", "report.top_n"),
    ("parallel.workers=-1", "parallel.workers"),
    ("parallel.port=70000", "parallel.port"),
    ("parallel.port=-1", "parallel.port"),
    ("parallel.role=boss", "parallel.role"),
    ("parallel.role=worker", "parallel.port"),
    ("parallel.grace_seconds=-1", "parallel.grace_seconds"),
    ("parallel.grace_seconds=nan", "parallel.grace_seconds"),
    ("parallel.heartbeat_seconds=0", "parallel.heartbeat_seconds"),
    ("parallel.heartbeat_seconds=inf", "parallel.heartbeat_seconds"),
    ("parallel.recycle_after_trials=-1", "parallel.recycle_after_trials"),
    ("parallel.recycle_after_trials=2.5", "parallel.recycle_after_trials"),
    ("parallel.recycle_above_mib=-5", "parallel.recycle_above_mib"),
    ("parallel.worker_id=chief1", "parallel.worker_id"),
    ("parallel.gpu_per_worker=1", "parallel.gpu_per_worker"),
    ("distribute.virtual_cpus=-1", "distribute.virtual_cpus"),
    ("distribute.virtual_cpus=-2", "distribute.virtual_cpus"),
    ("distribute.devices=[-1]", "distribute.devices"),
    ("distribute=mirrored distribute.scale_lr=maybe", "distribute.scale_lr"),
    ("distribute._target_=kt_ext.nope.Mirrored", "distribute._target_"),
    ("safety.allow_modules=shutil", "safety.allow_modules"),
]
TYPOS = [
    ("+search.epoch=3", "search.epoch"),
    ("search.epoch=3", "search.epoch"),
    ("+data.subsett=0.5", "data.subsett"),
    ("+train.metric=[auc]", "train.metric"),
    ("+report.top=3", "report.top"),
    ("+parallel.worker=2", "parallel.worker"),
    ("+safety.allow_module=[x]", "safety.allow_module"),
    ("+distribute.virtual_cpu=2", "distribute.virtual_cpu"),
    ("+strategy.betaa=2 strategy=bayes", "strategy.betaa"),
    ("+strategy.num_initial_point=3 strategy=tpe", "strategy.num_initial_point"),
    ("+model.space.lr.hihg=2", "model.space.lr.hihg"),
    ("+seeed=3", "seeed"),
    ("~search.nosuch", "search.nosuch"),
    ("model.spac.lr.low=0.1", "model.spac"),
]
OVERRIDES = [
    ("model=transformer", "model"),
    ("strategy=nosuch", "strategy"),
    ("data=nosuch", "data"),
    ("distribute=nosuch", "distribute"),
    ("search.epochs=[1", "search.epochs"),
    ("strategy=random,bayes", "strategy"),
    ("+search.epochs=3", "search.epochs"),
    ("-m search.max_trials=5,0", "search.max_trials"),
    ("-m model=mlp,cnn strategy=random,nosuch", "strategy"),
    ("-m strategy=random,nosuch", "strategy"),
    ("-m search.epochs=3,-1", "search.epochs"),
]
# model.space entries (mlp's space unless the line picks another model)
SPACE = [
    ("model.space.lr.low=-1", "model.space.lr.low"),
    ("model.space.lr.low=0", "model.space.lr.low"),
    ("model.space.lr.low=1", "model.space.lr"),
    ("model.space.lr.low=0.5", "model.space.lr.low"),
    ("model.space.lr.low=nan", "model.space.lr.low"),
    ("model.space.lr.high=nan", "model.space.lr.high"),
    ("model.space.lr.high=inf", "model.space.lr.high"),
    ("model.space.lr.low='1e-4'", "model.space.lr.low"),
    ("model.space.lr.type=categorical", "model.space.lr.type"),
    ("model.space.lr.type=loguniform", "model.space.lr.type"),
    ("model.space.lr.log=sometimes", "model.space.lr.log"),
    ("model.space.lr.step=0.5", "model.space.lr.step"),
    ("~model.space.lr.low", "model.space.lr.low"),
    ("model.space.units.step=0", "model.space.units.step"),
    ("model.space.units.step=-32", "model.space.units.step"),
    ("model.space.units.low=1.5", "model.space.units.low"),
    ("model.space.num_layers.low=5", "model.space.num_layers"),
    ("model.space.dropout.default=0.9", "model.space.dropout.default"),
    ("model.space.optimizer.values=[]", "model.space.optimizer.values"),
    ("model.space.optimizer.values=[adam,adam]", "model.space.optimizer.values"),
    ("model.space.optimizer.values=[adam,1]", "model.space.optimizer.values"),
    ("+model.space.optimizer.default=nadam", "model.space.optimizer.default"),
    ("+model.space.optimizer.ordered=true", "model.space.optimizer.ordered"),
    ("model.space.momentum.when.optimizer=nadam", "model.space.momentum.when.optimizer"),
    ("model.space.momentum.when.optimizer=nesterov", "model.space.momentum.when.optimizer"),
    (
        "~model.space.momentum.when.optimizer +model.space.momentum.when.solver=sgd",
        "model.space.momentum.when.solver",
    ),
    ("+model.space.momentum.when.nosuch=1", "model.space.momentum.when.nosuch"),
    ("+model.space.batch_norm.default=yes", "model.space.batch_norm.default"),
    ("+model.space.x=[1,2]", "model.space.x"),
    ("+model.space.bad-name=3", "model.space.bad-name"),
    ("~model.space.batch_size", "model.space.batch_size"),
    ("model.space.batch_size.values=[0,32]", "model.space.batch_size.values"),
    ("model.space.batch_size.values=[16.5,32]", "model.space.batch_size.values"),
    ("model.space.batch_size.values=[-8,32]", "model.space.batch_size.values"),
    ("model.space.batch_size=0", "model.space.batch_size"),
    ("model.values.lr=5.0", "model.values.lr"),
    ("model.values.optimizer=nadam", "model.values.optimizer"),
    ("+model.values.nosuch=1", "model.values.nosuch"),
    ("model.initial=[{lr:5.0}]", "model.initial"),
    ("model.initial=[{nosuch:1}]", "model.initial"),
    ("model=cnn model.space.filters.step=0", "model.space.filters.step"),
    ("model=cnn1d model.space.kernel_size.high=0", "model.space.kernel_size"),
]
STRATEGY = [
    ("strategy=bayes strategy.beta=-1", "strategy.beta"),
    ("strategy=bayes strategy.num_initial_points=0", "strategy.num_initial_points"),
    ("strategy=bayes strategy.num_candidates=0", "strategy.num_candidates"),
    ("strategy=bayes strategy.acquisition=pi", "strategy.acquisition"),
    ("strategy=bayes strategy.beta_schedule=linear", "strategy.beta_schedule"),
    ("strategy=bayes strategy.delta=2", "strategy.delta"),
    ("strategy=bayes strategy.failure_aware=maybe", "strategy.failure_aware"),
    ("strategy=bayes strategy.multi_objective=nsga", "strategy.multi_objective"),
    ("strategy=bayes strategy.output_warping=log", "strategy.output_warping"),
    ("strategy=kt_bayes strategy.alpha=-1", "strategy.alpha"),
    ("strategy=kt_bayes strategy.num_initial_points=-2", "strategy.num_initial_points"),
    ("strategy=halving strategy.reduction_factor=1", "strategy.reduction_factor"),
    ("strategy=halving strategy.min_epochs=0", "strategy.min_epochs"),
    ("strategy=halving strategy.min_epochs=40", "strategy"),
    ("strategy=halving strategy.min_epochs=99", "strategy.min_epochs"),
    ("strategy=halving strategy.mode=sometimes", "strategy.mode"),
    ("strategy=halving strategy.mode=eager", "strategy.mode"),
    ("strategy=halving strategy.budget=time", "strategy.budget"),
    ("strategy=halving strategy.min_fraction=0", "strategy.min_fraction"),
    ("strategy=halving strategy.brackets=0", "strategy.brackets"),
    ("strategy=halving strategy.brackets=7", "strategy.brackets"),
    ("strategy=halving strategy.iterations=0", "strategy.iterations"),
    ("strategy=halving strategy.sampler=tpe", "strategy.sampler"),
    ("strategy=bohb strategy.sampler=tpe", "strategy.sampler"),
    ("strategy=bohb strategy.random_fraction=1.5", "strategy.random_fraction"),
    ("strategy=bohb strategy.failure_aware=maybe", "strategy.failure_aware"),
    ("strategy=bohb strategy.random_fraction=half", "strategy.random_fraction"),
    ("strategy=hyperband strategy.factor=1", "strategy.factor"),
    ("strategy=hyperband strategy.hyperband_iterations=0", "strategy.hyperband_iterations"),
    ("strategy=grid strategy.float_points=1", "strategy.float_points"),
    ("strategy=tpe strategy.num_initial_points=-1", "strategy.num_initial_points"),
    ("strategy=tpe strategy.sampler=nosuch", "strategy.sampler"),
    ("strategy=zoom strategy.stages=0", "strategy.stages"),
    ("strategy=zoom strategy.top_k=0", "strategy.top_k"),
    ("strategy=zoom strategy.margin=-1", "strategy.margin"),
    ("strategy=zoom strategy.inner=grid", "strategy.inner"),
    ("strategy.max_trials=0", "strategy.max_trials"),
    ("+strategy.overwrite=true", "strategy.overwrite"),
    ("+strategy.directory=/tmp/x", "strategy.directory"),
    ("strategy._partial_=false", "strategy._partial_"),
    ("data.loader._target_=kt_ext.data.load_nosuch", "data.loader._target_"),
    ("data=npz", "data.loader.path"),
    ("+data.loader.nosuch=1", "data.loader.nosuch"),
    ("model.builder._target_=models.mlp.nosuch", "model.builder._target_"),
    ("model.builder._target_=models.nope.build", "model.builder._target_"),
    ("distribute=one_device distribute.device=tpu:0", "distribute"),
]
CASES = SETTINGS + TYPOS + OVERRIDES + SPACE + STRATEGY


@pytest.mark.parametrize(("line", "key"), CASES, ids=[c[0] for c in CASES])
def test_a_malformed_command_line_is_one_line_naming_its_key(
    tmp_path, capsys, monkeypatch, line, key
):
    argv = [*line.split(), f"hydra.run.dir={tmp_path}/run"]
    outcome = attempt(argv, tmp_path, capsys, monkeypatch)
    assert outcome.refused(), outcome
    assert outcome.lines[0].startswith(f"kt-ext: error: {key}"), outcome.lines
    assert outcome.seconds < 2.0, outcome.seconds


# Run directories a command points at: (case, what it holds, the extra command line)
RUNS = [
    ("other_seed", {"seed": 42}, ["seed=7"]),
    ("other_strategy", {"strategy._target_": "kt_ext.tuners.RandomSearch"}, ["strategy=bayes"]),
    ("other_epochs", {"search.epochs": 30}, ["search.epochs=3"]),
    ("other_data", {"data.loader._target_": "kt_ext.data.load_digits"}, ["data=breast_cancer"]),
    ("other_space", {}, ["model.space.lr.high=0.01"]),
    ("other_objective", {}, ["search.objective=val_loss"]),
    ("other_objectives", {}, ["search.objectives=[val_accuracy,params]"]),
]


def _recorded_run(tmp_path, compose_config):
    """A run directory whose record holds the default settings."""
    from omegaconf import OmegaConf

    from kt_ext.config import resume

    run = tmp_path / "run"
    run.mkdir()
    resume.record(run, OmegaConf.to_container(compose_config(), resolve=True))
    (run / ".hydra").mkdir()
    (run / ".hydra" / "overrides.yaml").write_text("[]\n")
    return run


@pytest.mark.parametrize(("case", "held", "line"), RUNS, ids=[r[0] for r in RUNS])
def test_resuming_with_settings_that_change_the_search_is_refused(
    tmp_path, capsys, monkeypatch, compose_config, case, held, line
):
    run = _recorded_run(tmp_path, compose_config)
    outcome = attempt([*line, f"hydra.run.dir={run}"], tmp_path, capsys, monkeypatch)
    assert outcome.refused(), outcome  # nothing changed: .hydra/overrides.yaml untouched
    assert outcome.lines[0].startswith("kt-ext: error: hydra.run.dir"), outcome.lines
    assert outcome.seconds < 2.0


@pytest.mark.parametrize("body", ["not json", "[1, 2]", ""], ids=["text", "list", "empty"])
def test_a_damaged_record_is_refused(tmp_path, capsys, monkeypatch, compose_config, body):
    run = _recorded_run(tmp_path, compose_config)
    (run / "search_settings.json").write_text(body)
    outcome = attempt([f"hydra.run.dir={run}"], tmp_path, capsys, monkeypatch)
    assert outcome.refused(), outcome
    assert outcome.lines[0].startswith("kt-ext: error: "), outcome.lines


def test_a_run_directory_that_is_a_file_is_refused(tmp_path, capsys, monkeypatch):
    (tmp_path / "run").write_text("a file")
    outcome = attempt([f"hydra.run.dir={tmp_path}/run"], tmp_path, capsys, monkeypatch)
    assert outcome.refused(), outcome
    assert outcome.lines[0].startswith("kt-ext: error: hydra.run.dir"), outcome.lines


def _npz(path, **arrays) -> None:
    np.savez(path, **arrays)


X = np.random.default_rng(0).normal(size=(60, 4)).astype("float32")
Y = np.arange(60) % 3
# (case, the arrays of the file, what the one line says)
DATA = [
    ("float_labels", {"x": X, "y": np.linspace(0, 1, 60)}, "non-integer labels"),
    ("nan_labels", {"x": X, "y": np.full(60, np.nan)}, "integer class ids"),
    ("string_labels", {"x": X, "y": np.array(["a", "b", "c"] * 20)}, "dtype"),
    ("negative_labels", {"x": X, "y": Y - 1}, "found -1"),
    ("gap_in_labels", {"x": X, "y": Y * 2}, "class 1 has no example"),
    ("one_class", {"x": X, "y": np.zeros(60, int)}, "at least two classes"),
    ("nan_inputs", {"x": np.where(X > 2, np.nan, X), "y": Y}, "NaN or infinite"),
    ("inf_inputs", {"x": np.full((60, 4), np.inf), "y": Y}, "NaN or infinite"),
    ("string_inputs", {"x": np.array([["a"] * 4] * 60), "y": Y}, "could not convert string"),
    ("lengths_differ", {"x": X, "y": Y[:59]}, "60 examples but y has 59"),
    ("empty", {"x": X[:0], "y": Y[:0]}, "empty"),
    ("three_examples", {"x": X[:3], "y": Y[:3]}, "no example in the"),
    ("test_half_given", {"x": X, "y": Y, "x_test": X[:6]}, "given together"),
    ("test_shape_differs", {"x": X, "y": Y, "x_test": X[:6, :2], "y_test": Y[:6]}, "shape"),
    ("wrong_keys", {"features": X, "labels": Y}, "path"),
    ("fewer_than_a_batch", {"x": X[:30], "y": Y[:30]}, "smallest batch size"),
]


@pytest.mark.parametrize(("case", "arrays", "says"), DATA, ids=[d[0] for d in DATA])
def test_broken_data_files_are_one_line_before_any_trial(
    compose_config, tmp_path, case, arrays, says
):
    from kt_ext.config import validate
    from kt_ext.errors import ConfigError
    from kt_ext.run.build import load_data

    path = tmp_path / "data.npz"
    _npz(path, **arrays)
    overrides = ["data=npz", f"data.loader.path={path}"]
    if case == "fewer_than_a_batch":
        overrides.append("model.space.batch_size.values=[32,64]")
    settings = validate(compose_config(overrides))
    with pytest.raises(ConfigError) as info:
        load_data(settings)
    assert info.value.key == "data.loader.path" and says in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_a_missing_data_file_is_one_line(compose_config, tmp_path):
    from kt_ext.config import validate
    from kt_ext.errors import ConfigError
    from kt_ext.run.build import load_data

    settings = validate(compose_config(["data=npz", f"data.loader.path={tmp_path}/no.npz"]))
    with pytest.raises(ConfigError) as info:
        load_data(settings)
    assert info.value.key == "data.loader.path" and "\n" not in str(info.value)


def test_the_corpus_is_as_large_as_promised():
    runs = len(RUNS) + 3 + 1  # resume changes, damaged records, a file for a directory
    assert len(CASES) + runs + len(DATA) + 1 >= 120
    assert len({c[0] for c in CASES}) == len(CASES)
    json.dumps(CASES)  # plain data: the corpus can be listed and counted

"""The malicious corpus: configs and run directories from someone else, each refused without effect.

Every case is what a colleague's ``best_config.yaml``, a tutorial's config,
a shared config-group option or a run directory on a shared disk could
carry: Hydra's entry points (callbacks, logging factories, launcher,
sweeper, environment, paths, the overrides Hydra hands to workers), output
paths, allowlists that widen themselves, ``_target_`` s naming callables
with destructive or listening constructors (nested, partial, aliased), and
run directories with planted links. Each is run through the scripts' check
(:func:`tests.config.corpus.attempt`) and must give exit status 2, one line
naming the key, and no side effect at all: nothing in the sandbox created,
changed or deleted (the payloads aim into it), no thread, socket or child
process left behind.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.config.corpus import attempt, nested
from tests.conftest import ROOT

# Payloads aim at OUT, a directory inside the sandbox, so any effect shows in its snapshot.
OUT = "{sandbox}/outside"
COPY = {"_target_": "shutil.copyfile", "src": "/etc/hostname", "dst": f"{OUT}/copied"}
RMTREE = {"_target_": "shutil.rmtree", "path": f"{OUT}"}
SYSTEM = {"_target_": "os.system", "command": f"touch {OUT}/pwned"}
HANDLER = {"()": "os.system", "command": f"touch {OUT}/pwned"}
FILE_HANDLER = {"class": "logging.FileHandler", "filename": f"{OUT}/log"}
TUNER = {"_target_": "keras_tuner.RandomSearch", "directory": OUT, "overwrite": True}

# (case, dotted key the shared config sets, value); the refusal names a key at or below it.
HYDRA = [
    ("callback_exec", "hydra.callbacks.x", {"_target_": "builtins.exec", "_args_": ["1"]}),
    ("callback_copy", "hydra.callbacks.x", COPY),
    ("callback_system", "hydra.callbacks.x", SYSTEM),
    ("callback_rmtree", "hydra.callbacks.x", RMTREE),
    ("callback_partial", "hydra.callbacks.x", {**COPY, "_partial_": True}),
    ("callback_popen", "hydra.callbacks.x", {"_target_": "subprocess.Popen", "args": ["true"]}),
    ("callback_allowed_class", "hydra.callbacks.x", {"_target_": "kt_ext.run.sweep.SweepSummary"}),
    ("callback_replaced", "hydra.callbacks.sweep_summary._target_", "os.system"),
    ("job_logging_factory", "hydra.job_logging.handlers.x", HANDLER),
    ("job_logging_file", "hydra.job_logging.handlers.f", FILE_HANDLER),
    ("job_logging_formatter", "hydra.job_logging.formatters.x", {"()": "os.system"}),
    ("job_logging_filter", "hydra.job_logging.filters.x", {"()": "os.system"}),
    ("job_logging_root", "hydra.job_logging.root.handlers", ["file"]),
    ("hydra_logging_factory", "hydra.hydra_logging.handlers.x", HANDLER),
    ("hydra_logging_file", "hydra.hydra_logging.handlers.f", FILE_HANDLER),
    ("run_dir", "hydra.run.dir", f"{OUT}/run"),
    ("sweep_dir", "hydra.sweep.dir", f"{OUT}/sweep"),
    ("sweep_subdir", "hydra.sweep.subdir", "../../outside"),
    ("output_subdir", "hydra.output_subdir", "../outside"),
    ("job_name_log_file", "hydra.job.name", "../../../outside/log"),
    ("chdir", "hydra.job.chdir", True),
    ("env_preload", "hydra.job.env_set.LD_PRELOAD", f"{OUT}/evil.so"),
    ("env_pythonpath", "hydra.job.env_set.PYTHONPATH", OUT),
    ("env_allowlist", "hydra.job.env_set.KT_EXT_ALLOW_MODULES", "shutil"),
    ("env_copy", "hydra.job.env_copy", ["HOME"]),
    ("launcher", "hydra.launcher._target_", "os.system"),
    ("sweeper", "hydra.sweeper._target_", "os.system"),
    ("sweeper_params", "hydra.sweeper.params", {"safety.allow_modules": "[shutil]"}),
    ("searchpath", "hydra.searchpath", [f"file://{OUT}"]),
    ("mode", "hydra.mode", "MULTIRUN"),
    ("worker_overrides", "hydra.overrides.task", ["safety.allow_modules=[shutil]"]),
    ("hydra_overrides", "hydra.overrides.hydra", [f"hydra.run.dir={OUT}"]),
    ("self_widening_allowlist", "safety.allow_modules", ["shutil"]),
    ("self_widening_os", "safety.allow_modules", ["os", "subprocess"]),
    ("open_to_the_network", "parallel.insecure", True),
]
# _target_s in kt-ext's own slots and elsewhere in a shared config.
TARGETS = [
    ("loader_system", "data.loader", SYSTEM),
    ("loader_copy", "data.loader", COPY),
    ("loader_rmtree", "data.loader", RMTREE),
    ("loader_eval", "data.loader", {"_target_": "builtins.eval", "_args_": ["1"]}),
    ("loader_alias", "data.loader", {"_target_": "kt_ext.data.np.save", "file": f"{OUT}/x"}),
    ("loader_event_log", "data.loader", {"_target_": "kt_ext.outputs.board.EventLog"}),
    ("loader_tfrecord", "data.loader", {"_target_": "tensorflow.io.TFRecordWriter", "path": OUT}),
    ("loader_partial", "data.loader", {**COPY, "_partial_": True}),
    ("loader_functools", "data.loader", {"_target_": "functools.partial", "_args_": ["os.system"]}),
    ("builder_lambda", "model.builder", {"_target_": "keras.layers.Lambda", "function": "x"}),
    ("builder_load_model", "model.builder",
     {"_target_": "keras.saving.load_model", "filepath": f"{OUT}/m.keras", "safe_mode": False}),
    ("builder_nested", "model.builder",
     {"_target_": "models.mlp.build_mlp", "_partial_": True, "x": SYSTEM}),
    ("strategy_keras_tuner", "strategy", {**TUNER, "_partial_": True}),
    ("strategy_overwrite", "strategy",
     {"_target_": "kt_ext.tuners.RandomSearch", "_partial_": True, "directory": OUT,
      "overwrite": True}),
    ("strategy_nested_tuner", "strategy",
     {"_target_": "kt_ext.tuners.RandomSearch", "_partial_": True, "hypermodel": TUNER}),
    ("strategy_board", "strategy", {"_target_": "kt_ext.outputs.serve.TensorBoardProcess"}),
    ("distribute_server", "distribute",
     {"_target_": "tensorflow.distribute.Server", "server_or_cluster_def": {}}),
    ("distribute_board", "distribute",
     {"_target_": "kt_ext.outputs.serve.TensorBoardProcess", "logdir": OUT}),
    ("distribute_nested", "distribute", {"_target_": "kt_ext.distribute.Default", "x": COPY}),
    ("unknown_slot", "report.x", COPY),
    ("search_slot", "search.callback", SYSTEM),
    ("space_entry", "model.space.units", SYSTEM),
]  # fmt: skip


def _format(value: object, sandbox: Path) -> object:
    """``value`` with ``{sandbox}`` filled in, recursively."""
    if isinstance(value, str):
        return value.replace("{sandbox}", str(sandbox))
    if isinstance(value, list):
        return [_format(v, sandbox) for v in value]
    if isinstance(value, dict):
        return {k: _format(v, sandbox) for k, v in value.items()}
    return value


def _sandbox(tmp_path: Path) -> Path:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep.txt").write_text("what an attack would delete or overwrite")
    (tmp_path / "shared").mkdir()
    return tmp_path


def _config_file(sandbox: Path, key: str, value: object) -> list[str]:
    """A shared config on top of the repository's (``-cd shared -cn evil``)."""
    body = {"defaults": ["config", "_self_"], **nested(key, _format(value, sandbox))}
    (sandbox / "shared" / "evil.yaml").write_text(yaml.safe_dump(body))
    return ["-cd", str(sandbox / "shared"), "-cn", "evil"]


def _group_option(sandbox: Path, key: str, value: object) -> list[str]:
    """A shared option of a config group (``data=evil``) that extends a shipped one globally."""
    option = sandbox / "shared" / "data" / "evil.yaml"
    option.parent.mkdir()
    body = {"defaults": ["/data/digits@data", "_self_"], **nested(key, _format(value, sandbox))}
    option.write_text("# @package _global_\n" + yaml.safe_dump(body))
    return ["-cd", str(sandbox / "shared"), "data=evil"]


def _best_config(sandbox: Path, key: str, value: object, compose_config) -> list[str]:
    """A whole ``best_config.yaml`` (no defaults list), as kt-ext writes one, plus the payload."""
    from omegaconf import OmegaConf

    config = OmegaConf.to_container(compose_config(), resolve=True)
    merged = OmegaConf.merge(config, nested(key, _format(value, sandbox)))
    (sandbox / "shared" / "best_config.yaml").write_text(OmegaConf.to_yaml(merged))
    return ["-cd", str(sandbox / "shared"), "-cn", "best_config"]


# Hydra turns env_copy into env_set; an empty filter mapping is named by its parent
NAMED = {"env_copy": "hydra.job.env_set.HOME", "job_logging_filter": "hydra.job_logging.filters"}


def _check(outcome, case: str, key: str) -> None:
    """Refused (:meth:`Outcome.refused`) in under 2 s, the line naming ``key`` or a key below it."""
    assert outcome.refused(), outcome
    assert outcome.lines[0].startswith(f"kt-ext: error: {NAMED.get(case, key)}"), outcome.lines
    assert outcome.seconds < 2.0, outcome.seconds


FILE_CASES = HYDRA + TARGETS


@pytest.mark.parametrize(("case", "key", "value"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_a_shared_config_is_refused_without_effect(tmp_path, capsys, monkeypatch, case, key, value):
    sandbox = _sandbox(tmp_path)
    argv = _config_file(sandbox, key, value)
    outcome = attempt(argv, sandbox, capsys, monkeypatch)
    _check(outcome, case, key)


GROUP_CASES = [
    c
    for c in HYDRA
    if c[0]
    in {
        "callback_copy",
        "job_logging_factory",
        "run_dir",
        "env_allowlist",
        "self_widening_allowlist",
    }
]
GROUP_CASES += [c for c in TARGETS if c[0] in {"loader_system", "strategy_overwrite"}]


@pytest.mark.parametrize(("case", "key", "value"), GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_so_is_a_shared_option_of_a_config_group(tmp_path, capsys, monkeypatch, case, key, value):
    sandbox = _sandbox(tmp_path)
    outcome = attempt(_group_option(sandbox, key, value), sandbox, capsys, monkeypatch)
    _check(outcome, case, key)


@pytest.mark.parametrize(("case", "key", "value"), GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_and_a_whole_best_config(tmp_path, capsys, monkeypatch, compose_config, case, key, value):
    sandbox = _sandbox(tmp_path)
    argv = _best_config(sandbox, key, value, compose_config)
    outcome = attempt(argv, sandbox, capsys, monkeypatch)
    _check(outcome, case, key)


def _shared_run(sandbox: Path) -> Path:
    """A run directory from a shared disk, shaped like one kt-ext wrote."""
    run = sandbox / "shared_run"
    for sub in (".hydra", "tensorboard", "project/trial_0"):
        (run / sub).mkdir(parents=True)
    (run / "summary.json").write_text("{}")
    return run


# (case, where the link is planted in the shared run directory, where it points)
LINKS = [
    ("trial_dir_link", "project/trial_1", "{sandbox}/outside"),
    ("checkpoint_link", "project/trial_0/checkpoint.weights.h5", "{sandbox}/outside/keep.txt"),
    ("summary_link", "summary.json.tmp", "{sandbox}/outside/keep.txt"),
    ("board_link", "tensorboard/trial_0", "{sandbox}/outside"),
    ("hydra_dir_link", ".hydra/config.yaml", "{sandbox}/outside/keep.txt"),
    ("settings_link", "search_settings.json", "{sandbox}/outside/keep.txt"),
    ("dangling_link", "trials.csv", "{sandbox}/outside/not-yet"),
]


@pytest.mark.parametrize(("case", "where", "target"), LINKS, ids=[c[0] for c in LINKS])
def test_resuming_a_shared_run_directory_with_a_planted_link_is_refused(
    tmp_path, capsys, monkeypatch, case, where, target
):
    sandbox = _sandbox(tmp_path)
    run = _shared_run(sandbox)
    (run / where).unlink(missing_ok=True)
    (run / where).symlink_to(_format(target, sandbox))
    outcome = attempt([f"hydra.run.dir={run}"], sandbox, capsys, monkeypatch)
    assert outcome.refused(), outcome
    assert outcome.lines[0].startswith("kt-ext: error: hydra.run.dir"), outcome.lines
    assert outcome.seconds < 2.0


@pytest.mark.parametrize(("case", "where", "target"), LINKS[:3], ids=[c[0] for c in LINKS[:3]])
def test_reporting_on_it_is_refused_too(tmp_path, capsys, case, where, target):
    import importlib.util

    from tests.config.corpus import snapshot

    sandbox = _sandbox(tmp_path)
    run = _shared_run(sandbox)
    (run / where).unlink(missing_ok=True)
    (run / where).symlink_to(_format(target, sandbox))
    spec = importlib.util.spec_from_file_location("report_script", ROOT / "scripts" / "report.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    before = snapshot([sandbox])
    assert script.main([str(run)]) == 2
    assert snapshot([sandbox]) == before
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kt-ext: error: path"), lines

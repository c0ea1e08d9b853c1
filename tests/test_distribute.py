"""kt_ext.distribute: strategies from the config group, on virtual CPUs and real processes.

Virtual CPUs can only be set before TensorFlow initialises its devices, so the
tests that need them run in fresh processes.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from kt_ext.distribute import Distribute, Mirrored
from tests.conftest import ROOT, TUNE

OPTIONS = dict(
    devices=None, virtual_cpus=0, scale_lr=False, mixed_precision=False, memory_growth=True
)


def run_python(code: str, *args: str, env: dict | None = None, timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT), **(env or {})},
    )


def test_hypermodel_batches_by_the_global_batch_and_scales_lr(digits_splits):
    from kt_ext.space import parse_space
    from kt_ext.tuners.hypermodel import SpaceHyperModel

    seen = {}

    def builder(values, **kwargs):
        seen.update(values=values, **kwargs)
        import keras

        inputs = keras.Input(kwargs["input_shape"])
        model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))
        return model

    space = parse_space({"lr": 0.01, "batch_size": 32})
    hm = SpaceHyperModel(
        space,
        builder,
        digits_splits,
        metrics=[],
        max_epochs=2,
        shuffle_buffer=8,
        verbose=0,
        replicas=4,
        scale_lr=True,
    )
    hm.build_from_values({"lr": 0.01, "batch_size": 32})
    n = len(digits_splits.y_train)
    assert seen["values"]["lr"] == pytest.approx(0.04)
    assert seen["decay_steps"] == (n // 128) * 2  # steps of the global batch, partial one dropped
    batches = [len(y) for _, y in digits_splits.train_dataset(128, 64, drop_remainder=True)]
    assert set(batches) == {128} and len(batches) == n // 128


SYNC = """
import json
import keras_tuner
import numpy as np
from kt_ext.distribute import Distribute, Mirrored
options = dict(
    devices=None, virtual_cpus=2, scale_lr=False, mixed_precision=False, memory_growth=True
)
spec = Mirrored(**options)
spec.setup()
mirrored = spec.create()
default = Distribute(**options).create()
import keras
from kt_ext.data import load_digits, split
from kt_ext.tuners.hypermodel import SpaceHyperModel
from kt_ext.space import parse_space
from models.mlp import build_mlp
data = split(
    load_digits(), seed=0, val_fraction=0.2, test_fraction=0.2, subset=1.0, standardize=False
)
fixed = {"lr": 0.01, "lr_schedule": "constant", "optimizer": "adam", "weight_decay": 1e-6,
         "dropout": 0.0, "num_layers": 1, "units": 64, "initializer": "glorot_uniform",
         "batch_norm": False}
out = {}
for name, strategy, replicas, batch in [("mirrored", mirrored, 2, 32), ("default", default, 1, 64)]:
    keras.utils.set_random_seed(7)
    space = parse_space({**fixed, "batch_size": batch})
    hm = SpaceHyperModel(space, build_mlp, data, metrics=["accuracy"], max_epochs=4,
                         shuffle_buffer=2000, verbose=0, replicas=replicas,
                         steps_per_execution=8)  # several batches per call, as tune.py runs
    hp = keras_tuner.HyperParameters()
    with strategy.scope():
        model = hm.build(hp)
    history = hm.fit(hp, model, epochs=4)  # the path every trial takes
    kernel = model.trainable_variables[0]
    local = strategy.experimental_local_results(kernel.value)  # the tf.Variable(s) behind it
    values = [np.asarray(v) for v in local]
    out[name] = {
        "replicas": strategy.num_replicas_in_sync,
        "devices": sorted({v.device for v in local}),
        "in_sync": all(np.array_equal(values[0], x) for x in values),
        "steps": len(history.epoch),
        "val_accuracy": history.history["val_accuracy"][-1],
    }
print(json.dumps(out))
"""


@pytest.mark.slow
def test_mirrored_on_two_virtual_cpus_trains_in_sync_like_the_default_strategy():
    """2 replicas with batch 32 each against one device with batch 64: same global batch."""
    proc = run_python(SYNC)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    mirrored, default = out["mirrored"], out["default"]
    assert mirrored["replicas"] == 2 and default["replicas"] == 1
    assert len(mirrored["devices"]) == 2 and mirrored["in_sync"]
    assert default["val_accuracy"] > 0.9
    assert abs(mirrored["val_accuracy"] - default["val_accuracy"]) < 0.03, out


@pytest.mark.slow
def test_tune_with_mirrored_on_virtual_cpus_records_the_strategy(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            str(TUNE),
            "distribute=mirrored",
            "distribute.virtual_cpus=2",
            "search.max_trials=2",
            "search.epochs=2",
            f"hydra.run.dir={run}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["distribute"], summary["replicas"]) == ("mirrored", 2)
    assert "distribute: mirrored, 2 replica(s) in sync" in proc.stderr + proc.stdout
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.plugins.hparams import metadata

    acc = event_accumulator.EventAccumulator(str(run / "tensorboard" / "0"))
    acc.Reload()
    start = metadata.parse_session_start_info_plugin_data(
        acc.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content
    )
    assert start.hparams["distribute"].string_value == "mirrored"
    assert start.hparams["replicas"].number_value == 2


def error_line(run_tune, tmp_path, *overrides: str) -> str:
    """Run tune.py expecting a config error: exit 2, no run directory, one error line."""
    proc = run_tune(*overrides, "search.max_trials=1", f"hydra.run.dir={tmp_path / 'run'}")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert not (tmp_path / "run").exists()
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("kt-ext: error:")]
    return line


@pytest.mark.slow
def test_devices_the_machine_lacks_exit_2_with_one_line(run_tune, tmp_path):
    line = error_line(run_tune, tmp_path, "distribute=mirrored", "distribute.devices=[0,5]")
    assert line.startswith("kt-ext: error: distribute.devices = [0, 5]:")
    assert "distribute.virtual_cpus" in line


CLUSTER_STEP = """
import json
import numpy as np
from kt_ext.distribute import MultiWorker
spec = MultiWorker(
    devices=None, virtual_cpus=0, scale_lr=False, mixed_precision=False, memory_growth=True
)
spec.setup()
strategy = spec.cluster_strategy()
import keras
import tensorflow as tf
from kt_ext.data import load_digits, split
data = split(
    load_digits(), seed=0, val_fraction=0.2, test_fraction=0.2, subset=1.0, standardize=False
)
keras.utils.set_random_seed(3)
with strategy.scope():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)])
    optimizer = keras.optimizers.SGD(0.1)
batch = 64  # global: each worker's replica gets half of every batch (auto-shard by example)
dataset = strategy.experimental_distribute_dataset(
    data.train_dataset(batch, 2000, drop_remainder=True)
)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

@tf.function
def step(x, y):
    def replica(x, y):
        with tf.GradientTape() as tape:
            per_example = loss_fn(y, model(x, training=True))
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=batch)
        grads = tape.gradient(loss, model.trainable_variables)
        return loss, tf.distribute.get_replica_context().all_reduce("SUM", grads)
    loss, grads = strategy.run(replica, args=(x, y))
    return strategy.reduce("SUM", loss, axis=None), grads

losses = []
for epoch in range(2):
    for x, y in dataset:
        loss, grads = step(x, y)
        local = [strategy.experimental_local_results(g)[0] for g in grads]
        optimizer.apply_gradients(zip(local, model.trainable_variables))
        losses.append(float(loss))
weights = [np.asarray(w).ravel() for w in model.get_weights()]
print(json.dumps({"replicas": strategy.num_replicas_in_sync, "losses": losses,
                  "weights": float(np.concatenate(weights) @ np.arange(sum(map(len, weights))))}))
"""


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_on_loopback_train_in_lockstep_under_multi_worker_mirrored():
    """The closest run Keras 3 allows: the cluster, the sharded pipeline, all-reduced steps.

    Two processes with one TF_CONFIG cluster on 127.0.0.1 join
    MultiWorkerMirroredStrategy through kt_ext.distribute.MultiWorker and train
    the digits MLP for 2 epochs with a custom loop (Model.fit fails under this
    strategy in Keras 3). Both must see 2 replicas, the same losses and the same weights.
    """
    workers = [f"127.0.0.1:{p}" for p in free_ports(2)]
    procs = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", CLUSTER_STEP],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
                env={
                    **os.environ,
                    "TF_CONFIG": json.dumps(config),
                    "TF_CPP_MIN_LOG_LEVEL": "3",
                    "PYTHONPATH": str(ROOT),
                },
            )
        )
    outputs = [p.communicate(timeout=300) for p in procs]
    results = []
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["replicas"] for r in results] == [2, 2]
    assert results[0]["losses"] == results[1]["losses"]
    assert results[0]["weights"] == results[1]["weights"]
    losses = results[0]["losses"]
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])  # it learns


@pytest.mark.slow
def test_multi_worker_with_keras3_exits_2_naming_the_upstream_bug(run_tune, tmp_path):
    line = error_line(run_tune, tmp_path, "distribute=multi_worker")
    expected = "kt-ext: error: distribute._target_ = 'kt_ext.distribute.MultiWorker': Keras 3's"
    assert line.startswith(expected)
    assert "keras-team/keras#20585" in line


def test_mixed_precision_sets_the_policy_and_keeps_float32_outputs(digits_splits):
    import keras

    from models.mlp import build_mlp

    try:
        Distribute(**{**OPTIONS, "mixed_precision": True}).setup()
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        values = {
            "lr": 0.01,
            "lr_schedule": "constant",
            "optimizer": "adam",
            "batch_size": 32,
            "weight_decay": 1e-6,
            "dropout": 0.0,
            "num_layers": 1,
            "units": 16,
            "initializer": "glorot_uniform",
            "batch_norm": False,
        }
        model = build_mlp(values, input_shape=(8, 8, 1), num_classes=10, metrics=[], decay_steps=1)
        assert model.layers[1].compute_dtype == "float16"
        assert model.output.dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_gpu_memory_growth_applies_to_every_gpu():
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        pytest.skip("no GPU on this machine")
    Mirrored(**OPTIONS).setup()
    assert all(tf.config.experimental.get_memory_growth(g) for g in gpus)

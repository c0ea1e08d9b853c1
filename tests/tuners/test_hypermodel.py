"""The hypermodel: costs as per-epoch metrics, batches per call into TensorFlow."""

from __future__ import annotations

import keras_tuner
import pytest

from kt_ext.space import parse_space

SPACE = {
    "lr": 0.01,
    "lr_schedule": "constant",
    "optimizer": "adam",
    "weight_decay": 1e-6,
    "dropout": 0.0,
    "num_layers": 1,
    "units": {"type": "choice", "values": [16, 64]},
    "initializer": "glorot_uniform",
    "batch_norm": False,
    "batch_size": 64,
}


@pytest.mark.parametrize("units", [16, 64])
def test_costs_reach_every_epochs_logs_first_and_match_the_model(digits_splits, units):
    import keras

    from kt_ext.tuners.hypermodel import SpaceHyperModel
    from models.mlp import build_mlp

    seen = []

    class Peek(keras.callbacks.Callback):  # as KerasTuner's callback sees the logs
        def on_epoch_end(self, epoch, logs=None):
            seen.append(dict(logs))

    hm = SpaceHyperModel(
        parse_space(SPACE),
        build_mlp,
        digits_splits,
        metrics=["accuracy"],
        max_epochs=2,
        shuffle_buffer=64,
        verbose=0,
        costs=["params", "latency_ms", "train_seconds"],
    )
    hp = keras_tuner.HyperParameters()
    hp.values["units"] = units
    model = hm.build(hp)
    history = hm.fit(hp, model, epochs=2, callbacks=[Peek()])
    assert [e["params"] for e in seen] == [float(model.count_params())] * 2
    assert history.history["params"] == [float(model.count_params())] * 2
    assert all(0 < e["latency_ms"] < 1000 for e in seen)
    assert 0 < seen[0]["train_seconds"] < seen[1]["train_seconds"]
    expected = 64 * units + units + units * 10 + 10  # the MLP: one hidden layer
    assert model.count_params() == expected


def test_no_costs_are_measured_unless_an_objective_names_them(digits_splits):
    from kt_ext.tuners.hypermodel import SpaceHyperModel
    from models.mlp import build_mlp

    hm = SpaceHyperModel(
        parse_space(SPACE),
        build_mlp,
        digits_splits,
        metrics=["accuracy"],
        max_epochs=1,
        shuffle_buffer=64,
        verbose=0,
    )
    hp = keras_tuner.HyperParameters()
    history = hm.fit(hp, hm.build(hp), epochs=1)
    assert not {"params", "latency_ms", "train_seconds"} & set(history.history)


def _fit_counting_batches(digits_splits, steps_per_execution, builder=None):
    """Fit the one-layer MLP from fixed initial weights; its history, weights and batch calls."""
    import keras

    from kt_ext.tuners.hypermodel import SpaceHyperModel
    from models.mlp import build_mlp

    calls = []

    class Count(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            calls.append(batch)

    hm = SpaceHyperModel(
        parse_space(SPACE),
        builder or build_mlp,
        digits_splits,
        metrics=["accuracy"],
        max_epochs=2,
        shuffle_buffer=64,
        verbose=0,
        steps_per_execution=steps_per_execution,
    )
    hp = keras_tuner.HyperParameters()
    keras.utils.set_random_seed(3)
    model = hm.build(hp)
    history = hm.fit(hp, model, epochs=2, callbacks=[Count()])
    return history.history, [w.numpy() for w in model.weights], calls, model


def test_several_batches_per_call_train_the_same_model_with_fewer_python_calls(digits_splits):
    import numpy as np

    one, weights_one, calls_one, _ = _fit_counting_batches(digits_splits, 1)
    eight, weights_eight, calls_eight, model = _fit_counting_batches(digits_splits, 8)
    assert model.steps_per_execution == 8
    assert eight == one  # every epoch's loss and metrics, to the last bit
    assert all(np.array_equal(a, b) for a, b in zip(weights_one, weights_eight, strict=True))
    steps = -(-len(digits_splits.y_train) // SPACE["batch_size"])
    assert len(calls_one) == 2 * steps
    assert len(calls_eight) == 2 * -(-steps // 8)  # Keras ran 8 batches per call


def test_a_builder_that_chose_its_batches_per_call_keeps_them(digits_splits):
    from models.mlp import build_mlp

    def builder(values, **kwargs):
        model = build_mlp(values, **kwargs)
        model.steps_per_execution = 2  # as compile(steps_per_execution=2) sets it
        return model

    *_, model = _fit_counting_batches(digits_splits, 8, builder)
    assert model.steps_per_execution == 2

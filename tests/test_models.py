import keras
import pytest

from models._common import learning_rate
from models.cnn import build_cnn
from models.cnn1d import build_cnn1d
from models.mlp import build_mlp

BASE = {
    "lr": 0.01,
    "lr_schedule": "constant",
    "optimizer": "adam",
    "batch_size": 32,
    "weight_decay": 1e-4,
    "dropout": 0.1,
    "initializer": "he_normal",
    "batch_norm": True,
    "num_layers": 2,
    "units": 16,
    "blocks": 3,
    "filters": 8,
    "kernel_size": 3,
}
KW = {"metrics": ["accuracy"], "decay_steps": 100}


@pytest.fixture(autouse=True)
def _clear():
    yield
    keras.backend.clear_session()


def test_mlp_multiclass_and_binary_heads():
    multi = build_mlp(BASE, input_shape=(8, 8, 1), num_classes=10, **KW)
    assert multi.output_shape == (None, 10) and multi.loss == "sparse_categorical_crossentropy"
    binary = build_mlp(BASE, input_shape=(30,), num_classes=2, **KW)
    assert binary.output_shape == (None, 1) and binary.loss == "binary_crossentropy"
    dense = [layer for layer in multi.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [16, 16, 10]
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in multi.layers) == 2


def test_cnn_depth_on_small_images_and_filter_doubling():
    model = build_cnn(BASE, input_shape=(8, 8, 1), num_classes=10, **KW)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [8, 16, 32]
    assert (
        sum(isinstance(layer, keras.layers.MaxPooling2D) for layer in model.layers) == 3
    )  # 8 -> 4 -> 2 -> 1
    deeper = build_cnn({**BASE, "blocks": 5}, input_shape=(8, 8, 1), num_classes=10, **KW)
    assert sum(isinstance(layer, keras.layers.MaxPooling2D) for layer in deeper.layers) == 3


def test_cnn_rejects_tabular_inputs():
    with pytest.raises(ValueError, match="image inputs"):
        build_cnn(BASE, input_shape=(30,), num_classes=2, **KW)


@pytest.mark.parametrize("pooling", ["max", "average"])
@pytest.mark.parametrize("input_shape", [(40,), (40, 2)])
def test_cnn1d_halves_the_sequence_per_block_and_pools_it_whole(pooling, input_shape):
    values = {**BASE, "pooling": pooling, "blocks": 4}
    model = build_cnn1d(values, input_shape=input_shape, num_classes=10, **KW)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]
    assert [c.filters for c in convs] == [8, 16, 32, 64]
    assert [c.output.shape[1] for c in convs] == [40, 20, 10, 5]  # each block halves it
    kind = (
        keras.layers.GlobalMaxPooling1D if pooling == "max" else keras.layers.GlobalAveragePooling1D
    )
    assert any(isinstance(layer, kind) for layer in model.layers)
    assert model.output_shape == (None, 10)
    deep = build_cnn1d({**values, "blocks": 8}, input_shape=(4,), num_classes=2, **KW)
    assert deep.output_shape == (None, 1)  # pooling stops at length 1, any depth builds


def test_cnn1d_rejects_images():
    with pytest.raises(ValueError, match="sequence inputs"):
        build_cnn1d({**BASE, "pooling": "max"}, input_shape=(8, 8, 1), num_classes=10, **KW)


def test_sgd_uses_momentum_and_needs_it():
    model = build_mlp(
        {**BASE, "optimizer": "sgd", "momentum": 0.8}, input_shape=(4,), num_classes=3, **KW
    )
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert model.optimizer.momentum == pytest.approx(0.8)
    with pytest.raises(KeyError, match="momentum"):
        build_mlp({**BASE, "optimizer": "sgd"}, input_shape=(4,), num_classes=3, **KW)


def test_schedules():
    assert learning_rate(BASE, 100) == 0.01
    cosine = learning_rate({**BASE, "lr_schedule": "cosine"}, 100)
    assert float(cosine(0)) == pytest.approx(0.01) and float(cosine(100)) == pytest.approx(
        0.0, abs=1e-9
    )
    expo = learning_rate({**BASE, "lr_schedule": "exponential"}, 100)
    assert float(expo(100)) == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="lr_schedule"):
        learning_rate({**BASE, "lr_schedule": "step"}, 100)


def test_weight_decay_is_l2_on_kernels():
    model = build_mlp(BASE, input_shape=(4,), num_classes=3, **KW)
    dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    assert isinstance(dense.kernel_regularizer, keras.regularizers.L2)
    assert dense.kernel_regularizer.l2 == pytest.approx(1e-4)


def test_the_importance_benchmarks_parameter_count_is_keras():
    """scripts/bench/importance.py counts the default MLP's parameters in closed form."""
    import math

    import numpy as np

    from scripts.bench.importance import mlp_params

    rng = np.random.default_rng(0)
    for _ in range(4):
        values, log_count = mlp_params(rng)
        model = build_mlp(values, input_shape=(8, 8, 1), num_classes=10, **KW)
        assert math.log10(model.count_params()) == pytest.approx(log_count, abs=1e-12)

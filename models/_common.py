"""Pieces every builder shares: optimizer and learning-rate schedule, regulariser, head."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras

OPTIMIZERS = ("adam", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine", "exponential")


def learning_rate(values: Mapping[str, Any], decay_steps: int) -> Any:
    """The initial rate ``values["lr"]`` under the schedule ``values["lr_schedule"]``.

    ``cosine`` anneals to 0 and ``exponential`` decays to 1% over ``decay_steps``
    (the optimizer steps of a full-length trial).
    """
    lr = float(values["lr"])
    schedule = values["lr_schedule"]
    if schedule == "constant":
        return lr
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, decay_steps=decay_steps)
    if schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            lr, decay_steps=decay_steps, decay_rate=0.01
        )
    raise ValueError(f"lr_schedule must be one of {SCHEDULES}, got {schedule!r}")


def optimizer(values: Mapping[str, Any], decay_steps: int) -> keras.optimizers.Optimizer:
    """``values["optimizer"]`` with its learning rate; SGD uses ``values["momentum"]``."""
    name = values["optimizer"]
    lr = learning_rate(values, decay_steps)
    if name == "adam":
        return keras.optimizers.Adam(lr)
    if name == "sgd":
        return keras.optimizers.SGD(lr, momentum=float(values["momentum"]))
    if name == "rmsprop":
        return keras.optimizers.RMSprop(lr)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")


def dense_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    """Initializer and L2 weight decay for every weight layer."""
    return {
        "kernel_initializer": values["initializer"],
        "kernel_regularizer": keras.regularizers.L2(float(values["weight_decay"])),
    }


def head_and_compile(
    inputs: keras.KerasTensor,
    features: keras.KerasTensor,
    values: Mapping[str, Any],
    *,
    num_classes: int,
    metrics: Sequence[str],
    decay_steps: int,
    name: str,
) -> keras.Model:
    """Add the output layer that fits the task and compile the model.

    Two classes get one sigmoid unit and binary cross-entropy; more get softmax
    and sparse categorical cross-entropy (labels are integer ids). The output
    layer computes in float32 even under mixed precision, for a stable loss.
    """
    if num_classes == 2:
        units, activation, loss = 1, "sigmoid", "binary_crossentropy"
    else:
        units, activation, loss = num_classes, "softmax", "sparse_categorical_crossentropy"
    outputs = keras.layers.Dense(units, activation=activation, name="output", dtype="float32")(
        features
    )
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=optimizer(values, decay_steps), loss=loss, metrics=list(metrics))
    return model


def conv_blocks(x: Any, values: Mapping[str, Any], conv: type, pool: type, size: int) -> Any:
    """``blocks`` x [conv -> (BatchNorm) -> ReLU -> pool]: the blocks the CNNs share.

    Block ``i`` has ``filters * 2**i`` filters of size ``kernel_size``; a block
    pools (halving the map) only while the map is at least 2 wide, so small
    inputs take any depth.

    Args:
        x: The input tensor.
        values: Active hyperparameters (``blocks``, ``filters``, ``kernel_size``,
            ``batch_norm`` and those of :func:`dense_kwargs`).
        conv: ``keras.layers.Conv2D`` or ``Conv1D``.
        pool: The pooling layer class matching ``conv``.
        size: The map's smallest extent at the input.
    """
    for i in range(int(values["blocks"])):
        x = conv(
            int(values["filters"]) * 2**i,
            int(values["kernel_size"]),
            padding="same",
            **dense_kwargs(values),
        )(x)
        if values["batch_norm"]:
            x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation("relu")(x)
        if size >= 2:
            x = pool(pool_size=2)(x)
            size //= 2
    return x


def dense_head_and_compile(
    inputs: Any,
    x: Any,
    values: Mapping[str, Any],
    *,
    num_classes: int,
    metrics: Sequence[str],
    decay_steps: int,
    name: str,
) -> keras.Model:
    """The CNNs' tail: Dense(``units``) -> ReLU -> Dropout -> :func:`head_and_compile`."""
    x = keras.layers.Dense(int(values["units"]), activation="relu", **dense_kwargs(values))(x)
    x = keras.layers.Dropout(float(values["dropout"]))(x)
    return head_and_compile(
        inputs,
        x,
        values,
        num_classes=num_classes,
        metrics=metrics,
        decay_steps=decay_steps,
        name=name,
    )

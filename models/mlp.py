"""Multilayer perceptron builder (``model=mlp``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras

from models._common import dense_kwargs, head_and_compile


def build_mlp(
    values: Mapping[str, Any],
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    metrics: Sequence[str],
    decay_steps: int,
) -> keras.Model:
    """Flatten -> ``num_layers`` x [Dense(``units``) -> (BatchNorm) -> ReLU -> Dropout] -> output.

    Args:
        values: Active hyperparameters: ``num_layers``, ``units``, ``batch_norm``,
            ``dropout``, ``initializer``, ``weight_decay``, ``optimizer``
            (``momentum`` for sgd), ``lr``, ``lr_schedule``.
        input_shape: Shape of one example; images are flattened.
        num_classes: Number of classes (2 means a binary sigmoid head).
        metrics: Metric names to compile.
        decay_steps: Optimizer steps the learning-rate schedule spans.

    Returns:
        A compiled model.
    """
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(inputs)
    for _ in range(int(values["num_layers"])):
        x = keras.layers.Dense(int(values["units"]), **dense_kwargs(values))(x)
        if values["batch_norm"]:
            x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.Dropout(float(values["dropout"]))(x)
    return head_and_compile(
        inputs,
        x,
        values,
        num_classes=num_classes,
        metrics=metrics,
        decay_steps=decay_steps,
        name="mlp",
    )

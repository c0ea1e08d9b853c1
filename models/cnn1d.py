"""1-D convolutional network for sequences: ``(length,)`` or ``(length, channels)`` inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras

from models._common import conv_blocks, dense_head_and_compile


def build_cnn1d(
    values: Mapping[str, Any],
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    metrics: Sequence[str],
    decay_steps: int,
) -> keras.Model:
    """``blocks`` x [Conv1D -> (BatchNorm) -> ReLU -> pool] -> global pool -> Dense -> output.

    Block ``i`` has ``filters * 2**i`` filters of size ``kernel_size``; each
    block halves the sequence (``pooling``: ``max`` or ``average``) while it
    is at least 2 long, and the last feature map is pooled over time
    (``global``: the same kind). Inputs of shape ``(length,)`` get one channel.

    Args:
        values: Active hyperparameters: ``blocks``, ``filters``, ``kernel_size``,
            ``pooling``, ``units``, ``batch_norm``, ``dropout``, ``initializer``,
            ``weight_decay``, ``optimizer`` (``momentum`` for sgd), ``lr``,
            ``lr_schedule``.
        input_shape: ``(length,)`` or ``(length, channels)``.
        num_classes: Number of classes (2 means a binary sigmoid head).
        metrics: Metric names to compile.
        decay_steps: Optimizer steps the learning-rate schedule spans.

    Returns:
        A compiled model.

    Raises:
        ValueError: The inputs are not sequences.
    """
    if len(input_shape) not in (1, 2):
        raise ValueError(
            f"the cnn1d needs sequence inputs (length,) or (length, channels), got {input_shape}"
        )
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Reshape((input_shape[0], 1))(inputs) if len(input_shape) == 1 else inputs
    maximum = values["pooling"] == "max"
    pool = keras.layers.MaxPooling1D if maximum else keras.layers.AveragePooling1D
    x = conv_blocks(x, values, keras.layers.Conv1D, pool, input_shape[0])
    if maximum:
        x = keras.layers.GlobalMaxPooling1D()(x)
    else:
        x = keras.layers.GlobalAveragePooling1D()(x)
    return dense_head_and_compile(
        inputs,
        x,
        values,
        num_classes=num_classes,
        metrics=metrics,
        decay_steps=decay_steps,
        name="cnn1d",
    )

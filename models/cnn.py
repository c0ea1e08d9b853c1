"""Convolutional network builder (``model=cnn``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras

from models._common import conv_blocks, dense_head_and_compile


def build_cnn(
    values: Mapping[str, Any],
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    metrics: Sequence[str],
    decay_steps: int,
) -> keras.Model:
    """``blocks`` x [Conv -> (BatchNorm) -> ReLU -> MaxPool] -> Dense -> Dropout -> output.

    Block ``i`` has ``filters * 2**i`` filters of size ``kernel_size``; a block
    pools only while the feature map is at least 2 pixels wide, so small
    images (8x8 digits) take any depth.

    Args:
        values: Active hyperparameters: ``blocks``, ``filters``, ``kernel_size``,
            ``units``, ``batch_norm``, ``dropout``, ``initializer``,
            ``weight_decay``, ``optimizer`` (``momentum`` for sgd), ``lr``,
            ``lr_schedule``.
        input_shape: ``(height, width, channels)``.
        num_classes: Number of classes (2 means a binary sigmoid head).
        metrics: Metric names to compile.
        decay_steps: Optimizer steps the learning-rate schedule spans.

    Returns:
        A compiled model.

    Raises:
        ValueError: The inputs are not images.
    """
    if len(input_shape) != 3:
        raise ValueError(
            f"the cnn needs image inputs (height, width, channels), got shape {input_shape}"
        )
    inputs = keras.Input(shape=input_shape)
    x = inputs
    x = conv_blocks(x, values, keras.layers.Conv2D, keras.layers.MaxPooling2D, min(input_shape[:2]))
    x = keras.layers.Flatten()(x)
    return dense_head_and_compile(
        inputs,
        x,
        values,
        num_classes=num_classes,
        metrics=metrics,
        decay_steps=decay_steps,
        name="cnn",
    )

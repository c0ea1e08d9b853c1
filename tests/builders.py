"""Model builders for tests that need trials to fail the way user code does."""

from __future__ import annotations

from typing import Any

import keras

from models.mlp import build_mlp


def flaky_mlp(values: dict[str, Any], **kwargs: Any) -> keras.Model:
    """The MLP, except that building with ``optimizer=rmsprop`` raises (a user-code bug)."""
    if values.get("optimizer") == "rmsprop":
        raise RuntimeError("rmsprop is not supported by this builder")
    return build_mlp(values, **kwargs)


class _Exploding(keras.Model):
    """A model whose training step raises ``error`` (a bug or an OOM inside ``fit``)."""

    def __init__(self, *args: Any, error: Exception, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.error = error

    def train_step(self, data: Any) -> Any:
        raise self.error


def failing_model(
    values: dict[str, Any], *, input_shape: tuple[int, ...], num_classes: int, **_: Any
) -> keras.Model:
    """A small classifier that fails the way ``values["failure"]`` says.

    ``none`` trains normally; ``nan``, ``pos_inf`` and ``neg_inf`` add that
    constant to the loss; ``build`` raises while building; ``fit`` and
    ``oom`` raise inside the training step (``oom`` as TensorFlow's
    ``ResourceExhaustedError``).
    """
    import tensorflow as tf

    failure = values["failure"]
    if failure == "build":
        raise ValueError("no layer fits 7 units")
    inputs = keras.Input(shape=input_shape)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Flatten()(inputs))
    errors = {
        "fit": RuntimeError("fit exploded"),
        "oom": tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor"),
    }
    if failure in errors:
        model: keras.Model = _Exploding(inputs, outputs, error=errors[failure])
    else:
        model = keras.Model(inputs, outputs)
    offset = {"nan": float("nan"), "pos_inf": float("inf"), "neg_inf": -float("inf")}
    loss: Any = "sparse_categorical_crossentropy"  # a saved "none" model reloads (halving)
    if failure in offset:

        def loss(y_true: Any, y_pred: Any) -> Any:
            base = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
            return base + offset[failure]

    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss, metrics=["accuracy"])
    return model

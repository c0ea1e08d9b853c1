"""Declarative search spaces: parse and validate YAML entries, declare them to KerasTuner.

A space is a mapping from hyperparameter name to an entry::

    lr:        {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
    units:     {type: int, low: 32, high: 512, step: 32}
    optimizer: {type: choice, values: [adam, sgd, rmsprop]}
    batch_norm: {type: bool}
    momentum:  {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}}
    epsilon:   1.0e-7            # a plain scalar is a fixed value

Pure Python: parsing and validation never import TensorFlow or KerasTuner,
so a bad config is reported in well under a second. Declaring the space
(:meth:`SearchSpace.declare`) only calls methods on the
``keras_tuner.HyperParameters`` object it is handed. Every part of kt-ext
shares this vocabulary.
"""

from kt_ext.space._model import (
    BATCH_SIZE,
    Condition,
    Param,
    Scalar,
    SearchSpace,
    check_batch_size,
    smallest_batch_size,
)
from kt_ext.space._parse import grid_values, parse_space

__all__ = [
    "BATCH_SIZE",
    "check_batch_size",
    "smallest_batch_size",
    "Condition",
    "Param",
    "Scalar",
    "SearchSpace",
    "grid_values",
    "parse_space",
]

"""The KerasTuner ``HyperModel`` that turns a declarative space into trained models."""

from __future__ import annotations

import inspect
import math
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import keras
import keras_tuner

from kt_ext.data import Splits
from kt_ext.objectives import LATENCY_MS, PARAMS, TRAIN_SECONDS
from kt_ext.space import BATCH_SIZE, SearchSpace

# A model compiled without choosing runs this many batches per call.
_KERAS_DEFAULT = inspect.signature(keras.Model.compile).parameters["steps_per_execution"].default

Builder = Callable[..., keras.Model]


class SpaceHyperModel(keras_tuner.HyperModel):
    """Builds one model per trial from a :class:`SearchSpace` and fits it on the run's data.

    ``build`` declares the whole space on the trial's ``HyperParameters`` and
    hands the active values to ``builder``; ``fit`` batches the run's arrays with
    the trial's ``batch_size`` value (so the space must declare it) and ignores
    any ``x``/``y`` passed to ``search``. KerasTuner's ``epochs``,
    ``initial_epoch`` and ``callbacks`` keyword arguments pass through to
    ``keras.Model.fit``.

    Under a strategy with several replicas, ``batch_size`` is the batch of each
    replica: the pipelines are batched by the global batch ``batch_size ×
    replicas`` (the training one without its last partial batch), and with
    ``scale_lr`` the ``lr`` value is multiplied by ``replicas``.

    ``steps_per_execution`` batches run per call into TensorFlow (Keras's
    ``compile(steps_per_execution=...)``, set on the built model unless its
    builder chose a value itself). The weights and every epoch's metrics are
    the same as with one batch per call; what changes is the Python work
    between batches, which weighs on small models on CPU (MNIST-1D's MLP with
    32: trials 16-36 % shorter, a 6-trial run 12 % shorter on 2 cores; a 1-D
    CNN, bound by its convolutions, gains little), and how often per-batch
    callbacks run (the stop-signal check and ``TerminateOnNaN`` act every that
    many batches).

    Args:
        space: The validated search space.
        builder: ``builder(values, *, input_shape, num_classes, metrics, decay_steps)``.
        data: Train/validation/test splits, loaded once per run.
        metrics: Metric names every model compiles.
        max_epochs: Longest a trial trains; learning-rate schedules span it.
        shuffle_buffer: Shuffle buffer of the training pipeline.
        verbose: ``keras.Model.fit`` verbosity.
        steps_per_execution: Batches per call into TensorFlow; ``None``: the
            model's own (Keras's default unless the builder chose).
        replicas: Replicas of the distribution strategy trials train under.
        scale_lr: Scale the learning rate linearly with ``replicas``.
        costs: Costs to measure per trial and report as metrics every epoch
            (names of :data:`kt_ext.objectives.COSTS`), see :class:`CostLogger`.
    """

    def __init__(
        self,
        space: SearchSpace,
        builder: Builder,
        data: Splits,
        *,
        metrics: Sequence[str],
        max_epochs: int,
        shuffle_buffer: int,
        verbose: int,
        steps_per_execution: int | None = None,
        replicas: int = 1,
        scale_lr: bool = False,
        costs: Sequence[str] = (),
    ) -> None:
        super().__init__(name="kt_ext", tunable=True)
        self.space = space
        self.builder = builder
        self.data = data
        self.metrics = tuple(metrics)
        self.max_epochs = max_epochs
        self.shuffle_buffer = shuffle_buffer
        self.verbose = verbose
        self.steps_per_execution = steps_per_execution
        self.replicas = replicas
        self.scale_lr = scale_lr
        self.costs = tuple(costs)

    def build_from_values(self, values: dict[str, Any]) -> keras.Model:
        """Build and compile the model for a dict of active values."""
        n, batch = len(self.data.y_train), self.global_batch(values)
        steps = math.ceil(n / batch) if self.replicas == 1 else max(1, n // batch)
        if self.scale_lr and "lr" in values:
            values = {**values, "lr": float(values["lr"]) * self.replicas}
        return self.builder(
            values,
            input_shape=self.data.input_shape,
            num_classes=self.data.num_classes,
            metrics=self.metrics,
            decay_steps=max(1, steps * self.max_epochs),
        )

    def global_batch(self, values: dict[str, Any]) -> int:
        """The batch all replicas process per step."""
        return int(values[BATCH_SIZE]) * self.replicas

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """Declare the space on ``hp`` and build the model for its current values."""
        return self.build_from_values(self.space.declare(hp))

    def fit(
        self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any
    ) -> Any:
        """Train ``model`` on the run's data with the trial's batch size.

        A ``train_fraction`` keyword (successive halving's data budget) trains
        on that leading fraction of the (already shuffled) training split.
        """
        batch_size = self.global_batch(self.space.declare(hp))
        fraction = float(kwargs.pop("train_fraction", 1.0))
        kwargs.pop("x", None)
        kwargs.pop("y", None)
        kwargs.pop("validation_data", None)
        kwargs["verbose"] = self.verbose
        kwargs["shuffle"] = False  # the tf.data pipeline shuffles (Keras warns otherwise)
        train = self.data.train_dataset(
            batch_size, self.shuffle_buffer, fraction=fraction, drop_remainder=self.replicas > 1
        )
        val = self.data.eval_dataset("val", batch_size)
        if self.replicas > 1:
            # One distributed iterator for the whole fit: Keras otherwise makes a new
            # one per epoch and per validation pass, which costs ~0.2 s each under a
            # multi-replica strategy (measured on 2 virtual CPUs; doubles a trial's time).
            train, val = train.repeat(), val.repeat()
            kwargs["steps_per_epoch"] = max(
                1, self.data.train_size(batch_size, fraction) // batch_size
            )
            kwargs["validation_steps"] = math.ceil(len(self.data.y_val) / batch_size)
        if self.costs:  # first, so every later callback (KerasTuner's too) sees the costs
            logger = CostLogger(self.costs, self.data.eval_dataset("val", batch_size))
            kwargs["callbacks"] = [logger, *kwargs.get("callbacks", [])]
        if self.steps_per_execution is not None and model.steps_per_execution == _KERAS_DEFAULT:
            model.steps_per_execution = self.steps_per_execution  # the builder did not choose
        return model.fit(train, validation_data=val, **kwargs)


class CostLogger(keras.callbacks.Callback):
    """Adds the costs a search trades off to each epoch's logs (:data:`kt_ext.objectives.COSTS`).

    ``params`` (``model.count_params()``) and ``latency_ms`` are measured
    once, before training: weights do not change either. ``latency_ms`` is
    the median of :attr:`TIMED` timed ``predict_on_batch`` calls on
    validation batches after :attr:`WARM_UP` untimed ones (tracing and
    caches). ``train_seconds`` is the wall time since training began, at
    the end of each epoch. As per-epoch logs they reach the oracle with the
    other metrics, at each epoch (successive halving's rungs) and at the
    trial's end.

    Args:
        names: The costs to measure.
        batches: Validation batches ``(x, y)`` for the latency.
    """

    WARM_UP = 3
    TIMED = 7

    def __init__(self, names: Sequence[str], batches: Any) -> None:
        super().__init__()
        self.names = tuple(names)
        self.batches = batches
        self.measured: dict[str, float] = {}
        self._start = 0.0

    def on_train_begin(self, logs: Any = None) -> None:
        """Measure ``params`` and ``latency_ms``; start the training clock."""
        if PARAMS in self.names:
            self.measured[PARAMS] = float(self.model.count_params())
        if LATENCY_MS in self.names:
            xs = [x for x, _ in self.batches.take(self.WARM_UP + self.TIMED)]
            times = []
            for i in range(self.WARM_UP + self.TIMED):
                x = xs[i % len(xs)]
                start = time.perf_counter()
                self.model.predict_on_batch(x)
                if i >= self.WARM_UP:
                    times.append(1000.0 * (time.perf_counter() - start))
            self.measured[LATENCY_MS] = statistics.median(times)
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        """Write the costs into the epoch's logs."""
        if logs is None:
            return
        logs.update(self.measured)
        if TRAIN_SECONDS in self.names:
            logs[TRAIN_SECONDS] = time.perf_counter() - self._start

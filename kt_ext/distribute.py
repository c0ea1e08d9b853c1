"""``tf.distribute`` strategies from the ``distribute`` config group.

Each ``conf/distribute/*.yaml`` names one class here through ``_target_``; the
YAML holds every value (``conf/distribute/default.yaml`` the shared ones). A run
calls :meth:`Distribute.setup` before TensorFlow touches a device (virtual
CPUs, GPU memory growth and the mixed-precision policy can only be set then),
then :meth:`Distribute.create` for the strategy every trial builds, compiles
and trains under.

==============  ===================================================================
class           strategy
==============  ===================================================================
``Default``     TensorFlow's default strategy (one device, no replication)
``OneDevice``   ``OneDeviceStrategy`` on ``devices[0]`` (a GPU if any, else a CPU)
``Mirrored``    ``MirroredStrategy`` over ``devices`` (all GPUs, else all CPU devices)
``MultiWorker`` ``MultiWorkerMirroredStrategy``, the cluster taken from ``TF_CONFIG``
``Auto``        Mirrored over all GPUs if more than one, OneDevice on one GPU,
                else the default strategy
==============  ===================================================================

``devices`` are indices into this machine's GPUs, or into its CPU devices when it
has no GPU (``virtual_cpus`` splits the CPU into that many logical devices, to try
data parallelism on a laptop and in tests). Importing this module does not import
TensorFlow.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from kt_ext.errors import ConfigError


class Distribute:
    """TensorFlow's default strategy, and the device options every strategy shares.

    Args:
        devices: Device indices (see the module docstring); ``None`` for all.
        virtual_cpus: Split the first CPU into this many logical devices
            (``0`` or ``1``: no split); each op then uses at most
            ``cores // virtual_cpus`` threads.
        scale_lr: Multiply the ``lr`` hyperparameter by the number of replicas
            (the linear scaling rule for the global batch; opt-in).
        mixed_precision: Use the ``mixed_float16`` Keras policy (GPUs with
            tensor cores; slow on CPUs).
        memory_growth: Let TensorFlow allocate GPU memory as needed instead of
            reserving it all at start-up.
    """

    def __init__(
        self,
        devices: Sequence[int] | None,
        virtual_cpus: int,
        scale_lr: bool,
        mixed_precision: bool,
        memory_growth: bool,
    ) -> None:
        self.devices = None if devices is None else [int(d) for d in devices]
        self.virtual_cpus = int(virtual_cpus)
        self.scale_lr = bool(scale_lr)
        self.mixed_precision = bool(mixed_precision)
        self.memory_growth = bool(memory_growth)

    @property
    def name(self) -> str:
        """The strategy's name as runs record it (``mirrored``, ...)."""
        return _NAMES[type(self)]

    def setup(self) -> None:
        """Configure devices and precision; call before TensorFlow initialises its devices.

        Raises:
            ConfigError: A device option cannot be applied any more (TensorFlow
                already initialised its devices in this process).
        """
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        try:
            if self.memory_growth:
                for gpu in gpus:
                    tf.config.experimental.set_memory_growth(gpu, True)
            if self.virtual_cpus >= 2:
                # Each virtual device gets its share of the cores: with every op
                # free to use all of them, replicas contend (21% slower per trial
                # measured with 2 virtual CPUs on 2 cores).
                share = max(1, (os.cpu_count() or 1) // self.virtual_cpus)
                if tf.config.threading.get_intra_op_parallelism_threads() != share:
                    tf.config.threading.set_intra_op_parallelism_threads(share)
                cpu = tf.config.list_physical_devices("CPU")[0]
                current = tf.config.get_logical_device_configuration(cpu) or []
                if len(current) != self.virtual_cpus:
                    tf.config.set_logical_device_configuration(
                        cpu, [tf.config.LogicalDeviceConfiguration()] * self.virtual_cpus
                    )
        except RuntimeError as e:  # "... cannot be modified after being initialized"
            raise ConfigError(
                "distribute.virtual_cpus", self.virtual_cpus, f"cannot be applied now: {e}"
            ) from e
        if self.mixed_precision:
            import keras

            keras.mixed_precision.set_global_policy("mixed_float16")

    def create(self) -> Any:
        """The ``tf.distribute.Strategy`` trials run under."""
        import tensorflow as tf

        return tf.distribute.get_strategy()

    def device_names(self) -> list[str]:
        """Names of the selected devices: GPUs if the machine has any, else CPU devices.

        Raises:
            ConfigError: An index is out of range.
        """
        import tensorflow as tf

        pool = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        if self.devices is None:
            return [d.name for d in pool]
        bad = [i for i in self.devices if not 0 <= i < len(pool)]
        if bad:
            kind = pool[0].device_type if pool else "CPU"
            raise ConfigError(
                "distribute.devices",
                self.devices,
                f"this machine has {len(pool)} {kind} device(s), indices 0..{len(pool) - 1}"
                + ("; add distribute.virtual_cpus=N to split the CPU" if kind == "CPU" else ""),
            )
        return [pool[i].name for i in self.devices]


class OneDevice(Distribute):
    """``OneDeviceStrategy`` on the first selected device."""

    def create(self) -> Any:
        """The strategy on ``devices[0]`` (default: the first GPU, else the CPU)."""
        import tensorflow as tf

        return tf.distribute.OneDeviceStrategy(self.device_names()[0])


class Mirrored(Distribute):
    """``MirroredStrategy``: one replica per selected device, gradients all-reduced."""

    def create(self) -> Any:
        """The strategy over the selected devices."""
        import tensorflow as tf

        devices = self.device_names()
        # On CPU devices, reducing through one device beats TensorFlow's default
        # all-reduce: 2.6 against 3.2-3.5 s per digits-CNN trial on 2 virtual CPUs
        # (scripts/bench_distribute.py). GPUs keep the default (NCCL where available).
        on_cpu = all("CPU" in d.upper().rsplit("/", 1)[-1] for d in devices)
        reduce = tf.distribute.ReductionToOneDevice() if on_cpu else None
        return tf.distribute.MirroredStrategy(devices, cross_device_ops=reduce)


# Why `distribute=multi_worker` stops with Keras 3 (see MultiWorker).
KERAS3_MULTI_WORKER = (
    "Keras 3's Model.fit cannot train under MultiWorkerMirroredStrategy "
    "(keras-team/keras#20585, tensorflow/tensorflow#72388); use distribute=mirrored on one "
    "machine, or KerasTuner's chief/worker mode to spread trials over machines"
)


class MultiWorker(Distribute):
    """``MultiWorkerMirroredStrategy``; the cluster and this worker's task come from ``TF_CONFIG``.

    Every worker runs the same command and trials train in lockstep across
    them. Keras 3's ``Model.fit`` fails under this strategy (its first step
    reduces the input batch eagerly, which collective ops cannot do, and its
    metrics fail after that), so with Keras 3 :meth:`create` raises a
    :class:`ConfigError` saying so instead of letting every trial fail;
    :meth:`cluster_strategy` still joins the cluster, for custom training loops.
    """

    def create(self) -> Any:
        """The strategy of this worker's cluster (Keras 2 only, see the class docstring).

        Raises:
            ConfigError: Keras 3 is installed.
        """
        import keras

        if int(keras.__version__.split(".")[0]) >= 3:
            target = f"{type(self).__module__}.{type(self).__name__}"
            raise ConfigError("distribute._target_", target, KERAS3_MULTI_WORKER)
        return self.cluster_strategy()

    def cluster_strategy(self) -> Any:
        """Join the ``TF_CONFIG`` cluster (a single worker without it)."""
        import tensorflow as tf

        return tf.distribute.MultiWorkerMirroredStrategy()


class Auto(Distribute):
    """Mirrored over all GPUs if more than one, OneDevice on a single GPU, else the default."""

    def create(self) -> Any:
        """The strategy this machine's GPUs call for."""
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy([g.name for g in gpus])
        if gpus:
            return tf.distribute.OneDeviceStrategy(gpus[0].name)
        return tf.distribute.get_strategy()


_NAMES = {
    Distribute: "default",
    OneDevice: "one_device",
    Mirrored: "mirrored",
    MultiWorker: "multi_worker",
    Auto: "auto",
}

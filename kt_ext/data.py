"""Datasets: loaders named by the `data/` configs, a seeded split, and `tf.data` pipelines.

Loaders return a :class:`RawData` of NumPy arrays and never import TensorFlow
unless they must (Keras's downloaders). :func:`split` turns it into
train/validation/test :class:`Splits` once per run; the `tf.data` pipelines are
built from those arrays per trial, because batch size is a hyperparameter.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10")


@dataclass(frozen=True)
class RawData:
    """Arrays as a loader returns them.

    Attributes:
        x: Features, ``(n, ...)``; images are ``(n, height, width, channels)`` in [0, 1].
        y: Integer class ids, ``(n,)``.
        x_test: Optional official test features; ``None`` to carve a test split from ``x``.
        y_test: Optional official test labels.
    """

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None


@dataclass(frozen=True)
class Splits:
    """Train, validation and test arrays of one run, plus what models need to know."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @functools.cached_property
    def _datasets(self) -> dict[str, Any]:
        """Unbatched, cached ``tf.data`` sources, built once per run (imports TensorFlow)."""
        import tensorflow as tf

        parts = {
            "train": (self.x_train, self.y_train),
            "val": (self.x_val, self.y_val),
            "test": (self.x_test, self.y_test),
        }
        return {k: tf.data.Dataset.from_tensor_slices(v).cache() for k, v in parts.items()}

    def train_size(self, batch_size: int, fraction: float = 1.0) -> int:
        """Examples :meth:`train_dataset` keeps for ``fraction`` (at least one batch)."""
        n = len(self.y_train)
        return n if fraction >= 1.0 else min(n, max(batch_size, math.ceil(fraction * n)))

    def train_dataset(
        self,
        batch_size: int,
        shuffle_buffer: int,
        fraction: float = 1.0,
        drop_remainder: bool = False,
    ) -> Any:
        """Shuffled, batched, prefetched training pipeline (a ``tf.data.Dataset``).

        The shuffle order follows TensorFlow's global seed, which each trial sets.
        ``fraction`` < 1 keeps that leading share of the training split (at
        least one batch), the same examples for every trial. ``drop_remainder``
        drops each epoch's last partial batch (a different one every epoch, as
        the data is reshuffled): under a multi-replica strategy a partial batch
        halves the speed of the whole epoch.
        """
        import tensorflow as tf

        keep = self.train_size(batch_size, fraction)
        ds = (
            self._datasets["train"]
            .take(keep)
            .shuffle(min(shuffle_buffer, keep), reshuffle_each_iteration=True)
        )
        ds = ds.batch(batch_size, drop_remainder=drop_remainder and keep >= batch_size)
        options = tf.data.Options()
        # In-memory data: multi-worker strategies shard by example, not by file.
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        return ds.with_options(options).prefetch(tf.data.AUTOTUNE)

    def eval_dataset(self, part: str, batch_size: int) -> Any:
        """Batched pipeline over the ``"val"`` or ``"test"`` split."""
        import tensorflow as tf

        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        ds = self._datasets[part].batch(batch_size).with_options(options)
        return ds.prefetch(tf.data.AUTOTUNE)


# ----------------------------------------------------------------------------- loaders


def load_digits() -> RawData:
    """scikit-learn's bundled 8x8 digits (1,797 images, 10 classes), scaled to [0, 1]."""
    from sklearn.datasets import load_digits as _load

    bunch = _load()
    x = (bunch.images / 16.0).astype("float32")[..., None]
    return RawData(x=x, y=bunch.target.astype("int64"))


def load_breast_cancer() -> RawData:
    """scikit-learn's bundled Wisconsin breast cancer data (569 x 30, binary)."""
    from sklearn.datasets import load_breast_cancer as _load

    bunch = _load()
    return RawData(x=bunch.data.astype("float32"), y=bunch.target.astype("int64"))


def load_keras_dataset(name: str) -> RawData:
    """One of Keras's downloadable image datasets, with its official test split.

    The archive is downloaded once into Keras's cache (``~/.keras/datasets`` or
    ``$KERAS_HOME``) and read from there afterwards.

    Args:
        name: ``mnist``, ``fashion_mnist`` or ``cifar10``.
    """
    if name not in KERAS_DATASETS:
        raise ValueError(f"unknown Keras dataset {name!r}; known: {', '.join(KERAS_DATASETS)}")
    import keras

    (x, y), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    return RawData(x=_images(x), y=_labels(y), x_test=_images(x_test), y_test=_labels(y_test))


MNIST1D_CACHE = "mnist1d-{seed}-{n}.npz"  # under the cache folder, one file per generation


def cache_dir() -> Path:
    """kt-ext's cache: ``$KT_EXT_CACHE``, else ``$XDG_CACHE_HOME/kt-ext`` (``~/.cache/kt-ext``)."""
    if os.environ.get("KT_EXT_CACHE"):
        return Path(os.environ["KT_EXT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kt-ext"


def load_mnist1d(seed: int = 42, num_samples: int = 5000) -> RawData:
    """MNIST-1D (Greydanus, 2020): 1-D signals of length 40 in 10 classes, generated locally.

    The ``mnist1d`` package's generator (never its download) builds the data
    set from its ten templates with the published defaults: 4,000 training and
    1,000 test signals for ``num_samples=5000``, so accuracies compare with the
    paper's (logistic regression about 32 %, MLP 68 %, CNN 94 %). The arrays
    are generated once per machine and cached (:func:`cache_dir`), written
    atomically; a damaged cache file is generated again.

    Args:
        seed: The generator's seed (the published data set uses 42).
        num_samples: Signals in all; 80 % train, 20 % test.
    """
    path = cache_dir() / MNIST1D_CACHE.format(seed=seed, n=num_samples)
    try:
        with np.load(path, allow_pickle=False) as f:
            return RawData(x=f["x"], y=f["y"], x_test=f["x_test"], y_test=f["y_test"])
    except (OSError, KeyError, ValueError):
        pass  # not generated yet, or damaged: generate it
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed, args.num_samples = seed, num_samples
    d = make_dataset(args)
    arrays = {
        "x": d["x"].astype("float32"),
        "y": d["y"].astype("int64"),
        "x_test": d["x_test"].astype("float32"),
        "y_test": d["y_test"].astype("int64"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return RawData(**arrays)


def load_npz(path: str) -> RawData:
    """A user's ``.npz``: ``x``, ``y`` (or ``x_train``, ``y_train``), maybe ``x_test``, ``y_test``.

    A test pair given is the test split (half a pair is refused by :func:`check_data`).

    Integer (uint8) images are scaled to [0, 1]; ``(n, h, w)`` images get a channel axis.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(f"no such file: {file}")
    with np.load(file, allow_pickle=False) as f:
        keys = set(f.files)
        pairs = (("x_train", "y_train"), ("x", "y"))
        train = next((pair for pair in pairs if set(pair) <= keys), None)
        if train is None:
            raise ValueError(
                f"{file} must hold arrays x, y (or x_train, y_train), optionally x_test, y_test; "
                f"found {sorted(keys)}"
            )
        return RawData(
            x=_images(f[train[0]]),
            y=_labels(f[train[1]]),
            x_test=_images(f["x_test"]) if "x_test" in keys else None,
            y_test=_labels(f["y_test"]) if "y_test" in keys else None,
        )


def _images(x: np.ndarray) -> np.ndarray:
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    x = x.astype("float32") / scale
    return x[..., None] if x.ndim == 3 else x


def _labels(y: np.ndarray) -> np.ndarray:
    """Labels as int64 class ids; floats must be exact integers (``3.0``, never ``0.3``)."""
    y = np.asarray(y).reshape(-1)
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            raise ValueError(
                f"labels must be integer class ids; found {float(y[bad][0]):g} "
                f"({int(bad.sum())} non-integer labels)"
            )
    elif y.dtype.kind not in "iub":
        raise ValueError(f"labels must be integer class ids; found dtype {y.dtype}")
    return y.astype("int64")


# ----------------------------------------------------------------------------- split


def split(
    raw: RawData,
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    subset: float,
    standardize: bool,
) -> Splits:
    """Deterministic stratified train/validation/test split.

    Args:
        raw: Loaded arrays.
        seed: Split seed; the same seed always gives the same split.
        val_fraction: Share of the non-test data used for validation.
        test_fraction: Share of all data held out for testing, unless ``raw``
            brings its own test split.
        subset: Fraction of the training split kept (the search speed-up).
        standardize: Z-score features with training-split statistics.

    Returns:
        The splits, with ``num_classes`` taken from the labels.

    Raises:
        ValueError: The data break a rule of :func:`check_data`, or a class
            is missing from the training or validation split.
    """
    from sklearn.model_selection import train_test_split

    labels_test = None if raw.y_test is None else _labels(raw.y_test)
    raw = dataclasses.replace(raw, y=_labels(raw.y), y_test=labels_test)
    num_classes = check_data(raw)  # x_test and y_test: both or neither
    x, y = raw.x, raw.y
    if raw.x_test is None or raw.y_test is None:
        x, x_test, y, y_test = train_test_split(
            x, y, test_size=test_fraction, random_state=seed, stratify=_stratify(y, test_fraction)
        )
    else:
        x_test, y_test = raw.x_test, raw.y_test
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=val_fraction, random_state=seed, stratify=_stratify(y, val_fraction)
    )
    if subset < 1.0:
        keep = max(num_classes, math.ceil(subset * len(y_train)))
        if keep < len(y_train):
            x_train, _, y_train, _ = train_test_split(
                x_train,
                y_train,
                train_size=keep,
                random_state=seed,
                stratify=_stratify(y_train, keep),
            )
    for name, labels in (("training", y_train), ("validation", y_val)):
        missing = sorted(set(range(num_classes)) - set(np.unique(labels).tolist()))
        if missing:
            raise ValueError(
                f"class {missing[0]} has no example in the {name} split "
                f"({len(labels)} examples); each class needs examples in both splits: "
                "use more data or a larger data.val_fraction / data.subset"
            )
    if standardize:
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0) + 1e-8
        x_train, x_val, x_test = ((a - mean) / std for a in (x_train, x_val, x_test))
    cast = lambda a: np.ascontiguousarray(a, dtype="float32")  # noqa: E731
    return Splits(cast(x_train), y_train, cast(x_val), y_val, cast(x_test), y_test, num_classes)


def check_data(raw: RawData) -> int:
    """Check loaded arrays before any trial; the number of classes.

    Rules: features and labels of equal length, numeric and finite features
    (a NaN would make every trial fail with a misleading "diverged" message),
    integer labels ``0..k-1`` with every class present and ``k >= 2``, the
    same example shape in the test arrays.

    Raises:
        ValueError: Naming the first rule broken.
    """
    pairs = [("x", "y", raw.x, raw.y)]
    if raw.x_test is not None or raw.y_test is not None:
        if raw.x_test is None or raw.y_test is None:
            raise ValueError("x_test and y_test must be given together")
        pairs.append(("x_test", "y_test", raw.x_test, raw.y_test))
    for x_name, y_name, x, y in pairs:
        if len(x) != len(y):
            raise ValueError(f"{x_name} has {len(x)} examples but {y_name} has {len(y)} labels")
        if x.dtype.kind not in "fiub":
            raise ValueError(f"{x_name} must be numeric; found dtype {x.dtype}")
        finite = np.isfinite(x) if x.dtype.kind == "f" else np.ones(x.shape, bool)
        if not finite.all():
            first = int(np.argwhere(~finite.reshape(len(x), -1).all(axis=1))[0][0])
            raise ValueError(
                f"{x_name} holds {int((~finite).sum())} NaN or infinite values "
                f"(the first in example {first}); clean or impute them"
            )
    if raw.x_test is not None and raw.x_test.shape[1:] != raw.x.shape[1:]:
        raise ValueError(
            f"x_test examples have shape {raw.x_test.shape[1:]}, x examples {raw.x.shape[1:]}"
        )
    y = raw.y if raw.y_test is None else np.concatenate([raw.y, raw.y_test])
    if y.size == 0:
        raise ValueError("the dataset is empty")
    if y.min() < 0:
        raise ValueError(f"labels must be class ids 0..k-1; found {int(y.min())}")
    present = np.bincount(y)
    if (present == 0).any():
        gap = int(np.argmin(present > 0))
        raise ValueError(
            f"labels must be class ids 0..k-1 with every class present; class {gap} has no "
            f"example (labels run to {len(present) - 1})"
        )
    if len(present) < 2:
        raise ValueError(f"at least two classes are needed; every label is {int(y[0])}")
    return len(present)


def _stratify(y: np.ndarray, size: float) -> np.ndarray | None:
    """Stratify when every class can appear on both sides, else split at random."""
    counts = np.bincount(y)
    counts = counts[counts > 0]
    n_side = size if size >= 1 else size * len(y)
    return (
        y
        if counts.min() >= 2 and n_side >= len(counts) and len(y) - n_side >= len(counts)
        else None
    )

import gzip
import io
import pickle
import tarfile

import numpy as np
import pytest

from kt_ext.data import (
    RawData,
    Splits,
    load_breast_cancer,
    load_digits,
    load_keras_dataset,
    load_npz,
    split,
)


def test_digits_is_offline_images_in_unit_range():
    raw = load_digits()
    assert raw.x.shape == (1797, 8, 8, 1) and raw.x.dtype == np.float32
    assert 0.0 <= raw.x.min() and raw.x.max() <= 1.0
    assert set(np.unique(raw.y)) == set(range(10))


def test_split_is_deterministic_stratified_and_disjoint():
    raw = load_digits()
    a = split(raw, seed=3, val_fraction=0.2, test_fraction=0.2, subset=1.0, standardize=False)
    b = split(raw, seed=3, val_fraction=0.2, test_fraction=0.2, subset=1.0, standardize=False)
    c = split(raw, seed=4, val_fraction=0.2, test_fraction=0.2, subset=1.0, standardize=False)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.y_train, c.y_train)
    assert len(a.y_test) == 360 and len(a.y_val) == 288 and len(a.y_train) == 1149
    assert a.num_classes == 10 and a.input_shape == (8, 8, 1)
    # Stratified: every class in every split, in similar proportions.
    for y in (a.y_train, a.y_val, a.y_test):
        counts = np.bincount(y, minlength=10) / len(y)
        assert counts.min() > 0.07 and counts.max() < 0.13
    # Disjoint: no test image appears in training (digits has few exact duplicates).
    train = {row.tobytes() for row in a.x_train.reshape(len(a.x_train), -1)}
    leaked = sum(row.tobytes() in train for row in a.x_test.reshape(len(a.x_test), -1))
    assert leaked <= 2


def test_subset_shrinks_only_training():
    raw = load_digits()
    full = split(raw, seed=0, val_fraction=0.2, test_fraction=0.2, subset=1.0, standardize=False)
    part = split(raw, seed=0, val_fraction=0.2, test_fraction=0.2, subset=0.25, standardize=False)
    assert len(part.y_train) == int(np.ceil(0.25 * len(full.y_train)))
    assert np.array_equal(part.y_val, full.y_val) and np.array_equal(part.y_test, full.y_test)
    assert len(np.unique(part.y_train)) == 10


def test_standardize_uses_training_statistics():
    s = split(
        load_breast_cancer(),
        seed=0,
        val_fraction=0.2,
        test_fraction=0.2,
        standardize=True,
        subset=1.0,
    )
    assert np.allclose(s.x_train.mean(axis=0), 0, atol=1e-4)
    assert np.allclose(s.x_train.std(axis=0), 1, atol=1e-3)
    assert not np.allclose(s.x_test.mean(axis=0), 0, atol=1e-4)
    assert s.num_classes == 2


def test_official_test_split_is_kept():
    rng = np.random.default_rng(0)
    raw = RawData(
        x=rng.random((100, 4), dtype=np.float32),
        y=np.arange(100) % 3,
        x_test=rng.random((10, 4), dtype=np.float32),
        y_test=np.arange(10) % 3,
    )
    s = split(raw, seed=0, val_fraction=0.2, test_fraction=0.5, subset=1.0, standardize=False)
    assert np.array_equal(s.x_test, raw.x_test) and len(s.y_train) == 80


def test_bad_labels_rejected():
    raw = RawData(x=np.zeros((10, 2), np.float32), y=np.linspace(0, 1, 10))
    with pytest.raises(ValueError, match="integer class ids"):
        split(raw, seed=0, val_fraction=0.2, test_fraction=0.2, subset=1.0, standardize=False)


def test_npz_both_layouts(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (20, 6, 6), dtype=np.uint8)
    y = np.arange(20) % 2
    np.savez(tmp_path / "a.npz", x=x, y=y)
    raw = load_npz(str(tmp_path / "a.npz"))
    assert raw.x.shape == (20, 6, 6, 1) and raw.x.max() <= 1.0 and raw.x_test is None
    np.savez(tmp_path / "b.npz", x_train=x, y_train=y, x_test=x[:4], y_test=y[:4])
    assert load_npz(str(tmp_path / "b.npz")).x_test.shape == (4, 6, 6, 1)
    np.savez(tmp_path / "c.npz", features=x)
    with pytest.raises(ValueError, match="must hold arrays"):
        load_npz(str(tmp_path / "c.npz"))
    with pytest.raises(FileNotFoundError):
        load_npz(str(tmp_path / "missing.npz"))


# ----------------------------------------------------------------------------- Keras downloaders


@pytest.fixture
def keras_cache(tmp_path, monkeypatch):
    """Point Keras's dataset cache at tmp_path and forbid downloads.

    The files the tests write are small stand-ins, so the published checksums
    cannot match them: the checksum check is made to accept them, and any
    attempt to download fails the test.
    """
    from keras.src.backend import config
    from keras.src.utils import file_utils

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path))
    monkeypatch.setattr(file_utils, "validate_file", lambda *a, **k: True)

    def no_network(*args, **kwargs):
        raise AssertionError(f"tried to download {args[0]}")

    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def test_mnist_loader_reads_keras_cache(keras_cache):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    np.savez(
        keras_cache / "mnist.npz",
        x_train=x[:20],
        y_train=np.arange(20) % 10,
        x_test=x[20:],
        y_test=np.arange(10) % 10,
    )
    raw = load_keras_dataset("mnist")
    assert raw.x.shape == (20, 28, 28, 1) and raw.x_test.shape == (10, 28, 28, 1)
    assert np.allclose(raw.x[0, ..., 0], x[0] / 255.0)
    assert raw.y.dtype == np.int64 and raw.y.ndim == 1


def _idx(array: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.tobytes())


def test_fashion_mnist_loader_reads_keras_cache(keras_cache):
    folder = keras_cache / "fashion-mnist"
    folder.mkdir()
    x = np.random.default_rng(1).integers(0, 256, (12, 28, 28), dtype=np.uint8)
    y = (np.arange(12) % 10).astype(np.uint8)
    files = {
        "train-images-idx3-ubyte.gz": _idx(x[:8], 2051),
        "train-labels-idx1-ubyte.gz": _idx(y[:8], 2049),
        "t10k-images-idx3-ubyte.gz": _idx(x[8:], 2051),
        "t10k-labels-idx1-ubyte.gz": _idx(y[8:], 2049),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    raw = load_keras_dataset("fashion_mnist")
    assert raw.x.shape == (8, 28, 28, 1) and raw.x_test.shape == (4, 28, 28, 1)
    assert np.array_equal(raw.y, y[:8]) and np.allclose(raw.x_test[0, ..., 0], x[8] / 255.0)


@pytest.mark.slow
def test_cifar10_loader_reads_keras_cache(keras_cache):
    # Keras's reader expects 5 training batches of exactly 10,000 images; zeros compress to little.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for name, n in [*((f"data_batch_{i}", 10000) for i in range(1, 6)), ("test_batch", 7)]:
            data = np.zeros((n, 3072), dtype=np.uint8)
            data[0, :1024] = 255  # first image red
            payload = pickle.dumps(
                {b"data": data, b"labels": [i % 10 for i in range(n)]}, protocol=4
            )
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    (keras_cache / "cifar-10-batches-py-target_archive").write_bytes(buf.getvalue())
    raw = load_keras_dataset("cifar10")
    assert raw.x.shape == (50000, 32, 32, 3) and raw.x_test.shape == (7, 32, 32, 3)
    assert raw.x[0, 0, 0].tolist() == [1.0, 0.0, 0.0] and raw.y[:3].tolist() == [0, 1, 2]


def test_unknown_keras_dataset():
    with pytest.raises(ValueError, match="unknown Keras dataset"):
        load_keras_dataset("imagenet")


def test_train_dataset_fraction_keeps_a_fixed_leading_share(digits_splits):
    n = len(digits_splits.y_train)

    def labels(fraction):
        ds = digits_splits.train_dataset(50, 10_000, fraction=fraction)
        return sorted(int(y) for _, yb in ds for y in yb.numpy())

    assert len(labels(1.0)) == n
    third = labels(1 / 3)
    assert len(third) == -(-n // 3)
    assert third == labels(1 / 3)  # the same examples every time, only the order changes
    assert sorted(digits_splits.y_train[: len(third)].tolist()) == third
    assert len(labels(0.001)) == 50  # at least one batch


def test_mnist1d_is_generated_offline_once_and_read_from_the_cache(tmp_path, monkeypatch):
    import socket

    from kt_ext import data

    monkeypatch.setenv("KT_EXT_CACHE", str(tmp_path))

    def no_network(*args, **kwargs):
        raise AssertionError("MNIST-1D must not be downloaded")

    monkeypatch.setattr(socket, "create_connection", no_network)
    raw = data.load_mnist1d(num_samples=500)
    assert raw.x.shape == (400, 40) and raw.x_test.shape == (100, 40)
    assert raw.x.dtype == np.float32 and set(np.unique(raw.y)) == set(range(10))
    cached = tmp_path / data.MNIST1D_CACHE.format(seed=42, n=500)
    assert cached.is_file() and not list(tmp_path.glob(".*tmp*"))
    monkeypatch.setattr("mnist1d.data.make_dataset", no_network)  # the second call reads the file
    again = data.load_mnist1d(num_samples=500)
    assert np.array_equal(again.x, raw.x) and np.array_equal(again.y_test, raw.y_test)
    cached.write_bytes(b"damaged")  # a damaged cache is generated again
    monkeypatch.undo()
    monkeypatch.setenv("KT_EXT_CACHE", str(tmp_path))
    assert np.array_equal(data.load_mnist1d(num_samples=500).x, raw.x)


def _raw(n: int = 40, classes: int = 2, **change) -> RawData:
    x = np.random.default_rng(0).normal(size=(n, 3)).astype("float32")
    return RawData(**{"x": x, "y": np.arange(n) % classes, **change})


def _split(raw: RawData) -> Splits:
    fractions = {"val_fraction": 0.2, "test_fraction": 0.2, "subset": 1.0}
    return split(raw, seed=0, standardize=False, **fractions)


NAN = np.where(np.eye(40, 3, dtype=bool), np.nan, 0.0)
# (case, the broken data, what the one-line error says)
BROKEN = [
    ("float_labels", _raw(y=np.linspace(0, 1, 40)), "found 0.025641 (38 non-integer labels)"),
    ("nan_labels", _raw(y=np.full(40, np.nan)), "integer class ids"),
    ("string_labels", _raw(y=np.array(["a", "b"] * 20)), "found dtype <U1"),
    ("negative_labels", _raw(y=np.arange(40) % 2 - 1), "found -1"),
    ("a_class_missing", _raw(y=(np.arange(40) % 2) * 2), "class 1 has no example"),
    ("one_class", _raw(y=np.zeros(40, int)), "at least two classes"),
    ("nan_inputs", _raw(x=NAN), "holds 3 NaN or infinite values (the first in example 0)"),
    ("inf_inputs", _raw(x=np.full((40, 3), np.inf)), "NaN or infinite"),
    ("string_inputs", _raw(x=np.array([["a"] * 3] * 40)), "must be numeric"),
    ("lengths_differ", _raw(y=np.arange(39) % 2), "x has 40 examples but y has 39 labels"),
    ("test_half_given", _raw(x_test=np.zeros((4, 3))), "given together"),
    ("test_lengths_differ", _raw(x_test=np.zeros((4, 3)), y_test=np.zeros(5, int)), "x_test has 4"),
    ("test_shape_differs", _raw(x_test=np.zeros((4, 5)), y_test=np.arange(4) % 2), "shape (5,)"),
    ("empty", _raw(x=np.zeros((0, 3)), y=np.zeros(0, int)), "empty"),
    ("three_examples", _raw(n=3), "has no example in the"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "raw", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_data_is_refused_with_the_rule(case, raw, message):
    with pytest.raises(ValueError) as info:
        _split(raw)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_float_labels_that_are_exact_integers_are_class_ids():
    splits = _split(_raw(y=(np.arange(40) % 2).astype("float64")))
    assert splits.y_train.dtype == np.int64 and splits.num_classes == 2

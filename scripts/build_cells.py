"""Build ``cnncourse/data/files/cells.npz`` from the example images of the ``stardist`` wheel.

stardist (BSD-3-Clause, https://github.com/stardist/stardist) ships, in
``stardist/data/images/``, a 512x512 fluorescence image of cell nuclei from the 2018 Data
Science Bowl (``img2d.tif``) with its instance mask (``mask2d.tif``, one integer label per
nucleus), and a small H&E-stained tissue photo (``histo.jpg``). This script downloads the
pinned wheel with ``pip download --no-deps`` (stardist is never installed), checks the
SHA-256 of the wheel and of each file, reads the two TIFFs with ``tifffile`` (a
scikit-image dependency) and writes::

    image       uint8 (512, 512)   the fluorescence image (the TIFF is uint16 with values
                                   0..235, so uint8 holds it exactly)
    mask        uint8 (512, 512)   0 = background, 1..125 = nuclei; the original labels
                                   (1..183, with gaps) renumbered in increasing order
    mask_ids    uint16 (125,)      the original label of nucleus i + 1
    histo_jpeg  uint8 (35505,)     the bytes of histo.jpg, unchanged (decoded at load time)

Usage::

    python scripts/build_cells.py                  # runs `pip download stardist==0.9.2`
    python scripts/build_cells.py --wheel stardist-0.9.2-cp311-...whl
    python scripts/build_cells.py --check          # fail if the result differs from the
                                                   # SHA-256 recorded in the package
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_mnist_subset import write_npz  # noqa: E402

from cnncourse.data._bundled import FILES_DIR, SHA256, sha256_file  # noqa: E402

# The wheel is platform-specific, so its SHA-256 is pinned with its exact tags; the image
# files inside are the same in every stardist 0.9.2 wheel and are checked on their own.
PACKAGE = "stardist==0.9.2"
WHEEL_TAGS = ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
              "--platform", "manylinux_2_28_x86_64"]
WHEEL_NAME = "stardist-0.9.2-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"
WHEEL_SHA256 = "2316c0feb7bd5621e7a277cb3868df475c338943c591925c420ee3622c42f023"
FILE_SHA256 = {
    "stardist/data/images/img2d.tif":
        "f9ccc1571b92c861ff87e28463068b43f61bd47357ed0503f711e5cd1eb97750",
    "stardist/data/images/mask2d.tif":
        "59ad5e820b7982ca9d13e946fa6e7f64e2714899e00a2ae6c69aa79aad53d46f",
    "stardist/data/images/histo.jpg":
        "1b4f4cf440f22438d114ac629d102d2b403ff1d22ae8b00b1c674bfbca410a02",
}
N_NUCLEI = 125


def pip_download(spec: str, dest: Path, *extra: str) -> Path:
    """``pip download --no-deps`` one distribution into ``dest`` and return its path.

    Only the registry is contacted; nothing is installed.
    """
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    "--dest", str(dest), *extra, spec], check=True)
    (found,) = [p for p in dest.iterdir() if p.is_file()]
    return found


def check_sha256(path: Path, expected: str) -> None:
    actual = sha256_file(path)
    assert actual == expected, f"{path.name}: SHA-256 {actual}, expected {expected}"


def read_members(wheel: Path) -> dict[str, bytes]:
    """The three image files of the wheel, each checked against its SHA-256."""
    import hashlib

    members = {}
    with zipfile.ZipFile(wheel) as zf:
        for name, expected in FILE_SHA256.items():
            data = zf.read(name)
            actual = hashlib.sha256(data).hexdigest()
            assert actual == expected, f"{name}: SHA-256 {actual}, expected {expected}"
            members[name.rsplit("/", 1)[1]] = data
    return members


def build_arrays(members: dict[str, bytes]) -> dict[str, np.ndarray]:
    """Decode the TIFFs, check them, renumber the nuclei 1..N in order of their labels."""
    import tifffile

    image = tifffile.imread(io.BytesIO(members["img2d.tif"]))
    mask = tifffile.imread(io.BytesIO(members["mask2d.tif"]))
    assert image.shape == mask.shape == (512, 512), (image.shape, mask.shape)
    assert image.dtype == np.uint16 and int(image.max()) <= 255, (image.dtype, image.max())
    ids = np.unique(mask)
    ids = ids[ids > 0]
    assert len(ids) == N_NUCLEI, f"{len(ids)} nuclei, expected {N_NUCLEI}"
    lookup = np.zeros(int(mask.max()) + 1, dtype=np.uint8)
    lookup[ids] = np.arange(1, len(ids) + 1)
    renumbered = lookup[mask]
    assert np.array_equal(renumbered > 0, mask > 0)
    return {
        "image": image.astype(np.uint8),
        "mask": renumbered,
        "mask_ids": ids.astype(np.uint16),
        "histo_jpeg": np.frombuffer(members["histo.jpg"], dtype=np.uint8),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"{WHEEL_NAME} (default: pip download)")
    parser.add_argument("--out", type=Path, default=FILES_DIR / "cells.npz")
    parser.add_argument("--check", action="store_true", help="exit 1 if the SHA-256 differs")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmpdir:
        wheel = args.wheel or pip_download(PACKAGE, Path(tmpdir), "--only-binary", ":all:",
                                           *WHEEL_TAGS)
        check_sha256(wheel, WHEEL_SHA256)
        arrays = build_arrays(read_members(wheel))
    write_npz(args.out, arrays)

    sha = sha256_file(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes), "
          f"{int(arrays['mask'].max())} nuclei")
    print(f"sha256: {sha}")
    if sha != SHA256.get("cells.npz"):
        print("does NOT match the SHA-256 recorded in cnncourse/data/_bundled.py; if the "
              "change is intended, update it there and in data/README.md", file=sys.stderr)
        return 1 if args.check else 0
    print("matches the SHA-256 recorded in cnncourse/data/_bundled.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())

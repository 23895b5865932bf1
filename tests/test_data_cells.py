"""Fluorescence nuclei (stardist example data), the H&E photo, and their build script."""
from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import numpy as np
import pytest

from cnncourse.data import ChecksumError, load_cells, load_histology, nucleus_centres
from cnncourse.data._bundled import FILES_DIR, SHA256, bundled_file, sha256_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def raw():
    with np.load(FILES_DIR / "cells.npz") as npz:
        return {k: npz[k] for k in npz.files}


def test_file_matches_recorded_checksum_in_code_and_readme():
    actual = sha256_file(FILES_DIR / "cells.npz")
    assert actual == SHA256["cells.npz"]
    assert actual in (ROOT / "data" / "README.md").read_text()


def test_whole_image_has_125_nuclei_consistent_with_mask(raw):
    cells = load_cells()
    assert cells.image.shape == cells.mask.shape == (512, 512)
    assert cells.image.dtype == np.uint8 and cells.mask.dtype == np.int64
    assert np.array_equal(np.unique(cells.mask), np.arange(126))  # 0 + nuclei 1..125
    assert cells.centres.shape == (125, 2)
    assert np.array_equal(cells.mask, raw["mask"]) and np.array_equal(cells.image, raw["image"])
    # the original stardist labels, kept for reference, are distinct and increasing
    assert raw["mask_ids"].shape == (125,) and np.all(np.diff(raw["mask_ids"].astype(int)) > 0)
    # the centre of a nucleus lies on that nucleus (all but a few curved ones)
    r, c = np.rint(cells.centres).astype(int).T
    assert (cells.mask[r, c] == np.arange(1, 126)).sum() >= 120
    # nuclei are the bright parts: their mean intensity is well above the background's
    assert cells.image[cells.mask > 0].mean() > 2 * cells.image[cells.mask == 0].mean()


def test_split_halves_are_the_image_rows_and_renumber_nuclei():
    whole = load_cells()
    for split, rows in (("train", slice(0, 256)), ("test", slice(256, 512))):
        part = load_cells(split)
        assert np.array_equal(part.image, whole.image[rows])
        assert np.array_equal(part.mask > 0, whole.mask[rows] > 0)
        n = len(np.unique(whole.mask[rows])) - 1
        assert part.mask.max() == n and np.array_equal(np.unique(part.mask), np.arange(n + 1))
        assert part.centres.shape == (n, 2) and part.centres[:, 0].max() < 256
    n_train, n_test = load_cells("train").mask.max(), load_cells("test").mask.max()
    cut = set(np.unique(whole.mask[255])) & set(np.unique(whole.mask[256])) - {0}
    assert n_train + n_test == 125 + len(cut)  # a nucleus on the line counts in both halves


def test_caller_owns_the_arrays():
    cells = load_cells()
    cells.image[:] = 0
    cells.mask[:] = 0
    assert load_cells().image.max() > 0 and load_cells().mask.max() == 125


def test_nucleus_centres_formula_and_errors():
    mask = np.zeros((5, 6), int)
    mask[1:3, 1:4] = 1
    mask[4, 5] = 2
    assert nucleus_centres(mask).tolist() == [[1.5, 2.0], [4.0, 5.0]]
    assert nucleus_centres(np.zeros((3, 3), int)).shape == (0, 2)
    with pytest.raises(ValueError, match=r"every label 1..3.*missing \[2\]"):
        nucleus_centres(np.array([[1, 3]]))
    with pytest.raises(ValueError, match="2-D array of non-negative integer labels"):
        nucleus_centres(np.zeros((2, 2)))


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be one of 'all', 'train', 'test'"):
        load_cells("val")


def test_histology_photo():
    from PIL import Image

    he = load_histology()
    assert he.shape == (300, 500, 3) and he.dtype == np.uint8
    # H&E: pink-purple, so red and blue dominate green on average
    mean = he.reshape(-1, 3).mean(axis=0)
    assert mean[0] > mean[1] and mean[2] > mean[1]
    with np.load(FILES_DIR / "cells.npz") as npz:
        jpeg = npz["histo_jpeg"].tobytes()
    assert jpeg[:2] == b"\xff\xd8" and Image.open(io.BytesIO(jpeg)).size == (500, 300)


def test_load_verifies_checksum(monkeypatch, tmp_path):
    damaged = bytearray((FILES_DIR / "cells.npz").read_bytes())
    damaged[-100] ^= 0xFF
    (tmp_path / "cells.npz").write_bytes(bytes(damaged))
    monkeypatch.setattr("cnncourse.data._bundled.FILES_DIR", tmp_path)
    with pytest.raises(ChecksumError, match="scripts/build_cells.py"):
        load_cells()
    with pytest.raises(ChecksumError, match="failed its SHA-256 check"):
        load_histology()


def test_missing_file_names_the_build_script(tmp_path):
    with pytest.raises(ChecksumError, match="missing.*build_cells.py"):
        bundled_file("cells.npz", files_dir=tmp_path)


# ---------------------------------------------------------------- the build script
def _load_script():
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location("build_cells", ROOT / "scripts" / "build_cells.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_renumbers_nuclei_and_checks_the_count(monkeypatch):
    import tifffile

    script = _load_script()
    image = np.zeros((512, 512), np.uint16)
    image[10:20, 10:20] = 200
    mask = np.zeros((512, 512), np.uint16)
    for k, label in enumerate((7, 19, 183)):
        mask[100 * k:100 * k + 5, :5] = label

    def tiff(array):
        buffer = io.BytesIO()
        tifffile.imwrite(buffer, array)
        return buffer.getvalue()

    members = {"img2d.tif": tiff(image), "mask2d.tif": tiff(mask), "histo.jpg": b"\xff\xd8jpeg"}
    monkeypatch.setattr(script, "N_NUCLEI", 3)
    arrays = script.build_arrays(members)
    assert arrays["image"].dtype == np.uint8 and arrays["image"].max() == 200
    assert np.array_equal(np.unique(arrays["mask"]), [0, 1, 2, 3])
    assert arrays["mask_ids"].tolist() == [7, 19, 183]
    assert arrays["mask"][200, 0] == 3 and arrays["histo_jpeg"].tobytes() == b"\xff\xd8jpeg"
    monkeypatch.setattr(script, "N_NUCLEI", 125)
    with pytest.raises(AssertionError, match="3 nuclei, expected 125"):
        script.build_arrays(members)

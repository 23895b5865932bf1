"""Texture patches with a spatially separated split."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cnncourse.data import TEXTURE_CLASSES, load_textures
from cnncourse.data.textures import GRID, REGION, texture_regions


@pytest.mark.parametrize("patch,stride,n_train,n_test", [
    (32, None, 3 * 12 * 16, 3 * 4 * 16),
    (32, 16, 3 * 12 * 49, 3 * 4 * 49),
    (50, None, 3 * 12 * 4, 3 * 4 * 4),
    (128, None, 3 * 12, 3 * 4),
])
def test_counts_follow_the_formula(patch, stride, n_train, n_test):
    x, y = load_textures("train", patch, stride=stride)
    assert x.shape == (n_train, patch, patch) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [n_train // 3] * 3
    assert len(load_textures("test", patch, stride=stride)[1]) == n_test


def test_test_patches_never_overlap_training_patches(monkeypatch):
    """Swap each photo for a map of region numbers (pixel value = 16 * class + region
    index): a patch that stays inside one region is constant, and its value says where
    it was cut."""
    import skimage.data

    region_id = np.arange(GRID * GRID, dtype=np.uint8).reshape(GRID, GRID)
    for label, name in enumerate(TEXTURE_CLASSES):
        photo = np.kron(region_id + 16 * label, np.ones((REGION, REGION), np.uint8))
        monkeypatch.setattr(skimage.data, name, lambda photo=photo: photo)
    patch = 48  # does not divide 128: leaves gaps, still inside the regions
    seen = {}
    for split in ("train", "test"):
        x, y = load_textures(split, patch, stride=20)
        flat = x.reshape(len(x), -1)
        assert np.all(flat.min(axis=1) == flat.max(axis=1)), "a patch crosses a region border"
        values = flat[:, 0]
        assert np.array_equal(values // 16, y)
        for label in range(len(TEXTURE_CLASSES)):
            regions = np.unique(values[y == label] % 16)
            is_test = texture_regions(label).ravel()
            assert np.all(is_test[regions] == (split == "test"))
            seen[split, label] = set(regions.tolist())
    for label in range(len(TEXTURE_CLASSES)):
        assert len(seen["train", label]) == 12 and len(seen["test", label]) == 4


def test_patches_are_real_pixels_of_the_photos():
    import skimage.data

    x, y = load_textures("test", 32)
    photo = skimage.data.grass()
    # with the default stride the patches tile the regions: every test patch of grass is
    # photo[32 i : 32 i + 32, 32 j : 32 j + 32] for some i, j inside a test region
    tiles = {photo[32 * i:32 * i + 32, 32 * j:32 * j + 32].tobytes(): (i, j)
             for i in range(16) for j in range(16)}
    grass = x[y == TEXTURE_CLASSES.index("grass")]
    mask = texture_regions(TEXTURE_CLASSES.index("grass"))
    positions = [tiles[p.tobytes()] for p in grass]
    assert len(set(positions)) == len(grass) == 64
    assert all(mask[i // 4, j // 4] for i, j in positions)


def test_test_regions_one_per_row_and_column():
    for label in range(len(TEXTURE_CLASSES)):
        mask = texture_regions(label)
        assert mask.shape == (GRID, GRID)
        assert mask.sum(axis=0).tolist() == [1] * GRID and mask.sum(axis=1).tolist() == [1] * GRID


def test_classes_subset_relabels_and_torch():
    x, y = load_textures("test", classes=("gravel", "brick"), as_torch=True)
    assert x.shape == (128, 1, 32, 32) and x.dtype == torch.float32 and set(y.tolist()) == {0, 1}
    ref, ref_y = load_textures("test")
    gravel = ref[ref_y == TEXTURE_CLASSES.index("gravel")]
    got = (x[y == 0, 0] * 255).round().to(torch.uint8).numpy()
    assert sorted(map(bytes, got)) == sorted(map(bytes, gravel))


@pytest.mark.parametrize("kwargs,match", [
    ({"split": "val"}, "split must be one of 'train', 'test'"),
    ({"patch": 0}, r"patch must be an int in \[1, 128\]"),
    ({"patch": 129}, r"patch must be an int in \[1, 128\]"),
    ({"patch": 8.0}, r"patch must be an int"),
    ({"stride": 0}, r"stride must be an int in \[1, 128\]"),
    ({"classes": ("brick", "sand")}, "each of classes must be one of 'brick', 'grass', 'gravel'"),
    ({"classes": ()}, "at least one"),
    ({"classes": ("brick", "brick")}, "must not repeat"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_textures(**kwargs)

"""Texture patches (brick, grass, gravel): a stand-in for land-cover classification.

Classifying small patches cut from three texture photos is the same task as labelling the
tiles of a satellite image as built-up, vegetation or bare ground, and it runs offline.

How the split keeps train and test apart: each 512x512 photo is cut into a 4x4 grid of
128x128 *regions*. Four regions per photo, one in each row and one in each column of the
grid (a fixed, seeded pattern), are test regions; the other twelve are training regions.
Patches are cut inside one region only, so no test pixel ever appears in a training patch.
"""
from __future__ import annotations

import numpy as np

from ..shapes import conv_output_size
from ._common import check_choice, check_classes, check_int, to_torch

__all__ = ["load_textures", "texture_regions", "TEXTURE_CLASSES"]

TEXTURE_CLASSES = ("brick", "grass", "gravel")
GRID = 4  # regions per side
REGION = 128  # pixels per region side (512 / GRID)
_SEED = 0


def texture_regions(class_index: int) -> np.ndarray:
    """``(GRID, GRID)`` bool mask of the test regions of one photo (True = test).

    One test region in each row and each column: row ``r`` tests column ``perm[r]`` with
    ``perm = RandomState(seed + class_index).permutation(GRID)``.
    """
    perm = np.random.RandomState(_SEED + class_index).permutation(GRID)
    mask = np.zeros((GRID, GRID), dtype=bool)
    mask[np.arange(GRID), perm] = True
    return mask


def load_textures(split: str = "train", patch: int = 32, *, stride: int | None = None,
                  classes=TEXTURE_CLASSES, as_torch: bool = False):
    """Labelled gray texture patches with a spatially separated train/test split.

    Patch positions inside a region: ``top, left = k * stride`` for every ``k >= 0`` with
    ``k * stride + patch <= 128``, so a region gives ``P**2`` patches with
    ``P = floor((128 - patch) / stride) + 1`` (the output-size formula of a convolution,
    :func:`cnncourse.shapes.conv_output_size`); 12 training and 4 test regions per photo.

    Args:
        split: ``"train"`` or ``"test"``. Default: ``"train"``.
        patch: side of the square patches in pixels, 1 to 128. Default: 32.
        stride: step between patches; smaller than ``patch`` gives overlapping patches
            (more, correlated examples; still never crossing into a test region).
            Default: ``patch`` (non-overlapping tiles).
        classes: which photos to use, a subset of :data:`TEXTURE_CLASSES`; label ``i`` means
            ``classes[i]``. Default: all three.
        as_torch: return tensors ready for a CNN instead of NumPy arrays. Default: False.

    Shape:
        NumPy (default): images ``(N, patch, patch)`` ``uint8`` in ``0..255``; labels
        ``(N,)`` ``int64`` in ``0..len(classes)-1``. With ``as_torch=True``: images
        ``(N, 1, patch, patch)`` ``float32`` in ``[0, 1]``. With the defaults ``N`` is
        576 (train: 3 photos x 12 regions x 16 patches) or 192 (test).

    Returns:
        ``(images, labels)`` in a shuffled (mixed-class) order. Raises ``ValueError`` for an
        unknown split or class, or a patch / stride that does not fit.

    Source and licence: ``skimage.data.brick()``, ``grass()``, ``gravel()`` (bundled in the
    scikit-image wheel): brick and gravel from CC0Textures, grass from DeviantArt
    (linolafett), all CC0.

    Example:
        >>> x, y = load_textures("test", patch=32)
        >>> x.shape, x.dtype, np.bincount(y).tolist()
        ((192, 32, 32), dtype('uint8'), [64, 64, 64])
    """
    check_choice("split", split, ("train", "test"))
    why = f" (a patch must fit inside one {REGION}x{REGION} region)"
    patch = check_int("patch", patch, 1, REGION, why)
    stride = patch if stride is None else check_int("stride", stride, 1, REGION, why)
    classes = check_classes(classes, TEXTURE_CLASSES)

    import skimage.data

    # Tiling a region is a pooling window sliding over it: the same output-size formula.
    offsets = np.arange(conv_output_size(REGION, patch, stride)) * stride
    images, labels = [], []
    for label, name in enumerate(classes):
        photo = np.asarray(getattr(skimage.data, name)(), dtype=np.uint8)
        if photo.shape != (GRID * REGION, GRID * REGION):
            raise RuntimeError(f"skimage.data.{name}() is {photo.shape}; this loader expects "
                               f"a {GRID * REGION}x{GRID * REGION} gray photo")
        is_test = texture_regions(TEXTURE_CLASSES.index(name))
        for r, c in zip(*np.nonzero(is_test == (split == "test"))):
            region = photo[r * REGION:(r + 1) * REGION, c * REGION:(c + 1) * REGION]
            windows = np.lib.stride_tricks.sliding_window_view(region, (patch, patch))
            tiles = windows[offsets[:, None], offsets[None, :]].reshape(-1, patch, patch)
            images.append(tiles)
            labels.append(np.full(len(tiles), label, dtype=np.int64))
    images, labels = np.concatenate(images), np.concatenate(labels)
    order = np.random.RandomState(_SEED).permutation(len(labels))
    images, labels = np.ascontiguousarray(images[order]), labels[order]
    return to_torch(images, labels) if as_torch else (images, labels)

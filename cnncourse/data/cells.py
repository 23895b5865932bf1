"""Cell nuclei: a real fluorescence microscopy image with every nucleus outlined by hand,
and an unlabelled H&E tissue photo to see what happens on a different kind of image.

Both come from the example data of the ``stardist`` package (BSD-3-Clause), rebuilt into
``cnncourse/data/files/cells.npz`` by ``scripts/build_cells.py``. The fluorescence image
is from the 2018 Data Science Bowl (BBBC038, Caicedo et al., Nature Methods 16, 2019);
its instance mask labels each of its 125 nuclei with its own integer.

The split is spatial, because the patches cut from one image overlap: the top half
(rows 0-255) is for training, the bottom half (rows 256-511) for testing. A nucleus cut
by the line between them appears, in part, in both halves.
"""
from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np

from ._bundled import bundled_file
from ._common import check_choice

__all__ = ["load_cells", "load_histology", "nucleus_centres", "CellImage", "CELL_SPLITS"]

# split -> rows of the 512x512 image it covers
CELL_SPLITS = {"all": slice(0, 512), "train": slice(0, 256), "test": slice(256, 512)}


class CellImage(NamedTuple):
    """A fluorescence image, its instance mask and the centre of each nucleus."""

    image: np.ndarray
    """``(H, 512)`` ``uint8`` fluorescence intensity (0..235; bright = DNA stain)."""
    mask: np.ndarray
    """``(H, 512)`` ``int64``: 0 = background, ``k`` = pixel of nucleus ``k`` (1..N)."""
    centres: np.ndarray
    """``(N, 2)`` ``float64`` ``(row, col)`` centroid of nucleus ``k`` in row ``k - 1``."""


def nucleus_centres(mask) -> np.ndarray:
    """Centroid ``(row, col)`` of each labelled region of an instance mask.

    Formula: ``centre_k = mean of the (row, col) indices of the pixels with mask == k``,
    for ``k = 1..mask.max()``.

    Args:
        mask: ``(H, W)`` integer array, 0 = background, labels ``1..N`` with none missing.

    Shape:
        ``(H, W)`` -> ``(N, 2)`` ``float64`` with ``N = mask.max()``; row ``k - 1`` is
        label ``k``.

    Example:
        >>> nucleus_centres(np.array([[1, 1, 0], [0, 0, 2]])).tolist()
        [[0.0, 0.5], [1.0, 2.0]]
    """
    mask = np.asarray(mask)
    if mask.ndim != 2 or not np.issubdtype(mask.dtype, np.integer) or mask.min(initial=0) < 0:
        raise ValueError(f"mask must be a 2-D array of non-negative integer labels; got "
                         f"dtype={mask.dtype}, shape={mask.shape}")
    n = int(mask.max(initial=0))
    counts = np.bincount(mask.ravel(), minlength=n + 1)[1:]
    if np.any(counts == 0):
        missing = (np.flatnonzero(counts == 0) + 1)[:5].tolist()
        raise ValueError(f"mask must use every label 1..{n} (relabel it first, e.g. with "
                         f"skimage.segmentation.relabel_sequential); missing {missing}")
    rows, cols = np.indices(mask.shape)
    sums = np.stack([np.bincount(mask.ravel(), weights=r.ravel(), minlength=n + 1)[1:]
                     for r in (rows, cols)], axis=1)
    return sums / counts[:, None]


def load_cells(split: str = "all") -> CellImage:
    """Load the 512x512 fluorescence image of cell nuclei with its instance mask.

    In ``split="train"`` or ``"test"`` the nuclei visible in that half are renumbered
    ``1..N``, keeping the order of their labels in the whole image, so ``mask.max()`` is
    the number of nuclei (whole or cut by the border) in it.

    Args:
        split: ``"all"`` (the whole image, 125 nuclei), ``"train"`` (rows 0-255) or
            ``"test"`` (rows 256-511). Default: ``"all"``.

    Shape:
        ``image`` and ``mask`` ``(H, 512)`` with ``H = 512`` for ``"all"``, else 256;
        ``centres`` ``(N, 2)`` ``(row, col)`` inside that part, ``N = mask.max()``.

    Returns:
        A :class:`CellImage` ``(image, mask, centres)``, fresh arrays (yours to modify).
        Raises ``ValueError`` for an unknown split and
        :class:`~cnncourse.data.ChecksumError` when the bundled file is damaged.

    Source and licence: the ``stardist`` 0.9.2 example data (BSD-3-Clause), an image of
    the 2018 Data Science Bowl (BBBC038 of the Broad Bioimage Benchmark Collection,
    which lists it as CC0). See ``data/README.md``.

    Example:
        >>> cells = load_cells()
        >>> cells.image.shape, cells.image.dtype, int(cells.mask.max()), cells.centres.shape
        ((512, 512), dtype('uint8'), 125, (125, 2))
    """
    check_choice("split", split, CELL_SPLITS)
    rows = CELL_SPLITS[split]
    with np.load(bundled_file("cells.npz")) as npz:
        image, mask = npz["image"][rows], npz["mask"][rows].astype(np.int64)
    present = np.unique(mask)
    lookup = np.zeros(int(present.max()) + 1, dtype=np.int64)
    lookup[present] = np.arange(len(present))  # background (0) stays 0
    mask = lookup[mask]
    return CellImage(np.array(image), mask, nucleus_centres(mask))


def load_histology() -> np.ndarray:
    """Load a small H&E-stained tissue photo (no labels): nuclei in purple.

    Useful to see how a nucleus detector trained on fluorescence images behaves on a
    different kind of microscopy image; there is no ground truth to score it.

    Shape:
        ``(300, 500, 3)`` ``uint8`` RGB.

    Returns:
        A fresh array, decoded from the JPEG that stardist ships (by Pillow, a dependency
        of scikit-image; other JPEG decoders may differ by a grey level or so).

    Source and licence: ``stardist`` 0.9.2 (BSD-3-Clause), which describes it as an H&E
    image "from the Cancer Imaging Archive" without naming the collection, so its own
    licence is not known. See ``data/README.md``.

    Example:
        >>> load_histology().shape
        (300, 500, 3)
    """
    from PIL import Image

    with np.load(bundled_file("cells.npz")) as npz:
        jpeg = npz["histo_jpeg"].tobytes()
    with Image.open(io.BytesIO(jpeg)) as im:
        return np.array(im.convert("RGB"), dtype=np.uint8)

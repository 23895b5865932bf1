"""Labelled patches cut from one image, and detections matched to ground-truth centres.

Lesson 7 turns a labelled image (cell nuclei with an instance mask, a satellite scene with
per-pixel cloud labels) into a classification data set: a small square patch around a pixel,
labelled by what that pixel is. Sliding the classifier back over the image gives a score map
whose peaks are detections; :func:`match_centres` scores them against the true centres.

Conventions: positions are ``(row, col)`` integer pairs (row = ``y``, down; col = ``x``,
right), as NumPy indexes an image; a patch of odd ``patch_size`` is centred on its pixel, and
pixels outside the image are filled with zeros (``pad_mode="constant"``) or by mirroring.
"""
from __future__ import annotations

import numpy as np

__all__ = ["cut_patches", "patch_grid", "background_centres", "match_centres",
           "detection_scores"]


def _check_size(patch_size) -> int:
    if not (isinstance(patch_size, (int, np.integer)) and patch_size >= 1 and patch_size % 2 == 1):
        raise ValueError(f"patch_size must be an odd int >= 1 so that the patch has a centre pixel; "
                         f"got patch_size={patch_size!r}")
    return int(patch_size)


def cut_patches(image, centres, patch_size: int, pad_mode: str = "constant") -> np.ndarray:
    """Square patches of ``image`` centred on ``centres``.

    Formula: with ``h = patch_size // 2``, patch ``k`` is
    ``image[r - h : r + h + 1, c - h : c + h + 1]`` for ``(r, c) = centres[k]``; pixels
    outside the image are 0 (``pad_mode="constant"``) or mirrored (``"reflect"``).

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` array.
        centres: ``(N, 2)`` integer ``(row, col)`` positions inside the image.
        patch_size: patch side, an odd int.
        pad_mode: ``"constant"`` (zeros, default) or ``"reflect"`` (``np.pad``'s modes).

    Shape:
        ``(N, patch_size, patch_size)`` for a 2-D image, ``(N, patch_size, patch_size, C)`` for a 3-D one, of
        ``image``'s dtype.

    Example:
        >>> image = np.arange(12).reshape(3, 4)
        >>> cut_patches(image, [[0, 1]], 3)[0]
        array([[0, 0, 0],
               [0, 1, 2],
               [4, 5, 6]])
    """
    patch_size = _check_size(patch_size)
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C); got shape {image.shape}")
    centres = np.asarray(centres)
    if centres.ndim != 2 or centres.shape[1] != 2 or not np.issubdtype(centres.dtype, np.integer):
        raise ValueError(f"centres must be an (N, 2) integer array of (row, col); got "
                         f"shape {centres.shape}, dtype {centres.dtype}")
    H, W = image.shape[:2]
    rows, cols = centres[:, 0], centres[:, 1]
    if len(centres) and (rows.min() < 0 or rows.max() >= H or cols.min() < 0 or cols.max() >= W):
        raise ValueError(f"every centre must lie inside the {H}x{W} image (0 <= row < {H}, "
                         f"0 <= col < {W}); got rows {rows.min()}..{rows.max()}, "
                         f"cols {cols.min()}..{cols.max()}")
    h = patch_size // 2
    widths = [(h, h), (h, h)] + [(0, 0)] * (image.ndim - 2)
    padded = np.pad(image, widths, mode=pad_mode)
    offsets = np.arange(patch_size)
    # padded[r + i, c + j] is image[r - h + i, c - h + j]
    r_idx = rows[:, None, None] + offsets[None, :, None]
    c_idx = cols[:, None, None] + offsets[None, None, :]
    return padded[r_idx, c_idx]


def patch_grid(shape, stride: int, offset: int = 0) -> np.ndarray:
    """The ``(row, col)`` positions of a regular grid over an image, for sliding a classifier.

    Args:
        shape: ``(H, W)`` of the image.
        stride: distance between neighbouring positions, an int >= 1.
        offset: first row and column. Default: 0.

    Shape:
        ``(GH * GW, 2)`` int64 in row-major order, ``GH = len(range(offset, H, stride))``.

    Example:
        >>> patch_grid((4, 6), 3).tolist()
        [[0, 0], [0, 3], [3, 0], [3, 3]]
    """
    if not (isinstance(stride, (int, np.integer)) and stride >= 1):
        raise ValueError(f"stride must be an int >= 1; got stride={stride!r}")
    H, W = shape[:2]
    rr, cc = np.meshgrid(np.arange(offset, H, stride), np.arange(offset, W, stride), indexing="ij")
    return np.stack([rr.ravel(), cc.ravel()], axis=1).astype(np.int64)


def background_centres(mask, n: int, min_distance: float, rng) -> np.ndarray:
    """``n`` random pixels at least ``min_distance`` pixels away from every labelled pixel.

    Args:
        mask: ``(H, W)`` array, 0 = background, anything else = object.
        n: number of positions to draw (without replacement).
        min_distance: Euclidean distance to the nearest object pixel, at least.
        rng: a NumPy ``Generator``.

    Shape:
        ``(n, 2)`` int64 ``(row, col)``.

    Example:
        >>> mask = np.zeros((20, 20), int); mask[:5, :5] = 1
        >>> c = background_centres(mask, 3, 4.0, np.random.default_rng(0))
        >>> bool(np.all(np.hypot(np.maximum(c[:, 0] - 4, 0), np.maximum(c[:, 1] - 4, 0)) >= 4))
        True
    """
    from scipy.ndimage import distance_transform_edt

    distance = distance_transform_edt(np.asarray(mask) == 0)
    candidates = np.argwhere(distance >= min_distance)
    if len(candidates) < n:
        raise ValueError(f"only {len(candidates)} pixels are at least {min_distance} px from an "
                         f"object; asked for n={n}")
    return candidates[rng.choice(len(candidates), size=n, replace=False)].astype(np.int64)


def match_centres(detections, truth, max_distance: float) -> np.ndarray:
    """Match detections to true centres, one to one, greedily in the order of the detections.

    Rule: each detection in turn (put the most confident first) takes the nearest true centre
    not yet taken, if it is at most ``max_distance`` away (Euclidean, ties to the lower
    index); otherwise it is a false positive. A true centre nobody takes is a false negative.
    Then ``precision = matched / len(detections)``, ``recall = matched / len(truth)``.

    Args:
        detections: ``(D, 2)`` ``(row, col)``, most confident first.
        truth: ``(T, 2)`` ``(row, col)``.
        max_distance: largest distance of a match, in pixels (inclusive).

    Shape:
        ``(D,)`` int64: the index into ``truth`` matched by each detection, -1 for none.

    Example:
        >>> match_centres([[0, 0], [0, 1], [9, 9]], [[0, 2], [5, 5]], 2.0).tolist()
        [0, -1, -1]
    """
    detections = np.asarray(detections, dtype=np.float64).reshape(-1, 2)
    truth = np.asarray(truth, dtype=np.float64).reshape(-1, 2)
    matched = np.full(len(detections), -1, dtype=np.int64)
    if len(truth) == 0:
        return matched
    taken = np.zeros(len(truth), dtype=bool)
    for k, d in enumerate(detections):
        distance = np.hypot(*(truth - d).T)
        distance[taken] = np.inf
        best = int(np.argmin(distance))
        if distance[best] <= max_distance:
            matched[k], taken[best] = best, True
    return matched


def detection_scores(detections, truth, max_distance: float) -> dict:
    """Counts and rates of :func:`match_centres`: ``tp``, ``fp``, ``fn``, ``precision``,
    ``recall`` and ``count_error`` (``len(detections) - len(truth)``).

    Precision is 0 when there are no detections, recall 0 when there is no truth.

    Example:
        >>> s = detection_scores([[0, 0], [0, 1], [9, 9]], [[0, 2], [5, 5]], 2.0)
        >>> s["tp"], s["fp"], s["fn"], round(s["precision"], 3), s["recall"]
        (1, 2, 1, 0.333, 0.5)
    """
    matched = match_centres(detections, truth, max_distance)
    D, T = len(matched), len(np.asarray(truth).reshape(-1, 2))
    tp = int((matched >= 0).sum())
    return {"tp": tp, "fp": D - tp, "fn": T - tp, "precision": tp / D if D else 0.0,
            "recall": tp / T if T else 0.0, "count_error": D - T}

"""Detection from a classifier: sliding windows over an image pyramid, IoU, NMS, precision/recall.

A patch classifier (face / not face, nucleus / background) becomes a detector by scoring every
window of every scale of the image (the exhaustive "region proposals" that R-CNN replaced by a
few thousand smarter ones), keeping the windows that score above a threshold, and removing the
duplicates around each object with non-maximum suppression.

Box convention everywhere: ``(x0, y0, x1, y1)`` in pixels, ``x`` the column and ``y`` the row,
``x1, y1`` exclusive (a window at column ``c`` of width ``w`` is ``(c, r, c + w, r + h)``),
the convention of ``torchvision.ops.box_iou`` / ``nms`` and of :mod:`cnncourse.data.face_photos`.
"""
from __future__ import annotations

import numpy as np

__all__ = ["box_area", "box_iou", "nms", "image_pyramid", "sliding_windows", "detect",
           "match_detections"]


def _boxes(boxes, name: str) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) if np.size(boxes) else np.zeros((0, 4))
    if np.any(b[:, 2] < b[:, 0]) or np.any(b[:, 3] < b[:, 1]):
        raise ValueError(f"{name} must be (x0, y0, x1, y1) with x1 >= x0 and y1 >= y0; got "
                         f"{b[(b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1])][0].tolist()} (x and y swapped, "
                         f"or (x, y, w, h) boxes?)")
    return b


def box_area(boxes) -> np.ndarray:
    """Area of each box: ``(x1 - x0) * (y1 - y0)``. Shape: ``(n, 4) -> (n,)``."""
    b = _boxes(boxes, "boxes")
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def box_iou(boxes_a, boxes_b) -> np.ndarray:
    """Intersection over union of every pair of boxes.

    Formula::

        inter = max(0, min(x1a, x1b) - max(x0a, x0b)) * max(0, min(y1a, y1b) - max(y0a, y0b))
        iou   = inter / (area_a + area_b - inter)

    Args:
        boxes_a: ``(n, 4)``; boxes_b: ``(m, 4)``, both ``(x0, y0, x1, y1)``.

    Shape:
        ``(n, m)``; 0 where a union is empty.

    Example:
        >>> box_iou([[0, 0, 2, 2]], [[1, 0, 3, 2], [5, 5, 6, 6]]).round(3).tolist()
        [[0.333, 0.0]]
    """
    a, b = _boxes(boxes_a, "boxes_a"), _boxes(boxes_b, "boxes_b")
    w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = w * h
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes, scores, iou_threshold: float) -> np.ndarray:
    """Non-maximum suppression: keep the best box, drop the boxes overlapping it, repeat.

    Visit the boxes by decreasing score; keep a box unless its IoU with an already kept box is
    greater than ``iou_threshold``. Ties in score keep the earlier box (a stable sort), as
    ``torchvision.ops.nms`` does on the CPU.

    Args:
        boxes: ``(n, 4)`` ``(x0, y0, x1, y1)``; scores: ``(n,)``.
        iou_threshold: boxes with IoU ``> iou_threshold`` with a kept box are dropped (0.3-0.5 usual).

    Shape:
        ``(k,)`` int64 indices into ``boxes``, by decreasing score.

    Example:
        >>> nms([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], [0.8, 0.9, 0.5], 0.5).tolist()
        [1, 2]
    """
    b = _boxes(boxes, "boxes")
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(s) != len(b):
        raise ValueError(f"{len(b)} boxes but {len(s)} scores: one score per box")
    if not 0 <= iou_threshold <= 1:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    order = np.argsort(-s, kind="stable")
    iou = box_iou(b, b)
    keep: list[int] = []
    suppressed = np.zeros(len(b), dtype=bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        suppressed |= iou[i] > iou_threshold
    return np.array(keep, dtype=np.int64)


def image_pyramid(image, scales):
    """The image resized by each factor in ``scales`` (anti-aliased when shrinking).

    Args:
        image: ``(H, W)`` array. scales: factors, e.g. ``(1.0, 0.75, 0.5)``; a window of size
            ``w`` at scale ``s`` covers ``w / s`` pixels of the original image.

    Returns:
        List of ``(scale, resized)`` pairs; ``resized`` has shape ``(round(H*s), round(W*s))``.
    """
    from skimage.transform import rescale

    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"image must be (H, W) gray, got shape {image.shape}")
    out = []
    for s in scales:
        if s <= 0:
            raise ValueError(f"scales must be positive, got {s}")
        out.append((float(s), image if s == 1 else rescale(image, s, anti_aliasing=s < 1, order=1)))
    return out


def sliding_windows(image, window: int, stride: int):
    """Every ``window x window`` patch of ``image`` whose top-left corner is on a ``stride`` grid.

    Shape:
        patches ``(n, window, window)`` and boxes ``(n, 4)`` ``(x0, y0, x0 + window, y0 + window)``,
        ``n = (floor((H - window) / stride) + 1) * (floor((W - window) / stride) + 1)``
        (0 when the image is smaller than the window).

    Example:
        >>> patches, boxes = sliding_windows(np.arange(16.).reshape(4, 4), 2, 2)
        >>> patches.shape, boxes[1].tolist()
        ((4, 2, 2), [2, 0, 4, 2])
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be (H, W), got shape {image.shape}")
    if window < 1 or stride < 1:
        raise ValueError(f"window and stride must be >= 1, got window={window}, stride={stride}")
    H, W = image.shape
    if H < window or W < window:
        return np.zeros((0, window, window), image.dtype), np.zeros((0, 4), np.int64)
    views = np.lib.stride_tricks.sliding_window_view(image, (window, window))[::stride, ::stride]
    rows, cols = views.shape[:2]
    y0, x0 = np.meshgrid(np.arange(rows) * stride, np.arange(cols) * stride, indexing="ij")
    boxes = np.stack([x0.ravel(), y0.ravel(), x0.ravel() + window, y0.ravel() + window], 1)
    return views.reshape(-1, window, window).copy(), boxes.astype(np.int64)


def detect(image, score_fn, window: int, stride: int, scales=(1.0,), threshold: float = 0.5,
           iou_threshold: float | None = 0.3):
    """Slide a patch classifier over an image pyramid; keep windows above ``threshold``; NMS.

    Args:
        image: ``(H, W)`` gray image.
        score_fn: maps patches ``(n, window, window)`` to ``n`` scores (e.g. face probabilities).
        window, stride: patch size and step in pixels of each resized image.
        scales: resize factors (``< 1`` finds objects larger than the window).
        threshold: minimum score kept. iou_threshold: NMS threshold; ``None`` skips NMS.

    Returns:
        ``(boxes, scores)``: ``(k, 4)`` float boxes in ORIGINAL image pixels (divided by the scale),
        ``(k,)`` scores, by decreasing score.
    """
    all_boxes, all_scores = [], []
    for s, resized in image_pyramid(image, scales):
        patches, boxes = sliding_windows(resized, window, stride)
        if len(patches) == 0:
            continue
        sc = np.asarray(score_fn(patches), dtype=np.float64).reshape(-1)
        if len(sc) != len(patches):
            raise ValueError(f"score_fn returned {len(sc)} scores for {len(patches)} patches")
        keep = sc >= threshold
        all_boxes.append(boxes[keep] / s)
        all_scores.append(sc[keep])
    boxes = np.concatenate(all_boxes) if all_boxes else np.zeros((0, 4))
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
    order = nms(boxes, scores, iou_threshold) if iou_threshold is not None else np.argsort(-scores, kind="stable")
    return boxes[order], scores[order]


def match_detections(boxes, scores, gt_boxes, iou_threshold: float = 0.5) -> dict:
    """Count true/false positives against ground-truth boxes; precision and recall.

    Detections are visited by decreasing score; each is a true positive if its best-overlapping
    ground-truth box not yet matched has IoU ``>= iou_threshold`` (each ground-truth box counts
    once), else a false positive (a duplicate on an already found object is a false positive).

    Returns:
        ``{"tp", "fp", "fn", "precision", "recall"}``; precision is ``tp / (tp + fp)`` (1.0 with
        no detections), recall ``tp / (tp + fn)`` (1.0 with no ground truth).

    Example:
        >>> match_detections([[0, 0, 10, 10], [0, 0, 9, 10], [50, 50, 60, 60]], [0.9, 0.8, 0.7],
        ...                  [[1, 0, 11, 10]])
        {'tp': 1, 'fp': 2, 'fn': 0, 'precision': 0.3333333333333333, 'recall': 1.0}
    """
    b, g = _boxes(boxes, "boxes"), _boxes(gt_boxes, "gt_boxes")
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(s) != len(b):
        raise ValueError(f"{len(b)} boxes but {len(s)} scores: one score per box")
    iou = box_iou(b, g)
    matched = np.zeros(len(g), dtype=bool)
    tp = 0
    for i in np.argsort(-s, kind="stable"):
        if len(g) == 0:
            break
        cand = np.where(matched, -1.0, iou[i])
        j = int(np.argmax(cand))
        if cand[j] >= iou_threshold:
            matched[j] = True
            tp += 1
    fp, fn = len(b) - tp, len(g) - tp
    return {"tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0}

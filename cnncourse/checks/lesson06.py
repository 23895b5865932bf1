"""Checks for lesson 06 (faces and handwritten documents): the predictions ``q06_windows`` and
``q06_amount_wrong``, and the exercises ``nms``, ``read_number`` and ``grad_cam_map``.

The trusted references are :func:`cnncourse.detection.nms` (boxes ``(x0, y0, x1, y1)``; a box is
dropped when its IoU with a kept box is greater than the threshold; ties in score keep the
earlier box) and :func:`cnncourse.explain.grad_cam_from_maps`.
"""
from __future__ import annotations

import numpy as np

from ..detection import nms as _nms
from ..detection import sliding_windows
from ..explain import grad_cam_from_maps
from .core import Exercise, Variant, make_case, register, seeded_rng, when
from .predictions import Prediction, wrong_answer

__all__ = ["Q06_WINDOWS", "Q06_AMOUNT_WRONG", "NMS", "READ_NUMBER", "GRAD_CAM_MAP"]

LESSON = "06_faces_and_documents"

# ---------------------------------------------------------------- predictions
Q06_WINDOWS = register(Prediction(
    "q06_windows", LESSON,
    "How many 25×25 windows does a stride of 5 give on a 100×100 image?",
    lambda: len(sliding_windows(np.zeros((100, 100)), 25, 5)[1]),
    "a window fits at floor((100 - 25) / 5) + 1 = 16 positions along each axis: 16 × 16 = 256.",
    wrong=[
        wrong_answer("one_per_stride", "one window per stride step, as if windows could hang over the edge",
                     400, "A window must fit inside the image: (100 - 25) / 5 + 1 positions per axis."),
        wrong_answer("not_overlapping", "the windows are taken not to overlap", 16,
                     "With stride 5 < 25 the windows overlap; count the positions of the corner."),
    ]))

Q06_AMOUNT_WRONG = register(Prediction(
    "q06_amount_wrong", LESSON,
    "Each digit is read correctly with probability 0.95, independently. In percent (an int, "
    "rounded), how often is a 5-digit amount read wrong?",
    lambda: int(round(100 * (1 - 0.95 ** 5))),
    "the amount is right only if all 5 digits are: 0.95**5 = 0.774, so it is wrong 22.6% of "
    "the time — errors compound.",
    wrong=[
        wrong_answer("per_digit_rate", "the per-digit error rate is taken for the amount's", 5,
                     "One wrong digit is enough to make the amount wrong."),
        wrong_answer("rates_added", "the five error rates are added", 25,
                     "Adding 5 × 5% overcounts amounts with two wrong digits: use 1 - 0.95**5."),
    ]))


# ---------------------------------------------------------------- nms
def _iou_matrix(b, mode="right"):
    """IoU of every pair of boxes, computed right or in one of the usual wrong ways."""
    w = np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0])
    h = np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1])
    if mode != "unclipped":
        w, h = np.clip(w, 0, None), np.clip(h, 0, None)
    inter = w * h
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area[:, None] + area[None, :] - (0 if mode == "union_not_subtracted" else inter)
    return inter / union


def _greedy(case, order, mode="right"):
    b = np.asarray(case.boxes, dtype=np.float64)
    iou = _iou_matrix(b, mode)
    keep = []
    for i in order:
        if all(iou[i, k] <= case.iou_threshold for k in keep):
            keep.append(int(i))
    return np.array(keep, dtype=np.int64)


def _by_score(case):
    return np.argsort(-np.asarray(case.scores), kind="stable")


def _nms_cases(hidden):
    rng = seeded_rng("nms", hidden)
    cases = [
        make_case("two overlapping boxes, the second scores higher",
                  np.array([[0., 0, 10, 10], [1, 1, 11, 11]]), np.array([0.6, 0.9]), 0.5),
        make_case("three boxes, one apart; unsorted scores",
                  np.array([[0., 0, 10, 10], [20, 20, 30, 30], [2, 0, 12, 10]]),
                  np.array([0.7, 0.5, 0.8]), 0.3),
        make_case("boxes apart along both axes (a negative width times a negative height)",
                  np.array([[0., 0, 4, 4], [6, 6, 10, 10], [5, 5, 9, 9]]), np.array([0.9, 0.8, 0.7]), 0.1),
        make_case("half-overlapping boxes, threshold 0.5 (IoU 1/3 keeps both)",
                  np.array([[0., 0, 4, 4], [2, 0, 6, 4]]), np.array([0.4, 0.9]), 0.5),
    ]
    for k in range(6 if not hidden else 12):
        n = int(rng.integers(4, 9))
        xy = rng.integers(0, 20, size=(n, 2)).astype(np.float64)
        wh = rng.integers(3, 12, size=(n, 2)).astype(np.float64)
        thr = float(rng.choice([0.2, 0.3, 0.5]))
        cases.append(make_case(f"random: {n} boxes, threshold {thr}", np.concatenate([xy, xy + wh], 1),
                               np.round(rng.uniform(0.05, 1.0, n), 2), thr))
    return cases


_SORT_HINT = ("visit the boxes from the highest score to the lowest: "
              "order = np.argsort(-scores) (or scores.argsort()[::-1]); a kept box then suppresses "
              "only boxes that score less than it.")
_IOU_HINT = ("IoU = intersection / union with union = area_a + area_b - intersection; the "
             "intersection's width is max(0, min(x1a, x1b) - max(x0a, x0b)) and the same for its height.")

NMS = register(Exercise(
    "nms", LESSON, "nms", 2,
    signature="boxes, scores, iou_threshold",
    make_cases=_nms_cases,
    reference=lambda c: _nms(c.boxes, c.scores, c.iou_threshold),
    variants=[
        Variant("iou_wrong", "the union counts the intersection twice (area_a + area_b)", _IOU_HINT,
                lambda c: _greedy(c, _by_score(c), "union_not_subtracted")),
        Variant("iou_wrong", "the intersection's width and height are not clipped at 0", _IOU_HINT,
                lambda c: _greedy(c, _by_score(c), "unclipped")),
        Variant("not_sorted_by_score", "the boxes are visited in their given order, not by score",
                _SORT_HINT, lambda c: _greedy(c, range(len(c.scores)))),
        Variant("not_sorted_by_score", "the boxes are visited from the lowest score up", _SORT_HINT,
                lambda c: _greedy(c, _by_score(c)[::-1])),
        Variant("indices_sorted", "the kept indices come back in increasing index order, not by score",
                "return the kept indices in the order they were kept (decreasing score), as "
                "torchvision.ops.nms does; do not sort them.",
                lambda c: np.sort(_nms(c.boxes, c.scores, c.iou_threshold))),
    ],
    hints={"wrong_dtype": "return integer indices: np.array(keep, dtype=np.int64)."},
))


# ---------------------------------------------------------------- read_number
def _number(digits, order) -> int:
    return int("".join(str(int(digits[i])) for i in order))


def _read_cases(hidden):
    rng = seeded_rng("read_number", hidden)
    cases = []
    for k in range(6 if not hidden else 12):
        n = int(rng.integers(2, 7)) if k else 3
        digits = rng.integers(0, 10, size=n)
        digits[0] = rng.integers(1, 10)
        x0 = np.cumsum(rng.integers(14, 22, size=n)) - 10
        y0 = rng.integers(0, 6, size=n)
        boxes = np.stack([x0, y0, x0 + rng.integers(8, 14, size=n), y0 + 20 + rng.integers(0, 4, size=n)], 1)
        perm = rng.permutation(n) if k else np.array([2, 0, 1])
        while n > 1 and (perm == np.arange(n)).all():
            perm = rng.permutation(n)
        cases.append(make_case(f"{n} digits, boxes in scrambled order", boxes[perm].astype(np.int64),
                               digits[perm].astype(np.int64)))
    return cases


READ_NUMBER = register(Exercise(
    "read_number", LESSON, "read_number", 1,
    signature="boxes, digits",
    make_cases=_read_cases,
    reference=lambda c: _number(c.digits, np.argsort(c.boxes[:, 0], kind="stable")),
    output_kind="int",
    variants=[
        Variant("not_left_to_right", "the digits are read in the order the boxes were found",
                "connected components come out in scan order (top to bottom), not left to right: "
                "sort by the left edge, order = np.argsort(boxes[:, 0]).",
                lambda c: _number(c.digits, range(len(c.digits)))),
        Variant("sorted_by_row", "the boxes are sorted by their top edge (y0), not their left edge (x0)",
                "a box is (x0, y0, x1, y1): x0 = boxes[:, 0] is the column of the left edge.",
                lambda c: _number(c.digits, np.argsort(c.boxes[:, 1], kind="stable"))),
        Variant("right_to_left", "the digits are read right to left",
                "the first digit of the number is the leftmost: sort by x0 increasing.",
                lambda c: _number(c.digits, np.argsort(c.boxes[:, 0], kind="stable")[::-1])),
    ],
))


# ---------------------------------------------------------------- grad_cam_map
def _cam_cases(hidden):
    rng = seeded_rng("grad_cam_map", hidden)
    cases = [make_case("1 image, 2 maps of 2×3", rng.normal(size=(1, 2, 2, 3)).round(1),
                       rng.normal(size=(1, 2, 2, 3)).round(1))]
    for k in range(5 if not hidden else 10):
        N, K = int(rng.integers(1, 3)), int(rng.integers(2, 5))
        h, w = int(rng.integers(2, 5)), int(rng.integers(2, 6))
        maps = np.maximum(rng.normal(size=(N, K, h, w)), 0).round(2)      # after a ReLU
        cases.append(make_case(f"random: {N} image(s), {K} maps of {h}×{w}", maps,
                               rng.normal(size=(N, K, h, w)).round(2)))
    return cases


def _cam(c, weights=None, relu="end"):
    alpha = c.grads.mean(axis=(2, 3)) if weights is None else weights
    terms = alpha[:, :, None, None] * c.maps
    if relu == "each":
        return np.maximum(terms, 0).sum(1)
    cam = terms.sum(1)
    return np.maximum(cam, 0) if relu == "end" else cam


_MEAN_HINT = ("alpha[n, k] is the gradient averaged over the positions of map k: "
              "grads.mean(axis=(2, 3)), one weight per image and map.")

GRAD_CAM_MAP = register(Exercise(
    "grad_cam_map", LESSON, "grad_cam_map", 2,
    signature="maps, grads",
    make_cases=_cam_cases,
    reference=lambda c: grad_cam_from_maps(c.maps, c.grads),
    variants=[
        Variant("relu_not_at_end", "no ReLU: negative evidence is kept",
                "Grad-CAM keeps what speaks for the class: np.maximum(sum_k alpha_k * A_k, 0).",
                lambda c: _cam(c, relu="none")),
        Variant("relu_not_at_end", "the ReLU is applied to each weighted map before the sum",
                "sum the weighted maps first, then take the ReLU of the sum: a map with a negative "
                "weight must be able to cancel another.", lambda c: _cam(c, relu="each")),
        Variant("gradients_summed", "the gradients are summed over the positions, not averaged",
                _MEAN_HINT, lambda c: _cam(c, weights=c.grads.sum(axis=(2, 3)))),
        Variant("averaged_over_channels", "the gradients are averaged over the maps (axis 1), not the positions",
                _MEAN_HINT, lambda c: np.maximum((c.grads.mean(axis=1, keepdims=True) * c.maps).sum(1), 0)),
        Variant("gradient_not_averaged", "each position is weighted by its own gradient (no average)",
                _MEAN_HINT, lambda c: np.maximum((c.grads * c.maps).sum(1), 0)),
    ],
))

"""Tests of cnncourse.checks.lesson06: every diagnosis of ``nms``, ``read_number`` and
``grad_cam_map`` is triggered by a learner-style wrong implementation; correct ones pass."""
from __future__ import annotations

import numpy as np

from _checks import assert_diagnosis, lesson_tests

LESSON = "06_faces_and_documents"


def iou_impl(a, b, mistake=None):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if mistake != "iou_unclipped":
        w, h = max(w, 0), max(h, 0)
    inter = w * h
    area_a, area_b = (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])
    if mistake == "iou_wrong":
        return inter / (area_a + area_b)
    return inter / (area_a + area_b - inter)


def nms_impl(mistake=None):
    def nms(boxes, scores, iou_threshold):
        if mistake == "not_sorted_by_score":
            order = list(range(len(scores)))
        else:
            order = sorted(range(len(scores)), key=lambda i: -scores[i])
        keep = []
        for i in order:
            if all(iou_impl(boxes[i], boxes[k], mistake) <= iou_threshold for k in keep):
                keep.append(i)
        if mistake == "indices_sorted":
            keep.sort()
        return np.array(keep, dtype=np.float64 if mistake == "wrong_dtype" else np.int64)
    return nms


def nms_vectorised(boxes, scores, iou_threshold):
    order = np.argsort(-scores, kind="stable")
    keep = []
    while len(order):
        i, order = order[0], order[1:]
        keep.append(i)
        w = np.clip(np.minimum(boxes[i, 2], boxes[order, 2]) - np.maximum(boxes[i, 0], boxes[order, 0]), 0, None)
        h = np.clip(np.minimum(boxes[i, 3], boxes[order, 3]) - np.maximum(boxes[i, 1], boxes[order, 1]), 0, None)
        area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
        iou = w * h / (area(boxes[i]) + area(boxes[order]) - w * h)
        order = order[iou <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def read_impl(mistake=None):
    def read_number(boxes, digits):
        pairs = list(zip(boxes.tolist(), digits.tolist()))
        if mistake == "sorted_by_row":
            pairs.sort(key=lambda p: p[0][1])
        elif mistake == "right_to_left":
            pairs.sort(key=lambda p: -p[0][0])
        elif mistake != "not_left_to_right":
            pairs.sort(key=lambda p: p[0][0])
        number = 0
        for _, d in pairs:
            number = 10 * number + d
        return number
    return read_number


def cam_impl(mistake=None):
    def grad_cam_map(maps, grads):
        N, K, h, w = maps.shape
        out = np.zeros((N, h, w))
        for n in range(N):
            for k in range(K):
                if mistake == "gradients_summed":
                    alpha = grads[n, k].sum()
                elif mistake == "averaged_over_channels":
                    alpha = grads[n].mean(axis=0)
                elif mistake == "gradient_not_averaged":
                    alpha = grads[n, k]
                else:
                    alpha = grads[n, k].mean()
                term = alpha * maps[n, k]
                out[n] += np.maximum(term, 0) if mistake == "relu_each" else term
        return out if mistake in ("relu_not_at_end", "relu_each") else np.maximum(out, 0)
    return grad_cam_map


WRONG = {
    "nms": {"iou_wrong": nms_impl("iou_wrong"),
            "not_sorted_by_score": nms_impl("not_sorted_by_score"),
            "indices_sorted": nms_impl("indices_sorted"),
            "wrong_dtype": nms_impl("wrong_dtype")},
    "read_number": {k: read_impl(k) for k in ("not_left_to_right", "sorted_by_row", "right_to_left")},
    "grad_cam_map": {"relu_not_at_end": cam_impl("relu_not_at_end"),
                     **{k: cam_impl(k) for k in ("gradients_summed", "averaged_over_channels",
                                                 "gradient_not_averaged")}},
}
CORRECT = {
    "nms": [nms_impl(), nms_vectorised],
    "read_number": [read_impl(), lambda boxes, digits: int("".join(map(str, digits[np.argsort(boxes[:, 0])])))],
    "grad_cam_map": [cam_impl(), lambda maps, grads: np.maximum(
        np.einsum("nk,nkhw->nhw", grads.mean(axis=(2, 3)), maps), 0)],
}

(test_wrong_implementation_gets_its_diagnosis, test_correct_implementations_pass,
 test_every_exercise_and_diagnosis_is_tested) = lesson_tests(LESSON, WRONG, CORRECT)


def test_second_variants_get_the_same_diagnosis():
    assert_diagnosis("nms", nms_impl("iou_unclipped"), "iou_wrong")
    assert_diagnosis("grad_cam_map", cam_impl("relu_each"), "relu_not_at_end")

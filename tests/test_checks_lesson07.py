"""Tests of cnncourse.checks.lesson07: every diagnosis of ``cut_patches``, ``count_matches`` and
``qa_bits`` is triggered by a learner-style wrong implementation; correct ones pass."""
from __future__ import annotations

import numpy as np

from _checks import lesson_tests

LESSON = "07_cells_and_satellites"


# ------------------------------------------------------------------ cut_patches
def cut_patches_impl(mistake=None):
    def cut_patches(image, centres, patch_size):
        h = (patch_size + 1) // 2 if mistake == "centre_off_by_one" else patch_size // 2
        H, W = image.shape
        mode = {"border_not_zero": "edge"}.get(mistake, "constant")
        padded = np.pad(image, patch_size // 2, mode=mode)
        side = patch_size - 1 if mistake == "window_one_short" else patch_size
        out = np.zeros((len(centres), side, side),
                       dtype=None if mistake == "wrong_dtype" else image.dtype)
        for k, (r, c) in enumerate(centres):
            if mistake == "xy_swapped":
                r, c = c, r
            if mistake == "padding_offset_forgotten":
                out[k] = padded[r - h:r + h + 1, c - h:c + h + 1]
            elif mistake == "border_clipped":
                top = min(max(r - h, 0), H - patch_size)
                left = min(max(c - h, 0), W - patch_size)
                out[k] = image[top:top + patch_size, left:left + patch_size]
            elif mistake == "xy_swapped":
                for i in range(patch_size):
                    for j in range(patch_size):
                        y, x = r - h + i, c - h + j
                        if 0 <= y < H and 0 <= x < W:
                            out[k, i, j] = image[y, x]
            elif mistake == "wrong_shape":
                return out[0]
            else:
                shift = patch_size // 2 - h   # -1 when the centre is off by one
                out[k] = padded[r + shift:r + shift + side, c + shift:c + shift + side] \
                    if r + shift >= 0 and c + shift >= 0 else _shifted(padded, r + shift, c + shift, side)
        return out
    return cut_patches


def _shifted(padded, top, left, side):
    window = np.zeros((side, side), dtype=padded.dtype)
    for i in range(side):
        for j in range(side):
            if 0 <= top + i < padded.shape[0] and 0 <= left + j < padded.shape[1]:
                window[i, j] = padded[top + i, left + j]
    return window


def cut_patches_fancy(image, centres, patch_size):
    """Correct, vectorised: index arrays into the zero-padded image."""
    h = patch_size // 2
    padded = np.pad(image, h)
    offs = np.arange(patch_size)
    return padded[centres[:, :1, None] + offs[:, None], centres[:, 1:, None] + offs[None, :]]


def cut_patches_loop(image, centres, patch_size):
    """Correct, pixel by pixel without padding."""
    h = patch_size // 2
    out = np.zeros((len(centres), patch_size, patch_size), dtype=image.dtype)
    for k, (r, c) in enumerate(centres):
        for i in range(patch_size):
            for j in range(patch_size):
                y, x = r - h + i, c - h + j
                if 0 <= y < image.shape[0] and 0 <= x < image.shape[1]:
                    out[k, i, j] = image[y, x]
    return out


# ------------------------------------------------------------------ count_matches
def count_matches_impl(mistake=None):
    def count_matches(detections, truth, max_distance):
        taken = [False] * len(truth)
        tp = 0
        for d in detections:
            best, best_distance = None, None
            for t, centre in enumerate(truth):
                if taken[t] and mistake != "nucleus_matched_twice":
                    continue
                squared = (d[0] - centre[0]) ** 2 + (d[1] - centre[1]) ** 2
                distance = squared if mistake == "squared_distance" else squared ** 0.5
                close = distance < max_distance if mistake == "distance_strict" \
                    else distance <= max_distance
                if close and (best is None or distance < best_distance):
                    best, best_distance = t, distance
            if best is not None:
                taken[best] = True
                tp += 1
        fp = len(detections) - tp
        fn = len(truth) - (sum(taken) if mistake == "nucleus_matched_twice" else tp)
        if mistake == "fp_fn_swapped":
            return tp, fn, fp
        if mistake == "raised":
            return {"tp": tp, "fp": fp, "fn": fn}["precision"]
        return tp, fp, fn
    return count_matches


def count_matches_vectorised(detections, truth, max_distance):
    """Correct: a distance matrix, greedy by rows."""
    d = np.sqrt(((detections[:, None, :] - truth[None, :, :]) ** 2).sum(-1))
    tp = 0
    for row in d:
        if row.min() <= max_distance:
            d[:, int(np.argmin(row))] = np.inf
            tp += 1
    return tp, len(detections) - tp, len(truth) - tp


# ------------------------------------------------------------------ qa_bits
def qa_bits_impl(mistake=None):
    def qa_bits(qa, first_bit, n_bits):
        mask = (1 << n_bits) - 1
        if mistake == "bits_counted_from_the_left":
            return (qa >> (16 - first_bit - n_bits)) & mask
        if mistake == "mask_not_applied":
            return qa >> first_bit
        if mistake == "not_shifted_down":
            return qa & (mask << first_bit)
        if mistake == "mask_is_n_bits":
            return (qa >> first_bit) & n_bits
        if mistake == "shift_off_by_one":
            return (qa >> (first_bit + 1)) & mask
        if mistake == "wrong_dtype":
            return ((qa.astype(np.int64) >> first_bit) & mask)
        if mistake == "field_bits_reversed":
            out = np.zeros_like(qa)
            for b in range(n_bits):          # bit first_bit + b read as the b-th from the top
                out = out * 2 + ((qa >> (first_bit + b)) & 1)
            return out
        return (qa >> first_bit) & mask
    return qa_bits


def qa_bits_by_division(qa, first_bit, n_bits):
    """Correct: integer division and remainder instead of bit operations."""
    return ((qa // (2 ** first_bit)) % (2 ** n_bits)).astype(qa.dtype)


WRONG = {
    "cut_patches": {k: cut_patches_impl(k) for k in (
        "xy_swapped", "window_one_short", "centre_off_by_one", "padding_offset_forgotten",
        "border_not_zero", "border_clipped", "wrong_dtype", "wrong_shape")},
    "count_matches": {k: count_matches_impl(k) for k in (
        "fp_fn_swapped", "nucleus_matched_twice", "distance_strict", "squared_distance",
        "raised")},
    "qa_bits": {k: qa_bits_impl(k) for k in (
        "bits_counted_from_the_left", "field_bits_reversed", "mask_not_applied", "not_shifted_down",
        "mask_is_n_bits", "shift_off_by_one", "wrong_dtype")},
}

CORRECT = {
    "cut_patches": [cut_patches_impl(), cut_patches_fancy, cut_patches_loop],
    "count_matches": [count_matches_impl(), count_matches_vectorised],
    "qa_bits": [qa_bits_impl(), qa_bits_by_division],
}

(test_wrong_implementation_gets_its_diagnosis, test_correct_implementations_pass,
 test_every_exercise_and_diagnosis_is_tested) = lesson_tests(LESSON, WRONG, CORRECT)


def test_the_predictions_answer_and_name_their_wrong_answers():
    from cnncourse.checks import check_prediction

    assert check_prediction("q07_patch_shape", (100, 9, 9, 6)).passed
    assert check_prediction("q07_patch_shape", (100, 6, 9, 9)).diagnosis == "channels_first"
    assert check_prediction("q07_recall", 0.75).passed
    assert check_prediction("q07_recall", 0.83).diagnosis == "precision_recall_swapped"
    assert check_prediction("q07_recall", 0.9).diagnosis == "count_ratio"

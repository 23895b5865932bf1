"""Tests of cnncourse.checks.lesson01: every diagnosis of ``normalize``, ``to_channels_first`` and
``downsample`` is triggered by a learner-style wrong implementation; correct ones pass."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import pytest

from _checks import assert_diagnosis, lesson_tests

LESSON = "01_pixels_as_matrices"


def normalize_impl(mistake=None):
    def normalize(img):
        if mistake == "not_scaled":
            return img.astype(np.float32)
        if mistake == "scaled_by_max":
            return img.astype(np.float32) / img.max()
        if mistake == "wrong_dtype":
            return img // 255
        if mistake == "float64":
            return img / 255
        out = img.astype(np.float32) / 255
        if mistake == "input_modified":
            img[...] = 0
        return out
    return normalize


def channels_impl(mistake=None):
    def to_channels_first(img):
        H, W, C = img.shape
        if mistake == "reshape_not_transpose":
            return img.reshape(C, H, W)
        if mistake == "h_w_swapped":
            return img.T
        if mistake == "channels_last_unchanged":
            return img
        out = np.empty((C, H, W), dtype=img.dtype)
        for k in range(C):
            out[k] = img[:, :, k]
        return out
    return to_channels_first


def downsample_impl(mistake=None):
    def downsample(img, factor):
        f = factor
        if mistake == "subsampled":
            return img[::f, ::f][:img.shape[0] // f, :img.shape[1] // f].copy()
        OH, OW = img.shape[0] // f, img.shape[1] // f
        if mistake == "remainder_not_dropped":
            OH, OW = -(-img.shape[0] // f), -(-img.shape[1] // f)
        if mistake == "output_size_off_by_one":
            OH, OW = OH - 1, OW - 1
        out = np.zeros((OH, OW))
        for i in range(OH):
            for j in range(OW):
                block = img[i * f:(i + 1) * f, j * f:(j + 1) * f]
                out[i, j] = block.sum() if mistake == "sum_not_mean" else (
                    block.mean() if block.size else 0.0)
        return out
    return downsample


WRONG = {
    "normalize": {k: normalize_impl(k) for k in (
        "not_scaled", "scaled_by_max", "wrong_dtype", "input_modified")},
    "to_channels_first": {k: channels_impl(k) for k in (
        "reshape_not_transpose", "h_w_swapped", "channels_last_unchanged")},
    "downsample": {k: downsample_impl(k) for k in (
        "subsampled", "sum_not_mean", "remainder_not_dropped", "output_size_off_by_one")},
}


def test_another_way_to_make_the_mistake():
    assert_diagnosis("normalize", normalize_impl("float64"), "wrong_dtype")


CORRECT = {
    "normalize": [normalize_impl(), lambda img: np.divide(img, 255, dtype=np.float32)],
    "to_channels_first": [channels_impl(), lambda img: np.moveaxis(img, -1, 0),
                          lambda img: np.einsum("hwc->chw", img)],
    "downsample": [downsample_impl(), lambda img, factor: sliding_window_view(
        img, (factor, factor))[::factor, ::factor].mean(axis=(2, 3))],
}

(test_wrong_implementation_gets_its_diagnosis, test_correct_implementations_pass,
 test_every_exercise_and_diagnosis_is_tested) = lesson_tests(LESSON, WRONG, CORRECT)

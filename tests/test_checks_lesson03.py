"""Tests of cnncourse.checks.lesson03: every diagnosis of ``max_pool2d``, ``avg_pool2d`` and
``max_pool2d_backward`` is triggered by a learner-style wrong implementation; correct ones pass."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from _checks import lesson_tests

LESSON = "03_pooling"


# ------------------------------------------------------------------ lesson 03
def max_pool_impl(mistake=None):
    def max_pool2d(x, kernel_size, stride=None):
        k = kernel_size
        if stride is None:
            stride = 1 if mistake == "default_stride" else k
        N, C, H, W = x.shape
        OH, OW = (H - k) // stride + 1, (W - k) // stride + 1
        if mistake == "output_size_off_by_one":
            OH, OW = OH - 1, OW - 1
        shape = (N, C, OW, OH) if mistake == "h_w_swapped" else (N, C, OH, OW)
        out = np.zeros(shape, dtype=None if mistake == "wrong_dtype" else x.dtype)
        for n in range(1 if mistake == "first_image_only" else N):
            for c in range(C):
                for i in range(OH):
                    for j in range(OW):
                        rows = slice(i * stride, i * stride + k)
                        cols = slice(j * stride, j * stride + k)
                        window = x[n, c, rows, cols]
                        if mistake == "h_w_swapped":
                            out[n, c, j, i] = window.max()
                        elif mistake == "min_instead_of_max":
                            out[n, c, i, j] = window.min()
                        elif mistake == "avg_instead_of_max":
                            out[n, c, i, j] = window.mean()
                        elif mistake == "channels_mixed":
                            out[n, c, i, j] = x[n, :, rows, cols].max()
                        elif mistake == "max_started_at_zero":
                            best = 0
                            for value in window.ravel():
                                best = value if value > best else best
                            out[n, c, i, j] = best
                        else:
                            out[n, c, i, j] = window.max()
        return out
    return max_pool2d


def max_pool_strided(x, kernel_size, stride=None):
    """Correct, vectorised: sliding_window_view."""
    s = kernel_size if stride is None else stride
    win = sliding_window_view(x, (kernel_size, kernel_size), axis=(2, 3))[:, :, ::s, ::s]
    return win.max(axis=(4, 5))


def avg_pool_strided(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Correct, vectorised: sliding_window_view over the padded input and a padded mask."""
    k, p = kernel_size, padding
    s = k if stride is None else stride
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    total = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::s, ::s].sum(axis=(4, 5))
    if count_include_pad:
        return total / (k * k)
    mask = np.pad(np.ones(x.shape[2:], dtype=x.dtype), p)
    return total / sliding_window_view(mask, (k, k))[::s, ::s].sum(axis=(2, 3))


def avg_pool_impl(mistake=None):
    def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
        k, p = kernel_size, padding
        if stride is None:
            stride = 1 if mistake == "default_stride" else k
        if mistake == "padding_ignored":
            p = 0
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        real = np.pad(np.ones(x.shape[2:]), p)
        N, C, H, W = xp.shape
        OH, OW = (H - k) // stride + 1, (W - k) // stride + 1
        if mistake == "output_size_off_by_one":
            OH, OW = OH - 1, OW - 1
        shape = (N, C, OW, OH) if mistake == "h_w_swapped" else (N, C, OH, OW)
        out = np.zeros(shape, dtype=None if mistake == "wrong_dtype" else x.dtype)
        images = slice(0, 1) if mistake == "first_image_only" else slice(None)
        for i in range(OH):
            for j in range(OW):
                rows = slice(i * stride, i * stride + k)
                cols = slice(j * stride, j * stride + k)
                total = xp[images, :, rows, cols].sum(axis=(2, 3))
                count = k * k if count_include_pad else real[rows, cols].sum()
                if mistake == "divided_by_k":
                    count = k
                if mistake == "padding_counted":
                    count = k * k
                if mistake == "padding_not_counted":
                    count = real[rows, cols].sum()
                value = total if mistake == "not_divided" else total / count
                if mistake == "h_w_swapped":
                    out[:, :, j, i] = value
                else:
                    out[images, :, i, j] = value
        return out
    return avg_pool2d


def max_backward_impl(mistake=None):
    def max_pool2d_backward(grad_out, x, kernel_size, stride=None):
        k = kernel_size
        if stride is None:
            stride = 1 if mistake == "default_stride" else k
        grad_x = np.zeros(x.shape, dtype=None if mistake == "wrong_dtype" else x.dtype)
        N, C, OH, OW = grad_out.shape
        for n, c, i, j in np.ndindex(N, C, OH, OW):
            r0, c0 = i * stride, j * stride
            window = x[n, c, r0:r0 + k, c0:c0 + k]
            g = grad_out[n, c, i, j]
            view = grad_x[n, c, r0:r0 + k, c0:c0 + k]
            if mistake == "grad_to_every_position":
                view += g
            elif mistake == "grad_averaged":
                view += g / window.size
            elif mistake == "ties_all_get_gradient":
                view += g * (window == window.max())
            elif mistake == "ties_last":
                best = (0, 0)
                for u, v in np.ndindex(*window.shape):
                    if window[u, v] >= window[best]:
                        best = (u, v)
                view[best] += g
            elif mistake == "overwrite_not_accumulate":
                view[np.unravel_index(np.argmax(window), window.shape)] = g
            else:
                view[np.unravel_index(np.argmax(window), window.shape)] += g
        return grad_x
    return max_pool2d_backward


WRONG = {
    "max_pool2d": {k: max_pool_impl(k) for k in (
        "default_stride", "output_size_off_by_one", "min_instead_of_max", "avg_instead_of_max",
        "max_started_at_zero", "channels_mixed", "wrong_dtype", "h_w_swapped", "first_image_only")},
    "avg_pool2d": {k: avg_pool_impl(k) for k in (
        "not_divided", "padding_counted", "padding_not_counted", "default_stride",
        "output_size_off_by_one", "wrong_dtype", "divided_by_k", "padding_ignored", "h_w_swapped",
        "first_image_only")},
    "max_pool2d_backward": {k: max_backward_impl(k) for k in (
        "grad_to_every_position", "grad_averaged", "ties_all_get_gradient", "ties_last",
        "overwrite_not_accumulate", "default_stride", "wrong_dtype")},
}


CORRECT = {
    "max_pool2d": [max_pool_impl(), max_pool_strided],
    "avg_pool2d": [avg_pool_impl(), avg_pool_strided],
    "max_pool2d_backward": [max_backward_impl()],
}

(test_wrong_implementation_gets_its_diagnosis, test_correct_implementations_pass,
 test_every_exercise_and_diagnosis_is_tested) = lesson_tests(LESSON, WRONG, CORRECT)


def test_a_pooling_right_only_up_to_stride_2_is_caught():
    from cnncourse.checks import check

    right = max_pool_impl()

    def max_pool2d(x, kernel_size, stride=None):
        return right(x, kernel_size, None if stride is None else min(stride, 2))

    assert not check("max_pool2d", max_pool2d).passed

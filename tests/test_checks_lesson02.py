"""Tests of cnncourse.checks.lesson02: every diagnosis of ``conv_output_size``, ``correlate2d``
and ``conv2d`` is triggered by a learner-style wrong implementation; correct ones pass."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from _checks import lesson_tests

LESSON = "02_convolution"


# ------------------------------------------------------------------ conv_output_size
def size_impl(mistake=None):
    def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
        n, k, s, p, d = input_size, kernel_size, stride, padding, dilation
        span = d * (k - 1) + 1
        if mistake == "missing_plus_one":
            return (n + 2 * p - span) // s
        if mistake == "padding_once":
            return (n + p - span) // s + 1
        if mistake == "dilation_ignored":
            return (n + 2 * p - k) // s + 1
        if mistake == "stride_ignored":
            return n + 2 * p - span + 1
        if mistake == "ceil_instead_of_floor":
            return -(-(n + 2 * p - span) // s) + 1
        if mistake == "true_division":
            return (n + 2 * p - span) / s + 1
        if mistake == "not_int":
            return str((n + 2 * p - span) // s + 1)
        return (n + 2 * p - span) // s + 1
    return conv_output_size


# ------------------------------------------------------------------ correlate2d
def correlate_impl(mistake=None):
    def correlate2d(image, kernel):
        H, W = image.shape
        KH, KW = kernel.shape
        if mistake == "kernel_flipped":
            kernel = kernel[::-1, ::-1]
        if mistake == "kernel_transposed":
            kernel = kernel.T
            KH, KW = KW, KH
        OH, OW = H - KH + 1, W - KW + 1
        if mistake == "output_size_off_by_one":
            OH, OW = H - KH, W - KW
        dtype = None if mistake == "wrong_dtype" else image.dtype
        out = np.zeros((OH, OW), dtype=dtype)
        for i in range(OH):
            for j in range(OW):
                out[i, j] = np.sum(image[i:i + KH, j:j + KW] * kernel)
        if mistake == "input_modified":
            image[...] = 0
        if mistake == "matrix":
            return np.asmatrix(out)
        return out
    return correlate2d


# ------------------------------------------------------------------ conv2d
def conv_impl(mistake=None):
    """A learner's loop conv2d; ``mistake`` switches in one known error."""
    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        N, C, H, W = x.shape
        F, _, KH, KW = weight.shape
        s, p, d = stride, padding, dilation
        if mistake == "kernel_flipped":
            weight = weight[:, :, ::-1, ::-1]
        if mistake == "kernel_transposed":
            weight = weight.transpose(0, 1, 3, 2)
            KH, KW = KW, KH
        if mistake == "padding_one_side":
            xp = np.pad(x, ((0, 0), (0, 0), (p, 0), (p, 0)))
        elif mistake == "padding_edge_values":
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="edge")
        elif mistake == "padding_ones":
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=1)
        elif mistake == "padding_ignored":
            xp = x
        else:
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        OH = (xp.shape[2] - d * (KH - 1) - 1) // s + 1  # the positions in the padded input
        OW = (xp.shape[3] - d * (KW - 1) - 1) // s + 1
        if mistake == "output_size_off_by_one":
            OH, OW = OH - 1, OW - 1
        if mistake == "dilation_ignored":
            d = 1
        if mistake == "stride_ignored":
            s = 1
        dtype = None if mistake == "wrong_dtype" else x.dtype
        shape = {"channels_last": (N, OH, OW, F), "h_w_swapped": (N, F, OW, OH)}.get(mistake, (N, F, OH, OW))
        out = np.zeros(shape, dtype=dtype)
        for n in range(1 if mistake == "first_image_only" else N):
            for f in range(F):
                for i in range(OH):
                    for j in range(OW):
                        rows = slice(i * s, i * s + d * (KH - 1) + 1, d)
                        cols = slice(j * s, j * s + d * (KW - 1) + 1, d)
                        window = xp[n, :, rows, cols]
                        if mistake == "sum_wrong_axes":
                            for c in range(C):
                                value = np.sum(window[c] * weight[f, c])  # `=`, not `+=`
                        elif mistake == "bias_added_per_pixel" and bias is not None:
                            value = np.sum(window * weight[f] + bias[f])
                        elif mistake == "bias_added_per_channel" and bias is not None:
                            value = sum(np.sum(window[c] * weight[f, c]) + bias[f] for c in range(C))
                        else:
                            value = np.sum(window * weight[f])
                        if bias is not None and mistake not in (
                                "bias_missing", "bias_added_per_pixel", "bias_added_per_channel",
                                "bias_wrong_axis"):
                            value = value + bias[f]
                        if mistake == "channels_last":
                            out[n, i, j, f] = value
                        elif mistake == "h_w_swapped":
                            out[n, f, j, i] = value
                        else:
                            out[n, f, i, j] = value
        if mistake == "bias_wrong_axis" and bias is not None:
            out = out + bias
        if mistake == "input_modified":
            x -= x
        return out
    return conv2d


def conv_einsum(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Correct, vectorised: sliding_window_view + einsum."""
    KH, KW = weight.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    span_h, span_w = dilation * (KH - 1) + 1, dilation * (KW - 1) + 1
    win = sliding_window_view(xp, (span_h, span_w), axis=(2, 3))
    win = win[:, :, ::stride, ::stride, ::dilation, ::dilation]
    out = np.einsum("ncijuv,fcuv->nfij", win, weight)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out.astype(x.dtype, copy=False)


def conv_as_strided(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Correct, vectorised: as_strided im2col + tensordot."""
    N, C, H, W = x.shape
    F, _, KH, KW = weight.shape
    xp = np.ascontiguousarray(np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))))
    OH = (H + 2 * padding - dilation * (KH - 1) - 1) // stride + 1
    OW = (W + 2 * padding - dilation * (KW - 1) - 1) // stride + 1
    sn, sc, sh, sw = xp.strides
    cols = as_strided(xp, (N, C, KH, KW, OH, OW),
                      (sn, sc, sh * dilation, sw * dilation, sh * stride, sw * stride))
    out = np.tensordot(weight, cols, axes=([1, 2, 3], [1, 2, 3])).transpose(1, 0, 2, 3)
    return out + bias[None, :, None, None] if bias is not None else out


WRONG = {
    "conv_output_size": {k: size_impl(k) for k in (
        "missing_plus_one", "padding_once", "dilation_ignored", "stride_ignored",
        "ceil_instead_of_floor", "true_division", "not_int")},
    "correlate2d": {k: correlate_impl(k) for k in (
        "kernel_flipped", "kernel_transposed", "output_size_off_by_one", "wrong_dtype",
        "input_modified")},
    "conv2d": {k: conv_impl(k) for k in (
        "kernel_flipped", "bias_missing", "bias_added_per_pixel", "bias_added_per_channel",
        "bias_wrong_axis", "padding_one_side", "stride_ignored", "dilation_ignored",
        "channels_last", "sum_wrong_axes", "output_size_off_by_one", "wrong_dtype",
        "input_modified", "kernel_transposed", "padding_edge_values", "padding_ones",
        "padding_ignored", "first_image_only", "h_w_swapped")},
}


CORRECT = {
    "conv_output_size": [size_impl(), lambda n, k, stride=1, padding=0, dilation=1: np.int64(
        np.floor((n + 2 * padding - dilation * (k - 1) - 1) / stride) + 1)],
    "correlate2d": [correlate_impl(),
                    lambda image, kernel: conv_einsum(image[None, None], kernel[None, None])[0, 0]],
    "conv2d": [conv_impl(), conv_einsum, conv_as_strided],
}

(test_wrong_implementation_gets_its_diagnosis, test_correct_implementations_pass,
 test_every_exercise_and_diagnosis_is_tested) = lesson_tests(LESSON, WRONG, CORRECT)


def test_a_mistake_that_shows_only_at_stride_or_dilation_3_is_caught():
    """Stride and dilation 3 are among the cases: code right only up to 2 does not pass."""
    from cnncourse.checks import check

    right = conv_impl()

    def stride_at_most_2(x, weight, bias=None, stride=1, padding=0, dilation=1):
        return right(x, weight, bias, min(stride, 2), padding, dilation)

    def dilation_at_most_2(x, weight, bias=None, stride=1, padding=0, dilation=1):
        return right(x, weight, bias, stride, padding, min(dilation, 2))

    for fn in (stride_at_most_2, dilation_at_most_2):
        assert not check("conv2d", fn).passed, fn.__name__
        assert not check("conv2d", fn, hidden=True).passed, fn.__name__

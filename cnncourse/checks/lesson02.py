"""Checks for lesson 02 (convolution): the predictions ``q02_output_shape`` and ``q02_params``,
and the exercises ``conv_output_size``, ``correlate2d`` and ``conv2d``.

Each exercise lists the known wrong implementations (``Variant``) it recognises; the trusted
reference is :mod:`cnncourse.numpy_ops` (and :func:`cnncourse.shapes.conv_output_size`).
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .. import numpy_ops as ops
from ..shapes import conv_output_size as _size
from .core import Exercise, Variant, crop_to, int_values, make_case, register, seeded_rng, when
from .predictions import Prediction, wrong_answer

__all__ = ["Q02_OUTPUT_SHAPE", "Q02_PARAMS", "CONV_OUTPUT_SIZE", "CORRELATE2D", "CONV2D"]

LESSON = "02_convolution"

# ---------------------------------------------------------------- predictions
Q02_OUTPUT_SHAPE = register(Prediction(
    "q02_output_shape", LESSON,
    "x has shape (8, 3, 32, 32) and weight has shape (16, 3, 5, 5); what is the shape of "
    "conv2d(x, weight) (stride 1, no padding)?",
    lambda: (8, 16, _size(32, 5), _size(32, 5)),
    "(N, F, OH, OW): the batch stays 8, there is one output channel per filter (16), and "
    "OH = OW = 32 - 5 + 1 = 28.",
    wrong=[
        wrong_answer("channels_kept", "the input channels are kept instead of one per filter",
                     (8, 3, _size(32, 5), _size(32, 5)), "Each filter gives one output channel."),
        wrong_answer("size_not_shrunk", "the spatial size does not shrink", (8, 16, 32, 32),
                     "Without padding a 5×5 window fits in 32 - 5 + 1 positions."),
        wrong_answer("output_size_off_by_one", "the `+ 1` is forgotten",
                     (8, 16, _size(32, 5) - 1, _size(32, 5) - 1), "Count the positions: 32 - 5 + 1."),
    ]))

Q02_PARAMS = register(Prediction(
    "q02_params", LESSON,
    "How many parameters (weights + biases) does a convolution layer with 16 filters of "
    "size 5×5 over 3 input channels have?",
    lambda: 16 * 3 * 5 * 5 + 16,
    "each filter has C * KH * KW = 3*5*5 = 75 weights and one bias: 16 * 75 + 16 — "
    "whatever the size of the image.",
    wrong=[
        wrong_answer("bias_forgotten", "the biases are left out", 16 * 3 * 5 * 5,
                     "Each filter has one bias."),
        wrong_answer("channels_forgotten", "the 3 input channels are left out", 16 * 5 * 5 + 16,
                     "A filter spans every input channel: its weight is (C, KH, KW)."),
    ]))


# ---------------------------------------------------------------- conv_output_size
def _size_args(c):
    return c.input_size, c.kernel_size, c.stride, c.padding, c.dilation


def _size_variant(formula):
    """A wrong formula ``formula(n, k, stride, padding, dilation)`` as a variant's compute."""
    return lambda case: formula(*_size_args(case))


def _size_cases(hidden):
    fixed = [
        ("28, kernel 5", (28, 5), {}),
        ("32, kernel 3, padding 1", (32, 3), dict(padding=1)),
        ("7, kernel 3, stride 2", (7, 3), dict(stride=2)),
        ("8, kernel 3, stride 2 (does not divide)", (8, 3), dict(stride=2)),
        ("10, kernel 3, dilation 2", (10, 3), dict(dilation=2)),
        ("11, kernel 3, dilation 3", (11, 3), dict(dilation=3)),
        ("10, kernel 2, stride 3", (10, 2), dict(stride=3)),
        ("5, kernel 5 (exactly one window)", (5, 5), {}),
        ("1, kernel 1", (1, 1), {}),
        ("224, kernel 7, stride 2, padding 3", (224, 7), dict(stride=2, padding=3)),
        ("9, kernel 3, stride 3, padding 2, dilation 2", (9, 3), dict(stride=3, padding=2, dilation=2)),
        ("6, kernel 4, padding 2, stride 1 given", (6, 4), dict(stride=1, padding=2)),
    ]
    cases = [make_case(label, *args, **kw) for label, args, kw in fixed]
    rng = seeded_rng("conv_output_size", hidden)
    while len(cases) < (16 if not hidden else 30):
        n, k = int(rng.integers(1, 40)), int(rng.integers(1, 8))
        s, p, d = (int(v) for v in rng.integers(1, 4, size=3))
        p -= 1
        if n + 2 * p < d * (k - 1) + 1:
            continue
        cases.append(make_case(f"random: {n}, kernel {k}, stride {s}, padding {p}, dilation {d}",
                               n, k, stride=s, padding=p, dilation=d))
    return [replace(c, size=sum(c.args) + sum(c.kwargs.values())) for c in cases]  # small numbers first


CONV_OUTPUT_SIZE = register(Exercise(
    "conv_output_size", LESSON, "conv_output_size", 1,
    signature="input_size, kernel_size, stride=1, padding=0, dilation=1",
    make_cases=_size_cases,
    reference=lambda case: _size(*_size_args(case)),
    output_kind="int",
    variants=[
        Variant("missing_plus_one", "the `+ 1` is missing (output size off by one)",
                "the first window starts at position 0 and is counted too: "
                "out = floor((n + 2*padding - dilation*(k - 1) - 1) / stride) + 1.",
                _size_variant(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s)),
        Variant("padding_once", "padding is counted once instead of twice",
                "padding adds zeros on *both* sides, so the padded size is n + 2*padding.",
                _size_variant(lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1)),
        Variant("dilation_ignored", "dilation is ignored",
                "a dilated kernel spans dilation*(k - 1) + 1 pixels, not k.",
                _size_variant(lambda n, k, s, p, d: (n + 2 * p - k) // s + 1)),
        Variant("stride_ignored", "stride is ignored",
                "with stride s only every s-th window position is used: divide the room the "
                "window has to move by the stride (floor division), then add 1.",
                _size_variant(lambda n, k, s, p, d: n + 2 * p - d * (k - 1))),
        Variant("ceil_instead_of_floor", "rounds up (ceil) instead of down (floor)",
                "a window that does not fit completely is dropped: use floor division `//`.",
                _size_variant(lambda n, k, s, p, d: math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1)),
        Variant("true_division", "uses true division `/` instead of floor division `//`",
                "`/` gives a float such as 3.5; the number of windows is "
                "(n + 2*padding - dilation*(k - 1) - 1) // stride + 1, an int.",
                _size_variant(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) / s + 1)),
    ],
))


# ---------------------------------------------------------------- correlate2d
def _correlate(image, kernel):
    return ops.conv2d(image[None, None], kernel[None, None])[0, 0]


def _correlate_cases(hidden):
    rng = seeded_rng("correlate2d", hidden)
    cases = [
        make_case("3×3 image, 2×2 kernel", int_values(rng, (3, 3)), int_values(rng, (2, 2))),
        make_case("4×5 image, 2×3 kernel", int_values(rng, (4, 5)), int_values(rng, (2, 3))),
        make_case("kernel as large as the image", int_values(rng, (3, 3)), int_values(rng, (3, 3))),
        make_case("1×1 kernel", int_values(rng, (3, 4)), np.array([[2.0]])),
        make_case("float32 image and kernel", int_values(rng, (4, 4), np.float32),
                  int_values(rng, (3, 2), np.float32)),
    ]
    for k in range(6 if not hidden else 12):
        H, W = (int(v) for v in rng.integers(3, 10, size=2))
        KH, KW = int(rng.integers(1, H + 1)), int(rng.integers(1, W + 1))
        dtype = (np.float64, np.float32)[k % 2]
        cases.append(make_case(f"random {H}×{W} image, {KH}×{KW} kernel, {np.dtype(dtype).name}",
                               rng.normal(size=(H, W)).astype(dtype),
                               rng.normal(size=(KH, KW)).astype(dtype)))
    return cases


CORRELATE2D = register(Exercise(
    "correlate2d", LESSON, "correlate2d", 2,
    signature="image, kernel",
    make_cases=_correlate_cases,
    reference=lambda case: _correlate(case.image, case.kernel),
    variants=[
        Variant("kernel_flipped", "the kernel is flipped: you computed a true convolution",
                "cross-correlation slides the kernel as it is: out[i, j] = sum over u, v of "
                "image[i + u, j + v] * kernel[u, v]. Do not index the kernel backwards, and do "
                "not use np.flip, np.convolve or scipy.signal.convolve2d.",
                lambda c: _correlate(c.image, c.kernel[::-1, ::-1])),
        Variant("kernel_transposed", "the kernel's rows and columns are swapped",
                "kernel[u, v] multiplies image[i + u, j + v]: u runs over rows (KH = "
                "kernel.shape[0]), v over columns (KW = kernel.shape[1]).",
                lambda c: _correlate(c.image, c.kernel.T)),
    ],
    hints={
        "output_size_off_by_one": "a 'valid' correlation has (H - KH + 1) × (W - KW + 1) "
        "positions: check the `+ 1` in your output shape and in your range().",
        "wrong_dtype": "the output should have the image's dtype: "
        "np.zeros((OH, OW), dtype=image.dtype) (np.zeros alone gives float64).",
        "input_modified": "do not write into image or kernel (no `image *= ...`, no "
        "`image[...] = ...`); compute into a new output array.",
    },
))


# ---------------------------------------------------------------- conv2d
def _conv(c, **changes):
    """The reference on case ``c``, with some of its arguments changed (``bias=None``...)."""
    args = {name: c.arguments[name] for name in ("x", "weight", "bias", "stride", "padding", "dilation")}
    args.update(changes)
    return ops.conv2d(**args)


def _add_bias(out, bias, times=1):
    return out + times * bias[None, :, None, None]


def _pad_sides(c, top, bottom, left, right):
    """The convolution of ``c.x`` padded with ``top * padding`` rows on top, and so on."""
    p = c.padding
    if p == 0:
        return None
    xp = np.pad(c.x, ((0, 0), (0, 0), (top * p, bottom * p), (left * p, right * p)))
    return _conv(c, x=xp, padding=0)


def _per_channel(c):
    out = np.stack([_conv(c, x=c.x[:, k:k + 1], weight=c.weight[:, k:k + 1], bias=None)
                    for k in range(c.x.shape[1])], axis=2)
    return out if c.bias is None else out + c.bias[None, :, None, None, None]


def _padded_with(c, **how):
    """The convolution with the padding made by ``np.pad(..., **how)`` instead of zeros."""
    p = c.padding
    if p == 0:
        return None
    return _conv(c, x=np.pad(c.x, ((0, 0), (0, 0), (p, p), (p, p)), **how), padding=0)


def _first_image_only(c, copied: bool):
    """Only image 0 computed: the other images stay 0, or get image 0's output (``copied``)."""
    if c.x.shape[0] == 1:
        return None
    out = _conv(c)
    rest = np.broadcast_to(out[:1], out.shape) if copied else np.zeros_like(out)
    return np.concatenate([out[:1], rest[1:]])


def _summed_over(c, axis):
    out = _conv(c, bias=None)
    out = np.broadcast_to(out.sum(axis=axis, keepdims=True), out.shape)
    return out if c.bias is None else _add_bias(out, c.bias)


def _conv_cases(hidden):
    rng = seeded_rng("conv2d", hidden)
    iv = lambda *shape: int_values(rng, shape)  # noqa: E731
    cases = [
        make_case("1 image, 1 channel, 1 filter, 2×2 kernel on 3×3", iv(1, 1, 3, 3), iv(1, 1, 2, 2)),
        make_case("2 channels, 3 filters, with bias", iv(1, 2, 4, 5), iv(3, 2, 2, 2), iv(3)),
        make_case("bias with as many filters as output columns", iv(1, 1, 4, 4), iv(3, 1, 2, 2), iv(3)),
        make_case("stride 2", iv(1, 1, 5, 5), iv(1, 1, 2, 2), stride=2),
        make_case("padding 1", iv(1, 1, 3, 3), iv(1, 1, 2, 2), padding=1),
        make_case("dilation 2", iv(1, 1, 5, 5), iv(1, 1, 2, 2), dilation=2),
        make_case("stride 3 on 7×8", iv(1, 1, 7, 8), iv(1, 1, 2, 2), stride=3),
        make_case("dilation 3 on 7×7", iv(1, 1, 7, 7), iv(1, 1, 2, 2), dilation=3),
        make_case("a 4×6 input and a 2×3 kernel (height and width differ)", iv(1, 1, 4, 6),
                  iv(1, 1, 2, 3)),
        make_case("2 images, padding 1, on 3×4", iv(2, 1, 3, 4), iv(1, 1, 2, 2), padding=1),
        make_case("batch of 2, 3 channels, 2 filters, 2×3 kernel", iv(2, 3, 4, 5), iv(2, 3, 2, 3), iv(2)),
        make_case("float32, stride 2, padding 1, bias", iv(1, 2, 5, 5).astype(np.float32),
                  iv(2, 2, 3, 3).astype(np.float32), iv(2).astype(np.float32), stride=2, padding=1),
    ]
    while len(cases) < (27 if not hidden else 44):
        N, C, F = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 5))
        H, W, KH, KW = (int(v) for v in rng.integers([3, 3, 1, 1], [9, 9, 4, 4]))
        s, p, d = int(rng.integers(1, 4)), int(rng.integers(0, 3)), int(rng.integers(1, 4))
        if min(H + 2 * p - d * (KH - 1), W + 2 * p - d * (KW - 1)) < 1:
            continue
        dtype = (np.float64, np.float32)[len(cases) % 2]
        x = rng.normal(size=(N, C, H, W)).astype(dtype)
        w = rng.normal(size=(F, C, KH, KW)).astype(dtype)
        args = (x, w, rng.normal(size=F).astype(dtype)) if len(cases) % 3 else (x, w)
        cases.append(make_case(
            f"random: x {x.shape}, weight {w.shape}, {'bias, ' * (len(args) == 3)}"
            f"stride {s}, padding {p}, dilation {d}, {np.dtype(dtype).name}",
            *args, stride=s, padding=p, dilation=d))
    return cases


def _v(key, title, hint, compute):
    return Variant(key, title, hint, compute)


_FLIP_HINT = ("cross-correlation uses the kernel as it is: out[n, f, i, j] = sum over c, u, v of "
              "x[n, c, i*stride + u*dilation, j*stride + v*dilation] * weight[f, c, u, v]. "
              "Do not flip the kernel (np.flip, [::-1], scipy.signal.convolve).")
_BIAS_HINT = ("the bias has one value per filter (shape (F,)) and is added exactly once to "
              "every output value of that filter: out[n, f, i, j] = (sum over c, u, v) + bias[f].")
_PAD_HINT = ("padding adds `padding` zeros on each of the four sides: "
             "np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))).")
_STRIDE_HINT = ("with stride s the window of output (i, j) starts at row i*s and column j*s; the "
                "output size is floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1.")
_DILATION_HINT = ("with dilation d the kernel's taps are d pixels apart: the tap (u, v) reads "
                  "x[..., i*stride + u*d, j*stride + v*d]; the kernel spans d*(KH - 1) + 1 rows.")
_SIZE_HINT = ("OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1, and the same "
              "for OW — check the `+ 1` and the end of your range().")
_KERNEL_HINT = ("weight[f, c, u, v] multiplies x[n, c, i*stride + u*dilation, j*stride + v*dilation]: u "
                "runs over the kernel's rows (KH = weight.shape[2]), v over its columns "
                "(KW = weight.shape[3]).")
_HW_HINT = ("the output is (N, F, OH, OW): OH counts the window positions down the rows (from H "
            "and KH), OW across the columns (from W and KW); write out[n, f, i, j] with i the row.")
_BATCH_HINT = ("every image of the batch is convolved on its own: loop over n (or use the whole "
               "batch axis) and write out[n, ...] from x[n, ...] — not only n = 0, not x[0].")
_AXES_HINT = ("each output value out[n, f, i, j] is a sum over the input channels c and the "
              "kernel positions (u, v) only — one image n and one filter f at a time: "
              "np.sum(window * weight[f]) with window = x[n, :, rows, cols] (shape (C, KH, KW)).")

CONV2D = register(Exercise(
    "conv2d", LESSON, "conv2d", 3,
    signature="x, weight, bias=None, stride=1, padding=0, dilation=1",
    make_cases=_conv_cases,
    reference=_conv,
    variants=[
        _v("kernel_flipped", "the kernel is flipped: you computed a true convolution", _FLIP_HINT,
           lambda c: _conv(c, weight=c.weight[:, :, ::-1, ::-1])),
        _v("kernel_transposed", "the kernel's rows and columns are swapped (weight[f, c, v, u] "
           "for weight[f, c, u, v])", _KERNEL_HINT,
           lambda c: _conv(c, weight=c.weight.transpose(0, 1, 3, 2))),
        _v("bias_missing", "the bias is missing", _BIAS_HINT,
           lambda c: when(c.bias is not None, lambda: _conv(c, bias=None))),
        _v("bias_added_per_pixel",
           "the bias is added to every product inside the window (C*KH*KW times) instead of "
           "once per output value", _BIAS_HINT,
           lambda c: when(c.bias is not None, lambda: _add_bias(
               _conv(c, bias=None), c.bias, int(np.prod(c.weight.shape[1:]))))),
        _v("bias_added_per_channel",
           "the bias is added once per input channel (C times) instead of once per output value",
           _BIAS_HINT,
           lambda c: when(c.bias is not None, lambda: _add_bias(
               _conv(c, bias=None), c.bias, c.x.shape[1]))),
        _v("bias_wrong_axis", "the bias is added along the wrong axis (the last, width, axis)",
           _BIAS_HINT + " `out + bias` adds it along the last axis; use bias[None, :, None, None].",
           lambda c: when(c.bias is not None, lambda: _conv(c, bias=None) + c.bias)),
        _v("output_size_off_by_one", "the output size is one too small (the `+ 1` is missing)",
           _SIZE_HINT, lambda c: _conv(c)[:, :, :-1, :-1]),
        _v("padding_one_side", "the padding is added on one side only (top/left)", _PAD_HINT,
           lambda c: _pad_sides(c, 1, 0, 1, 0)),
        _v("padding_one_side", "the padding is added on one side only (bottom/right)", _PAD_HINT,
           lambda c: _pad_sides(c, 0, 1, 0, 1)),
        _v("padding_one_side", "all the padding is on one side (2*padding at the top/left)",
           _PAD_HINT, lambda c: _pad_sides(c, 2, 0, 2, 0)),
        _v("padding_edge_values", "the padding repeats the edge pixels instead of adding zeros",
           _PAD_HINT, lambda c: _padded_with(c, mode="edge")),
        _v("padding_ones", "the padding adds ones instead of zeros", _PAD_HINT,
           lambda c: _padded_with(c, constant_values=1)),
        _v("padding_ignored", "the padding is ignored: the output is the one without padding",
           _PAD_HINT, lambda c: when(c.padding > 0, lambda: _conv(c, padding=0))),
        _v("stride_ignored", "the stride is ignored", _STRIDE_HINT,
           lambda c: when(c.stride != 1, lambda: _conv(c, stride=1))),
        _v("stride_ignored",
           "the stride is ignored when choosing each window (the output size is right, but the "
           "windows start at i, j instead of i*stride, j*stride)", _STRIDE_HINT,
           lambda c: when(c.stride != 1, lambda: crop_to(_conv(c, stride=1), _conv(c)))),
        _v("dilation_ignored", "the dilation is ignored", _DILATION_HINT,
           lambda c: when(c.dilation != 1, lambda: _conv(c, dilation=1))),
        _v("dilation_ignored",
           "the dilation is ignored when reading the window (the output size is right)",
           _DILATION_HINT,
           lambda c: when(c.dilation != 1, lambda: crop_to(_conv(c, dilation=1), _conv(c)))),
        _v("h_w_swapped", "the output's height and width are swapped: (N, F, OW, OH)", _HW_HINT,
           lambda c: _conv(c).swapaxes(2, 3)),
        _v("channels_last", "the output is channels-last (N, OH, OW, F) instead of (N, F, OH, OW)",
           "the course uses PyTorch's layout (N, C, H, W) for inputs and outputs: create "
           "out = np.zeros((N, F, OH, OW)) and write out[n, f, i, j].",
           lambda c: _conv(c).transpose(0, 2, 3, 1)),
        _v("sum_wrong_axes", "the input channels are not summed (one output per channel)",
           _AXES_HINT, _per_channel),
        _v("sum_wrong_axes",
           "only the last input channel is used (`=` instead of `+=` in a loop over channels?)",
           _AXES_HINT, lambda c: when(c.x.shape[1] > 1, lambda: _conv(
               c, x=c.x[:, -1:], weight=c.weight[:, -1:]))),
        _v("sum_wrong_axes", "only the first input channel is used", _AXES_HINT,
           lambda c: when(c.x.shape[1] > 1, lambda: _conv(c, x=c.x[:, :1], weight=c.weight[:, :1]))),
        _v("first_image_only", "only the first image of the batch is computed (the others stay 0)",
           _BATCH_HINT, lambda c: _first_image_only(c, copied=False)),
        _v("first_image_only", "every image gets the output of the first one (x[0] for x[n])",
           _BATCH_HINT, lambda c: _first_image_only(c, copied=True)),
        _v("sum_wrong_axes", "the sum also runs over the batch (every image gets the same output)",
           _AXES_HINT, lambda c: when(c.x.shape[0] > 1, lambda: _summed_over(c, 0))),
        _v("sum_wrong_axes", "the sum also runs over the filters (every filter gives the same output)",
           _AXES_HINT, lambda c: when(c.weight.shape[0] > 1, lambda: _summed_over(c, 1))),
    ],
    hints={
        "output_size_off_by_one": _SIZE_HINT,
        "wrong_dtype": "the output should have x's dtype (float32 in, float32 out): "
        "np.zeros((N, F, OH, OW), dtype=x.dtype) — np.zeros alone gives float64.",
        "input_modified": "do not write into x, weight or bias (e.g. padding with `x[...] = ` or "
        "`x += bias`); np.pad returns a new array.",
    },
))

"""Checks for lesson 03 (pooling): the predictions ``q03_pool_shape`` and ``q03_pool_params``, and
the exercises ``max_pool2d``, ``avg_pool2d`` and ``max_pool2d_backward``.

The trusted reference is :mod:`cnncourse.numpy_ops` (PyTorch's semantics: ``stride=None`` means
``stride=kernel_size``; in a window with several equal maxima the gradient goes to the first one
in row-major order).
"""
from __future__ import annotations

import numpy as np

from .. import numpy_ops as ops
from ..shapes import pool_output_size
from .core import (Exercise, Variant, crop_to, distinct, int_values, make_case, register,
                   seeded_rng, when)
from .predictions import Prediction, wrong_answer

__all__ = ["Q03_POOL_SHAPE", "Q03_POOL_PARAMS", "MAX_POOL2D", "AVG_POOL2D", "MAX_POOL2D_BACKWARD"]

LESSON = "03_pooling"

# ---------------------------------------------------------------- predictions
Q03_POOL_SHAPE = register(Prediction(
    "q03_pool_shape", LESSON,
    "x has shape (8, 16, 28, 28); what is the shape of max_pool2d(x, kernel_size=2)?",
    lambda: (8, 16, pool_output_size(28, 2), pool_output_size(28, 2)),
    "pooling works on each channel on its own (N and C stay) and the default stride equals "
    "kernel_size, so 28 // 2 = 14.",
    wrong=[
        wrong_answer("default_stride", "the default stride is taken to be 1",
                     (8, 16, pool_output_size(28, 2, 1), pool_output_size(28, 2, 1)),
                     "stride=None means stride=kernel_size."),
        wrong_answer("channels_mixed", "the channels are pooled together",
                     (8, 1, pool_output_size(28, 2), pool_output_size(28, 2)),
                     "Pooling never mixes channels."),
    ]))

Q03_POOL_PARAMS = register(Prediction(
    "q03_pool_params", LESSON,
    "How many trainable parameters does a 2×2 max-pooling layer have?",
    lambda: 0,
    "pooling takes the max (or mean) of each window; there is nothing to learn.",
    wrong=[wrong_answer("pool_has_weights", "the window is taken to have weights like a kernel", 4,
                        "A pooling window has no weights.")]))


_STRIDE_HINT = ("when stride is not given (stride=None) it defaults to kernel_size, so the "
                "windows do not overlap: `if stride is None: stride = kernel_size`.")
_SIZE_HINT = ("the output has floor((H + 2*padding - kernel_size) / stride) + 1 rows (and the "
              "same for columns): a window that does not fit completely is dropped.")


_BATCH_HINT = ("every image and every channel is pooled on its own: write out[n, c, ...] from "
               "x[n, c, ...] for every n — not only n = 0, not x[0].")
_HW_HINT = ("the output is (N, C, OH, OW): OH counts the window positions down the rows (from H), "
            "OW across the columns (from W); write out[n, c, i, j] with i the row.")


def _first_image_only(out, copied: bool):
    """Only image 0 of ``out`` kept: the others 0, or copies of image 0 (``copied``)."""
    if out.shape[0] == 1:
        return None
    rest = np.broadcast_to(out[:1], out.shape) if copied else np.zeros_like(out)
    return np.concatenate([out[:1], rest[1:]])


def _window_variants(pool):
    """The stride, size and batch mistakes every pooling forward can make; ``pool(case,
    **changes)`` is the reference with some arguments changed."""
    return [
        Variant("default_stride", "the default stride is 1 instead of kernel_size", _STRIDE_HINT,
                lambda c: when(c.stride is None, lambda: pool(c, stride=1))),
        Variant("default_stride",
                "the output size uses stride=kernel_size but the windows move by 1", _STRIDE_HINT,
                lambda c: when(c.stride is None, lambda: crop_to(pool(c, stride=1), pool(c)))),
        Variant("output_size_off_by_one", "the output is one row and one column too small",
                _SIZE_HINT, lambda c: pool(c)[:, :, :-1, :-1]),
        Variant("h_w_swapped", "the output's height and width are swapped: (N, C, OW, OH)",
                _HW_HINT, lambda c: pool(c).swapaxes(2, 3)),
        Variant("first_image_only", "only the first image of the batch is pooled (the others stay 0)",
                _BATCH_HINT, lambda c: _first_image_only(pool(c), copied=False)),
        Variant("first_image_only", "every image gets the output of the first one (x[0] for x[n])",
                _BATCH_HINT, lambda c: _first_image_only(pool(c), copied=True)),
    ]


# ---------------------------------------------------------------- max_pool2d
def _max_cases(hidden):
    rng = seeded_rng("max_pool2d", hidden)
    cases = [
        make_case("2×2 windows on 4×4, default stride", distinct(rng, (1, 1, 4, 4)), 2),
        make_case("3×3 windows on 7×7, default stride (last row and column dropped)",
                  distinct(rng, (1, 1, 7, 7)), 3),
        make_case("2×2 windows, stride 1 (overlapping)", distinct(rng, (1, 1, 4, 4)), 2, stride=1),
        make_case("2 images, 3 channels, default stride", distinct(rng, (2, 3, 4, 4)), 2),
        make_case("all values negative", -1.0 - np.abs(rng.normal(size=(1, 2, 4, 4))), 2),
        make_case("float32, stride 2 on 5×6", distinct(rng, (1, 2, 5, 6), np.float32), 3, stride=2),
        make_case("2×2 windows, stride 3 on 5×8", distinct(rng, (1, 1, 5, 8)), 2, stride=3),
    ]
    for k in range(8 if not hidden else 16):
        N, C = (int(v) for v in rng.integers(1, 3, size=2))
        H, W = (int(v) for v in rng.integers(3, 9, size=2))
        kernel = int(rng.integers(1, min(H, W) + 1))
        kw = {} if k % 2 else dict(stride=int(rng.integers(1, 4)))
        dtype = (np.float64, np.float32)[k % 3 == 0]
        cases.append(make_case(f"random: x ({N}, {C}, {H}, {W}), kernel {kernel}, "
                               f"stride {kw.get('stride', 'default')}, {np.dtype(dtype).name}",
                               rng.normal(size=(N, C, H, W)).astype(dtype), kernel, **kw))
    return cases


def _max(c, **changes):
    """The reference on case ``c``, with some of its arguments changed."""
    args = dict(x=c.x, kernel_size=c.kernel_size, stride=c.stride)
    args.update(changes)
    return ops.max_pool2d(**args)


MAX_POOL2D = register(Exercise(
    "max_pool2d", LESSON, "max_pool2d", 2,
    signature="x, kernel_size, stride=None",
    make_cases=_max_cases,
    reference=_max,
    variants=[
        *_window_variants(_max),
        Variant("min_instead_of_max", "takes the minimum of each window instead of the maximum",
                "max pooling keeps the largest value of each window: window.max().",
                lambda c: -_max(c, x=-c.x)),
        Variant("avg_instead_of_max", "takes the mean of each window instead of the maximum",
                "max pooling keeps the largest value of each window: window.max(), not mean().",
                lambda c: ops.avg_pool2d(c.x, c.kernel_size, c.stride)),
        Variant("max_started_at_zero", "the running maximum starts at 0, so negative windows give 0",
                "start the running maximum at the first value of the window (or -np.inf), or "
                "use window.max().", lambda c: np.maximum(_max(c), 0)),
        Variant("channels_mixed", "the maximum is taken over all channels together",
                "pool each channel on its own: the window is x[n, c, rows, cols] (one n and one "
                "c), and the output keeps the C axis: (N, C, OH, OW).",
                lambda c: when(c.x.shape[1] > 1, lambda: np.broadcast_to(
                    _max(c).max(axis=1, keepdims=True), _max(c).shape))),
        Variant("channels_mixed", "the channel axis is pooled away (output (N, OH, OW))",
                "pool each channel on its own; the output keeps the C axis: (N, C, OH, OW).",
                lambda c: _max(c).max(axis=1)),
    ],
    hints={"output_size_off_by_one": _SIZE_HINT,
           "wrong_dtype": "keep x's dtype: np.zeros(..., dtype=x.dtype)."},
))


# ---------------------------------------------------------------- avg_pool2d
def _avg_cases(hidden):
    rng = seeded_rng("avg_pool2d", hidden)
    iv = lambda *shape: int_values(rng, shape, low=0, high=9)  # noqa: E731
    cases = [
        make_case("2×2 windows on 4×4, default stride", iv(1, 1, 4, 4), 2),
        make_case("3×3 windows, stride 1", iv(1, 1, 4, 5), 3, stride=1),
        make_case("padding 1, count_include_pad=True", iv(1, 1, 4, 4), 2, padding=1,
                  count_include_pad=True),
        make_case("padding 1, count_include_pad=False", iv(1, 1, 4, 4), 2, padding=1,
                  count_include_pad=False),
        make_case("3×3, stride 2, padding 1, default count_include_pad", iv(1, 2, 5, 5), 3,
                  stride=2, padding=1),
        make_case("float32, 2 images, default stride", iv(2, 2, 4, 6).astype(np.float32), 2),
        make_case("2×2 windows, stride 3 on 5×8", iv(1, 1, 5, 8), 2, stride=3),
    ]
    for k in range(8 if not hidden else 16):
        N, C = (int(v) for v in rng.integers(1, 3, size=2))
        H, W = (int(v) for v in rng.integers(3, 9, size=2))
        kernel = int(rng.integers(1, min(H, W) + 1))
        kw = dict(padding=int(rng.integers(0, kernel // 2 + 1)),
                  count_include_pad=bool(k % 2))
        if k % 3:
            kw["stride"] = int(rng.integers(1, 4))
        dtype = (np.float64, np.float32)[k % 4 == 0]
        cases.append(make_case(
            f"random: x ({N}, {C}, {H}, {W}), kernel {kernel}, "
            + ", ".join(f"{key} {value}" for key, value in kw.items()) + f", {np.dtype(dtype).name}",
            rng.normal(size=(N, C, H, W)).astype(dtype), kernel, **kw))
    return cases


def _avg(c, **changes):
    """The reference on case ``c``, with some of its arguments changed."""
    args = dict(x=c.x, kernel_size=c.kernel_size, stride=c.stride, padding=c.padding,
                count_include_pad=c.count_include_pad)
    args.update(changes)
    return ops.avg_pool2d(**args)


AVG_POOL2D = register(Exercise(
    "avg_pool2d", LESSON, "avg_pool2d", 2,
    signature="x, kernel_size, stride=None, padding=0, count_include_pad=True",
    make_cases=_avg_cases,
    reference=_avg,
    variants=[
        Variant("divided_by_k", "the window's sum is divided by kernel_size instead of "
                "kernel_size**2", "a k×k window holds k*k values: divide its sum by "
                "kernel_size**2 (or, with count_include_pad=False, by the number of real pixels "
                "in it), not by kernel_size.",
                lambda c: _avg(c, count_include_pad=True) * c.kernel_size),
        Variant("padding_ignored", "the padding is ignored: the output is the one without padding",
                "padding adds `padding` zeros on each of the four sides before pooling: "
                "np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))).",
                lambda c: when(c.padding > 0, lambda: _avg(c, padding=0))),
        Variant("not_divided", "the window's sum is not divided by the window size",
                "an average is the sum divided by the number of values: kernel_size**2 (or, "
                "with count_include_pad=False, the number of real pixels in the window).",
                lambda c: _avg(c, count_include_pad=True) * c.kernel_size ** 2),
        Variant("padding_counted",
                "the padded zeros are counted in the average although count_include_pad=False",
                "with count_include_pad=False divide each window's sum by the number of real "
                "(non-padding) pixels in it, which is smaller at the borders.",
                lambda c: when(not c.count_include_pad and c.padding > 0,
                              lambda: _avg(c, count_include_pad=True))),
        Variant("padding_not_counted",
                "the padded zeros are not counted in the average although count_include_pad=True",
                "with count_include_pad=True (the default) every window is divided by "
                "kernel_size**2, padded zeros included.",
                lambda c: when(c.count_include_pad and c.padding > 0,
                              lambda: _avg(c, count_include_pad=False))),
        *_window_variants(_avg),
    ],
    hints={"output_size_off_by_one": _SIZE_HINT,
           "wrong_dtype": "keep x's dtype: np.zeros(..., dtype=x.dtype)."},
))


# ---------------------------------------------------------------- max_pool2d_backward
def _route(grad_out, x, kernel_size, stride, mode):
    """A loop max-pool backward with one of several (mostly wrong) ways to route gradients."""
    k = kernel_size
    grad_x = np.zeros_like(x)
    N, C, OH, OW = grad_out.shape
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    rows, cols = slice(i * stride, i * stride + k), slice(j * stride, j * stride + k)
                    window, g = x[n, c, rows, cols], grad_out[n, c, i, j]
                    target = grad_x[n, c, rows, cols]
                    if mode == "every":
                        target += g
                    elif mode == "average":
                        target += g / k ** 2
                    elif mode == "ties_all":
                        target[window == window.max()] += g
                    else:
                        flat = window.ravel()
                        first = int(np.argmax(flat))
                        last = flat.size - 1 - int(np.argmax(flat[::-1]))
                        u, v = divmod(last if mode == "ties_last" else first, window.shape[1])
                        if mode == "overwrite":
                            target[u, v] = g
                        else:
                            target[u, v] += g
    return grad_x


def _backward_cases(hidden):
    rng = seeded_rng("max_pool2d_backward", hidden)
    ones = lambda *shape: int_values(rng, shape, low=1, high=6)  # noqa: E731
    peak = np.zeros((1, 1, 4, 4))
    peak[0, 0, 1, 1], peak[0, 0, 2, 2] = 5.0, 4.0
    ties = np.array([[[[1.0, 3, 3, 0], [3, 2, 1, 1], [0, 0, 2, 2], [0, 1, 2, 2]]]])
    cases = [
        make_case("2×2 windows on 4×4, default stride", ones(1, 1, 2, 2),
                  distinct(rng, (1, 1, 4, 4)), 2),
        make_case("windows with tied maxima", ones(1, 1, 2, 2), ties, 2),
        make_case("overlapping windows (stride 1) sharing a maximum", ones(1, 1, 3, 3), peak, 2,
                  stride=1),
        make_case("3×3 windows, stride 2 (overlap of one row and column)", ones(1, 2, 2, 2),
                  distinct(rng, (1, 2, 5, 5)), 3, stride=2),
        make_case("2 images, 2 channels, 7×7 (last row and column dropped)", ones(2, 2, 2, 2),
                  distinct(rng, (2, 2, 7, 7)), 3),
        make_case("float32", ones(1, 1, 2, 3).astype(np.float32),
                  distinct(rng, (1, 1, 4, 6), np.float32), 2),
    ]
    for k in range(6 if not hidden else 12):
        N, C = (int(v) for v in rng.integers(1, 3, size=2))
        H, W = (int(v) for v in rng.integers(3, 9, size=2))
        kernel = int(rng.integers(1, min(H, W) + 1))
        kw = {} if k % 2 else dict(stride=int(rng.integers(1, 3)))
        OH, OW = pool_output_size((H, W), kernel, kw.get("stride"))
        x = int_values(rng, (N, C, H, W), low=0, high=4)  # ties happen
        cases.append(make_case(
            f"random: x ({N}, {C}, {H}, {W}), kernel {kernel}, stride {kw.get('stride', 'default')}",
            rng.normal(size=(N, C, OH, OW)), x, kernel, **kw))
    return cases


def _backward(c):
    return ops.max_pool2d_backward(c.grad_out, c.x, c.kernel_size, c.stride)


def _routed(mode, stride=None):
    def compute(case):
        s = stride or case.stride or case.kernel_size
        return _route(case.grad_out, case.x, case.kernel_size, s, mode)
    return compute


MAX_POOL2D_BACKWARD = register(Exercise(
    "max_pool2d_backward", LESSON, "max_pool2d_backward", 3,
    signature="grad_out, x, kernel_size, stride=None",
    make_cases=_backward_cases,
    reference=_backward,
    variants=[
        Variant("grad_to_every_position",
                "the gradient goes to every position of the window instead of only the arg-max",
                "only the largest value of a window influenced the output, so only it gets "
                "grad_out[n, c, i, j]; the other positions get 0 from that window.",
                _routed("every")),
        Variant("grad_averaged", "the gradient is averaged over the window (that is avg-pool's "
                "backward)", "max pooling passes the whole gradient to the arg-max of the window; "
                "dividing by the window size is what average pooling does.", _routed("average")),
        Variant("ties_all_get_gradient", "with tied maxima, every maximum gets the gradient",
                "when several values of a window equal the maximum, only the first one (in "
                "row-major order, as np.argmax finds it) gets the gradient, as in PyTorch.",
                _routed("ties_all")),
        Variant("ties_last", "with tied maxima, the last maximum gets the gradient",
                "when several values of a window equal the maximum, the first one (np.argmax on "
                "the flattened window) gets the gradient; `>=` in a loop picks the last one.",
                _routed("ties_last")),
        Variant("overwrite_not_accumulate",
                "overlapping windows overwrite the gradient instead of adding to it",
                "a pixel that is the maximum of several windows receives the sum of their "
                "gradients: use `grad_x[...] += g`, not `=`.", _routed("overwrite")),
        Variant("default_stride", "the default stride is 1 instead of kernel_size", _STRIDE_HINT,
                lambda c: when(c.stride is None, lambda: _routed("first", stride=1)(c))),
    ],
    hints={"wrong_dtype": "grad_x has x's shape and dtype: np.zeros_like(x)."},
))

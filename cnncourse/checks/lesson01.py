"""Checks for lesson 01 (pixels as matrices): the predictions ``q01_shift_changed`` and
``q01_dense_params``, and the exercises ``normalize``, ``to_channels_first``, ``downsample``.

The references are one-line NumPy expressions written here (these operations are not part of
:mod:`cnncourse.numpy_ops`).
"""
from __future__ import annotations

import functools

import numpy as np

from .core import Exercise, Variant, int_values, make_case, register, seeded_rng
from .predictions import Prediction, wrong_answer

__all__ = ["Q01_SHIFT_CHANGED", "Q01_DENSE_PARAMS", "NORMALIZE", "TO_CHANNELS_FIRST", "DOWNSAMPLE"]

LESSON = "01_pixels_as_matrices"


def _pixels(rng, shape, high=256):
    return rng.integers(0, high, size=shape, dtype=np.uint8)


# ---------------------------------------------------------------- predictions
def _dense(n_in, n_out, bias=True):
    return n_in * n_out + (n_out if bias else 0)


@functools.lru_cache(maxsize=1)
def _shift_changed() -> float:
    """Fraction of the 784 pixels of MNIST test image 0 that change when it moves 2 columns right."""
    from ..data import load_mnist

    digit = load_mnist("test")[0][0]
    shifted = np.zeros_like(digit)
    shifted[:, 2:] = digit[:, :-2]
    return float((digit != shifted).mean())


Q01_SHIFT_CHANGED = register(Prediction(
    "q01_shift_changed", LESSON,
    "MNIST test image 0 is shifted 2 columns to the right (zeros come in on the left): what "
    "fraction of its 784 pixel values change? (a number between 0 and 1)",
    _shift_changed,
    "compare the digit with its shifted copy pixel by pixel; only pixels on or next to the "
    "strokes change, most of the image is background that stays 0.",
    wrong=[wrong_answer("count_not_fraction", "the number of pixels is given instead of a fraction",
                        lambda: round(_shift_changed() * 784), "Divide the count by 784.")],
    tolerance=0.03))

Q01_DENSE_PARAMS = register(Prediction(
    "q01_dense_params", LESSON,
    "A 224×224 colour photo is flattened and fed to a dense layer with 1000 outputs: how many "
    "parameters (weights + biases) does that layer have?",
    lambda: _dense(224 * 224 * 3, 1000),
    "a dense layer has n_in * n_out weights plus n_out biases, with n_in = 224*224*3 = 150,528.",
    wrong=[
        wrong_answer("bias_forgotten", "the biases are left out", _dense(224 * 224 * 3, 1000, False),
                     "Each of the 1000 outputs has its own bias too."),
        wrong_answer("channels_forgotten", "the 3 colour channels are left out",
                     _dense(224 * 224, 1000), "A colour pixel is 3 numbers."),
    ]))


# ---------------------------------------------------------------- normalize
def _normalize_cases(hidden):
    rng = seeded_rng("normalize", hidden)
    cases = [
        make_case("2×3 gray image with 0 and 255", np.array([[0, 128, 255], [1, 64, 200]], np.uint8)),
        make_case("dark 3×3 image (brightest pixel 100)", _pixels(rng, (3, 3), 101)),
        make_case("2×2 colour image (H, W, 3)", _pixels(rng, (2, 2, 3))),
    ]
    cases[1].args[0][0, 0] = 100
    for k in range(5 if not hidden else 10):
        shape = tuple(int(v) for v in rng.integers(2, 12, size=2)) + ((3,) if k % 2 else ())
        cases.append(make_case(f"random {shape} image", _pixels(rng, shape, int(rng.integers(50, 257)))))
    return cases


NORMALIZE = register(Exercise(
    "normalize", LESSON, "normalize", 1,
    signature="img",
    make_cases=_normalize_cases,
    reference=lambda case: case.img.astype(np.float32) / np.float32(255),
    variants=[
        Variant("not_scaled", "the values are not scaled: they still run from 0 to 255",
                "divide by 255, the largest value a uint8 pixel can hold: "
                "img.astype(np.float32) / 255.",
                lambda c: c.img.astype(np.float32)),
        Variant("scaled_by_max", "divides by the image's own maximum instead of 255",
                "255 is fixed by the uint8 format; dividing by img.max() makes a dark image look "
                "as bright as a light one. Use img.astype(np.float32) / 255.",
                lambda c: c.img.astype(np.float32) / np.float32(c.img.max())),
        Variant("scaled_by_max", "rescales from the image's minimum to its maximum (min-max)",
                "use the fixed range of uint8: img.astype(np.float32) / 255, not "
                "(img - img.min()) / (img.max() - img.min()).",
                lambda c: (c.img - np.float32(c.img.min())) / np.float32(np.ptp(c.img))),
        Variant("wrong_dtype", "the result is still an integer array (everything rounds to 0 or 1)",
                "convert to float32 before dividing: img.astype(np.float32) / 255 — integer "
                "division `//` or .astype(np.uint8) afterwards throws the fractions away.",
                lambda c: c.img // 255),
    ],
    hints={
        "wrong_dtype": "return float32: img.astype(np.float32) / 255 (img / 255 alone gives "
        "float64, twice the memory for no benefit).",
        "input_modified": "`img /= 255` cannot work in place on a uint8 array, and `img[...] = ` "
        "changes the caller's image: return a new array.",
    },
))


# ---------------------------------------------------------------- to_channels_first
def _channels_cases(hidden):
    rng = seeded_rng("to_channels_first", hidden)
    cases = [
        make_case("2×3 image with 3 channels", _pixels(rng, (2, 3, 3))),
        make_case("square 3×3 image with 3 channels", _pixels(rng, (3, 3, 3))),
        make_case("2×4 image with 1 channel", _pixels(rng, (2, 4, 1))),
        make_case("float32 2×5 image with 2 channels", rng.random((2, 5, 2), dtype=np.float32)),
    ]
    for _ in range(4 if not hidden else 8):
        H, W, C = (int(v) for v in rng.integers(2, 9, size=3))
        cases.append(make_case(f"random ({H}, {W}, {C}) image", _pixels(rng, (H, W, C))))
    return cases


_CF_HINT = ("move the last axis to the front without touching the values: "
            "img.transpose(2, 0, 1) (or np.moveaxis(img, -1, 0)); "
            "a reshape keeps the memory order and scrambles the pixels.")

TO_CHANNELS_FIRST = register(Exercise(
    "to_channels_first", LESSON, "to_channels_first", 1,
    signature="img",
    make_cases=_channels_cases,
    reference=lambda case: case.img.transpose(2, 0, 1),
    variants=[
        Variant("reshape_not_transpose",
                "uses reshape instead of transpose: the shape is right but the values are scrambled",
                _CF_HINT, lambda c: c.img.reshape(c.img.shape[2], *c.img.shape[:2])),
        Variant("h_w_swapped", "height and width are swapped: the result is (C, W, H)",
                "the axes of (H, W, C) are numbered 0, 1, 2: (C, H, W) is transpose(2, 0, 1), "
                "while transpose(2, 1, 0) or .T gives (C, W, H).",
                lambda c: c.img.transpose(2, 1, 0)),
        Variant("channels_last_unchanged", "the image is returned channels-last (H, W, C), unchanged",
                _CF_HINT, lambda c: c.img),
    ],
))


# ---------------------------------------------------------------- downsample
def _blocks(img, factor, ceil=False):
    """Mean over factor×factor blocks (partial blocks kept when ``ceil``)."""
    H, W = img.shape
    OH, OW = (-(-H // factor), -(-W // factor)) if ceil else (H // factor, W // factor)
    out = np.zeros((OH, OW), dtype=img.dtype)
    for i in range(OH):
        for j in range(OW):
            out[i, j] = img[i * factor:(i + 1) * factor, j * factor:(j + 1) * factor].mean()
    return out


def _downsample_cases(hidden):
    rng = seeded_rng("downsample", hidden)
    iv = lambda *shape: int_values(rng, shape, low=0, high=10)  # noqa: E731
    cases = [
        make_case("4×4 image, factor 2", iv(4, 4), 2),
        make_case("5×7 image, factor 2 (last row and column dropped)", iv(5, 7), 2),
        make_case("6×6 image, factor 3", iv(6, 6), 3),
        make_case("3×5 image, factor 1 (unchanged)", iv(3, 5), 1),
    ]
    for _ in range(5 if not hidden else 10):
        factor = int(rng.integers(2, 5))
        H, W = (int(v) for v in rng.integers(factor, 4 * factor + 3, size=2))
        cases.append(make_case(f"random {H}×{W} image, factor {factor}",
                               rng.random((H, W)), factor))
    return cases


DOWNSAMPLE = register(Exercise(
    "downsample", LESSON, "downsample", 2,
    signature="img, factor",
    make_cases=_downsample_cases,
    reference=lambda case: _blocks(case.img, case.factor),
    variants=[
        Variant("subsampled", "keeps every factor-th pixel instead of averaging each block",
                "each output pixel is the mean of a factor×factor block: "
                "img[i*f:(i+1)*f, j*f:(j+1)*f].mean(); img[::f, ::f] throws the other pixels away.",
                lambda c: c.img[::c.factor, ::c.factor][
                    :c.img.shape[0] // c.factor, :c.img.shape[1] // c.factor]),
        Variant("sum_not_mean", "sums each block instead of averaging it",
                "divide each block's sum by factor*factor (or use .mean()).",
                lambda c: _blocks(c.img, c.factor) * c.factor ** 2),
        Variant("remainder_not_dropped",
                "keeps the incomplete blocks at the bottom and right edges",
                "rows and columns that do not fill a whole block are dropped: the output is "
                "(H // factor, W // factor).",
                lambda c: _blocks(c.img, c.factor, ceil=True)),
    ],
    hints={"output_size_off_by_one": "the output is (H // factor, W // factor): check the "
           "range() of your loops and the shape of the output array."},
))

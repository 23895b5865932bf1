"""Checks for lesson 07 (cells and satellite images): the predictions ``q07_patch_shape`` and
``q07_recall``, and the exercises ``cut_patches``, ``count_matches`` and ``qa_bits``.

Trusted references: :func:`cnncourse.patches.cut_patches` (zero padding outside the image),
:func:`cnncourse.patches.detection_scores` (greedy one-to-one matching in the order of the
detections, distance inclusive) and :func:`cnncourse.data.landsat.qa_field`'s formula
``(qa >> first_bit) & (2**n_bits - 1)``, bit 0 being the least significant.
"""
from __future__ import annotations

import numpy as np

from ..patches import cut_patches as _cut_patches
from ..patches import detection_scores
from .core import Exercise, Variant, make_case, register, seeded_rng, when
from .predictions import Prediction, wrong_answer

__all__ = ["Q07_PATCH_SHAPE", "Q07_RECALL", "CUT_PATCHES", "COUNT_MATCHES", "QA_BITS"]

LESSON = "07_cells_and_satellites"

# ---------------------------------------------------------------- predictions
Q07_PATCH_SHAPE = register(Prediction(
    "q07_patch_shape", LESSON,
    "bands has shape (256, 512, 6) (rows, columns, bands) and centres holds 100 (row, col) "
    "pairs; what is the shape of cut_patches(bands, centres, 9)?",
    lambda: tuple(_cut_patches(np.zeros((256, 512, 6)), np.zeros((100, 2), dtype=int), 9).shape),
    "one 9×9 patch per centre, and each pixel of a patch keeps its 6 band values in the last "
    "axis, as in the image: (100, 9, 9, 6). Torch wants (N, C, H, W); we transpose afterwards.",
    wrong=[
        wrong_answer("channels_first", "the bands are put first, as torch wants them",
                     (100, 6, 9, 9), "cut_patches keeps the image's layout: bands last."),
        wrong_answer("size_as_radius", "9 is read as the distance from the centre",
                     (100, 19, 19, 6), "size is the patch's side: 9 pixels, 4 on each side."),
    ]))

Q07_RECALL = register(Prediction(
    "q07_recall", LESSON,
    "A detector marks 60 spots on an image with 67 nuclei; 50 of the spots match a nucleus "
    "(one spot per nucleus). What is its recall? (a number, to 2 decimals)",
    lambda: 50 / 67,
    "recall is the share of the true nuclei that are found: 50 / 67 = 0.75. Precision, the "
    "share of the spots that are right, is 50 / 60 = 0.83.",
    wrong=[
        wrong_answer("precision_recall_swapped", "this is the precision (50 / 60)", 50 / 60,
                     "recall divides by the number of true nuclei, precision by the number of "
                     "detections."),
        wrong_answer("count_ratio", "this is the count's ratio (60 / 67)", 60 / 67,
                     "a count can be right while many spots are wrong: only matched spots count."),
    ], tolerance=0.006))


# ---------------------------------------------------------------- cut_patches
def _window(image, centres, size, shift=0, swap=False):
    """Patches centred on ``centres + shift`` (rows and columns exchanged when ``swap``), zero
    outside the image: how the wrong versions index."""
    h = size // 2
    H, W = image.shape
    out = np.zeros((len(centres), size, size), dtype=image.dtype)
    for k, (r, c) in enumerate(centres):
        if swap:
            r, c = c, r
        for i in range(size):
            for j in range(size):
                y, x = r - h + i + shift, c - h + j + shift
                if 0 <= y < H and 0 <= x < W:
                    out[k, i, j] = image[y, x]
    return out


def _no_padding_offset(c):
    """Padded by ``h`` but sliced as if not padded: the patch of ``(r - h, c - h)``; a negative
    start gives a short slice, which numpy refuses to store or stack."""
    h = c.patch_size // 2
    if np.any(c.centres < h):
        raise ValueError("could not broadcast input array (a slice with a negative start)")
    return _window(c.image, c.centres, c.patch_size, shift=-h)


def _clipped(c):
    """Patches moved inside the image at the border instead of padded."""
    H, W = c.image.shape
    if c.patch_size > min(H, W):
        return None
    h = c.patch_size // 2
    out = np.zeros((len(c.centres), c.patch_size, c.patch_size), dtype=c.image.dtype)
    for k, (r, col) in enumerate(c.centres):
        top, left = min(max(r - h, 0), H - c.patch_size), min(max(col - h, 0), W - c.patch_size)
        out[k] = c.image[top:top + c.patch_size, left:left + c.patch_size]
    return out


def _border(c) -> bool:
    h = c.patch_size // 2
    H, W = c.image.shape
    r, col = c.centres[:, 0], c.centres[:, 1]
    return bool(np.any((r < h) | (col < h) | (r >= H - h) | (col >= W - h)))


def _patch_cases(hidden):
    rng = seeded_rng("cut_patches", hidden)

    def image(H, W, dtype=np.float64):
        return rng.permutation(np.arange(1, H * W + 1)).reshape(H, W).astype(dtype)

    cases = [
        make_case("one 3×3 patch in the middle of a 5×7 image (row 2, col 4)", image(5, 7),
                  np.array([[2, 4]]), 3),
        make_case("top-left corner (row 0, col 0): zeros above and left", image(5, 6),
                  np.array([[0, 0]]), 3),
        make_case("last row and last column: zeros below and right", image(4, 6),
                  np.array([[3, 5]]), 3),
        make_case("3 patches of 5×5 in a 6×9 image, rows != cols", image(6, 9),
                  np.array([[2, 6], [3, 3], [4, 7]]), 5),
        make_case("size 1: the pixel itself", image(3, 4), np.array([[1, 3], [2, 0]]), 1),
        make_case("float32 image, 2 patches near the border", image(7, 5, np.float32),
                  np.array([[1, 4], [6, 2]]), 3),
    ]
    for k in range(6 if not hidden else 12):
        H, W = (int(v) for v in rng.integers(7, 13, size=2))
        size = int(rng.choice([3, 5, 7]))
        n = int(rng.integers(1, 5))
        centres = np.stack([rng.integers(0, H, n), rng.integers(0, W, n)], axis=1)
        cases.append(make_case(f"random: image {H}×{W}, {n} centres, patch_size {size}", image(H, W),
                               centres, size))
    return cases


_PAD_HINT = ("a pixel outside the image is 0: pad the image with h = size // 2 zeros on each "
             "side (np.pad(image, h)); then pixel (r, c) of the image is pixel (r + h, c + h) of "
             "the padded one, so the patch is padded[r : r + size, c : c + size].")

CUT_PATCHES = register(Exercise(
    "cut_patches", LESSON, "cut_patches", 2,
    signature="image, centres, patch_size",
    make_cases=_patch_cases,
    reference=lambda c: _cut_patches(c.image, c.centres, c.patch_size),
    variants=[
        Variant("xy_swapped", "rows and columns are swapped: the patch is centred on (col, row)",
                "centres[k] is (row, col): the row indexes the image's first axis, "
                "image[row, col] — not image[x, y] with x the column.",
                lambda c: when(np.any(c.centres[:, 0] != c.centres[:, 1]),
                               lambda: _window(c.image, c.centres, c.patch_size, swap=True))),
        Variant("window_one_short", "the window stops one pixel early: (size - 1) × (size - 1)",
                "a slice a:b stops before b: the patch is rows r - h to r + h *inclusive*, "
                "image[r - h : r + h + 1].",
                lambda c: when(c.patch_size > 1, lambda: _cut_patches(c.image, c.centres, c.patch_size)
                               [:, :c.patch_size - 1, :c.patch_size - 1])),
        Variant("centre_off_by_one", "the patch is centred one pixel up and left of the centre",
                "with h = size // 2 the patch starts at r - h; h = (size + 1) // 2 starts one "
                "pixel too early.",
                lambda c: _window(c.image, c.centres, c.patch_size, shift=-1)),
        Variant("padding_offset_forgotten",
                "the image is padded, but the patch is cut as if it were not: centred h pixels "
                "up and left", _PAD_HINT, _no_padding_offset),
        Variant("border_not_zero", "outside the image the border pixels are repeated, not 0",
                _PAD_HINT, lambda c: when(_border(c), lambda: _cut_patches(
                    c.image, c.centres, c.patch_size, pad_mode="edge"))),
        Variant("border_not_zero", "outside the image the pixels are mirrored, not 0", _PAD_HINT,
                lambda c: when(_border(c) and c.patch_size // 2 < min(c.image.shape), lambda: _cut_patches(
                    c.image, c.centres, c.patch_size, pad_mode="reflect"))),
        Variant("border_clipped", "at the border the patch is moved inside the image instead of "
                "padded, so its centre is not the pixel", _PAD_HINT,
                lambda c: when(_border(c), lambda: _clipped(c))),
    ],
    hints={"wrong_dtype": "keep the image's dtype: np.zeros(..., dtype=image.dtype).",
           "wrong_shape": "the result is (N, size, size): one patch per row of centres."},
))


# ---------------------------------------------------------------- count_matches
def _counts(c, max_distance=None):
    s = detection_scores(c.detections, c.truth,
                         c.max_distance if max_distance is None else max_distance)
    return (s["tp"], s["fp"], s["fn"])


def _match_cases(hidden):
    rng = seeded_rng("count_matches", hidden)
    cases = [
        make_case("one detection at distance 5 = max_distance (3-4-5 triangle): a match",
                  np.array([[3.0, 4.0], [9.0, 9.0]]), np.array([[0.0, 0.0], [20.0, 20.0]]), 5.0),
        make_case("two detections near one nucleus: only one matches",
                  np.array([[10.0, 10.0], [11.0, 10.0], [30.0, 5.0]]),
                  np.array([[10.0, 11.0], [30.0, 6.0], [50.0, 50.0], [2.0, 40.0]]), 3.0),
        make_case("3 detections, 5 nuclei, distances 0 to 3 (max_distance 3)",
                  np.array([[5.0, 5.0], [20.0, 23.0], [40.0, 40.0]]),
                  np.array([[5.0, 5.0], [20.0, 20.0], [41.0, 41.0], [60.0, 0.0], [0.0, 60.0]]), 3.0),
        make_case("5 detections, 2 nuclei, a match at distance 2 of max_distance 4",
                  np.array([[0.0, 0.0], [0.0, 2.0], [8.0, 8.0], [30.0, 30.0], [31.0, 30.0]]),
                  np.array([[0.0, 2.0], [30.0, 32.0]]), 4.0),
        make_case("float centres (centroids)", np.array([[10.4, 3.2], [7.9, 15.5]]),
                  np.array([[11.0, 4.0], [7.0, 18.0], [0.5, 0.5]]), 2.0),
    ]
    for k in range(6 if not hidden else 12):
        T, D = (int(v) for v in rng.integers(2, 9, size=2))
        truth = rng.integers(0, 40, (T, 2)).astype(float)
        near = truth[rng.integers(0, T, D)] + rng.integers(-3, 4, (D, 2))
        far = rng.integers(0, 40, (D, 2))
        dets = np.where(rng.random((D, 1)) < 0.7, near, far).astype(float)
        cases.append(make_case(f"random: {D} detections, {T} nuclei, max_distance 3", dets, truth,
                               3.0))
    return cases


def _within(a, b, r):
    """For each row of ``a``: is some row of ``b`` at most ``r`` away?"""
    d = np.hypot(*(a[:, None, :] - b[None, :, :]).transpose(2, 0, 1))
    return (d <= r).any(axis=1)


def _matched_twice(c):
    near_truth = int(_within(c.detections, c.truth, c.max_distance).sum())
    found = int(_within(c.truth, c.detections, c.max_distance).sum())
    return (near_truth, len(c.detections) - near_truth, len(c.truth) - found)


COUNT_MATCHES = register(Exercise(
    "count_matches", LESSON, "count_matches", 2,
    signature="detections, truth, max_distance",
    make_cases=_match_cases,
    reference=_counts,
    output_kind="value",
    variants=[
        Variant("nucleus_matched_twice", "a nucleus can be matched by several detections",
                "each nucleus may be matched once: mark it as taken when a detection matches it, "
                "and skip taken nuclei for the next detections.", _matched_twice),
        Variant("nucleus_matched_twice", "a nucleus can be matched by several detections "
                "(fn counted from the matches)",
                "each nucleus may be matched once: mark it as taken when a detection matches it.",
                lambda c: (lambda tp: (tp, len(c.detections) - tp, max(len(c.truth) - tp, 0)))(
                    int(_within(c.detections, c.truth, c.max_distance).sum()))),
        Variant("fp_fn_swapped", "false positives and false negatives are swapped",
                "a false positive is a detection with no nucleus (len(detections) - tp); a false "
                "negative a nucleus with no detection (len(truth) - tp).",
                lambda c: (lambda t: (t[0], t[2], t[1]))(_counts(c))),
        Variant("distance_strict", "a match needs distance < max_distance, not <=",
                "a detection exactly max_distance away matches: use `<=`.",
                lambda c: _counts(c, float(np.nextafter(c.max_distance, 0)))),
        Variant("squared_distance", "the squared distance is compared with max_distance",
                "the distance is sqrt(drow**2 + dcol**2) (np.hypot); compare it, not its square, "
                "with max_distance.",
                lambda c: _counts(c, float(np.sqrt(c.max_distance)))),
    ],
    hints={"raised": "return a tuple (tp, fp, fn) of three ints."},
))


# ---------------------------------------------------------------- qa_bits
def _bits(qa, first, n):
    return (qa >> first) & ((1 << n) - 1)


def _reversed_field(c):
    value = _bits(c.qa, c.first_bit, c.n_bits)
    out = np.zeros_like(value)
    for b in range(c.n_bits):
        out |= ((value >> b) & 1) << (c.n_bits - 1 - b)
    return out


def _qa_cases(hidden):
    rng = seeded_rng("qa_bits", hidden)
    real = np.array([20480, 53248, 61440, 28672, 36864, 2720, 1, 6144], dtype=np.uint16)
    cases = [
        make_case("cloud confidence: bits 14-15 of real quality values", real, 14, 2),
        make_case("cirrus confidence: bits 12-13", real, 12, 2),
        make_case("fill: bit 0", np.array([[0, 1], [3, 65535]], dtype=np.uint16), 0, 1),
        make_case("water: bits 4-5 of a 2×3 array", np.array(
            [[16, 32, 48], [49, 15, 65535]], dtype=np.uint16), 4, 2),
        make_case("a 3-bit field, bits 9-11", np.array([512, 1024, 3584, 4095, 7680], dtype=np.uint16),
                  9, 3),
    ]
    for k in range(5 if not hidden else 10):
        n = int(rng.integers(1, 4))
        first = int(rng.integers(0, 17 - n))
        qa = rng.integers(0, 65536, size=(int(rng.integers(2, 5)), 3)).astype(np.uint16)
        cases.append(make_case(f"random: {qa.shape[0]}×3 values, bits {first} to {first + n - 1}",
                               qa, first, n))
    return cases


_SHIFT_HINT = ("bit 0 is the least significant (value 1), bit 15 the most (value 32768): "
               "shift right by first_bit, then keep n_bits bits: (qa >> first_bit) & (2**n_bits - 1).")

QA_BITS = register(Exercise(
    "qa_bits", LESSON, "qa_bits", 2,
    signature="qa, first_bit, n_bits",
    make_cases=_qa_cases,
    reference=lambda c: _bits(c.qa, c.first_bit, c.n_bits),
    variants=[
        Variant("bits_counted_from_the_left",
                "bits are counted from the left (bit 0 = the most significant of 16)", _SHIFT_HINT,
                lambda c: _bits(c.qa, 16 - c.first_bit - c.n_bits, c.n_bits)),
        Variant("field_bits_reversed", "the bits inside the field are read in reverse order",
                "the field's lowest bit is its least significant: after the shift, the value is "
                "simply & (2**n_bits - 1); do not reassemble the bits one by one in reverse.",
                lambda c: when(c.n_bits > 1, lambda: _reversed_field(c))),
        Variant("mask_not_applied", "shifted but not masked: the higher bits are kept",
                "after the shift, keep only the n_bits lowest bits: & (2**n_bits - 1).",
                lambda c: c.qa >> c.first_bit),
        Variant("not_shifted_down", "masked in place but not shifted down (e.g. 49152, not 3)",
                "shift the field down to bit 0 first: qa >> first_bit, then mask.",
                lambda c: c.qa & np.uint16(((1 << c.n_bits) - 1) << c.first_bit)),
        Variant("mask_is_n_bits", "masked with n_bits instead of 2**n_bits - 1",
                "n_bits bits are kept by the mask 2**n_bits - 1 (binary 11 for two bits), not "
                "by n_bits itself (binary 10 for two).",
                lambda c: when(c.n_bits > 1, lambda: (c.qa >> c.first_bit) & np.uint16(c.n_bits))),
        Variant("shift_off_by_one", "shifted by one bit too many or too few",
                _SHIFT_HINT, lambda c: _bits(c.qa, c.first_bit + 1, c.n_bits)),
        Variant("shift_off_by_one", "shifted by one bit too few", _SHIFT_HINT,
                lambda c: when(c.first_bit > 0, lambda: _bits(c.qa, c.first_bit - 1, c.n_bits))),
    ],
    hints={"wrong_dtype": "keep qa's dtype (uint16): shifts and & on a uint16 array stay uint16."},
))

"""Tests of cnncourse.checks: every diagnosis is triggered by a deliberately wrong implementation,
correct implementations written in other styles pass, and wrong kinds of output are refused.

The wrong implementations are written the way a learner would (loops), not by transforming the
reference, so that they test the diagnosis and not a copy of it.
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from cnncourse.checks import (CheckFailed, Outcome, call_case, check, check_prediction, exercises,
                              get_exercise)
from cnncourse.checks.core import record_value
from cnncourse.checks.diagnose import GENERIC, same
from cnncourse.checks.predictions import _show


def verdict_of(exercise_id, fn):
    ex = get_exercise(exercise_id)
    cases = ex.cases()
    return ex.diagnose(cases, [call_case(fn, c) for c in cases])


def assert_diagnosis(exercise_id, fn, key):
    with pytest.raises(CheckFailed) as info:
        check(exercise_id, fn, raise_on_fail=True)
    verdict = verdict_of(exercise_id, fn)
    assert not verdict.passed
    assert verdict.diagnosis == key, verdict.message
    message = str(info.value)
    assert message == verdict.message and info.value.verdict == verdict
    assert f"[{key}]" in message or key == "not_implemented"
    assert "expected" in message or key == "not_implemented"
    assert "What to" in message


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
        if mistake == "padding_one_side":
            xp = np.pad(x, ((0, 0), (0, 0), (p, 0), (p, 0)))
            H, W = xp.shape[2] - p, xp.shape[3] - p  # sizes then computed with 2*padding
        else:
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        OH = (H + 2 * p - d * (KH - 1) - 1) // s + 1
        OW = (W + 2 * p - d * (KW - 1) - 1) // s + 1
        if mistake == "padding_one_side":
            OH, OW = OH - p, OW - p
        if mistake == "output_size_off_by_one":
            OH, OW = OH - 1, OW - 1
        if mistake == "dilation_ignored":
            d = 1
        if mistake == "stride_ignored":
            s = 1
        dtype = None if mistake == "wrong_dtype" else x.dtype
        shape = (N, OH, OW, F) if mistake == "channels_last" else (N, F, OH, OW)
        out = np.zeros(shape, dtype=dtype)
        for n in range(N):
            for f in range(F):
                for i in range(OH):
                    for j in range(OW):
                        rows = slice(i * s, i * s + d * (KH - 1) + 1, d)
                        cols = slice(j * s, j * s + d * (KW - 1) + 1, d)
                        window = xp[n, :, rows, cols]
                        if mistake == "sum_wrong_axes":
                            for c in range(C):
                                value = np.sum(window[c] * weight[f, c])  # `=`, not `+=`
                        elif mistake == "bias_added_per_pixel":
                            value = np.sum(window * weight[f] + bias[f])
                        elif mistake == "bias_added_per_channel":
                            value = sum(np.sum(window[c] * weight[f, c]) + bias[f] for c in range(C))
                        else:
                            value = np.sum(window * weight[f])
                        if bias is not None and mistake not in (
                                "bias_missing", "bias_added_per_pixel", "bias_added_per_channel",
                                "bias_wrong_axis"):
                            value = value + bias[f]
                        if mistake == "channels_last":
                            out[n, i, j, f] = value
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


# ------------------------------------------------------------------ lesson 01
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
        out = np.zeros((N, C, OH, OW), dtype=None if mistake == "wrong_dtype" else x.dtype)
        for n in range(N):
            for c in range(C):
                for i in range(OH):
                    for j in range(OW):
                        rows = slice(i * stride, i * stride + k)
                        cols = slice(j * stride, j * stride + k)
                        window = x[n, c, rows, cols]
                        if mistake == "min_instead_of_max":
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
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        real = np.pad(np.ones(x.shape[2:]), p)
        N, C, H, W = xp.shape
        OH, OW = (H - k) // stride + 1, (W - k) // stride + 1
        if mistake == "output_size_off_by_one":
            OH, OW = OH - 1, OW - 1
        out = np.zeros((N, C, OH, OW), dtype=None if mistake == "wrong_dtype" else x.dtype)
        for i in range(OH):
            for j in range(OW):
                rows = slice(i * stride, i * stride + k)
                cols = slice(j * stride, j * stride + k)
                total = xp[:, :, rows, cols].sum(axis=(2, 3))
                count = k * k if count_include_pad else real[rows, cols].sum()
                if mistake == "padding_counted":
                    count = k * k
                if mistake == "padding_not_counted":
                    count = real[rows, cols].sum()
                out[:, :, i, j] = total if mistake == "not_divided" else total / count
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


class Evil:
    """An object that claims to equal everything."""

    shape = property(lambda self: (1,))

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class MyArray(np.ndarray):
    pass


def not_implemented(*args, **kwargs):
    raise NotImplementedError("exercise conv2d: replace this line with your code")


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
        "input_modified")},
    "normalize": {k: normalize_impl(k) for k in (
        "not_scaled", "scaled_by_max", "wrong_dtype", "input_modified")},
    "to_channels_first": {k: channels_impl(k) for k in (
        "reshape_not_transpose", "h_w_swapped", "channels_last_unchanged")},
    "downsample": {k: downsample_impl(k) for k in (
        "subsampled", "sum_not_mean", "remainder_not_dropped", "output_size_off_by_one")},
    "max_pool2d": {k: max_pool_impl(k) for k in (
        "default_stride", "output_size_off_by_one", "min_instead_of_max", "avg_instead_of_max",
        "max_started_at_zero", "channels_mixed", "wrong_dtype")},
    "avg_pool2d": {k: avg_pool_impl(k) for k in (
        "not_divided", "padding_counted", "padding_not_counted", "default_stride",
        "output_size_off_by_one", "wrong_dtype")},
    "max_pool2d_backward": {k: max_backward_impl(k) for k in (
        "grad_to_every_position", "grad_averaged", "ties_all_get_gradient", "ties_last",
        "overwrite_not_accumulate", "default_stride", "wrong_dtype")},
}
# a second way to make the same mistake
WRONG_TOO = [("normalize", "wrong_dtype", normalize_impl("float64"))]

CORRECT = {
    "conv_output_size": [size_impl(), lambda n, k, stride=1, padding=0, dilation=1: np.int64(
        np.floor((n + 2 * padding - dilation * (k - 1) - 1) / stride) + 1)],
    "correlate2d": [correlate_impl(),
                    lambda image, kernel: conv_einsum(image[None, None], kernel[None, None])[0, 0]],
    "conv2d": [conv_impl(), conv_einsum, conv_as_strided],
    "normalize": [normalize_impl(), lambda img: np.divide(img, 255, dtype=np.float32)],
    "to_channels_first": [channels_impl(), lambda img: np.moveaxis(img, -1, 0),
                          lambda img: np.einsum("hwc->chw", img)],
    "downsample": [downsample_impl(), lambda img, factor: sliding_window_view(
        img, (factor, factor))[::factor, ::factor].mean(axis=(2, 3))],
    "max_pool2d": [max_pool_impl(), max_pool_strided],
    "avg_pool2d": [avg_pool_impl(), avg_pool_strided],
    "max_pool2d_backward": [max_backward_impl()],
}

WRONG_CASES = [(ex, key) for ex, table in WRONG.items() for key in table]
CORRECT_CASES = [(ex, i) for ex, impls in CORRECT.items() for i in range(len(impls))]


@pytest.mark.parametrize("exercise_id, key", WRONG_CASES, ids=[f"{e}-{k}" for e, k in WRONG_CASES])
def test_wrong_implementation_gets_its_diagnosis(exercise_id, key):
    assert_diagnosis(exercise_id, WRONG[exercise_id][key], key)


@pytest.mark.parametrize("exercise_id, key, fn", WRONG_TOO)
def test_another_way_to_make_the_mistake(exercise_id, key, fn):
    assert_diagnosis(exercise_id, fn, key)


@pytest.mark.parametrize("exercise_id, index", CORRECT_CASES,
                         ids=[f"{e}-{i}" for e, i in CORRECT_CASES])
def test_correct_implementations_pass(exercise_id, index, capsys):
    verdict = check(exercise_id, CORRECT[exercise_id][index])
    assert verdict.passed and verdict.diagnosis is None
    out, err = capsys.readouterr()
    assert out == f"✓ {exercise_id}: {verdict.n_cases} cases passed\n"
    assert err == ""
    hidden = check(exercise_id, CORRECT[exercise_id][index], hidden=True)
    assert hidden.passed and hidden.n_cases > verdict.n_cases


@pytest.mark.parametrize("exercise_id", sorted(WRONG))
def test_every_diagnosis_of_an_exercise_is_tested(exercise_id):
    claimed = set(get_exercise(exercise_id).diagnoses)
    assert claimed <= set(WRONG[exercise_id]), claimed - set(WRONG[exercise_id])


@pytest.mark.parametrize("make_output, shown", [
    (lambda out: out.tolist(), "list"),
    (lambda out: out.view(MyArray), "MyArray"),
    (lambda out: Evil(), "Evil"),
    (lambda out: (out,), "tuple"),
])
def test_outputs_that_are_not_plain_arrays_fail(make_output, shown):
    fn = lambda *args, **kwargs: make_output(conv_einsum(*args, **kwargs))  # noqa: E731
    verdict = verdict_of("conv2d", fn)
    assert verdict.diagnosis == "not_ndarray"
    assert shown in verdict.message and "np.ndarray" in verdict.message


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_np_matrix_output_fails():
    verdict = verdict_of("correlate2d", correlate_impl("matrix"))
    assert verdict.diagnosis == "not_ndarray" and "numpy.matrix" in verdict.message


def test_stub_says_not_done_yet():
    verdict = verdict_of("conv2d", not_implemented)
    assert verdict.diagnosis == "not_implemented"
    assert "not done yet" in verdict.message and "NotImplementedError" in verdict.message


def test_a_failing_check_prints_its_diagnosis_and_raises_nothing(capsys):
    verdict = check("conv2d", conv_impl("kernel_flipped"))
    assert not verdict.passed and verdict.status == "failed"
    assert capsys.readouterr() == (verdict.message + "\n", "")


def test_a_check_asked_to_raise_prints_nothing(capsys):
    with pytest.raises(AssertionError):
        check("conv2d", conv_impl("kernel_flipped"), raise_on_fail=True)
    assert capsys.readouterr() == ("", "")


def test_a_crash_shows_the_error_and_the_case():
    def crashes(x, weight, bias=None, stride=1, padding=0, dilation=1):
        return x[:, :, 100]
    verdict = verdict_of("conv2d", crashes)
    assert verdict.diagnosis == "raised" and "IndexError" in verdict.message


def test_check_refuses_a_non_function_with_advice():
    verdict = check("conv2d", np.zeros(3))
    assert verdict.diagnosis == "not_a_function" and verdict.status == "failed"
    assert "check('conv2d', conv2d)" in verdict.message
    with pytest.raises(AssertionError, match=r"check\('conv2d', conv2d\)"):
        check("conv2d", np.zeros(3), raise_on_fail=True)


def test_an_ellipsis_is_not_done_yet():
    verdict = check("conv2d", ...)
    assert verdict.status == "not done" and "not done yet" in verdict.message


def test_unknown_id_lists_the_valid_ones():
    with pytest.raises(ValueError, match="conv2d"):
        get_exercise("conv3d")


def test_cases_are_deterministic_and_sorted_by_size():
    for ex in exercises():
        a, b = ex.cases(), ex.cases()
        assert [c.label for c in a] == [c.label for c in b]
        assert all(same(x, y) for c, d in zip(a, b) for x, y in zip(c.args, d.args))
        assert [c.size for c in a] == sorted(c.size for c in a)


def test_diagnose_needs_only_plain_outcomes():
    """The grader rebuilds outcomes from raw bytes in another process: diagnose must judge
    from plain data only, so a round trip through bytes gives the same verdict."""
    ex = get_exercise("conv2d")
    cases = ex.cases()
    outcomes = [call_case(conv_impl("kernel_flipped"), c) for c in cases]

    def through_bytes(a):
        return np.frombuffer(a.tobytes(), dtype=a.dtype).reshape(a.shape).copy()

    rebuilt = [Outcome(through_bytes(o.output), o.output_type, o.error,
                       tuple(through_bytes(a) for a in o.inputs_after)) for o in outcomes]
    assert ex.diagnose(cases, rebuilt) == ex.diagnose(cases, outcomes)


def test_record_value_keeps_only_plain_data():
    assert record_value(np.int64(3)) == (3, "numpy.int64")
    assert record_value([2, 3]) == ((2, 3), "list[int, int]")
    assert record_value(True)[0] is None
    assert record_value(np.zeros(2).view(MyArray))[0] is None


def test_generic_keys_have_title_and_hint():
    assert all(len(v) == 2 and all(v) for v in GENERIC.values())



# ------------------------------------------------------------------ predictions
PREDICTION_IDS = [e.id for e in exercises() if e.kind == "prediction"]


@pytest.mark.parametrize("question_id", PREDICTION_IDS)
def test_prediction_right_answer_passes_as_tuple_or_list(question_id, capsys):
    answer = get_exercise(question_id).reference(None)
    assert check_prediction(question_id, answer).passed
    if isinstance(answer, tuple):
        assert check_prediction(question_id, list(answer)).passed
    out, err = capsys.readouterr()
    assert out.startswith(f"✓ {question_id}: right") and err == ""


@pytest.mark.parametrize("question_id", PREDICTION_IDS)
def test_prediction_common_wrong_answers_are_named(question_id):
    ex = get_exercise(question_id)
    assert ex.variants, "every question lists at least one common wrong answer"
    for variant in ex.variants:
        with pytest.raises(AssertionError, match="not quite") as info:
            check_prediction(question_id, variant.compute(None), raise_on_fail=True)
        message = " ".join(str(info.value).split())  # as read, whatever the line breaks
        assert variant.title in message and _show(ex.reference(None)) in message
        assert check_prediction(question_id, variant.compute(None)).diagnosis == variant.key


@pytest.mark.parametrize("answer, key", [(..., "not_implemented"), (None, "not_implemented"),
                                         ("ten", "wrong_type"), (123456789, "wrong_answer")])
def test_prediction_unanswered_or_odd_values(answer, key):
    ex = get_exercise("q02_params")
    output, type_name = record_value(answer)
    verdict = ex.diagnose(ex.cases(), [Outcome(output, type_name)])
    assert verdict.diagnosis == key and not verdict.passed


def test_shift_prediction_is_computed_from_the_data():
    from cnncourse.data import load_mnist

    digit = load_mnist("test")[0][0].astype(int)
    moved = np.roll(digit, 2, axis=1)
    moved[:, :2] = 0
    assert get_exercise("q01_shift_changed").reference(None) == np.mean(digit != moved)


def test_a_big_nested_list_is_named_briefly():
    # an array returned as .tolist() once gave a 1.4 MB failure message listing every float
    output, name = record_value(np.zeros((8, 16, 28, 28)).tolist())
    assert output is None and len(name) < 200 and "(8 items)" in name
    verdict = check("conv2d", lambda *args, **kwargs: np.zeros((2, 3, 5, 5)).tolist())
    assert "not_ndarray" in verdict.message and len(verdict.message) < 2000


@pytest.mark.parametrize("question_id", ["q02_output_shape", "q01_shift_changed", "q02_params"])
def test_prediction_given_as_a_numpy_array_is_judged_by_value(question_id, capsys):
    answer = get_exercise(question_id).reference(None)
    assert check_prediction(question_id, np.array(answer)).passed
    assert capsys.readouterr().out.startswith(f"✓ {question_id}: right")

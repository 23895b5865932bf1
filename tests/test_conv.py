"""Tests for cnncourse.numpy_ops.conv: against torch.nn.functional.conv2d and autograd in
float64, against finite differences, naive against vectorized, dtypes, and every bad input.

The vectorized functions run the plain code of conv.py for small inputs and hand large ones to
numpy_ops._conv_fast; the tests that compare results run both paths (``conv_path``)."""
import contextlib
import math

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given

from _oracle import torch_oracle
from _strategies import conv_cases
from cnncourse.numpy_ops import _conv_fast
from cnncourse.numpy_ops import (
    check_gradient,
    conv2d,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_naive,
    conv_output_size,
)

TOL = dict(rtol=0, atol=1e-10)
# PyTorch warns that it copies the input for padding="same" with even kernels; not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


PATHS = ["plain", "fast"]


@contextlib.contextmanager
def conv_path(path):
    """Make conv2d and conv2d_backward take the plain path or the fast path for every input."""
    saved = _conv_fast._MIN_BYTES
    _conv_fast._MIN_BYTES = math.inf if path == "plain" else 0
    try:
        yield
    finally:
        _conv_fast._MIN_BYTES = saved


def test_small_inputs_take_the_plain_path_and_large_ones_the_fast_path(monkeypatch):
    calls = []
    monkeypatch.setattr(_conv_fast, "conv2d", lambda *a: calls.append("fwd") or np.zeros(1))
    monkeypatch.setattr(_conv_fast, "conv2d_backward", lambda *a: calls.append("bwd"))
    x, w = np.ones((1, 1, 8, 8)), np.ones((2, 1, 3, 3))
    assert conv2d(x, w).shape == (1, 2, 6, 6) and calls == []          # lesson-sized: plain
    conv2d_backward(np.ones((1, 2, 6, 6)), x, w)
    assert calls == []
    big = np.ones((64, 1, 28, 28), dtype=np.float32)                      # a LeNet batch: fast
    conv2d(big, w.astype(np.float32))
    conv2d_backward(np.ones((64, 2, 26, 26), np.float32), big, w.astype(np.float32))
    assert calls == ["fwd", "bwd"]


def _assert_grads(got, want):
    assert len(got) == 3
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if w is not None:
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, **TOL)


@pytest.mark.parametrize("path", PATHS)
@given(case=conv_cases())
def test_forward_and_backward_match_torch(path, case):
    x, weight, bias, kwargs = case
    expected, _ = torch_oracle(lambda *t: F.conv2d(*t, **kwargs), x, weight, bias)
    grad_out = np.random.default_rng(0).normal(size=expected.shape)
    _, grads = torch_oracle(lambda *t: F.conv2d(*t, **kwargs), x, weight, bias, grad_out=grad_out)
    with conv_path(path):
        out = conv2d(x, weight, bias, **kwargs)
        assert out.shape == expected.shape and out.flags.c_contiguous
        np.testing.assert_allclose(out, expected, **TOL)
        _assert_grads(conv2d_backward(grad_out, x, weight, bias, **kwargs), grads)


@given(conv_cases())
def test_naive_matches_vectorized(case):
    x, weight, bias, kwargs = case
    out = conv2d(x, weight, bias, **kwargs)
    np.testing.assert_allclose(conv2d_naive(x, weight, bias, **kwargs), out, **TOL)
    grad_out = np.random.default_rng(1).normal(size=out.shape)
    want = conv2d_backward(grad_out, x, weight, bias, **kwargs)
    _assert_grads(conv2d_backward_naive(grad_out, x, weight, bias, **kwargs), want)


@pytest.mark.parametrize("x_shape, w_shape, kwargs", [
    # The fast path copies whole padded rows when a group's kernel rows outnumber its filters
    # (K > F/groups) and exact windows otherwise; pin both paths, stride 1 and strided.
    ((2, 3, 7, 6), (2, 3, 3, 3), dict(padding=1)),            # K=27 > F=2: whole rows
    ((2, 1, 6, 6), (8, 1, 1, 2), dict(padding=1)),            # K=2 < F=8: exact windows
    ((2, 4, 6, 6), (8, 2, 2, 2), dict(padding=1, groups=2)),  # K=8 > F/G=4: whole rows, per group
    ((2, 1, 9, 8), (8, 1, 2, 3), dict(stride=2, dilation=2)),
])
def test_both_column_layouts_match_torch(x_shape, w_shape, kwargs):
    rng = np.random.default_rng(3)
    x, weight, bias = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    expected, _ = torch_oracle(lambda *t: F.conv2d(*t, **kwargs), x, weight, bias)
    with conv_path("fast"):
        np.testing.assert_allclose(conv2d(x, weight, bias, **kwargs), expected, **TOL)
        np.testing.assert_allclose(conv2d(x, weight, None, **kwargs),
                                   expected - bias[None, :, None, None], **TOL)


@pytest.mark.parametrize("kwargs", [
    dict(padding=1),
    dict(stride=2, padding=(1, 0), dilation=(1, 2)),
    dict(padding="same", groups=2),
])
def test_batches_processed_in_chunks_match_torch(kwargs, monkeypatch):
    # Large batches are processed a few images at a time; force one image per chunk.
    monkeypatch.setattr(_conv_fast, "_CHUNK_BYTES", 1)
    monkeypatch.setattr(_conv_fast, "_MIN_BYTES", 0)
    rng = np.random.default_rng(9)
    x, bias = rng.normal(size=(5, 4, 7, 6)), rng.normal(size=6)
    weight = rng.normal(size=(6, 4 // kwargs.get("groups", 1), 3, 2))
    expected, _ = torch_oracle(lambda *t: F.conv2d(*t, **kwargs), x, weight, bias)
    grad_out = rng.normal(size=expected.shape)
    _, grads = torch_oracle(lambda *t: F.conv2d(*t, **kwargs), x, weight, bias, grad_out=grad_out)
    np.testing.assert_allclose(conv2d(x, weight, bias, **kwargs), expected, **TOL)
    _assert_grads(conv2d_backward(grad_out, x, weight, bias, **kwargs), grads)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(stride=2, padding=1),
    dict(padding="same", dilation=2),
    dict(stride=(2, 1), padding=(0, 1), groups=2),
])
@pytest.mark.parametrize("backward", [conv2d_backward, conv2d_backward_naive])
@pytest.mark.parametrize("path", PATHS)
def test_backward_matches_finite_differences(kwargs, backward, path):
    rng = np.random.default_rng(2)
    x, bias = rng.normal(size=(2, 2, 5, 6)), rng.normal(size=4)
    weight = rng.normal(size=(4, 2 // kwargs.get("groups", 1), 3, 2))
    with conv_path(path):
        grad_out = rng.normal(size=conv2d(x, weight, bias, **kwargs).shape)
        grad_x, grad_weight, grad_bias = backward(grad_out, x, weight, bias, **kwargs)
        check_gradient(lambda v: conv2d(v, weight, bias, **kwargs), x, grad_x, grad_out)
        check_gradient(lambda v: conv2d(x, v, bias, **kwargs), weight, grad_weight, grad_out)
        check_gradient(lambda v: conv2d(x, weight, v, **kwargs), bias, grad_bias, grad_out)


def test_same_padding_with_even_kernel_pads_bottom_right_like_torch():
    x, weight = np.arange(16.0).reshape(1, 1, 4, 4), np.ones((1, 1, 2, 2))
    out = conv2d(x, weight, padding="same")
    assert out.shape == (1, 1, 4, 4)
    assert out[0, 0, 0, 0] == 0 + 1 + 4 + 5          # window starts at the top-left pixel
    assert out[0, 0, 3, 3] == 15                      # and the extra zero is bottom/right
    expected, _ = torch_oracle(lambda *t: F.conv2d(*t, padding="same"), x, weight)
    np.testing.assert_allclose(out, expected, **TOL)


def test_no_bias_gives_no_grad_bias():
    x, weight = np.ones((1, 1, 3, 3)), np.ones((2, 1, 2, 2))
    for backward in (conv2d_backward, conv2d_backward_naive):
        assert backward(np.ones((1, 2, 2, 2)), x, weight)[2] is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", [conv2d, conv2d_naive])
@pytest.mark.parametrize("path", PATHS)
def test_dtype_is_preserved(dtype, fn, path):
    rng = np.random.default_rng(3)
    x, weight, bias = (rng.normal(size=s).astype(dtype) for s in ((2, 3, 6, 6), (4, 3, 3, 3), (4,)))
    with conv_path(path):
        out = fn(x, weight, bias, padding=1)
        assert out.dtype == dtype
        backward = conv2d_backward if fn is conv2d else conv2d_backward_naive
        grads = backward(np.ones_like(out), x, weight, bias, padding=1)
    assert all(g.dtype == dtype for g in grads)


def test_float32_is_accurate_and_mixed_dtypes_promote():
    rng = np.random.default_rng(4)
    x, weight = rng.normal(size=(2, 3, 8, 8)), rng.normal(size=(4, 3, 3, 3))
    out32 = conv2d(x.astype(np.float32), weight.astype(np.float32))
    np.testing.assert_allclose(out32, conv2d(x, weight), rtol=1e-5, atol=1e-5)
    assert conv2d(x.astype(np.float32), weight).dtype == np.float64


def test_accepts_nested_lists_and_reexports_output_size():
    out = conv2d([[[[1.0, 2.0], [3.0, 4.0]]]], [[[[1.0, 1.0], [1.0, 1.0]]]], [0.5])
    np.testing.assert_array_equal(out, [[[[10.5]]]])
    assert conv_output_size(28, 5) == 24


def test_lesson_sized_naive_call_runs():
    # Lesson size (8 images 1x28x28, 8 filters 3x3); the < 1 s budget is checked by the
    # benchmark, here only that it runs and agrees.
    rng = np.random.default_rng(5)
    x, weight = rng.normal(size=(8, 1, 28, 28)), rng.normal(size=(8, 1, 3, 3))
    np.testing.assert_allclose(conv2d_naive(x, weight), conv2d(x, weight), **TOL)


X, W3 = np.ones((2, 3, 8, 8)), np.ones((4, 3, 3, 3))


@pytest.mark.parametrize("x, weight, bias, kwargs, match", [
    (np.ones((3, 8, 8)), W3, None, {}, r"4-D.*\(N, C, H, W\).*x\[None\]"),
    (X, np.ones((4, 3, 3)), None, {}, r"weight must be a 4-D"),
    (np.ones((2, 1, 8, 8)), W3, None, {},
     r"depth of each filter must equal the number of input channels.*"),
    (X, W3, None, dict(groups=2), r"groups must divide the number of input channels.*3.*groups=2"),
    (np.ones((2, 4, 8, 8)), np.ones((3, 2, 3, 3)), None, dict(groups=2),
     r"groups must divide the number of filters"),
    (X, np.ones((4, 3, 9, 9)), None, {}, r"floor\(\(8 \+ 2\*0 - 1\*\(9 - 1\) - 1\) / 1\) \+ 1 = 0"),
    (X, W3, None, dict(stride=0), r"stride must be positive"),
    (X, W3, None, dict(dilation=(1, -1)), r"dilation must be positive"),
    (X, np.ones((4, 3, 0, 3)), None, {}, r"every size must be >= 1"),
    (X, W3, None, dict(padding=-1), r"padding must be >= 0"),
    (X, W3, None, dict(padding="full"), r"'valid' or 'same'"),
    (X, W3, None, dict(padding="same", stride=2), r"padding='same' needs stride=1"),
    (X, W3, np.ones(3), {}, r"bias must have shape \(C_out,\) = \(4,\)"),
])
@pytest.mark.parametrize("fn", [conv2d, conv2d_naive])
def test_bad_arguments_raise_teaching_errors(fn, x, weight, bias, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fn(x, weight, bias, **kwargs)


def test_channel_mismatch_message_gives_both_numbers():
    with pytest.raises(ValueError, match=r"weight expects 3 input channels .* x has 1 channel"):
        conv2d(np.ones((2, 1, 8, 8)), W3)


def test_kernel_size_must_be_an_int_pair():
    with pytest.raises(TypeError, match="stride must be an int or a pair"):
        conv2d(X, W3, stride=1.5)


@pytest.mark.parametrize("name, args, match", [
    ("x", (X.astype(np.uint8), W3), r"x has dtype uint8; convert it first, e\.g\. x\.astype"),
    ("weight", (X, W3.astype(int)), r"weight has dtype int64; convert it first"),
    ("x", (X.astype(bool), W3), r"x must hold floating-point numbers.*bool"),
    ("x", (X.astype(complex), W3), r"x must hold floating-point numbers.*complex"),
    ("x", (X.astype(object), W3), r"x must hold floating-point numbers.*object"),
    ("x", (np.full((1, 1, 3, 3), "a"), W3), r"x must hold floating-point numbers.*str"),
])
def test_non_float_inputs_raise_type_error(name, args, match):
    for fn in (conv2d, conv2d_naive):
        with pytest.raises(TypeError, match=match):
            fn(*args)
    with pytest.raises(TypeError, match=match):
        conv2d_backward(np.ones((2, 4, 6, 6)), *args)


@pytest.mark.parametrize("backward", [conv2d_backward, conv2d_backward_naive])
@pytest.mark.parametrize("shape", [(2, 4, 8, 8), (2, 4, 6), (4, 2, 6, 6), (2, 4, 6, 7)])
def test_bad_grad_out_shape_raises(backward, shape):
    with pytest.raises(ValueError, match=r"grad_out must have the shape of conv2d's output, "
                                         r"\(2, 4, 6, 6\).*got grad_out\.shape"):
        backward(np.ones(shape), X, W3)


def test_unconvertible_inputs_raise_type_error_naming_the_argument():
    import torch

    with pytest.raises(TypeError, match=r"weight must be an array .*detach"):
        conv2d(X, torch.ones(4, 3, 3, 3, requires_grad=True))
    with pytest.raises(TypeError, match=r"x must be an array .*could not convert list"):
        conv2d([[[[1.0, 2.0], [3.0]]]], W3)


def test_grad_out_must_be_float():
    with pytest.raises(TypeError, match="grad_out has dtype int64"):
        conv2d_backward(np.ones((2, 4, 6, 6), dtype=np.int64), X, W3)

"""Tests for cnncourse.shapes: output sizes against PyTorch, and every check fed the mistake it
is meant to catch (its message names the argument, the numbers and the rule)."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnncourse.shapes import (
    adaptive_windows,
    check_conv2d_args,
    check_cross_entropy_args,
    check_dim,
    check_linear_args,
    check_ndim,
    check_pool2d_args,
    conv_output_size,
    pair,
    pool_output_size,
)


@given(st.integers(1, 12), st.integers(1, 5), st.integers(1, 3), st.integers(0, 3),
       st.integers(1, 3))
def test_conv_output_size_matches_torch_or_raises(size, k, s, p, d):
    x, w = torch.zeros(1, 1, size, size), torch.zeros(1, 1, k, k)
    try:
        expected = F.conv2d(x, w, stride=s, padding=p, dilation=d).shape[-1]
    except RuntimeError:
        with pytest.raises(ValueError, match="kernel does not fit"):
            conv_output_size(size, k, s, p, d)
    else:
        assert conv_output_size(size, k, s, p, d) == expected
        assert conv_output_size((size, size), k, s, p, d) == (expected, expected)


@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 4), st.integers(1, 4),
       st.one_of(st.none(), st.integers(1, 3)), st.integers(1, 2), st.data())
def test_check_pool2d_args_matches_torch_max_pool2d(H, W, KH, KW, stride, d, data):
    p = (data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3)))
    x = torch.zeros(1, 1, H, W)
    try:
        expected = F.max_pool2d(x, (KH, KW), stride, p, d).shape[-2:]
    except RuntimeError:
        with pytest.raises(ValueError, match="kernel does not fit|at most half the kernel size"):
            check_pool2d_args((1, 1, H, W), (KH, KW), stride, p, d)
    else:
        g = check_pool2d_args((1, 1, H, W), (KH, KW), stride, p, d)
        assert (g.OH, g.OW) == tuple(expected)


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4), st.integers(1, 4),
       st.integers(1, 3), st.integers(1, 3))
def test_same_padding_keeps_the_size_and_puts_the_extra_zero_bottom_right(H, W, KH, KW, dh, dw):
    g = check_conv2d_args((1, 1, H, W), (1, 1, KH, KW), None, 1, "same", (dh, dw), 1)
    assert (g.OH, g.OW) == (H, W)
    top, bottom, left, right = g.padding
    assert top + bottom == dh * (KH - 1) and left + right == dw * (KW - 1)
    assert 0 <= bottom - top <= 1 and 0 <= right - left <= 1


def test_valid_padding_is_zero_padding():
    assert check_conv2d_args((1, 1, 5, 5), (1, 1, 3, 3), None, 1, "valid", 1, 1).padding == (0,) * 4


@given(st.integers(1, 30), st.integers(1, 30))
def test_adaptive_windows_cover_the_axis_in_order(size, out):
    windows = adaptive_windows(size, out)
    assert len(windows) == out
    assert windows[0][0] == 0 and windows[-1][1] == size
    for i, (start, end) in enumerate(windows):
        assert start == math.floor(i * size / out) and end == math.ceil((i + 1) * size / out)
        assert 0 <= start < end <= size


def test_pair_and_pool_output_size():
    assert pair(3, "k") == (3, 3) and pair([1, 2], "k") == (1, 2)
    assert pool_output_size(28, 2) == 14 and pool_output_size((28, 27), 2, 1) == (27, 26)


@pytest.mark.parametrize("value", [1.5, "3", (1, 2, 3), (1.0, 2), True, None])
def test_pair_rejects_non_int_pairs(value):
    with pytest.raises(TypeError, match=r"stride must be an int or a pair of ints"):
        pair(value, "stride")


@pytest.mark.parametrize("args, match", [
    ((8, 9), r"kernel does not fit along the height: the \(dilated\) kernel spans 9 pixels but "
             r"the padded input has only 8\. Output height = floor\(\(8 \+ 2\*0 - 1\*\(9 - 1\) "
             r"- 1\) / 1\) \+ 1 = 0 < 1"),
    ((8, 3, 1, 0, 4), r"kernel spans 9 pixels"),
    ((8, 0), r"kernel_size must be positive \(>= 1\); got kernel_size=0"),
    ((8, 3, 0), r"stride must be positive"),
    ((8, 3, 1, 0, (1, 0)), r"dilation must be positive.*dilation=\(1, 0\)"),
    ((8, 3, 1, -1), r"padding must be >= 0; got padding=-1"),
    ((0, 3), r"input_size must be positive"),
])
def test_conv_output_size_errors(args, match):
    with pytest.raises(ValueError, match=match):
        conv_output_size(*args)


def test_check_ndim_hints_at_a_missing_batch_axis():
    with pytest.raises(ValueError, match=r"x must be a 4-D array.*got a 3-D array of shape "
                                         r"\(3, 8, 8\).*x\[None\]"):
        check_ndim((3, 8, 8), 4, "x", "(N, C, H, W)")
    with pytest.raises(ValueError, match=r"x\[None, None\]"):
        check_ndim((8, 8), 4, "x", "(N, C, H, W)")


OK = dict(stride=1, padding=0, dilation=1, groups=1)


@pytest.mark.parametrize("x_shape, w_shape, b_shape, changes, match", [
    ((2, 1, 8, 8), (4, 3, 3, 3), None, {},
     r"channel mismatch: weight expects 3 input channels \(weight.shape\[1\]=3, groups=1\) but "
     r"x has 1 channel \(x.shape\[1\]=1\): the depth of each filter must equal the number of "
     r"input channels"),
    ((2, 4, 8, 8), (4, 1, 3, 3), None, dict(groups=2), r"input channels / groups = 4 / 2 = 2"),
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(groups=2),
     r"groups must divide the number of input channels: x has 3 channels.*groups=2"),
    ((2, 4, 8, 8), (3, 2, 3, 3), None, dict(groups=2),
     r"groups must divide the number of filters: weight has 3 filters"),
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(groups=0), r"groups must be a positive int"),
    ((2, 3, 8, 8), (4, 3, 3, 3), (3,), {}, r"bias must have shape \(C_out,\) = \(4,\).*\(3,\)"),
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(padding="same", stride=2), r"needs stride=1"),
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(padding="full"), r"'valid' or 'same'; got 'full'"),
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(padding=(0, -2)), r"padding must be >= 0"),
    ((2, 3, 2, 8), (4, 3, 3, 3), None, {}, r"kernel does not fit along the height"),
    ((2, 3, 8, 8), (4, 3, 3, 3), None, dict(stride=(1, 0)), r"stride must be positive"),
    ((2, 3, 0, 8), (4, 3, 3, 3), None, {}, r"every size must be >= 1"),
    ((2, 0, 8, 8), (4, 0, 3, 3), None, {}, r"every size must be >= 1"),  # no input channels
    ((2, 3, 8, 8), (0, 3, 3, 3), None, {}, r"every size must be >= 1"),  # no filters
    ((3, 8, 8), (4, 3, 3, 3), None, {}, r"x must be a 4-D array"),
])
def test_check_conv2d_args_errors(x_shape, w_shape, b_shape, changes, match):
    with pytest.raises(ValueError, match=match):
        check_conv2d_args(x_shape, w_shape, b_shape, **{**OK, **changes})


def test_check_pool2d_args_follows_torch_padding_rule():
    # PyTorch allows padding up to kernel_size // 2, whatever the dilation.
    assert check_pool2d_args((1, 1, 9, 9), 3, padding=1, dilation=2).OH == 3  # (9+2-5)//3+1
    with pytest.raises(ValueError, match=r"kernel_size=3 allows padding <= 1 along the height"):
        check_pool2d_args((1, 1, 9, 9), 3, padding=2, dilation=2)
    with pytest.raises(ValueError, match=r"along the width"):
        check_pool2d_args((1, 1, 9, 9), (4, 2), padding=(2, 2))


def test_check_linear_args_errors():
    with pytest.raises(ValueError, match=r"weight expects in_features=3.*x has 4 features"):
        check_linear_args((5, 4), (2, 3), None)
    with pytest.raises(ValueError, match=r"bias must have shape \(out_features,\) = \(2,\)"):
        check_linear_args((5, 3), (2, 3), (3,))
    with pytest.raises(ValueError, match=r"0-D scalar"):
        check_linear_args((), (2, 3), None)


def test_check_cross_entropy_args_errors():
    with pytest.raises(ValueError, match=r"target.argmax\(1\) for one-hot"):
        check_cross_entropy_args((4, 10), (4, 10))
    with pytest.raises(ValueError, match=r"class indices in \[0, 9\].*got a target of 10"):
        check_cross_entropy_args((4, 10), (4,), (0, 10))
    with pytest.raises(ValueError, match=r"got a target of -1"):
        check_cross_entropy_args((4, 10), (4,), (-1, 3))


def test_check_dim():
    assert check_dim(4, -1) == 3 and check_dim(4, 0) == 0
    with pytest.raises(ValueError, match=r"dim must be an int in \[-2, 1\] for a 2-D input; "
                                         r"got dim=2"):
        check_dim(2, 2)


def test_adaptive_windows_rejects_bad_output_sizes():
    with pytest.raises(ValueError, match=r"output_size must be a positive int; got 0"):
        adaptive_windows(5, 0)


@pytest.mark.parametrize("x_shape, w_shape", [((2, 0, 6, 6), (4, 0, 3, 3)), ((2, 3, 6, 6), (0, 3, 3, 3))])
def test_conv2d_with_no_channels_or_no_filters_raises_in_both_backends(x_shape, w_shape):
    # used to be a ZeroDivisionError (numpy_ops, no channels) or a raw reshape error (torch_ops, no filters)
    import numpy as np

    from cnncourse import numpy_ops, torch_ops
    for backend, make in ((numpy_ops, np.zeros), (torch_ops, torch.zeros)):
        with pytest.raises(ValueError, match=r"empty array.*every size must be >= 1"):
            backend.conv2d(make(x_shape), make(w_shape))

"""Tests for cnncourse.numpy_ops.im2col: im2col against torch.nn.functional.unfold, col2im
against torch.nn.functional.fold, the adjoint identity, and bad inputs."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnncourse.numpy_ops import col2im, im2col

TOL = dict(rtol=0, atol=1e-10)


@st.composite
def unfold_cases(draw):
    """An input shape and unfold arguments that fit (non-square, strided, dilated, padded)."""
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    H, W = (max(1, d[i] * (k[i] - 1) + 1 - 2 * p[i] + draw(st.integers(0, 5))) for i in range(2))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), H, W)

    def maybe_int(v):
        return v[0] if v[0] == v[1] and draw(st.booleans()) else v

    kwargs = dict(kernel_size=maybe_int(k), stride=maybe_int(s), padding=maybe_int(p),
                  dilation=maybe_int(d))
    return shape, kwargs, draw(st.integers(0, 2**32 - 1))


@given(unfold_cases())
def test_im2col_matches_torch_unfold(case):
    shape, kwargs, seed = case
    x = np.random.default_rng(seed).normal(size=shape)
    expected = F.unfold(torch.tensor(x), **kwargs).numpy()
    cols = im2col(x, **kwargs)
    assert cols.shape == expected.shape
    np.testing.assert_allclose(cols, expected, **TOL)


@given(unfold_cases())
def test_col2im_matches_torch_fold(case):
    shape, kwargs, seed = case
    rng = np.random.default_rng(seed)
    cols_shape = F.unfold(torch.zeros(shape, dtype=torch.float64), **kwargs).shape
    cols = rng.normal(size=tuple(cols_shape))
    expected = F.fold(torch.tensor(cols), output_size=shape[2:], **kwargs).numpy()
    np.testing.assert_allclose(col2im(cols, shape[2:], **kwargs), expected, **TOL)


@given(unfold_cases())
def test_col2im_is_the_adjoint_of_im2col(case):
    # <im2col(x), c> == <x, col2im(c)> for every x and c: col2im is im2col's transpose.
    shape, kwargs, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    cols = rng.normal(size=im2col(x, **kwargs).shape)
    lhs = np.sum(im2col(x, **kwargs) * cols)
    rhs = np.sum(x * col2im(cols, shape[2:], **kwargs))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-10)


def test_row_order_is_channel_then_kernel_row_then_kernel_column():
    x = np.arange(2 * 3 * 3, dtype=np.float64).reshape(1, 2, 3, 3)
    cols = im2col(x, 2)
    # Row c*KH*KW + i*KW + j holds x[c, i + oh, j + ow] for the windows in row-major order.
    np.testing.assert_array_equal(cols[0, 1 * 4 + 1 * 2 + 0], x[0, 1, 1:3, 0:2].ravel())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    x = np.ones((1, 2, 4, 4), dtype=dtype)
    cols = im2col(x, 3, padding=1)
    assert cols.dtype == dtype
    assert col2im(cols, 4, 3, padding=1).dtype == dtype


def test_im2col_bad_inputs():
    with pytest.raises(ValueError, match=r"x must be a 4-D array"):
        im2col(np.ones((4, 4)), 2)
    with pytest.raises(ValueError, match=r"kernel does not fit along the width"):
        im2col(np.ones((1, 1, 4, 4)), (2, 5))
    with pytest.raises(ValueError, match=r"stride must be positive"):
        im2col(np.ones((1, 1, 4, 4)), 2, stride=0)
    with pytest.raises(ValueError, match=r"padding must be >= 0"):
        im2col(np.ones((1, 1, 4, 4)), 2, padding=-1)
    with pytest.raises(TypeError, match=r"x has dtype int64"):
        im2col(np.ones((1, 1, 4, 4), dtype=np.int64), 2)


def test_col2im_bad_inputs():
    with pytest.raises(ValueError, match=r"cols must be a 3-D array"):
        col2im(np.ones((4, 9)), (4, 4), 2)
    with pytest.raises(ValueError, match=r"multiple of KH\*KW = 2\*2 = 4; got cols.shape\[1\]=6"):
        col2im(np.ones((1, 6, 9)), (4, 4), 2)
    with pytest.raises(ValueError, match=r"L = OH\*OW = 3\*3 = 9.*got cols.shape\[2\]=8"):
        col2im(np.ones((1, 4, 8)), (4, 4), 2)
    with pytest.raises(TypeError, match=r"output_size must be an int or a pair"):
        col2im(np.ones((1, 4, 9)), (4, 4, 4), 2)

"""Tests for cnncourse.numpy_ops.pool: max, average and adaptive average pooling against
torch.nn.functional and autograd in float64, finite differences, naive against vectorized,
ties, dtypes and bad inputs."""
import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from _oracle import torch_forward, torch_oracle
from _strategies import pool_cases
from cnncourse.numpy_ops import (
    adaptive_avg_pool2d,
    adaptive_avg_pool2d_backward,
    avg_pool2d,
    avg_pool2d_backward,
    avg_pool2d_naive,
    check_gradient,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_naive,
)

TOL = dict(rtol=0, atol=1e-10)


def _check_against_torch(torch_fn, forward, backward, x, kwargs, rng, naive=None):
    expected = torch_forward(lambda t: torch_fn(t, **kwargs), x)
    # With dilation a max-pooling window can fall entirely into the padding: the output is
    # -inf and PyTorch's backward is undefined there (so it must not run); tested below.
    assume(np.isfinite(expected).all())
    grad_out = rng.normal(size=expected.shape)
    _, (grad_x,) = torch_oracle(lambda t: torch_fn(t, **kwargs), x, grad_out=grad_out)
    out = forward(x, **kwargs)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, **TOL)
    np.testing.assert_allclose(backward(grad_out, x, **kwargs), grad_x, **TOL)
    if naive is not None:
        np.testing.assert_allclose(naive(x, **kwargs), out, **TOL)


@given(pool_cases())
def test_max_pool2d_matches_torch(case):
    x, kwargs, rng = case
    _check_against_torch(F.max_pool2d, max_pool2d, max_pool2d_backward, x, kwargs, rng,
                         naive=max_pool2d_naive)


@given(pool_cases(with_dilation=False), st.booleans())
def test_avg_pool2d_matches_torch(case, count_include_pad):
    x, kwargs, rng = case
    kwargs["count_include_pad"] = count_include_pad
    _check_against_torch(F.avg_pool2d, avg_pool2d, avg_pool2d_backward, x, kwargs, rng,
                         naive=avg_pool2d_naive)


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 6), st.integers(1, 6),
       st.integers(0, 2**32 - 1), st.sampled_from(["pair", "int", "none"]))
def test_adaptive_avg_pool2d_matches_torch(H, W, OH, OW, seed, form):
    # Any output size, including sizes that do not divide the input and sizes larger than it.
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 3, H, W))
    output_size = {"pair": (OH, OW), "int": OH, "none": (None, OW)}[form]
    _check_against_torch(F.adaptive_avg_pool2d, adaptive_avg_pool2d,
                         adaptive_avg_pool2d_backward, x, dict(output_size=output_size), rng)


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum_like_torch():
    x = np.array([[[[1.0, 3.0, 3.0],
                    [3.0, 3.0, 0.0],
                    [2.0, 3.0, 3.0]]]])
    grad_x = max_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2, stride=1)
    # Windows' first maxima in row-major order: (0,1), (0,1), (1,0), (1,1).
    np.testing.assert_array_equal(grad_x[0, 0], [[0, 2, 0], [1, 1, 0], [0, 0, 0]])
    _, (expected,) = torch_oracle(lambda t: F.max_pool2d(t, 2, stride=1), x,
                                  grad_out=np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(grad_x, expected)


def test_max_pool2d_padding_is_never_chosen():
    x = -np.ones((1, 1, 2, 2))
    for fn in (max_pool2d, max_pool2d_naive):
        np.testing.assert_array_equal(fn(x, 2, stride=1, padding=1), -np.ones((1, 1, 3, 3)))


def test_max_pool2d_window_entirely_in_padding_gives_minus_inf_and_no_gradient():
    # Width 1, padding 1, dilation 2: the first window sees only the two padded columns.
    x = np.ones((1, 1, 2, 1))
    kwargs = dict(kernel_size=(1, 2), padding=(0, 1), dilation=(1, 2), stride=1)
    expected = torch_forward(lambda t: F.max_pool2d(t, **kwargs), x)
    out = max_pool2d(x, **kwargs)
    np.testing.assert_array_equal(out, expected)
    assert np.isneginf(out).all()
    np.testing.assert_array_equal(max_pool2d_backward(np.ones_like(out), x, **kwargs), 0)


@pytest.mark.parametrize("forward, backward, kwargs", [
    (max_pool2d, max_pool2d_backward, dict(kernel_size=2, stride=1, padding=1)),
    (max_pool2d, max_pool2d_backward, dict(kernel_size=(3, 2), dilation=(1, 2))),
    (avg_pool2d, avg_pool2d_backward, dict(kernel_size=3, stride=2, padding=1)),
    (avg_pool2d, avg_pool2d_backward, dict(kernel_size=3, padding=1, count_include_pad=False)),
    (adaptive_avg_pool2d, adaptive_avg_pool2d_backward, dict(output_size=(2, 3))),
])
def test_backward_matches_finite_differences(forward, backward, kwargs):
    x = np.random.default_rng(6).normal(size=(2, 2, 5, 6))
    grad_out = np.random.default_rng(7).normal(size=forward(x, **kwargs).shape)
    check_gradient(lambda v: forward(v, **kwargs), x, backward(grad_out, x, **kwargs), grad_out)


def test_avg_pool2d_count_include_pad_is_keyword_only():
    # torch's fifth positional argument is ceil_mode, which we do not support.
    with pytest.raises(TypeError):
        avg_pool2d(np.ones((1, 1, 4, 4)), 2, 2, 0, False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("forward, backward, args", [
    (max_pool2d, max_pool2d_backward, (2,)),
    (avg_pool2d, avg_pool2d_backward, (2,)),
    (adaptive_avg_pool2d, adaptive_avg_pool2d_backward, ((3, 2),)),
    (max_pool2d_naive, None, (2,)),
    (avg_pool2d_naive, None, (2,)),
])
def test_dtype_is_preserved(dtype, forward, backward, args):
    x = np.random.default_rng(8).normal(size=(1, 2, 4, 4)).astype(dtype)
    out = forward(x, *args)
    assert out.dtype == dtype
    if backward is not None:
        assert backward(np.ones_like(out), x, *args).dtype == dtype


POOLS = [max_pool2d, max_pool2d_naive, avg_pool2d, avg_pool2d_naive]


@pytest.mark.parametrize("fn", POOLS)
@pytest.mark.parametrize("x, args, kwargs, error, match", [
    (np.ones((4, 4)), (2,), {}, ValueError, r"x must be a 4-D array.*x\[None, None\]"),
    (np.ones((1, 1, 4, 4)), (3,), dict(padding=2), ValueError,
     r"padding must be at most half the kernel size.*padding <= 1"),
    (np.ones((1, 1, 4, 4)), (5,), {}, ValueError, r"kernel does not fit along the height.*"
     r"floor\(\(4 \+ 2\*0 - 1\*\(5 - 1\) - 1\) / 5\) \+ 1 = 0"),
    (np.ones((1, 1, 4, 4)), (0,), {}, ValueError, r"kernel_size must be positive"),
    (np.ones((1, 1, 4, 4)), (2,), dict(stride=0), ValueError, r"stride must be positive"),
    (np.ones((1, 1, 4, 4)), (2,), dict(padding=-1), ValueError, r"padding must be >= 0"),
    (np.ones((1, 1, 4, 4), dtype=np.uint8), (2,), {}, TypeError, r"x has dtype uint8"),
    (np.array([[[["a"]]]]), (1,), {}, TypeError, r"x must hold floating-point numbers"),
])
def test_bad_arguments_raise_teaching_errors(fn, x, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn(x, *args, **kwargs)


def test_max_pool2d_dilation_must_be_positive():
    with pytest.raises(ValueError, match="dilation must be positive"):
        max_pool2d(np.ones((1, 1, 4, 4)), 2, dilation=0)


@pytest.mark.parametrize("output_size, error, match", [
    (0, ValueError, r"output_size must be a positive int; got 0"),
    ((2, -1), ValueError, r"output_size must be a positive int; got -1"),
    ((2, 2, 2), TypeError, r"output_size must be an int or a pair"),
    ("2", TypeError, r"output_size must be an int or a pair"),
])
def test_adaptive_avg_pool2d_bad_output_size(output_size, error, match):
    with pytest.raises(error, match=match):
        adaptive_avg_pool2d(np.ones((1, 1, 4, 4)), output_size)


def test_adaptive_avg_pool2d_bad_x():
    with pytest.raises(ValueError, match=r"x must be a 4-D array"):
        adaptive_avg_pool2d(np.ones((4, 4)), 2)
    with pytest.raises(TypeError, match=r"x has dtype int64"):
        adaptive_avg_pool2d(np.ones((1, 1, 4, 4), dtype=np.int64), 2)


@pytest.mark.parametrize("backward, args", [
    (max_pool2d_backward, (2,)),
    (avg_pool2d_backward, (2,)),
    (adaptive_avg_pool2d_backward, ((2, 2),)),
])
def test_bad_grad_out_shape_raises(backward, args):
    x = np.ones((1, 3, 4, 4))
    with pytest.raises(ValueError, match=r"grad_out must have the shape of \w+'s output, "
                                         r"\(1, 3, 2, 2\).*got grad_out\.shape=\(1, 3, 4, 4\)"):
        backward(np.ones((1, 3, 4, 4)), x, *args)

"""Tests for cnncourse.nn.pool: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d against torch.nn in
float64, the arg-max kept by MaxPool2d, any memory order, bad input."""
import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from _nn_oracle import compare_with_torch
from _strategies import pool_cases
from cnncourse import nn
from cnncourse.numpy_ops import check_gradient


@given(case=pool_cases())
def test_max_pool_matches_torch(case):
    x, kwargs, _ = case
    # A window that sees only padding gives -inf, and torch's backward is undefined there (it
    # must not run; numpy_ops' tests check that case).
    assume(np.isfinite(nn.MaxPool2d(**kwargs)(x)).all())
    compare_with_torch(nn.MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs), x)


@given(case=pool_cases(with_dilation=False), count_include_pad=st.booleans())
def test_avg_pool_matches_torch(case, count_include_pad):
    x, kwargs, _ = case
    compare_with_torch(nn.AvgPool2d(**kwargs, count_include_pad=count_include_pad),
                       torch.nn.AvgPool2d(**kwargs, count_include_pad=count_include_pad), x)


@pytest.mark.parametrize("output_size", [1, (2, 3), (None, 2), 5])
def test_adaptive_avg_pool_matches_torch(output_size):
    x = np.random.default_rng(0).normal(size=(2, 3, 7, 5))
    compare_with_torch(nn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size), x)


def test_ties_after_relu_go_to_the_first_maximum_like_torch():
    # After a ReLU many windows hold several zeros: the gradient goes to the first one.
    x = np.maximum(np.random.default_rng(1).normal(size=(4, 3, 8, 8)), 0)
    x[0, 0, :2, :2] = 0.0
    compare_with_torch(nn.MaxPool2d(2), torch.nn.MaxPool2d(2), x)


@pytest.mark.parametrize("layer", [nn.MaxPool2d(2), nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(2)])
def test_batch_last_memory_order_gives_the_same_result(layer):
    x = np.random.default_rng(2).normal(size=(3, 2, 8, 8))
    view = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    out, out_view = layer(x), layer(view)
    np.testing.assert_array_equal(out, out_view)
    grad = np.ones_like(out)
    np.testing.assert_array_equal(layer.backward(grad), layer.backward(grad))


def test_max_pool_backward_reuses_the_forward_s_arg_max_and_matches_finite_differences():
    x = np.random.default_rng(3).normal(size=(2, 2, 6, 6))
    pool = nn.MaxPool2d(3, stride=2, padding=1)
    grad_out = np.random.default_rng(4).normal(size=pool(x).shape)
    grad_x = pool.backward(grad_out)
    assert pool._argmax.shape == grad_out.shape and pool._argmax.dtype == np.uint8
    check_gradient(lambda v: pool(v), x, grad_x, grad_out)


@pytest.mark.parametrize("layer, torch_layer", [
    (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
    (nn.MaxPool2d((2, 3), 1, 1, 2), torch.nn.MaxPool2d((2, 3), 1, 1, 2)),
    (nn.AvgPool2d(3, 1, 1, count_include_pad=False),
     torch.nn.AvgPool2d(3, 1, 1, count_include_pad=False)),
    (nn.AdaptiveAvgPool2d((2, None)), torch.nn.AdaptiveAvgPool2d((2, None))),
])
def test_repr_matches_torch(layer, torch_layer):
    assert repr(layer) == repr(torch_layer)


def test_bad_input_raises():
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=2.*expects a 4-D input"):
        nn.MaxPool2d(2)(np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="kernel does not fit"):
        nn.MaxPool2d(5)(np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="ceil_mode=True is not supported"):
        nn.AvgPool2d(2, ceil_mode=True)
    pool = nn.MaxPool2d(2)
    pool(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"grad_out must have the shape of MaxPool2d's output"):
        pool.backward(np.zeros((1, 1, 4, 4)))

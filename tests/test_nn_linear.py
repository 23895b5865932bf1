"""Tests for cnncourse.nn.linear: Linear, Flatten and Identity against torch.nn in float64, the
default initialisation, and the error when layers do not fit."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from _nn_oracle import compare_with_torch
from cnncourse import nn


@given(st.integers(1, 5), st.integers(1, 6), st.integers(1, 6), st.booleans(),
       st.sampled_from([(), (3,), (2, 2)]))
def test_linear_matches_torch(N, in_features, out_features, bias, extra):
    x = np.random.default_rng(N).normal(size=(N,) + extra + (in_features,))
    compare_with_torch(nn.Linear(in_features, out_features, bias, dtype=np.float64),
                       torch.nn.Linear(in_features, out_features, bias), x)


def test_linear_initialisation_and_names_are_torch_s():
    ours, theirs = nn.Linear(256, 120), torch.nn.Linear(256, 120)
    assert repr(ours) == repr(theirs)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    bound = 1 / math.sqrt(256)
    assert np.abs(ours.weight.data).max() <= bound and np.abs(ours.bias.data).max() <= bound
    assert ours.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)


def test_linear_after_a_layer_of_the_wrong_size_says_what_to_use():
    with pytest.raises(ValueError, match=r"Linear\(in_features=400, out_features=10, bias=True\) "
                                         r"expects inputs of shape \(N, 400\).*x.shape=\(64, 256\)"
                                         r".*gives 256 features\. Fix: Linear\(256, 10\)"):
        nn.Linear(400, 10)(np.zeros((64, 256), dtype=np.float32))
    with pytest.raises(ValueError, match=r"flatten the images first"):
        nn.Linear(16, 10)(np.zeros((2, 1, 4, 4), dtype=np.float32))


def test_linear_input_grad_can_be_skipped():
    fc = nn.Linear(3, 2)
    fc(np.ones((4, 3), dtype=np.float32))
    assert fc.backward(np.ones((4, 2), dtype=np.float32), input_grad=False) is None
    np.testing.assert_allclose(fc.bias.grad, [4, 4])


@pytest.mark.parametrize("start_dim, end_dim", [(1, -1), (0, -1), (2, 3), (1, 2), (-2, -1)])
def test_flatten_matches_torch(start_dim, end_dim):
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    out, _ = compare_with_torch(nn.Flatten(start_dim, end_dim), torch.nn.Flatten(start_dim, end_dim), x)
    assert repr(nn.Flatten(start_dim, end_dim)) == repr(torch.nn.Flatten(start_dim, end_dim))


def test_flatten_keeps_torch_s_channel_height_width_order_for_batch_last_memory():
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 4))
    view = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    np.testing.assert_array_equal(nn.Flatten()(view), x.reshape(2, -1))


def test_identity():
    x = np.ones((2, 3))
    compare_with_torch(nn.Identity(), torch.nn.Identity(), x)

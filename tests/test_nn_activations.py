"""Tests for cnncourse.nn.activations against torch.nn in float64, with hypothesis shapes."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from _nn_oracle import compare_with_torch
from cnncourse import nn
from cnncourse.numpy_ops import check_gradient

PAIRS = {
    "ReLU": (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    "Sigmoid": (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    "Tanh": (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    "Softmax": (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1)),
}


@pytest.mark.parametrize("name", PAIRS)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), seed=st.integers(0, 1000))
def test_matches_torch(name, shape, seed):
    x = np.random.default_rng(seed).normal(scale=3, size=shape)
    ours, theirs = PAIRS[name]
    compare_with_torch(ours(), theirs(), x)


@pytest.mark.parametrize("name", PAIRS)
def test_repr_and_finite_differences(name):
    ours, theirs = PAIRS[name]
    layer = ours()
    assert repr(layer) == repr(theirs())
    x = np.random.default_rng(0).normal(size=(3, 4))
    x += np.sign(x) * 0.1                        # away from ReLU's kink
    grad_out = np.random.default_rng(1).normal(size=x.shape)
    layer(x)
    check_gradient(lambda v: layer(v), x, layer.backward(grad_out), grad_out)


def test_relu_gradient_is_zero_at_zero_like_torch():
    compare_with_torch(nn.ReLU(), torch.nn.ReLU(), np.array([[-1.0, 0.0, 2.0]]))


def test_bad_input():
    with pytest.raises(TypeError, match="x has dtype int64"):
        nn.ReLU()(np.array([1, 2]))
    relu = nn.ReLU()
    relu(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"grad_out must have the shape of ReLU's output, \(2, 3\)"):
        relu.backward(np.ones((3, 2)))
    with pytest.raises(ValueError, match="dim must be an int in"):
        nn.Softmax(dim=2)(np.ones((2, 3)))

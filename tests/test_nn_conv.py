"""Tests for cnncourse.nn.conv: Conv2d against torch.nn.Conv2d in float64 (outputs, input and
parameter gradients, state dicts both ways), finite differences, initialisation, bad input."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given

from _nn_oracle import compare_with_torch
from _strategies import conv_cases
from cnncourse import nn
from cnncourse.numpy_ops import _conv_fast, check_gradient

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _pair_from_case(case):
    """A float64 Conv2d of ours and torch's with the weights of a conv_cases() case."""
    x, weight, bias, kwargs = case
    F, C_g, KH, KW = weight.shape
    args = (C_g * kwargs["groups"], F, (KH, KW))
    ours = nn.Conv2d(*args, **kwargs, bias=bias is not None, dtype=np.float64)
    theirs = torch.nn.Conv2d(*args, **kwargs, bias=bias is not None).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(weight))
        if bias is not None:
            theirs.bias.copy_(torch.from_numpy(bias))
    return ours, theirs, x


@given(case=conv_cases())
def test_matches_torch_for_any_arguments(case):
    ours, theirs, x = _pair_from_case(case)
    compare_with_torch(ours, theirs, x)


@pytest.mark.parametrize("layout", ["NCHW", "batch last"])
def test_any_memory_order_of_the_input_gives_the_same_result(layout):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 2, 7, 6))
    if layout == "batch last":                   # what a previous Conv2d hands on
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    ours = nn.Conv2d(2, 4, 3, padding=1, dtype=np.float64)
    compare_with_torch(ours, torch.nn.Conv2d(2, 4, 3, padding=1), x)


@pytest.mark.parametrize("groups", [1, 2])
def test_a_first_layer_on_a_training_batch_matches_torch(groups):
    # Few filters and many windows: the products go through _conv_fast's column slices.
    assert 6 <= _conv_fast._FEW_ROWS and 16 * 24 * 24 > 2 * _conv_fast._SLICE
    x = np.random.default_rng(2).normal(size=(16, 2, 28, 28))
    compare_with_torch(nn.Conv2d(2, 6, 5, groups=groups, dtype=np.float64),
                       torch.nn.Conv2d(2, 6, 5, groups=groups), x)


def test_backward_matches_finite_differences():
    rng = np.random.default_rng(1)
    conv = nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=1, dtype=np.float64)
    x = rng.normal(size=(2, 2, 5, 6))
    grad_out = rng.normal(size=conv(x).shape)
    conv.zero_grad()
    conv(x)
    grad_x = conv.backward(grad_out)
    check_gradient(lambda v: conv(v), x, grad_x, grad_out)
    weight, bias = conv.weight.data.copy(), conv.bias.data.copy()
    grad_w, grad_b = conv.weight.grad.copy(), conv.bias.grad.copy()

    def with_weight(w):
        conv.weight.data[...] = w
        return conv(x)

    check_gradient(with_weight, weight, grad_w, grad_out)
    conv.weight.data[...] = weight

    def with_bias(b):
        conv.bias.data[...] = b
        return conv(x)

    check_gradient(with_bias, bias, grad_b, grad_out)


def test_gradients_accumulate_and_the_input_gradient_can_be_skipped():
    conv = nn.Conv2d(1, 2, 3, dtype=np.float64)
    x = np.random.default_rng(2).normal(size=(2, 1, 5, 5))
    out = conv(x)
    conv.backward(np.ones_like(out))
    once = conv.weight.grad.copy()
    assert conv.backward(np.ones_like(out), input_grad=False) is None
    np.testing.assert_allclose(conv.weight.grad, 2 * once)
    np.testing.assert_allclose(conv.bias.grad, [2 * 2 * 9] * 2)


def test_parameters_and_default_initialisation_are_torch_s():
    ours, theirs = nn.Conv2d(6, 16, 5), torch.nn.Conv2d(6, 16, 5)
    assert repr(ours) == repr(theirs)
    assert {n: p.shape for n, p in ours.named_parameters()} == {
        n: tuple(p.shape) for n, p in theirs.named_parameters()}
    assert ours.weight.dtype == np.float32 and ours.bias.dtype == np.float32
    bound = 1 / math.sqrt(6 * 5 * 5)        # kaiming_uniform(a=sqrt(5)) and torch's bias bound
    big = nn.Conv2d(64, 128, 3)
    fan = 1 / math.sqrt(64 * 9)
    for p, b in ((ours.weight.data, bound), (ours.bias.data, bound), (big.weight.data, fan)):
        assert np.abs(p).max() <= b
    # uniform on [-b, b]: standard deviation b / sqrt(3), extremes near the bounds
    assert big.weight.data.std() == pytest.approx(fan / math.sqrt(3), rel=0.02)
    assert np.abs(big.weight.data).max() > 0.999 * fan


@pytest.mark.parametrize("args, kwargs", [
    ((1, 6, 5), {}), ((3, 4, (3, 2)), dict(stride=2, padding=(1, 0))),
    ((4, 4, 3), dict(padding="same", dilation=2, groups=2, bias=False)),
    ((2, 2, 1), dict(padding="valid")),
])
def test_repr_matches_torch(args, kwargs):
    assert repr(nn.Conv2d(*args, **kwargs)) == repr(torch.nn.Conv2d(*args, **kwargs))


def test_channel_mismatch_names_the_layer_the_shapes_and_the_fix():
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8, .*expects 3 input channels.*"
                                         r"x.shape=\(2, 1, 8, 8\).*Fix: Conv2d\(1, 8, \.\.\.\)"):
        conv(np.zeros((2, 1, 8, 8), dtype=np.float32))


@pytest.mark.parametrize("x, error, match", [
    (np.zeros((1, 8, 8), np.float32), ValueError, r"expects a 4-D input .*x\[None\]"),
    (np.zeros((1, 1, 8, 8), np.float64), TypeError, r"float32 parameters but x is float64"),
    (np.zeros((1, 1, 8, 8), np.uint8), TypeError, r"x has dtype uint8; convert it first"),
    (np.zeros((1, 1, 2, 2), np.float32), ValueError, r"kernel does not fit"),
])
def test_bad_input_raises_a_clear_error(x, error, match):
    with pytest.raises(error, match=match):
        nn.Conv2d(1, 2, 3)(x)


@pytest.mark.parametrize("kwargs, match", [
    (dict(groups=0), r"groups must be a positive int; got groups=0"),
    (dict(groups=2), r"in_channels must be divisible by groups: in_channels=3, groups=2"),
    (dict(padding="full"), r"'valid' or 'same'; got 'full'"),
    (dict(stride=0), r"stride must be positive"),
])
def test_bad_constructor_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.Conv2d(3, 4, 3, **kwargs)


def test_float64_layers_and_dtype_checks():
    conv = nn.Conv2d(1, 2, 3, dtype=np.float64)
    assert conv(np.zeros((1, 1, 4, 4))).dtype == np.float64
    with pytest.raises(TypeError, match="dtype must be a floating-point type"):
        nn.Conv2d(1, 2, 3, dtype=np.int32)

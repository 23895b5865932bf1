"""Tests for numpy_ops.linear and torch_ops.linear, against torch.nn.functional.linear."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from _oracle import torch_oracle
from cnncourse import numpy_ops, torch_ops
from cnncourse.numpy_ops import check_gradient, linear, linear_backward

leading = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


def _args(seed, lead, in_features, out_features, with_bias):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=lead + (in_features,))
    weight = rng.normal(size=(out_features, in_features))
    bias = rng.normal(size=out_features) if with_bias else None
    grad_out = rng.normal(size=lead + (out_features,))
    return x, weight, bias, grad_out


@given(st.integers(0, 2**32 - 1), leading, st.integers(1, 6), st.integers(1, 6), st.booleans())
def test_forward_and_backward_match_torch(seed, lead, in_features, out_features, with_bias):
    x, weight, bias, grad_out = _args(seed, lead, in_features, out_features, with_bias)
    expected, grads = torch_oracle(F.linear, x, weight, bias, grad_out=grad_out)
    np.testing.assert_allclose(linear(x, weight, bias), expected, rtol=0, atol=1e-10)
    for got, want in zip(linear_backward(grad_out, x, weight, bias), grads):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


@given(st.integers(0, 2**32 - 1), leading, st.integers(1, 6), st.integers(1, 6), st.booleans())
def test_torch_ops_matches_torch_and_numpy(seed, lead, in_features, out_features, with_bias):
    x, weight, bias, grad_out = _args(seed, lead, in_features, out_features, with_bias)
    expected, grads = torch_oracle(F.linear, x, weight, bias, grad_out=grad_out)
    out, ours = torch_oracle(torch_ops.linear, x, weight, bias, grad_out=grad_out)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(out, numpy_ops.linear(x, weight, bias), rtol=0, atol=1e-10)
    for got, want in zip(ours, grads):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("lead", [(), (3,), (2, 3)])
def test_backward_matches_finite_differences(lead):
    x, weight, bias, grad_out = _args(0, lead, 4, 3, True)
    grad_x, grad_weight, grad_bias = linear_backward(grad_out, x, weight, bias)
    check_gradient(lambda x: linear(x, weight, bias), x, grad_x, grad_out)
    check_gradient(lambda w: linear(x, w, bias), weight, grad_weight, grad_out)
    check_gradient(lambda b: linear(x, weight, b), bias, grad_bias, grad_out)


def test_float32_stays_float32():
    x, weight, bias, grad_out = (
        a.astype(np.float32) for a in _args(1, (2,), 3, 4, True)
    )
    assert linear(x, weight, bias).dtype == np.float32
    assert all(g.dtype == np.float32 for g in linear_backward(grad_out, x, weight, bias))
    assert torch_ops.linear(*(torch.from_numpy(a) for a in (x, weight, bias))).dtype == torch.float32


BAD_SHAPES = [
    ((2, 3), (4, 5), None, "feature mismatch"),
    ((2, 3), (3,), None, "weight must be a 2-D"),
    ((2, 3), (4, 3), (3,), "bias must have shape"),
    ((), (4, 3), None, "at least 1 dimension"),
]


@pytest.mark.parametrize("backend", [numpy_ops, torch_ops])
@pytest.mark.parametrize("x_shape, w_shape, b_shape, message", BAD_SHAPES)
def test_bad_shapes_raise(backend, x_shape, w_shape, b_shape, message):
    make = np.ones if backend is numpy_ops else torch.ones
    bias = None if b_shape is None else make(b_shape)
    with pytest.raises(ValueError, match=message):
        backend.linear(make(x_shape), make(w_shape), bias)


def test_numpy_bad_dtypes_and_grad_out_raise():
    with pytest.raises(TypeError, match="x has dtype int64"):
        linear(np.ones((2, 3), dtype=np.int64), np.ones((4, 3)))
    with pytest.raises(TypeError, match="weight must hold floating-point"):
        linear(np.ones((2, 3)), np.full((4, 3), "a"))
    with pytest.raises(ValueError, match="grad_out must have the shape of linear's output"):
        linear_backward(np.ones((2, 3)), np.ones((2, 3)), np.ones((4, 3)))


def test_torch_bad_types_raise():
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        torch_ops.linear(np.ones((2, 3)), torch.ones(4, 3))
    with pytest.raises(TypeError, match="weight must be a floating-point tensor"):
        torch_ops.linear(torch.ones(2, 3), torch.ones(4, 3, dtype=torch.int64))
    with pytest.raises(TypeError, match="same dtype"):
        torch_ops.linear(torch.ones(2, 3), torch.ones(4, 3, dtype=torch.float64))


@pytest.mark.gpu
def test_torch_ops_runs_on_gpu():
    x, weight, bias = (torch.randn(*s, device="cuda") for s in [(5, 3), (4, 3), (4,)])
    out = torch_ops.linear(x, weight, bias)
    assert out.device.type == "cuda"
    torch.testing.assert_close(out, F.linear(x, weight, bias))


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("lead", [(5,), (2, 3), ()])
def test_torch_ops_linear_backward_matches_autograd(lead, with_bias):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(*lead, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, generator=gen, dtype=torch.float64, requires_grad=True) if with_bias else None
    grad_out = torch.randn(*lead, 3, generator=gen, dtype=torch.float64)
    F.linear(x, w, b).backward(grad_out)
    gx, gw, gb = torch_ops.linear_backward(grad_out, x.detach(), w.detach(), None if b is None else b.detach())
    torch.testing.assert_close(gx, x.grad, rtol=0, atol=1e-10)
    torch.testing.assert_close(gw, w.grad, rtol=0, atol=1e-10)
    if with_bias:
        torch.testing.assert_close(gb, b.grad, rtol=0, atol=1e-10)
    else:
        assert gb is None
    with pytest.raises(ValueError, match=r"grad_out must have the shape of linear's output"):
        torch_ops.linear_backward(torch.ones(*lead, 4, dtype=torch.float64), x.detach(), w.detach())

"""Tests for numpy_ops.activations and torch_ops.activations, against torch.nn.functional."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from _oracle import torch_oracle
from cnncourse import numpy_ops, torch_ops
from cnncourse.numpy_ops import check_gradient

# name -> (torch oracle, extra keyword arguments passed to every backend)
ELEMENTWISE = {
    "relu": (F.relu, {}),
    "leaky_relu": (F.leaky_relu, {"negative_slope": 0.2}),
    "leaky_relu_default": (F.leaky_relu, {}),
    "sigmoid": (torch.sigmoid, {}),
    "tanh": (torch.tanh, {}),
}
SOFTMAXES = {"softmax": F.softmax, "log_softmax": F.log_softmax}

finite = st.floats(-30, 30, allow_nan=False, allow_infinity=False)
arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=5), elements=finite)


def _ops(name):
    """(numpy forward, numpy backward, torch_ops forward) for an op name."""
    base = name.removesuffix("_default")
    return (
        getattr(numpy_ops, base),
        getattr(numpy_ops, base + "_backward"),
        getattr(torch_ops, base),
    )


def _grad_out(x):
    return np.random.default_rng(x.size).normal(size=x.shape)


def _compare(name, oracle, kwargs, x):
    """Forward and backward of both backends against the torch oracle, to 1e-10."""
    forward, backward, torch_forward = _ops(name)
    grad_out = _grad_out(x)
    expected, (grad_x,) = torch_oracle(lambda t: oracle(t, **kwargs), x, grad_out=grad_out)
    np.testing.assert_allclose(forward(x, **kwargs), expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(backward(grad_out, x, **kwargs), grad_x, rtol=0, atol=1e-10)
    ours, (our_grad,) = torch_oracle(lambda t: torch_forward(t, **kwargs), x, grad_out=grad_out)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(our_grad, grad_x, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(x=arrays)
def test_elementwise_match_torch(name, x):
    oracle, kwargs = ELEMENTWISE[name]
    _compare(name, oracle, kwargs, x)


@pytest.mark.parametrize("name", SOFTMAXES)
@given(x=arrays, data=st.data())
def test_softmaxes_match_torch_along_any_dim(name, x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    _compare(name, SOFTMAXES[name], {"dim": dim}, x)


def test_softmax_defaults_to_last_axis():
    x = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_allclose(numpy_ops.softmax(x).sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(numpy_ops.softmax(x), numpy_ops.softmax(x, dim=1), rtol=0, atol=0)


@pytest.mark.parametrize("name", [*ELEMENTWISE, *SOFTMAXES])
def test_backward_matches_finite_differences(name):
    forward, backward, _ = _ops(name)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4))
    x[np.abs(x) < 0.05] = 0.5  # keep away from the kink of relu / leaky_relu
    kwargs = ELEMENTWISE[name][1] if name in ELEMENTWISE else {"dim": 0}
    grad_out = rng.normal(size=x.shape)
    analytic = backward(grad_out, x, **kwargs)
    check_gradient(lambda x: forward(x, **kwargs), x, analytic, grad_out)


EXTREME = np.array([[-1000.0, -1000.0, 0.0, 1000.0], [1000.0, 999.0, -5000.0, 3000.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", [*ELEMENTWISE, *SOFTMAXES])
def test_extreme_inputs_give_finite_values_and_no_warnings(name, dtype):
    oracle, kwargs = ELEMENTWISE.get(name, (SOFTMAXES.get(name), {"dim": -1}))
    forward, backward, torch_forward = _ops(name)
    x = EXTREME.astype(dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out = forward(x, **kwargs)
        grad = backward(np.ones_like(x), x, **kwargs)
    assert np.isfinite(out).all() and np.isfinite(grad).all()
    t = torch.tensor(x, requires_grad=True)
    torch_out = torch_forward(t, **kwargs)
    torch_out.backward(torch.ones_like(torch_out))
    assert torch.isfinite(torch_out).all() and torch.isfinite(t.grad).all()
    expected = oracle(torch.from_numpy(EXTREME), **kwargs).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(torch_out.detach().numpy(), expected, rtol=1e-6, atol=1e-6)


def test_sigmoid_keeps_relative_precision_for_very_negative_inputs():
    x = np.array([-40.0, -700.0])
    expected = torch.sigmoid(torch.from_numpy(x)).numpy()
    assert (expected > 0).all()
    np.testing.assert_allclose(numpy_ops.sigmoid(x), expected, rtol=1e-12)
    np.testing.assert_allclose(torch_ops.sigmoid(torch.from_numpy(x)).numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name", [*ELEMENTWISE, *SOFTMAXES])
def test_dtype_is_preserved(name, dtype):
    forward, backward, torch_forward = _ops(name)
    x = np.linspace(-3, 3, 12, dtype=dtype).reshape(3, 4)
    assert forward(x).dtype == dtype
    assert backward(np.ones_like(x), x).dtype == dtype
    assert torch_forward(torch.from_numpy(x)).dtype == torch.from_numpy(x).dtype


@pytest.mark.parametrize("name", [*ELEMENTWISE, *SOFTMAXES])
def test_bad_inputs_raise(name):
    forward, backward, torch_forward = _ops(name)
    with pytest.raises(TypeError, match="x has dtype int64"):
        forward(np.arange(4))
    with pytest.raises(TypeError, match="x must hold floating-point"):
        forward(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="grad_out must have the shape"):
        backward(np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        torch_forward(np.ones(4))
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        torch_forward(torch.arange(4))


@pytest.mark.parametrize("backend", [numpy_ops, torch_ops])
@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_bad_dim_raises(backend, name):
    make = np.ones if backend is numpy_ops else torch.ones
    forward = getattr(backend, name)
    with pytest.raises(ValueError, match=r"dim must be an int in \[-2, 1\].*got dim=2"):
        forward(make((3, 4)), dim=2)
    with pytest.raises(ValueError, match="dim must be an int"):
        forward(make((3, 4)), dim=1.0)
    with pytest.raises(ValueError, match="0-D"):
        forward(make(()), dim=0)


@pytest.mark.gpu
@pytest.mark.parametrize("name", [*ELEMENTWISE, *SOFTMAXES])
def test_torch_ops_runs_on_gpu(name):
    oracle, kwargs = ELEMENTWISE.get(name, (SOFTMAXES.get(name), {"dim": 1}))
    x = torch.randn(4, 5, device="cuda") * 50
    out = _ops(name)[2](x, **kwargs)
    assert out.device.type == "cuda"
    torch.testing.assert_close(out, oracle(x, **kwargs))


@pytest.mark.parametrize("backend", [numpy_ops, torch_ops])
@pytest.mark.parametrize("slope", ["0.1", np.ones(2), None, True])
def test_leaky_relu_rejects_a_negative_slope_that_is_not_a_number(backend, slope):
    make = np.ones if backend is numpy_ops else torch.ones
    with pytest.raises(TypeError, match=r"negative_slope must be a real number.*got"):
        backend.leaky_relu(make(3), negative_slope=slope)
    if backend is numpy_ops:
        with pytest.raises(TypeError, match=r"negative_slope must be a real number"):
            numpy_ops.leaky_relu_backward(np.ones(3), np.ones(3), negative_slope=slope)


@pytest.mark.parametrize("backend", [numpy_ops, torch_ops])
@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_along_an_empty_axis_is_empty_like_torch(backend, name):
    # used to raise NumPy's "zero-size array to reduction operation maximum" / torch's amax IndexError
    x = np.ones((3, 0))
    expected = SOFTMAXES[name](torch.from_numpy(x), dim=1)
    arg = x if backend is numpy_ops else torch.from_numpy(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = getattr(backend, name)(arg, dim=1)
    assert tuple(out.shape) == tuple(expected.shape) == (3, 0)
    if backend is numpy_ops:
        assert getattr(numpy_ops, name + "_backward")(x, x, dim=1).shape == (3, 0)


@pytest.mark.parametrize("name", [*ELEMENTWISE, *SOFTMAXES])
def test_torch_ops_backward_matches_autograd_and_numpy(name):
    oracle, kwargs = ELEMENTWISE.get(name, (SOFTMAXES.get(name), {"dim": 0}))
    base = name.removesuffix("_default")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, generator=gen, dtype=torch.float64) * 3
    x[0, 0] = 0.0
    grad_out = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    xr = x.clone().requires_grad_()
    oracle(xr, **kwargs).backward(grad_out)
    grad_x = getattr(torch_ops, base + "_backward")(grad_out, x, **kwargs)
    torch.testing.assert_close(grad_x, xr.grad, rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        grad_x.numpy(), getattr(numpy_ops, base + "_backward")(grad_out.numpy(), x.numpy(), **kwargs),
        rtol=0, atol=1e-12,
    )
    with pytest.raises(ValueError, match="grad_out must have the shape"):
        getattr(torch_ops, base + "_backward")(torch.ones(3, dtype=torch.float64), x, **kwargs)

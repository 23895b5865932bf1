"""Tests for cnncourse.torch_ops.pool and the pooling autograd Functions, against
torch.nn.functional and autograd in float64, gradcheck, and cnncourse.numpy_ops."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from _oracle import DEVICES
from _strategies import pool_cases
from cnncourse import numpy_ops
from cnncourse.torch_ops import (
    AdaptiveAvgPool2dFunction,
    AvgPool2dFunction,
    MaxPool2dFunction,
    adaptive_avg_pool2d,
    adaptive_avg_pool2d_backward,
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
)

TOL = dict(rtol=0, atol=1e-10)

# name: (torch_ops forward, hand-written backward, autograd Function, F oracle, numpy_ops pair)
OPS = {
    "max": (max_pool2d, max_pool2d_backward, MaxPool2dFunction, F.max_pool2d,
            (numpy_ops.max_pool2d, numpy_ops.max_pool2d_backward)),
    "avg": (avg_pool2d, avg_pool2d_backward, AvgPool2dFunction, F.avg_pool2d,
            (numpy_ops.avg_pool2d, numpy_ops.avg_pool2d_backward)),
    "adaptive": (adaptive_avg_pool2d, adaptive_avg_pool2d_backward, AdaptiveAvgPool2dFunction,
                 F.adaptive_avg_pool2d,
                 (numpy_ops.adaptive_avg_pool2d, numpy_ops.adaptive_avg_pool2d_backward)),
}


@st.composite
def cases(draw, op):
    """``(x, args, kwargs)`` for ``op``; x is rounded half of the time, so that windows often
    hold several equal maxima and max pooling's "first arg-max" rule is exercised."""
    if op == "adaptive":
        H, W, OH = draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(1, 10))
        out = draw(st.sampled_from([OH, (OH, draw(st.integers(1, 10))), (None, OH)]))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        x, args, kwargs = rng.normal(size=(draw(st.integers(1, 3)), 2, H, W)), (out,), {}
    else:
        x, kwargs, _ = draw(pool_cases(with_dilation=op == "max"))
        if op == "avg":
            kwargs["count_include_pad"] = draw(st.booleans())
        args = (kwargs.pop("kernel_size"), kwargs.pop("stride"), kwargs.pop("padding"))
    return (np.round(x) if draw(st.booleans()) else x), args, kwargs


def _grad_out_like(out):
    """A fixed random grad_out (the same on every run, so hypothesis can replay a failure)."""
    gen = torch.Generator().manual_seed(0)
    return torch.randn(out.shape, generator=gen, dtype=out.dtype).to(out.device)


def _compare_with_torch(op, case, device="cpu"):
    x, args, kwargs = case
    forward, backward, function, oracle, _ = OPS[op]
    x = torch.from_numpy(x).to(device).requires_grad_()
    expected = oracle(x, *args, **kwargs)
    # With dilation a max-pooling window can fall entirely into the padding: the output is
    # -inf and PyTorch's backward is undefined there (so it must not run); tested below.
    assume(torch.isfinite(expected).all())
    grad_out = _grad_out_like(expected)
    (want,) = torch.autograd.grad(expected, x, grad_out)

    out = forward(x, *args, **kwargs)
    assert out.shape == expected.shape and out.device == expected.device
    torch.testing.assert_close(out, expected, **TOL)
    torch.testing.assert_close(torch.autograd.grad(out, x, grad_out)[0], want, **TOL)
    torch.testing.assert_close(backward(grad_out, x.detach(), *args, **kwargs), want, **TOL)
    out_fn = function.apply(x, *args, *kwargs.values())
    torch.testing.assert_close(out_fn, expected, **TOL)
    torch.testing.assert_close(torch.autograd.grad(out_fn, x, grad_out)[0], want, **TOL)


@pytest.mark.parametrize("op", list(OPS))
@given(data=st.data())
def test_forward_and_backward_match_torch(op, data):
    _compare_with_torch(op, data.draw(cases(op)))


@pytest.mark.gpu
@pytest.mark.parametrize("op", list(OPS))
@given(data=st.data())
def test_forward_and_backward_match_torch_on_cuda(op, data):
    _compare_with_torch(op, data.draw(cases(op)), device="cuda")


@pytest.mark.parametrize("op", list(OPS))
@given(data=st.data())
def test_matches_numpy_ops(op, data):
    x, args, kwargs = data.draw(cases(op))
    forward, backward, *_, (np_forward, np_backward) = OPS[op]
    x = torch.from_numpy(x)
    out = forward(x, *args, **kwargs)
    np.testing.assert_allclose(out.numpy(), np_forward(x.numpy(), *args, **kwargs), **TOL)
    grad_out = _grad_out_like(out)
    np.testing.assert_allclose(
        backward(grad_out, x, *args, **kwargs).numpy(),
        np_backward(grad_out.numpy(), x.numpy(), *args, **kwargs), **TOL,
    )


@pytest.mark.parametrize("function, args", [
    (MaxPool2dFunction, ((3, 2), (2, 1), 1, (1, 2))),
    (AvgPool2dFunction, (3, 2, 1, True)),
    (AvgPool2dFunction, ((2, 3), 1, (1, 1), False)),
    (AdaptiveAvgPool2dFunction, ((3, 4),)),
])
@pytest.mark.parametrize("device", DEVICES)
def test_functions_gradcheck(function, args, device):
    x = torch.randn(1, 1, 6, 5, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(function.apply, (x, *args))


def test_max_gradient_goes_to_the_first_maximum():
    x = torch.tensor([[[[1.0, 5.0, 5.0], [5.0, 0.0, 2.0]]]])  # a 2x3 window, 5 three times
    grad_x = max_pool2d_backward(torch.full((1, 1, 1, 1), 7.0), x, (2, 3))
    assert grad_x.flatten().tolist() == [0.0, 7.0, 0.0, 0.0, 0.0, 0.0]


def test_max_window_entirely_in_padding_gives_minus_inf_and_no_gradient():
    # Width 1, padding 1, dilation 2: the first window sees only the two padded columns.
    x = torch.ones(1, 1, 2, 1, dtype=torch.float64, requires_grad=True)
    args = ((1, 2), 1, (0, 1), (1, 2))
    out = max_pool2d(x, *args)
    torch.testing.assert_close(out, F.max_pool2d(x, *args), rtol=0, atol=0)
    assert torch.isneginf(out).all()
    assert not max_pool2d_backward(torch.ones_like(out), x.detach(), *args).any()
    assert not torch.autograd.grad(out.sum(), x)[0].any()


def test_float32_stays_float32():
    x = torch.randn(2, 3, 8, 8)
    for op, args in (("max", (2,)), ("avg", (3, 1, 1)), ("adaptive", ((3, 2),))):
        forward, backward, _, oracle, _ = OPS[op]
        out = forward(x, *args)
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, oracle(x, *args), rtol=1e-6, atol=1e-6)
        assert backward(torch.ones_like(out), x, *args).dtype == torch.float32


BAD_ARGS = [  # op, x shape, args, error, part of the message
    ("max", (8, 8), (2,), ValueError, "x must be a 4-D"),
    ("avg", (1, 8, 8), (2,), ValueError, "x.unsqueeze"),
    ("max", (1, 1, 3, 3), (4,), ValueError, "kernel does not fit"),
    ("max", (1, 1, 4, 4), (3, 1, 0, 2), ValueError, "kernel does not fit"),
    ("avg", (1, 1, 8, 8), (2, 0), ValueError, "stride must be positive"),
    ("max", (1, 1, 8, 8), (0,), ValueError, "kernel_size must be positive"),
    ("avg", (1, 1, 8, 8), (2, 2, -1), ValueError, "padding must be >= 0"),
    ("max", (1, 1, 8, 8), (2, 2, 2), ValueError, "at most half the kernel"),
    ("avg", (1, 1, 8, 8), ((2, 2, 2),), TypeError, "kernel_size must be an int or a pair"),
    ("adaptive", (1, 8, 8), (2,), ValueError, "x must be a 4-D"),
    ("adaptive", (1, 1, 8, 8), (0,), ValueError, "output_size must be a positive int"),
    ("adaptive", (1, 1, 8, 8), ((2, 2, 2),), TypeError, "output_size must be an int or a pair"),
    ("adaptive", (1, 1, 0, 8), (2,), ValueError, "empty array"),
]


@pytest.mark.parametrize("op, x_shape, args, error, message", BAD_ARGS)
def test_bad_arguments_raise_the_numpy_message(op, x_shape, args, error, message):
    forward, backward, *_, (np_forward, _) = OPS[op]
    with pytest.raises(error, match=message) as ours:
        forward(torch.ones(x_shape), *args)
    with pytest.raises(error) as reference:
        np_forward(np.ones(x_shape), *args)
    assert str(ours.value) == str(reference.value)
    with pytest.raises(error, match=message):
        backward(torch.ones(1), torch.ones(x_shape), *args)


@pytest.mark.parametrize("op", list(OPS))
def test_bad_tensors_raise(op):
    forward, backward, *_ = OPS[op]
    x = torch.ones(1, 2, 4, 4)
    with pytest.raises(TypeError, match="floating-point"):
        forward(x.int(), 2)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        forward(x.numpy(), 2)
    with pytest.raises(ValueError, match=r"grad_out must have the shape of \w+'s output, \(1, 2, 2, 2\)"):
        backward(torch.ones(1, 2, 3, 3), x, 2)
    with pytest.raises(TypeError, match="same dtype"):
        backward(torch.ones(1, 2, 2, 2, dtype=torch.float64), x, 2)
    with pytest.raises(ValueError, match="x is on cpu but grad_out is on meta"):
        backward(torch.ones(1, 2, 2, 2, device="meta"), x, 2)

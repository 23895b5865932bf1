"""Tests for cnncourse.torch_ops.conv and Conv2dFunction, against torch.nn.functional.conv2d
and autograd in float64, against finite differences (gradcheck), and against cnncourse.numpy_ops."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given

from _oracle import DEVICES
from _strategies import conv_cases
from cnncourse import numpy_ops
from cnncourse.torch_ops import Conv2dFunction, conv2d, conv2d_backward

TOL = dict(rtol=0, atol=1e-10)


def _random_case(x_shape, weight_shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=x_shape), rng.normal(size=weight_shape), rng.normal(size=weight_shape[0])


def _tensors(case, device="cpu", dtype=torch.float64):
    """The arrays of a conv case as tensors that require grad (bias may be None)."""
    return [None if a is None else torch.from_numpy(a).to(device, dtype).requires_grad_()
            for a in case[:3]]


def _grad_out_like(out):
    """A fixed random grad_out (the same on every run, so hypothesis can replay a failure)."""
    gen = torch.Generator().manual_seed(0)
    return torch.randn(out.shape, generator=gen, dtype=out.dtype).to(out.device)


def _grads(out, inputs, grad_out):
    present = [t for t in inputs if t is not None]
    grads = iter(torch.autograd.grad(out, present, grad_out))
    return [None if t is None else next(grads) for t in inputs]


def _assert_close_all(got, want, **tol):
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if w is not None:
            torch.testing.assert_close(g, w, **(tol or TOL))


def _compare_with_torch(case, device="cpu"):
    x, weight, bias = inputs = _tensors(case, device)
    kwargs = case[3]
    expected = F.conv2d(x, weight, bias, **kwargs)
    grad_out = _grad_out_like(expected)
    want = _grads(expected, inputs, grad_out)

    out = conv2d(x, weight, bias, **kwargs)  # plain tensor ops, differentiated by autograd
    assert out.shape == expected.shape and out.device == expected.device
    torch.testing.assert_close(out, expected, **TOL)
    _assert_close_all(_grads(out, inputs, grad_out), want)

    by_hand = conv2d_backward(grad_out, x.detach(), weight.detach(),
                              None if bias is None else bias.detach(), **kwargs)
    _assert_close_all(by_hand, want)

    out_fn = Conv2dFunction.apply(x, weight, bias, *kwargs.values())
    torch.testing.assert_close(out_fn, expected, **TOL)
    _assert_close_all(_grads(out_fn, inputs, grad_out), want)


# PyTorch warns that it copies the input for padding="same" with even kernels; not our concern.
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@given(conv_cases())
def test_forward_and_backward_match_torch(case):
    _compare_with_torch(case)


@pytest.mark.gpu
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@given(conv_cases())
def test_forward_and_backward_match_torch_on_cuda(case):
    _compare_with_torch(case, device="cuda")


@given(conv_cases())
def test_matches_numpy_ops(case):
    as_np, kwargs = case[:3], case[3]
    x, weight, bias = (None if t is None else t.detach() for t in _tensors(case))
    out = conv2d(x, weight, bias, **kwargs)
    np.testing.assert_allclose(out.numpy(), numpy_ops.conv2d(*as_np, **kwargs), **TOL)
    grad_out = _grad_out_like(out)
    ours = conv2d_backward(grad_out, x, weight, bias, **kwargs)
    theirs = numpy_ops.conv2d_backward(grad_out.numpy(), *as_np, **kwargs)
    for got, want in zip(ours, theirs):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_allclose(got.numpy(), want, **TOL)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kwargs", [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
    dict(stride=1, padding="same", dilation=2, groups=1),
])
def test_conv2d_function_gradcheck(kwargs, device):
    x, weight, bias = _tensors(_random_case((1, 2, 5, 4), (2, 2 // kwargs["groups"], 3, 2)),
                               device)
    assert torch.autograd.gradcheck(Conv2dFunction.apply, (x, weight, bias, *kwargs.values()))


@pytest.mark.parametrize("device", DEVICES)
def test_conv2d_function_second_derivative(device):
    # The hand-written backward is made of differentiable tensor ops, so it can be
    # differentiated again (needed e.g. for gradient penalties).
    x, weight, bias = _tensors(_random_case((1, 2, 5, 4), (2, 1, 2, 3)), device)
    assert torch.autograd.gradgradcheck(Conv2dFunction.apply, (x, weight, bias, 1, 1, 1, 2),
                                        fast_mode=True)


def test_conv2d_function_skips_gradients_not_needed():
    x, weight, _ = _tensors(_random_case((1, 2, 5, 5), (3, 2, 3, 3)))
    x = x.detach()
    Conv2dFunction.apply(x, weight).sum().backward()
    assert x.grad is None and weight.grad.shape == weight.shape


@pytest.mark.parametrize("device", DEVICES)
def test_float32_stays_float32_and_is_accurate(device):
    case = _random_case((2, 3, 9, 9), (4, 3, 3, 3))
    x, weight, bias = (t.detach() for t in _tensors(case, device, dtype=torch.float32))
    out = conv2d(x, weight, bias, padding=1)
    assert out.dtype == torch.float32 and out.device == x.device
    # The reference is float64 on the CPU: on a GPU, F.conv2d in float32 may use TF32 (10-bit
    # mantissa) and would be the less accurate of the two.
    exact = [t.detach() for t in _tensors(case)]
    torch.testing.assert_close(out.cpu(), F.conv2d(*exact, padding=1).float(),
                               rtol=1e-5, atol=1e-5)
    grads = conv2d_backward(torch.ones_like(out), x, weight, bias, padding=1)
    assert all(g.dtype == torch.float32 and g.device == x.device for g in grads)
    exact_grads = conv2d_backward(torch.ones(out.shape, dtype=torch.float64), *exact, padding=1)
    for got, want in zip(grads, exact_grads):
        torch.testing.assert_close(got.cpu(), want.float(), rtol=1e-5, atol=1e-4)


BAD_ARGS = [  # x shape, weight shape, bias shape, kwargs, error, part of the message
    ((3, 8, 8), (4, 3, 3, 3), None, {}, ValueError, "x must be a 4-D"),
    ((1, 3, 8, 8), (4, 3, 3), None, {}, ValueError, "weight must be a 4-D"),
    ((1, 1, 8, 8), (4, 3, 3, 3), None, {}, ValueError, "channel mismatch"),
    ((1, 3, 8, 8), (4, 1, 3, 3), None, dict(groups=2), ValueError, "groups must divide"),
    ((1, 4, 8, 8), (3, 2, 3, 3), None, dict(groups=2), ValueError, "groups must divide"),
    ((1, 4, 8, 8), (4, 2, 3, 3), None, dict(groups=0), ValueError, "groups must be a positive"),
    ((1, 3, 4, 4), (4, 3, 5, 5), None, {}, ValueError, "kernel does not fit"),
    ((1, 3, 4, 4), (4, 3, 3, 3), None, dict(dilation=2), ValueError, "kernel does not fit"),
    ((1, 3, 8, 8), (4, 3, 3, 3), None, dict(stride=0), ValueError, "stride must be positive"),
    ((1, 3, 8, 8), (4, 3, 3, 3), None, dict(stride=(1, -1)), ValueError, "stride must be"),
    ((1, 3, 8, 8), (4, 3, 3, 3), None, dict(padding=-1), ValueError, "padding must be >= 0"),
    ((1, 3, 8, 8), (4, 3, 3, 3), None, dict(padding="full"), ValueError, "'valid' or 'same'"),
    ((1, 3, 8, 8), (4, 3, 3, 3), None, dict(padding="same", stride=2), ValueError, "needs stride=1"),
    ((1, 3, 8, 8), (4, 3, 3, 3), (3,), {}, ValueError, "bias must have shape"),
    ((1, 3, 8, 8), (4, 3, 3, 3), None, dict(stride=1.5), TypeError, "stride must be an int"),
]


@pytest.mark.parametrize("x_shape, w_shape, b_shape, kwargs, error, message", BAD_ARGS)
def test_bad_arguments_raise_the_numpy_message(x_shape, w_shape, b_shape, kwargs, error, message):
    bias = None if b_shape is None else torch.ones(b_shape)
    with pytest.raises(error, match=message) as ours:
        conv2d(torch.ones(x_shape), torch.ones(w_shape), bias, **kwargs)
    with pytest.raises(error) as reference:
        numpy_ops.conv2d(np.ones(x_shape), np.ones(w_shape),
                         None if b_shape is None else np.ones(b_shape), **kwargs)
    assert str(ours.value) == str(reference.value)
    with pytest.raises(error, match=message):
        conv2d_backward(torch.ones(1), torch.ones(x_shape), torch.ones(w_shape), bias, **kwargs)


def test_bad_tensors_raise():
    x, weight = torch.ones(1, 3, 8, 8), torch.ones(4, 3, 3, 3)
    with pytest.raises(TypeError, match="floating-point"):
        conv2d(x.long(), weight)
    with pytest.raises(TypeError, match="weight must be a torch.Tensor"):
        conv2d(x, weight.numpy())
    with pytest.raises(TypeError, match="same dtype"):
        conv2d(x, weight.double())
    with pytest.raises(ValueError, match="x is on cpu but bias is on meta"):
        conv2d(x, weight, torch.ones(4, device="meta"))
    with pytest.raises(ValueError, match=r"grad_out must have the shape of conv2d's output, \(1, 4, 6, 6\)"):
        conv2d_backward(torch.ones(1, 4, 8, 8), x, weight)
    with pytest.raises(ValueError, match="x is on cpu but grad_out is on meta"):
        conv2d_backward(torch.ones(1, 4, 6, 6, device="meta"), x, weight)

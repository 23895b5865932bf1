"""Tests for numpy_ops.losses and torch_ops.losses, against torch.nn.functional.cross_entropy."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from _oracle import torch_oracle
from cnncourse import torch_ops
from cnncourse.numpy_ops import check_gradient, cross_entropy, cross_entropy_backward


def _problem(seed, N, K, scale=3.0):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=scale, size=(N, K)), rng.integers(0, K, size=N)


@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 7))
def test_matches_torch(seed, N, K):
    logits, target = _problem(seed, N, K)
    expected, (grad, _) = torch_oracle(F.cross_entropy, logits, target)
    np.testing.assert_allclose(cross_entropy(logits, target), expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(cross_entropy_backward(logits, target), grad, rtol=0, atol=1e-10)
    ours, (our_grad, _) = torch_oracle(torch_ops.cross_entropy, logits, target)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(our_grad, grad, rtol=0, atol=1e-10)


def test_backward_matches_finite_differences():
    logits, target = _problem(0, 5, 4)
    analytic = cross_entropy_backward(logits, target)
    check_gradient(lambda l: cross_entropy(l, target), logits, analytic)


def test_extreme_logits_give_finite_loss_and_no_warnings():
    logits = np.array([[1000.0, -1000.0, 0.0], [-5000.0, 3000.0, 2999.0]])
    target = np.array([1, 2])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        loss = cross_entropy(logits, target)
        grad = cross_entropy_backward(logits, target)
    expected, (expected_grad, _) = torch_oracle(F.cross_entropy, logits, target)
    assert np.isfinite(loss) and np.isfinite(grad).all()
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=1e-12)
    ours, (our_grad, _) = torch_oracle(torch_ops.cross_entropy, logits, target)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)
    np.testing.assert_allclose(our_grad, expected_grad, rtol=0, atol=1e-12)


@pytest.mark.parametrize("target_dtype", [np.int64, np.int32, np.uint8])
def test_float32_stays_float32_and_any_integer_target_works(target_dtype):
    logits, target = _problem(2, 3, 4)
    logits, target = logits.astype(np.float32), target.astype(target_dtype)
    assert cross_entropy(logits, target).dtype == np.float32
    assert cross_entropy_backward(logits, target).dtype == np.float32
    loss = torch_ops.cross_entropy(torch.from_numpy(logits), torch.from_numpy(target))
    assert loss.dtype == torch.float32
    expected = F.cross_entropy(torch.from_numpy(logits).double(), torch.from_numpy(target).long())
    assert abs(float(loss) - float(expected)) < 1e-5


BAD_ARGS = [
    ((4,), [0, 1, 2, 3], ValueError, "logits must be a 2-D"),
    ((0, 3), np.zeros(0, dtype=np.int64), ValueError, "logits is empty"),
    ((2, 3), [0, 1, 2], ValueError, r"target must have shape \(N,\) = \(2,\)"),
    ((2, 3), [[1, 0, 0], [0, 1, 0]], ValueError, "use target.argmax"),
    ((2, 3), [0, 3], ValueError, r"class indices in \[0, 2\].*got a target of 3"),
    ((2, 3), [-1, 0], ValueError, "got a target of -1"),
    ((2, 3), [0.0, 1.0], TypeError, "target must hold integer class indices"),
    ((2, 3), [True, False], TypeError, "target must hold integer class indices"),
]


@pytest.mark.parametrize("logits_shape, target, error, message", BAD_ARGS)
def test_bad_arguments_raise(logits_shape, target, error, message):
    logits, target = np.zeros(logits_shape), np.asarray(target)
    for fn in (cross_entropy, cross_entropy_backward):
        with pytest.raises(error, match=message):
            fn(logits, target)
    with pytest.raises(error, match=message):
        torch_ops.cross_entropy(torch.from_numpy(logits), torch.from_numpy(target))


def test_bad_types_raise():
    with pytest.raises(TypeError, match="logits has dtype int64"):
        cross_entropy(np.zeros((2, 3), dtype=np.int64), np.array([0, 1]))
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        torch_ops.cross_entropy(torch.zeros(2, 3, dtype=torch.int64), torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="target must be a torch.Tensor"):
        torch_ops.cross_entropy(torch.zeros(2, 3), [0, 1])


@pytest.mark.gpu
def test_torch_ops_runs_on_gpu_and_checks_target_device():
    logits = torch.randn(5, 4, device="cuda")
    target = torch.randint(0, 4, (5,), device="cuda")
    loss = torch_ops.cross_entropy(logits, target)
    assert loss.device.type == "cuda"
    torch.testing.assert_close(loss, F.cross_entropy(logits, target))
    with pytest.raises(ValueError, match="same device"):
        torch_ops.cross_entropy(logits, target.cpu())


def test_torch_ops_cross_entropy_backward_matches_autograd_and_checks_target():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([0, 3, 1, 1, 2, 0])
    F.cross_entropy(logits, target).backward()
    grad = torch_ops.cross_entropy_backward(logits.detach(), target)
    torch.testing.assert_close(grad, logits.grad, rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\].*got a target of 4"):
        torch_ops.cross_entropy_backward(logits.detach(), torch.tensor([0, 4, 1, 1, 2, 0]))
    with pytest.raises(TypeError, match="target must hold integer class indices"):
        torch_ops.cross_entropy_backward(logits.detach(), target.double())

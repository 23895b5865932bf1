"""Tests for cnncourse.nn.losses: CrossEntropyLoss and MSELoss against torch.nn in float64."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from cnncourse import nn


@given(st.integers(1, 6), st.integers(1, 6), st.sampled_from(["mean", "sum", "none"]),
       st.sampled_from([0.0, 0.1, 1.0]), st.integers(0, 1000))
def test_cross_entropy_matches_torch(N, K, reduction, label_smoothing, seed):
    rng = np.random.default_rng(seed)
    logits, target = rng.normal(scale=3, size=(N, K)), rng.integers(0, K, size=N)
    criterion = nn.CrossEntropyLoss(reduction, label_smoothing)
    loss = criterion(logits, target)
    lt = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing)(
        lt, torch.from_numpy(target))
    grad_out = rng.normal(size=N) if reduction == "none" else None
    expected.backward(torch.ones(()) if grad_out is None else torch.from_numpy(grad_out))
    if reduction == "none":
        np.testing.assert_allclose(loss, expected.detach().numpy(), rtol=0, atol=1e-12)
    else:
        assert isinstance(loss, float) and loss == pytest.approx(expected.item(), abs=1e-12)
    np.testing.assert_allclose(criterion.backward(grad_out), lt.grad.numpy(), rtol=0, atol=1e-12)


def test_cross_entropy_float32_and_grad_out_scaling():
    logits = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    criterion = nn.CrossEntropyLoss()
    criterion(logits, np.array([0, 1, 2, 0]))
    grad = criterion.backward()
    assert grad.dtype == np.float32
    np.testing.assert_allclose(criterion.backward(2.0), 2 * grad)


@pytest.mark.parametrize("target, match", [
    ([0, 1, 3], r"class indices in \[0, 2\].*got a target of 3"),
    ([0, -1, 2], r"got a target of -1"),
    ([0.0, 1.0, 2.0], "target must hold integer class indices"),
    ([0, 1], r"target must have shape \(N,\) = \(3,\)"),
])
def test_labels_out_of_range_or_wrong_raise(target, match):
    with pytest.raises((ValueError, TypeError), match=match):
        nn.CrossEntropyLoss()(np.zeros((3, 3)), np.array(target))


def test_bad_options():
    with pytest.raises(ValueError, match="reduction must be 'mean'"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        nn.CrossEntropyLoss(label_smoothing=1.5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_matches_torch(reduction):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    mse = nn.MSELoss(reduction)
    loss = mse(x, y)
    xt = torch.tensor(x, requires_grad=True)
    expected = torch.nn.MSELoss(reduction=reduction)(xt, torch.from_numpy(y))
    grad_out = rng.normal(size=x.shape) if reduction == "none" else None
    expected.backward(torch.ones(()) if grad_out is None else torch.from_numpy(grad_out))
    np.testing.assert_allclose(loss, expected.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(mse.backward(grad_out), xt.grad.numpy(), rtol=0, atol=1e-12)
    assert repr(mse) == "MSELoss()" == repr(torch.nn.MSELoss())


def test_mse_shape_mismatch():
    with pytest.raises(ValueError, match=r"same shape.*input.shape=\(4, 1\) and target.shape=\(4,\)"):
        nn.MSELoss()(np.zeros((4, 1)), np.zeros(4))

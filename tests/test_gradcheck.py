"""Tests for numpy_ops.gradcheck: the finite-difference helpers must find wrong gradients."""
import re

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from _oracle import torch_oracle
from cnncourse.numpy_ops import (
    check_gradient,
    linear,
    linear_backward,
    numerical_gradient,
    rel_error,
    sigmoid,
)


def _f_numpy(x):
    return np.sin(x) * x**2


def _f_torch(x):
    return torch.sin(x) * x**2


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 1, 3)])
@pytest.mark.parametrize("with_grad_out", [False, True])
def test_numerical_gradient_matches_autograd(shape, with_grad_out):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    grad_out = rng.normal(size=shape) if with_grad_out else None
    _, (expected,) = torch_oracle(_f_torch, x, grad_out=grad_out)
    np.testing.assert_allclose(numerical_gradient(_f_numpy, x, grad_out), expected, rtol=0, atol=1e-8)


def test_numerical_gradient_of_a_scalar_loss():
    x = np.random.default_rng(1).normal(size=(3, 2))
    _, (expected,) = torch_oracle(lambda t: (t**3).mean(), x)
    np.testing.assert_allclose(numerical_gradient(lambda x: (x**3).mean(), x), expected, atol=1e-8)


def test_numerical_gradient_restores_x():
    x = np.random.default_rng(2).normal(size=(3, 4))
    before = x.copy()
    numerical_gradient(lambda x: x, x)  # f returns x itself: a view that changes with x
    np.testing.assert_array_equal(x, before)

    def explode(x):
        if x[1, 1] != before[1, 1]:
            raise RuntimeError("boom")
        return x

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(explode, x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_bad_arguments():
    with pytest.raises(TypeError, match="float64 NumPy array.*float32"):
        numerical_gradient(np.sin, np.ones(3, dtype=np.float32))
    with pytest.raises(TypeError, match="float64 NumPy array"):
        numerical_gradient(np.sin, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"grad_out must have the shape of f\(x\), \(3,\)"):
        numerical_gradient(np.sin, np.ones(3), grad_out=np.ones(4))


finite_arrays = hnp.arrays(
    np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
    elements=st.floats(-1e3, 1e3, allow_nan=False),
)


@given(a=finite_arrays, data=st.data())
def test_rel_error_properties(a, data):
    b = data.draw(hnp.arrays(np.float64, a.shape, elements=st.floats(-1e3, 1e3)), label="b")
    assert rel_error(a, a) == 0.0
    assert rel_error(a, b) == rel_error(b, a)
    assert 0.0 <= rel_error(a, b) <= 1.0
    # Scale invariant where the denominator floor of 1e-8 is not reached.
    if np.all(np.abs(a) + np.abs(b) > 1e-6):
        assert rel_error(4 * a, 4 * b) == pytest.approx(rel_error(a, b), rel=1e-12)


def test_rel_error_is_elementwise_relative():
    # A small array error next to a large value is not hidden by it (CS231n definition).
    assert rel_error(np.array([1000.0, 1.0]), np.array([1000.0, 3.0])) == pytest.approx(0.5)
    assert rel_error(np.array([1.0]), np.array([-1.0])) == pytest.approx(1.0)
    assert rel_error(np.zeros(2), np.zeros(2)) == 0.0
    with pytest.raises(ValueError, match=r"same shape; got a.shape=\(2,\) and b.shape=\(3,\)"):
        rel_error(np.ones(2), np.ones(3))


def test_rel_error_floor_tiny():
    a, b = np.array([1e-12, 1.0]), np.array([0.0, 1.0])
    assert rel_error(a, b) == pytest.approx(1e-4)  # 1e-12 / 1e-8
    assert rel_error(a, b, tiny=1e-6) == pytest.approx(1e-6)
    assert rel_error(a, b, tiny=0.0) == 1.0


def _right_sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1 - s)


def test_check_gradient_accepts_a_right_gradient():
    x = np.random.default_rng(3).normal(size=(4, 3))
    assert check_gradient(sigmoid, x, _right_sigmoid_grad(x)) < 1e-7


def test_check_gradient_accepts_a_right_gradient_of_a_large_sum():
    # L = sum(linear(x, w) * grad_out) over 128 x 10 outputs: rounding noise of about 1e-7 in
    # the finite differences must not fail a right gradient.
    rng = np.random.default_rng(5)
    x, weight, grad_out = rng.normal(size=(128, 64)) * 3, rng.normal(size=(10, 64)), rng.normal(size=(128, 10))
    _, grad_weight, _ = linear_backward(grad_out, x, weight)
    assert check_gradient(lambda w: linear(x, w), weight, grad_weight, grad_out) < 1e-5
    wrong = grad_weight.copy()
    wrong[3, 7] += 1e-3
    with pytest.raises(AssertionError, match=r"x\[3, 7\]"):
        check_gradient(lambda w: linear(x, w), weight, wrong, grad_out)


def test_check_gradient_catches_a_wrong_formula():
    x = np.random.default_rng(3).normal(size=(4, 3))
    wrong = sigmoid(x)  # forgot the factor (1 - s)
    assert rel_error(wrong, numerical_gradient(sigmoid, x)) > 0.1
    with pytest.raises(AssertionError, match="gradient check failed at x") as info:
        check_gradient(sigmoid, x, wrong)
    assert "12 of 12 elements" in str(info.value)


def test_check_gradient_points_at_the_single_wrong_element():
    x = np.random.default_rng(4).normal(size=(3, 5))
    grad = _right_sigmoid_grad(x)
    grad[2, 1] *= 1.001  # one element off by 0.1 %
    with pytest.raises(AssertionError) as info:
        check_gradient(sigmoid, x, grad)
    message = str(info.value)
    assert "x[2, 1]" in message and "1 of 15 elements" in message
    # both values are shown, rounded to 6 significant digits
    shown = [float(v) for v in re.findall(r"(?:gradient|give) (-?[\d.e+-]+)", message)]
    np.testing.assert_allclose(shown, [grad[2, 1], _right_sigmoid_grad(x)[2, 1]], rtol=1e-5)


def test_check_gradient_catches_nan_and_wrong_shape():
    x = np.ones(3)
    with pytest.raises(AssertionError, match=r"x\[1\]"):
        check_gradient(sigmoid, x, np.array([0.2, np.nan, 0.2]))
    with pytest.raises(ValueError, match=r"analytic gradient must have the shape of x, \(3,\)"):
        check_gradient(sigmoid, x, np.ones((3, 1)))
    with pytest.raises(ValueError, match="rtol must be positive"):
        check_gradient(sigmoid, x, np.ones(3), rtol=0)

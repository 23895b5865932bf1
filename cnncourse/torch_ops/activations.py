"""Activation functions with PyTorch tensor operations, differentiated by autograd.

The same formulas as :mod:`cnncourse.numpy_ops.activations` (read that module for the
backward formulas): ``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``, ``softmax``,
``log_softmax``, each with a hand-written ``<name>_backward(grad_out, x, ...)`` returning
``grad_x``, as in the NumPy reference. ``torch.nn.functional`` is *not* used; it is only the
oracle in the tests.
Each function works on any device, keeps the input's dtype, and stays finite for extreme inputs.
"""
from __future__ import annotations

import torch

from ..shapes import check_dim, check_real
from ._tensors import check_grad_out
from .device import check_compatible

__all__ = [
    "relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "sigmoid", "sigmoid_backward",
    "tanh", "tanh_backward", "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
]


def relu(x):
    """Rectified linear unit: ``max(x, 0)`` element-wise (gradient 0 at ``x == 0``, as in PyTorch).

    Args:
        x: input tensor of any shape, floating point, on any device.

    Shape:
        Output has the shape, dtype and device of ``x``.

    Returns:
        ``max(x, 0)``, differentiable by autograd.

    Example:
        >>> relu(torch.tensor([-2.0, 0.0, 3.0]))
        tensor([0., 0., 3.])
    """
    check_compatible(x=x)
    return torch.where(x > 0, x, torch.zeros_like(x))


def leaky_relu(x, negative_slope=0.01):
    """Leaky ReLU: ``x`` where ``x > 0``, else ``negative_slope * x``.

    Args:
        x: input tensor of any shape.
        negative_slope: slope for negative inputs. Default: 0.01.

    Shape:
        Output has the shape, dtype and device of ``x``.

    Returns:
        The activated tensor, differentiable by autograd.

    Example:
        >>> leaky_relu(torch.tensor([-2.0, 3.0]), negative_slope=0.5)
        tensor([-1.,  3.])
    """
    check_compatible(x=x)
    negative_slope = check_real(negative_slope, "negative_slope")
    return torch.where(x > 0, x, x * negative_slope)


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow.

    With ``z = exp(-|x|)`` in ``(0, 1]``: ``1 / (1 + z)`` for ``x >= 0`` and ``z / (1 + z)``
    for ``x < 0``. ``|x|`` is written as ``where(x >= 0, x, -x)`` so that autograd sees slope
    +1 at ``x = 0`` (``abs`` has gradient 0 there, which would give ``sigmoid'(0) = 0``).

    Args:
        x: input tensor of any shape, floating point, on any device.

    Shape:
        Output has the shape, dtype and device of ``x``.

    Returns:
        Values in ``[0, 1]``, differentiable by autograd.

    Example:
        >>> sigmoid(torch.tensor([-1000.0, 0.0, 1000.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    check_compatible(x=x)
    positive = x >= 0
    z = torch.exp(-torch.where(positive, x, -x))
    return torch.where(positive, 1 / (1 + z), z / (1 + z))


def tanh(x):
    """Hyperbolic tangent, ``(exp(x) - exp(-x)) / (exp(x) + exp(-x))`` (``torch.tanh``).

    Args:
        x: input tensor of any shape, floating point, on any device.

    Shape:
        Output has the shape, dtype and device of ``x``.

    Returns:
        Values in ``[-1, 1]``, differentiable by autograd.

    Example:
        >>> tanh(torch.tensor([0.0, 1000.0]))
        tensor([0., 1.])
    """
    check_compatible(x=x)
    return torch.tanh(x)


def _shifted(x, dim):
    """Validate; return ``(x - max(x along dim), axis)``.

    The maximum is detached: softmax does not change when a constant is subtracted, so its
    true gradient through the shift is zero; detaching saves autograd the work.
    """
    check_compatible(x=x)
    axis = check_dim(x.dim(), dim)
    if x.shape[axis] == 0:  # nothing to normalise: the result is empty, as in torch
        return x, axis
    return x - x.amax(dim=axis, keepdim=True).detach(), axis


def softmax(x, dim=-1):
    """Softmax along ``dim``: ``exp(x_i - m) / sum_j exp(x_j - m)`` with ``m = max_j x_j``.

    Args:
        x: input tensor of any shape (at least 1-D).
        dim: the axis to normalise over. Default: -1.

    Shape:
        Output has the shape of ``x``.

    Returns:
        Non-negative values that sum to 1 along ``dim``, differentiable by autograd.

    Example:
        >>> softmax(torch.tensor([1000.0, 1000.0]))
        tensor([0.5000, 0.5000])
    """
    shifted, axis = _shifted(x, dim)
    e = torch.exp(shifted)
    return e / e.sum(dim=axis, keepdim=True)


def log_softmax(x, dim=-1):
    """Log of :func:`softmax`, stably: ``(x_i - m) - log(sum_j exp(x_j - m))`` along ``dim``.

    Args:
        x: input tensor of any shape (at least 1-D).
        dim: the axis to normalise over. Default: -1.

    Shape:
        Output has the shape of ``x``.

    Returns:
        ``log(softmax(x, dim))`` without overflow, differentiable by autograd.

    Example:
        >>> log_softmax(torch.tensor([0.0, -1000.0]))
        tensor([    0., -1000.])
    """
    shifted, axis = _shifted(x, dim)
    return shifted - torch.log(torch.exp(shifted).sum(dim=axis, keepdim=True))


def _grad_and_x(grad_out, x, op: str):
    """Validate an element-wise backward's arguments: ``grad_out`` shaped like ``x``."""
    check_compatible(x=x, grad_out=grad_out)
    check_grad_out(grad_out, tuple(x.shape), op)
    return grad_out, x


def relu_backward(grad_out, x):
    """Gradient of :func:`relu` by hand: ``grad_x = grad_out * (x > 0)`` (0 at ``x == 0``).

    Args:
        grad_out: gradient of the loss with respect to the output, shaped like ``x``.
        x: the input that was passed to the forward function.

    Shape:
        ``grad_x`` has the shape, dtype and device of ``x``.

    Returns:
        ``grad_x``.

    Example:
        >>> relu_backward(torch.ones(3), torch.tensor([-2.0, 0.0, 3.0]))
        tensor([0., 0., 1.])
    """
    grad_out, x = _grad_and_x(grad_out, x, "relu")
    return torch.where(x > 0, grad_out, torch.zeros_like(grad_out))


def leaky_relu_backward(grad_out, x, negative_slope=0.01):
    """Gradient of :func:`leaky_relu` by hand: ``grad_out`` where ``x > 0``,
    else ``negative_slope * grad_out``.

    Args:
        grad_out: gradient of the loss with respect to the output, shaped like ``x``.
        x: the input that was passed to the forward function.
        negative_slope: as passed to :func:`leaky_relu`. Default: 0.01.

    Shape:
        ``grad_x`` has the shape, dtype and device of ``x``.

    Returns:
        ``grad_x``.

    Example:
        >>> leaky_relu_backward(torch.ones(2), torch.tensor([-2.0, 3.0]), negative_slope=0.5)
        tensor([0.5000, 1.0000])
    """
    grad_out, x = _grad_and_x(grad_out, x, "leaky_relu")
    negative_slope = check_real(negative_slope, "negative_slope")
    return torch.where(x > 0, grad_out, grad_out * negative_slope)


def sigmoid_backward(grad_out, x):
    """Gradient of :func:`sigmoid` by hand: ``grad_x = grad_out * s * (1 - s)`` with ``s = sigmoid(x)``.

    Args:
        grad_out: gradient of the loss with respect to the output, shaped like ``x``.
        x: the input that was passed to the forward function.

    Shape:
        ``grad_x`` has the shape, dtype and device of ``x``.

    Returns:
        ``grad_x``.

    Example:
        >>> sigmoid_backward(torch.ones(1), torch.zeros(1))
        tensor([0.2500])
    """
    grad_out, x = _grad_and_x(grad_out, x, "sigmoid")
    s = sigmoid(x)
    return grad_out * s * (1 - s)


def tanh_backward(grad_out, x):
    """Gradient of :func:`tanh` by hand: ``grad_x = grad_out * (1 - tanh(x)**2)``.

    Args:
        grad_out: gradient of the loss with respect to the output, shaped like ``x``.
        x: the input that was passed to the forward function.

    Shape:
        ``grad_x`` has the shape, dtype and device of ``x``.

    Returns:
        ``grad_x``.

    Example:
        >>> tanh_backward(torch.ones(1), torch.zeros(1))
        tensor([1.])
    """
    grad_out, x = _grad_and_x(grad_out, x, "tanh")
    return grad_out * (1 - torch.tanh(x) ** 2)


def softmax_backward(grad_out, x, dim=-1):
    """Gradient of :func:`softmax` by hand, with ``s = softmax(x)``::

        grad_x = s * (grad_out - sum_j(grad_out_j * s_j))

    Args:
        grad_out: gradient of the loss with respect to the output, shaped like ``x``.
        x: the input that was passed to the forward function.
        dim: as passed to :func:`softmax`. Default: -1.

    Shape:
        ``grad_x`` has the shape, dtype and device of ``x``.

    Returns:
        ``grad_x``.

    Example:
        >>> softmax_backward(torch.tensor([1.0, 0.0]), torch.zeros(2))
        tensor([ 0.2500, -0.2500])
    """
    grad_out, x = _grad_and_x(grad_out, x, "softmax")
    s = softmax(x, dim)
    axis = check_dim(x.dim(), dim)
    return s * (grad_out - (grad_out * s).sum(dim=axis, keepdim=True))


def log_softmax_backward(grad_out, x, dim=-1):
    """Gradient of :func:`log_softmax` by hand: ``grad_x = grad_out - softmax(x) * sum_j(grad_out_j)``.

    Args:
        grad_out: gradient of the loss with respect to the output, shaped like ``x``.
        x: the input that was passed to the forward function.
        dim: as passed to :func:`log_softmax`. Default: -1.

    Shape:
        ``grad_x`` has the shape, dtype and device of ``x``.

    Returns:
        ``grad_x``.

    Example:
        >>> log_softmax_backward(torch.tensor([1.0, 0.0]), torch.zeros(2))
        tensor([ 0.5000, -0.5000])
    """
    grad_out, x = _grad_and_x(grad_out, x, "log_softmax")
    s = softmax(x, dim)
    axis = check_dim(x.dim(), dim)
    return grad_out - s * grad_out.sum(dim=axis, keepdim=True)

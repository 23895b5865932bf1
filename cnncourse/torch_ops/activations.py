"""Activation functions with PyTorch tensor operations, differentiated by autograd.

The same formulas as :mod:`cnncourse.numpy_ops.activations` (read that module for the
backward formulas): ``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``, ``softmax``,
``log_softmax``. ``torch.nn.functional`` is *not* used; it is only the oracle in the tests.
Each function works on any device, keeps the input's dtype, and stays finite for extreme inputs.
"""
from __future__ import annotations

import torch

from ..shapes import check_dim
from .device import check_compatible

__all__ = ["relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax"]


def relu(x):
    """Rectified linear unit: ``max(x, 0)`` element-wise (gradient 0 at ``x == 0``, as in PyTorch).

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

    Example:
        >>> leaky_relu(torch.tensor([-2.0, 3.0]), negative_slope=0.5)
        tensor([-1.,  3.])
    """
    check_compatible(x=x)
    return torch.where(x > 0, x, x * negative_slope)


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow.

    With ``z = exp(-|x|)`` in ``(0, 1]``: ``1 / (1 + z)`` for ``x >= 0`` and ``z / (1 + z)``
    for ``x < 0``. ``|x|`` is written as ``where(x >= 0, x, -x)`` so that autograd sees slope
    +1 at ``x = 0`` (``abs`` has gradient 0 there, which would give ``sigmoid'(0) = 0``).

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
    return x - x.amax(dim=axis, keepdim=True).detach(), axis


def softmax(x, dim=-1):
    """Softmax along ``dim``: ``exp(x_i - m) / sum_j exp(x_j - m)`` with ``m = max_j x_j``.

    Args:
        x: input tensor of any shape (at least 1-D).
        dim: the axis to normalise over. Default: -1.

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

    Example:
        >>> log_softmax(torch.tensor([0.0, -1000.0]))
        tensor([    0., -1000.])
    """
    shifted, axis = _shifted(x, dim)
    return shifted - torch.log(torch.exp(shifted).sum(dim=axis, keepdim=True))

"""Activation functions in NumPy, each forward next to its backward.

Mirrors ``torch.nn.functional``: ``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``, ``softmax`` and
``log_softmax``. Every backward function takes ``(grad_out, x, ...)`` with the forward's own
extra arguments and returns ``grad_x``, the gradient of the loss with respect to ``x``.
All of them keep the input's shape and dtype and are safe for extreme inputs: no overflow,
no ``nan``, no warnings for ``x = 1000`` or ``x = -1000``.
"""
from __future__ import annotations

import numpy as np

from ..shapes import check_dim, check_real
from ._arrays import as_float_array, check_grad_out

__all__ = [
    "relu",
    "relu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "tanh",
    "tanh_backward",
    "softmax",
    "softmax_backward",
    "log_softmax",
    "log_softmax_backward",
]


def _grad_and_x(grad_out, x, op: str):
    """Validate the arguments of an element-wise backward: ``grad_out`` shaped like ``x``."""
    x = as_float_array(x, "x")
    return check_grad_out(grad_out, x.shape, op, x.dtype), x


def relu(x):
    """Rectified linear unit: ``max(x, 0)`` element-wise.

    Args:
        x: input array of any shape.

    Shape:
        Output has the shape of ``x``.

    Returns:
        ``max(x, 0)``, same dtype as ``x``.

    Example:
        >>> relu(np.array([-2.0, 0.0, 3.0]))
        array([0., 0., 3.])
    """
    x = as_float_array(x, "x")
    return np.maximum(x, 0)


def relu_backward(grad_out, x):
    """Gradient of :func:`relu`: ``grad_x = grad_out * (x > 0)``.

    At ``x == 0`` the derivative is taken to be 0, as in PyTorch.

    Args:
        grad_out: gradient of the loss with respect to the output, shaped like ``x``.
        x: the input that was passed to the forward function.

    Shape:
        Output has the shape (and dtype) of ``x``.

    Returns:
        ``grad_x``.

    Example:
        >>> relu_backward(np.ones(3), np.array([-2.0, 0.0, 3.0]))
        array([0., 0., 1.])
    """
    grad_out, x = _grad_and_x(grad_out, x, "relu")
    return np.where(x > 0, grad_out, 0).astype(x.dtype, copy=False)


def leaky_relu(x, negative_slope=0.01):
    """Leaky ReLU: ``x`` where ``x > 0``, else ``negative_slope * x``.

    Args:
        x: input array of any shape.
        negative_slope: slope for negative inputs. Default: 0.01.

    Shape:
        Output has the shape (and dtype) of ``x``.

    Returns:
        The activated array.

    Example:
        >>> leaky_relu(np.array([-2.0, 3.0]), negative_slope=0.1)
        array([-0.2,  3. ])
    """
    x = as_float_array(x, "x")
    negative_slope = check_real(negative_slope, "negative_slope")
    return np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)


def leaky_relu_backward(grad_out, x, negative_slope=0.01):
    """Gradient of :func:`leaky_relu`: ``grad_out`` where ``x > 0``, else ``negative_slope * grad_out``.

    Args:
        grad_out: gradient of the loss with respect to the output, shaped like ``x``.
        x: the input that was passed to the forward function.
        negative_slope: as passed to :func:`leaky_relu`. Default: 0.01.

    Shape:
        Output has the shape (and dtype) of ``x``.

    Returns:
        ``grad_x``.

    Example:
        >>> leaky_relu_backward(np.ones(2), np.array([-2.0, 3.0]), negative_slope=0.1)
        array([0.1, 1. ])
    """
    grad_out, x = _grad_and_x(grad_out, x, "leaky_relu")
    negative_slope = check_real(negative_slope, "negative_slope")
    return np.where(x > 0, grad_out, grad_out * negative_slope).astype(x.dtype, copy=False)


def sigmoid(x):
    """Logistic sigmoid: ``1 / (1 + exp(-x))``, computed without overflow.

    ``exp(-x)`` overflows for ``x < -709`` (float64) or ``x < -88`` (float32). With
    ``z = exp(-|x|)``, which is always in ``(0, 1]``, the two equivalent forms::

        sigmoid(x) = 1 / (1 + z)   for x >= 0
        sigmoid(x) = z / (1 + z)   for x < 0

    never overflow and keep full relative precision for very negative ``x``.

    Args:
        x: input array of any shape, floating point.

    Shape:
        Output has the shape (and dtype) of ``x``.

    Returns:
        Values in ``[0, 1]``.

    Example:
        >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
        array([0. , 0.5, 1. ])
    """
    x = as_float_array(x, "x")
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


def sigmoid_backward(grad_out, x):
    """Gradient of :func:`sigmoid`: ``grad_x = grad_out * s * (1 - s)`` with ``s = sigmoid(x)``.

    Args:
        grad_out: gradient of the loss with respect to the output, shaped like ``x``.
        x: the input that was passed to the forward function.

    Shape:
        Output has the shape (and dtype) of ``x``.

    Returns:
        ``grad_x``.

    Example:
        >>> sigmoid_backward(np.ones(1), np.zeros(1))
        array([0.25])
    """
    grad_out, x = _grad_and_x(grad_out, x, "sigmoid")
    s = sigmoid(x)
    return grad_out * s * (1 - s)


def tanh(x):
    """Hyperbolic tangent: ``(exp(x) - exp(-x)) / (exp(x) + exp(-x))`` (``np.tanh``, overflow-free).

    Args:
        x: input array of any shape, floating point.

    Shape:
        Output has the shape (and dtype) of ``x``.

    Returns:
        Values in ``[-1, 1]``.

    Example:
        >>> tanh(np.array([0.0, 1000.0]))
        array([0., 1.])
    """
    x = as_float_array(x, "x")
    return np.tanh(x)


def tanh_backward(grad_out, x):
    """Gradient of :func:`tanh`: ``grad_x = grad_out * (1 - tanh(x)**2)``.

    Args:
        grad_out: gradient of the loss with respect to the output, shaped like ``x``.
        x: the input that was passed to the forward function.

    Shape:
        Output has the shape (and dtype) of ``x``.

    Returns:
        ``grad_x``.

    Example:
        >>> tanh_backward(np.ones(1), np.zeros(1))
        array([1.])
    """
    grad_out, x = _grad_and_x(grad_out, x, "tanh")
    return grad_out * (1 - np.tanh(x) ** 2)


def _shifted(x, dim):
    """Validate ``x`` and ``dim``; return ``(x - max(x along dim), axis)``.

    Subtracting the maximum changes neither softmax nor log_softmax (the factor ``exp(-max)``
    cancels) but makes the largest exponent ``exp(0) = 1``, so nothing overflows.
    """
    x = as_float_array(x, "x")
    axis = check_dim(x.ndim, dim)
    if x.shape[axis] == 0:  # nothing to normalise: the result is empty, as in torch
        return x, axis
    return x - x.max(axis=axis, keepdims=True), axis


def softmax(x, dim=-1):
    """Softmax along ``dim``: ``exp(x_i) / sum_j exp(x_j)``; the outputs along ``dim`` sum to 1.

    Computed as ``exp(x_i - m) / sum_j exp(x_j - m)`` with ``m = max_j x_j`` (no overflow).

    Args:
        x: input array of any shape (at least 1-D).
        dim: the axis to normalise over. Default: -1 (the last axis, e.g. classes of ``(N, K)``).

    Shape:
        Output has the shape of ``x``.

    Returns:
        Non-negative values that sum to 1 along ``dim``.

    Example:
        >>> softmax(np.array([1000.0, 1000.0]))
        array([0.5, 0.5])
    """
    shifted, axis = _shifted(x, dim)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_backward(grad_out, x, dim=-1):
    """Gradient of :func:`softmax` along ``dim``.

    With ``s = softmax(x)`` the Jacobian is ``ds_i/dx_j = s_i * (delta_ij - s_j)``, so::

        grad_x = s * (grad_out - sum_j(grad_out_j * s_j))

    Args:
        grad_out: gradient of the loss with respect to the output, shaped like ``x``.
        x: the input that was passed to the forward function.
        dim: as passed to :func:`softmax`. Default: -1.

    Shape:
        Output has the shape (and dtype) of ``x``.

    Returns:
        ``grad_x``.

    Example:
        >>> softmax_backward(np.array([1.0, 0.0]), np.zeros(2))
        array([ 0.25, -0.25])
    """
    grad_out, x = _grad_and_x(grad_out, x, "softmax")
    s = softmax(x, dim)
    axis = check_dim(x.ndim, dim)
    return s * (grad_out - (grad_out * s).sum(axis=axis, keepdims=True))


def log_softmax(x, dim=-1):
    """Log of :func:`softmax`, computed stably: ``x_i - logsumexp(x)`` along ``dim``.

    ``logsumexp(x) = m + log(sum_j exp(x_j - m))`` with ``m = max_j x_j``, so the result is
    finite even where ``softmax`` underflows to 0 (``log(0) = -inf``).

    Args:
        x: input array of any shape (at least 1-D).
        dim: the axis to normalise over. Default: -1.

    Shape:
        Output has the shape of ``x``.

    Returns:
        ``log(softmax(x, dim))``, computed without overflow.

    Example:
        >>> log_softmax(np.array([0.0, -1000.0]))
        array([    0., -1000.])
    """
    shifted, axis = _shifted(x, dim)
    if shifted.size == 0:  # empty in, empty out (and no log(0) warning)
        return shifted.copy()
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def log_softmax_backward(grad_out, x, dim=-1):
    """Gradient of :func:`log_softmax` along ``dim``.

    ``d log_softmax(x)_i / dx_j = delta_ij - softmax(x)_j``, so::

        grad_x = grad_out - softmax(x) * sum_j(grad_out_j)

    Args:
        grad_out: gradient of the loss with respect to the output, shaped like ``x``.
        x: the input that was passed to the forward function.
        dim: as passed to :func:`log_softmax`. Default: -1.

    Shape:
        Output has the shape (and dtype) of ``x``.

    Returns:
        ``grad_x``.

    Example:
        >>> log_softmax_backward(np.array([1.0, 0.0]), np.zeros(2))
        array([ 0.5, -0.5])
    """
    grad_out, x = _grad_and_x(grad_out, x, "log_softmax")
    axis = check_dim(x.ndim, dim)
    return grad_out - softmax(x, dim) * grad_out.sum(axis=axis, keepdims=True)

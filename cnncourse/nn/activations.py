"""Activation layers in NumPy: ``ReLU``, ``LeakyReLU``, ``Sigmoid``, ``Tanh``, ``Softmax``,
``LogSoftmax``, each forward next to its backward.

Each keeps the least its backward needs: ``ReLU`` a mask of where the input was positive
(``grad_x = grad_out * mask``); ``Sigmoid``, ``Tanh`` and the softmaxes their *output*, from
which the derivative follows (``s * (1 - s)``, ``1 - t**2``, ...). The formulas are those of
:mod:`cnncourse.numpy_ops.activations`.
"""
from __future__ import annotations

import numpy as np

from ..numpy_ops import leaky_relu, leaky_relu_backward, log_softmax, sigmoid, softmax, tanh
from ..numpy_ops._arrays import check_grad_out
from ..shapes import check_dim, check_real
from ._checks import layer_input
from .module import Module

__all__ = ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax"]


def _grad(layer, grad_out, like, dtype=None):
    """``grad_out`` checked against the forward's output ``like`` (shape, and dtype)."""
    return check_grad_out(grad_out, like.shape, type(layer).__name__, dtype or like.dtype)


class ReLU(Module):
    """``max(x, 0)`` element-wise (``torch.nn.ReLU`` in NumPy); the gradient is 0 where
    ``x <= 0``.

    Example:
        >>> relu = ReLU()
        >>> relu(np.array([-1.0, 2.0])), relu.backward(np.array([5.0, 5.0]))
        (array([0., 2.]), array([0., 5.]))
    """

    def forward(self, x):
        """``max(x, 0)``; keeps the mask ``x > 0`` for :meth:`backward`."""
        out = np.maximum(layer_input(self, x), 0)
        self._mask, self._dtype = out > 0, out.dtype
        return out

    def backward(self, grad_out, input_grad=True):
        """``grad_x = grad_out * (x > 0)``."""
        return _grad(self, grad_out, self._mask, self._dtype) * self._mask


class LeakyReLU(Module):
    """``x`` where ``x > 0``, else ``negative_slope * x`` (``torch.nn.LeakyReLU`` in NumPy).

    Args:
        negative_slope: slope for negative inputs. Default: 0.01.

    Example:
        >>> LeakyReLU(0.1)(np.array([-2.0, 3.0]))
        array([-0.2,  3. ])
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = check_real(negative_slope, "negative_slope")

    def forward(self, x):
        """:func:`~cnncourse.numpy_ops.leaky_relu`; keeps ``x`` for :meth:`backward`."""
        self._input = layer_input(self, x)
        return leaky_relu(self._input, self.negative_slope)

    def backward(self, grad_out, input_grad=True):
        """``grad_out`` where ``x > 0``, else ``negative_slope * grad_out``."""
        return leaky_relu_backward(grad_out, self._input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """``s = 1 / (1 + exp(-x))`` element-wise (``torch.nn.Sigmoid`` in NumPy).

    Example:
        >>> sig = Sigmoid()
        >>> sig(np.zeros(1)), sig.backward(np.ones(1))
        (array([0.5]), array([0.25]))
    """

    def forward(self, x):
        """:func:`~cnncourse.numpy_ops.sigmoid`; keeps the output ``s`` for :meth:`backward`."""
        self._out = sigmoid(layer_input(self, x))
        return self._out

    def backward(self, grad_out, input_grad=True):
        """``grad_x = grad_out * s * (1 - s)``."""
        s = self._out
        return _grad(self, grad_out, s) * s * (1 - s)


class Tanh(Module):
    """``t = tanh(x)`` element-wise (``torch.nn.Tanh`` in NumPy).

    Example:
        >>> th = Tanh()
        >>> th(np.zeros(1)), th.backward(np.ones(1))
        (array([0.]), array([1.]))
    """

    def forward(self, x):
        """:func:`~cnncourse.numpy_ops.tanh`; keeps the output ``t`` for :meth:`backward`."""
        self._out = tanh(layer_input(self, x))
        return self._out

    def backward(self, grad_out, input_grad=True):
        """``grad_x = grad_out * (1 - t**2)``."""
        t = self._out
        return _grad(self, grad_out, t) * (1 - t * t)


class Softmax(Module):
    """Softmax along ``dim``: ``s_i = exp(x_i) / sum_j exp(x_j)`` (``torch.nn.Softmax``).

    Args:
        dim: the axis to normalise over (required; ``torch.nn.Softmax`` warns without it).

    Example:
        >>> sm = Softmax(dim=1)
        >>> sm(np.zeros((1, 2))), sm.backward(np.array([[1.0, 0.0]]))
        (array([[0.5, 0.5]]), array([[ 0.25, -0.25]]))
    """

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        """:func:`~cnncourse.numpy_ops.softmax`; keeps the output ``s`` for :meth:`backward`."""
        self._out = softmax(layer_input(self, x), self.dim)
        return self._out

    def backward(self, grad_out, input_grad=True):
        """``grad_x = s * (grad_out - sum_j grad_out_j * s_j)`` along ``dim``."""
        s = self._out
        grad_out = _grad(self, grad_out, s)
        axis = check_dim(s.ndim, self.dim)
        return s * (grad_out - (grad_out * s).sum(axis=axis, keepdims=True))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """``log(softmax(x))`` along ``dim``, computed stably (``torch.nn.LogSoftmax`` in NumPy).

    Example:
        >>> lsm = LogSoftmax(dim=1)
        >>> lsm(np.zeros((1, 2))).round(4), lsm.backward(np.array([[1.0, 0.0]]))
        (array([[-0.6931, -0.6931]]), array([[ 0.5, -0.5]]))
    """

    def forward(self, x):
        """:func:`~cnncourse.numpy_ops.log_softmax`; keeps the output for :meth:`backward`."""
        self._out = log_softmax(layer_input(self, x), self.dim)
        return self._out

    def backward(self, grad_out, input_grad=True):
        """``grad_x = grad_out - softmax(x) * sum_j grad_out_j``, with
        ``softmax(x) = exp(out)``."""
        out = self._out
        grad_out = _grad(self, grad_out, out)
        axis = check_dim(out.ndim, self.dim)
        return grad_out - np.exp(out) * grad_out.sum(axis=axis, keepdims=True)

"""Pooling layers in NumPy: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``.

Each forward calls the op of :mod:`cnncourse.numpy_ops` and keeps what its backward needs:

- ``MaxPool2d`` keeps, for every window, *which* pixel was the maximum (the arg-max), and sends
  the window's gradient to that pixel alone;
- ``AvgPool2d`` and ``AdaptiveAvgPool2d`` are linear: every pixel of a window gets the
  window's gradient divided by the window's size, so they keep only the input's shape.
"""
from __future__ import annotations

import numpy as np  # noqa: F401  (used by the docstring examples)
from ..numpy_ops import (
    _pool_fast,
    adaptive_avg_pool2d,
    adaptive_avg_pool2d_backward,
    avg_pool2d,
    avg_pool2d_backward,
)
from ..numpy_ops._arrays import check_grad_out
from ..shapes import check_pool2d_args
from ._checks import layer_input
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


def _no_ceil_mode(ceil_mode):
    if ceil_mode:
        raise ValueError("ceil_mode=True is not supported: the output size is always "
                         "floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1")


class MaxPool2d(Module):
    """Max pooling layer: the largest value of every window (``torch.nn.MaxPool2d`` in NumPy).

    Formula::

        out[n, c, oh, ow] = max over i, j of x_padded[n, c, oh*stride + i*dilation,
                                                             ow*stride + j*dilation]

    Args:
        kernel_size: window size, int or pair.
        stride: step between windows. Default: None, meaning ``kernel_size``.
        padding: ``-inf`` added on each side, at most ``kernel_size // 2``. Default: 0.
        dilation: spacing between window elements. Default: 1.
        ceil_mode: only False (the default) is supported.

    Shape:
        ``(N, C, H, W) -> (N, C, OH, OW)``,
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1``.

    Example:
        >>> pool = MaxPool2d(2)
        >>> pool(np.array([[[[1., 3.], [2., 0.]]]]))
        array([[[[3.]]]])
        >>> pool.backward(np.ones((1, 1, 1, 1)))        # the gradient goes to the maximum
        array([[[[0., 1.],
                 [0., 0.]]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        _no_ceil_mode(ceil_mode)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self._geometry = None

    def forward(self, x):
        """The max of every window; keeps each window's arg-max for :meth:`backward`."""
        x = layer_input(self, x, 4, "(N, C, H, W)")
        g = self._geometry_of(x.shape)
        out, self._argmax = _pool_fast.max_pool2d_with_argmax(x, g)
        self._input = x
        return out

    def backward(self, grad_out, input_grad=True):
        """``grad_x``: each window's gradient at the pixel that was its maximum."""
        g = self._geometry[1]
        grad_out = check_grad_out(grad_out, (g.N, g.C, g.OH, g.OW), "MaxPool2d",
                                  self._input.dtype)
        return _pool_fast.max_pool2d_backward_from_argmax(grad_out, self._argmax, g,
                                                          like=self._input)

    def _geometry_of(self, shape):
        if self._geometry is None or self._geometry[0] != shape:
            self._geometry = (shape, check_pool2d_args(shape, self.kernel_size, self.stride,
                                                       self.padding, self.dilation))
        return self._geometry[1]

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode=False")


class AvgPool2d(Module):
    """Average pooling layer: the mean of every window (``torch.nn.AvgPool2d`` in NumPy).

    Args:
        kernel_size: window size, int or pair.
        stride: step between windows. Default: None, meaning ``kernel_size``.
        padding: zeros added on each side, at most ``kernel_size // 2``. Default: 0.
        ceil_mode: only False (the default) is supported.
        count_include_pad: count padded zeros in the mean. Default: True.

    Shape:
        ``(N, C, H, W) -> (N, C, OH, OW)``, ``OH = floor((H + 2*padding - KH) / stride) + 1``.

    Example:
        >>> pool = AvgPool2d(2)
        >>> pool(np.arange(4.0).reshape(1, 1, 2, 2)), pool.backward(np.ones((1, 1, 1, 1)))[0, 0]
        (array([[[[1.5]]]]), array([[0.25, 0.25],
               [0.25, 0.25]]))
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        _no_ceil_mode(ceil_mode)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.count_include_pad = padding, count_include_pad

    def forward(self, x):
        """The mean of every window; keeps the input for the shapes of :meth:`backward`."""
        self._input = layer_input(self, x, 4, "(N, C, H, W)")
        return avg_pool2d(self._input, self.kernel_size, self.stride, self.padding,
                          count_include_pad=self.count_include_pad)

    def backward(self, grad_out, input_grad=True):
        """``grad_x``: every pixel gets its windows' gradients divided by the window size."""
        return avg_pool2d_backward(grad_out, self._input, self.kernel_size, self.stride,
                                   self.padding, count_include_pad=self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input size
    (``torch.nn.AdaptiveAvgPool2d`` in NumPy); ``AdaptiveAvgPool2d(1)`` is global average
    pooling.

    Args:
        output_size: ``OH`` or ``(OH, OW)``; ``None`` in the pair keeps that input size.

    Shape:
        ``(N, C, H, W) -> (N, C, OH, OW)``.

    Example:
        >>> gap = AdaptiveAvgPool2d(1)
        >>> gap(np.ones((2, 8, 7, 7))).shape, gap.backward(np.ones((2, 8, 1, 1))).shape
        ((2, 8, 1, 1), (2, 8, 7, 7))
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        """The mean of every window; keeps the input for the shapes of :meth:`backward`."""
        self._input = layer_input(self, x, 4, "(N, C, H, W)")
        return adaptive_avg_pool2d(self._input, self.output_size)

    def backward(self, grad_out, input_grad=True):
        """``grad_x``: every pixel gets its windows' gradients divided by the window size."""
        return adaptive_avg_pool2d_backward(grad_out, self._input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

"""``Conv2d``: the NumPy convolution layer, forward and backward side by side.

The layer computes :func:`cnncourse.numpy_ops.conv2d` -- every window of the input copied into a
column (im2col), one matrix product with the filters, plus the bias -- and keeps the columns,
because its backward needs them::

    out         = weight @ cols + bias            (weight as (F, C*KH*KW), cols (C*KH*KW, L))
    grad_weight = grad_out @ cols.T               (summed over every window of every image)
    grad_bias   = grad_out summed over N, OH, OW
    grad_x      = col2im(weight.T @ grad_out)     (each window adds its share back)

The arithmetic is done by :mod:`cnncourse.numpy_ops._conv_fast` with the batch axis last in
memory, which is several times faster on small layers; the output is an ordinary
``(N, F, OH, OW)`` array (a view whose memory is in ``(F, OH, OW, N)`` order).
"""
from __future__ import annotations

import numpy as np

from ..numpy_ops import _conv_fast
from ..numpy_ops._arrays import check_grad_out
from ..shapes import check_conv2d_args, check_conv2d_layer_args, conv2d_layer_repr
from ._checks import layer_input
from .init import default_init_
from .module import Module, Parameter

__all__ = ["Conv2d", "parameter_dtype"]


def parameter_dtype(dtype) -> np.dtype:
    """The dtype of a layer's parameters: ``float32`` unless ``dtype`` says otherwise."""
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a floating-point type such as np.float32 or np.float64; "
                        f"got dtype={dtype}")
    return dtype


class Conv2d(Module):
    """2-D convolution layer with learnable filters (``torch.nn.Conv2d`` in NumPy).

    Formula (one group; :func:`cnncourse.numpy_ops.conv2d`)::

        out[n, f, oh, ow] = bias[f] + sum over c, i, j of
            weight[f, c, i, j] * x_padded[n, c, oh*stride + i*dilation, ow*stride + j*dilation]

    Args:
        in_channels: ``C``, channels of the input.
        out_channels: ``F``, number of filters.
        kernel_size: ``KH`` or ``(KH, KW)``.
        stride, padding, dilation, groups: as in :func:`~cnncourse.numpy_ops.conv2d`.
            Defaults: 1, 0, 1, 1.
        bias: learn one bias per filter. Default: True.
        dtype: dtype of the parameters. Default: None, meaning ``np.float32``.

    Shape:
        ``(N, C, H, W) -> (N, F, OH, OW)`` with
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1``, same for ``OW``.
        ``weight`` is ``(F, C/groups, KH, KW)`` and ``bias`` ``(F,)``, both drawn from
        ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, ``fan_in = C/groups*KH*KW``, as in torch.

    Example:
        >>> conv = Conv2d(1, 6, 5)
        >>> conv
        Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))
        >>> out = conv(np.zeros((2, 1, 28, 28), dtype=np.float32))
        >>> out.shape, conv.backward(np.ones_like(out)).shape, conv.bias.grad.tolist()
        ((2, 6, 24, 24), (2, 1, 28, 28), [1152.0, 1152.0, 1152.0, 1152.0, 1152.0, 1152.0])
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, dtype=None):
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = check_conv2d_layer_args(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        dtype = parameter_dtype(dtype)
        self.weight = Parameter(
            np.empty((out_channels, in_channels // groups) + self.kernel_size, dtype=dtype))
        self.bias = Parameter(np.empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()
        self._workspace = _conv_fast.Workspace()     # scratch arrays, reused call after call
        self._geometry = None

    def reset_parameters(self) -> None:
        """Draw new weights and biases the way ``torch.nn.Conv2d`` does."""
        default_init_(self.weight.data, None if self.bias is None else self.bias.data)

    def forward(self, x):
        """``conv2d(x, weight, bias)``; keeps the im2col columns for :meth:`backward`."""
        x = layer_input(self, x, 4, "(N, C, H, W)", self.weight.dtype)
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"{self!r} expects {self.in_channels} input channels, x of shape "
                f"(N, {self.in_channels}, H, W), but got x.shape={x.shape}: the layer before "
                f"it gives {x.shape[1]} channels. Fix: Conv2d({x.shape[1]}, "
                f"{self.out_channels}, ...), or change the layer before.")
        g = self._geometry_of(x.shape)
        bias = None if self.bias is None else self.bias.data
        out, self._columns = _conv_fast.forward(x, self.weight.data, bias, g, self._workspace)
        return out

    def backward(self, grad_out, input_grad=True):
        """Add ``grad_weight`` and ``grad_bias`` to the parameters' ``.grad``; return ``grad_x``
        (or ``None`` with ``input_grad=False``, e.g. for the images of a first layer)."""
        g = self._columns.g
        grad_out = check_grad_out(grad_out, (g.N, g.F, g.OH, g.OW), "Conv2d",
                                  self.weight.dtype)
        grad_x, grad_weight, grad_bias = _conv_fast.backward(
            grad_out, self._columns, self.weight.data, self.bias is not None, input_grad,
            self._workspace)
        self.weight.grad += grad_weight
        if self.bias is not None:
            self.bias.grad += grad_bias
        return grad_x

    def _geometry_of(self, shape):
        """The checked geometry of an input of this shape (kept: batches repeat their shape)."""
        if self._geometry is None or self._geometry[0] != shape:
            g = check_conv2d_args(shape, self.weight.shape, None, self.stride, self.padding,
                                  self.dilation, self.groups)
            self._geometry = (shape, g)
        return self._geometry[1]

    def extra_repr(self) -> str:
        return conv2d_layer_repr(self)

"""Convolution and pooling as ``torch.autograd.Function``: our forward, our hand-written backward.

Plain tensor ops (:func:`~cnncourse.torch_ops.conv.conv2d` and friends) are differentiated by
autograd on its own. Wrapping them in an ``autograd.Function`` replaces autograd's bookkeeping
by our own backward functions, so a whole model trains on the gradients written in this course:

- ``forward(ctx, ...)`` computes the output and saves what backward will need on ``ctx``;
- ``backward(ctx, grad_out)`` returns one gradient per argument of ``forward`` (``None`` for
  the arguments that are not tensors, like ``stride``, and for inputs that need no gradient).

Call them through ``apply`` with positional arguments, in the order of the functional op::

    out = Conv2dFunction.apply(x, weight, bias, stride, padding, dilation, groups)

Each one is checked against finite differences with ``torch.autograd.gradcheck`` in the tests.
"""
from __future__ import annotations

import torch

from .conv import conv2d, conv2d_backward
from .pool import (
    adaptive_avg_pool2d,
    adaptive_avg_pool2d_backward,
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
)

__all__ = ["Conv2dFunction", "MaxPool2dFunction", "AvgPool2dFunction", "AdaptiveAvgPool2dFunction"]


def _wanted(ctx, *grads):
    """Keep only the gradients autograd asked for (``ctx.needs_input_grad``)."""
    return tuple(g if need else None for g, need in zip(grads, ctx.needs_input_grad))


class Conv2dFunction(torch.autograd.Function):
    """:func:`conv2d` with :func:`conv2d_backward` as its backward.

    ``apply(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)``.

    Example:
        >>> x = torch.randn(1, 2, 5, 5, requires_grad=True)
        >>> Conv2dFunction.apply(x, torch.randn(3, 2, 3, 3)).sum().backward()
        >>> x.grad.shape
        torch.Size([1, 2, 5, 5])
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        ctx.save_for_backward(x, weight, bias)
        ctx.args = (stride, padding, dilation, groups)
        return conv2d(x, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, bias = ctx.saved_tensors
        grads = conv2d_backward(grad_out, x, weight, bias, *ctx.args)
        return _wanted(ctx, *grads) + (None,) * 4


class MaxPool2dFunction(torch.autograd.Function):
    """:func:`max_pool2d` with :func:`max_pool2d_backward` as its backward.

    ``apply(x, kernel_size, stride=None, padding=0, dilation=1)``.

    Example:
        >>> x = torch.randn(1, 1, 4, 4, requires_grad=True)
        >>> MaxPool2dFunction.apply(x, 2).sum().backward()
        >>> int(x.grad.sum())
        4
    """

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0, dilation=1):
        ctx.save_for_backward(x)
        ctx.args = (kernel_size, stride, padding, dilation)
        return max_pool2d(x, kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return _wanted(ctx, max_pool2d_backward(grad_out, x, *ctx.args)) + (None,) * 4


class AvgPool2dFunction(torch.autograd.Function):
    """:func:`avg_pool2d` with :func:`avg_pool2d_backward` as its backward.

    ``apply(x, kernel_size, stride=None, padding=0, count_include_pad=True)``.

    Example:
        >>> x = torch.randn(1, 1, 4, 4, requires_grad=True)
        >>> AvgPool2dFunction.apply(x, 2).sum().backward()
        >>> x.grad[0, 0, 0]
        tensor([0.2500, 0.2500, 0.2500, 0.2500])
    """

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0, count_include_pad=True):
        ctx.save_for_backward(x)
        ctx.args = (kernel_size, stride, padding)
        ctx.count_include_pad = count_include_pad
        return avg_pool2d(x, kernel_size, stride, padding, count_include_pad=count_include_pad)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        grad_x = avg_pool2d_backward(
            grad_out, x, *ctx.args, count_include_pad=ctx.count_include_pad
        )
        return _wanted(ctx, grad_x) + (None,) * 4


class AdaptiveAvgPool2dFunction(torch.autograd.Function):
    """:func:`adaptive_avg_pool2d` with :func:`adaptive_avg_pool2d_backward` as its backward.

    ``apply(x, output_size)``.

    Example:
        >>> x = torch.randn(1, 1, 4, 4, requires_grad=True)
        >>> AdaptiveAvgPool2dFunction.apply(x, 1).sum().backward()
        >>> x.grad[0, 0, 0]
        tensor([0.0625, 0.0625, 0.0625, 0.0625])
    """

    @staticmethod
    def forward(ctx, x, output_size):
        ctx.save_for_backward(x)
        ctx.output_size = output_size
        return adaptive_avg_pool2d(x, output_size)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return _wanted(ctx, adaptive_avg_pool2d_backward(grad_out, x, ctx.output_size)) + (None,)

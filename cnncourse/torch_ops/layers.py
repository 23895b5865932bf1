"""``nn.Module`` layers built on the course's own ops, drop-in replacements for ``torch.nn``'s.

Each layer holds its parameters (``weight``, ``bias``) and calls an op of this package: the
convolution and pooling layers call the autograd Functions of
:mod:`cnncourse.torch_ops.functions`, whose backward passes are written by hand, so a model
built from these layers trains on the course's own gradients. Constructor arguments, parameter
shapes, initialisation and ``repr`` match ``torch.nn``: with the same seed, ``Conv2d(1, 6, 5)``
and ``torch.nn.Conv2d(1, 6, 5)`` start with the same weights.

Example::

    model = torch.nn.Sequential(
        Conv2d(1, 6, 5), ReLU(), MaxPool2d(2),
        Conv2d(6, 16, 5), ReLU(), MaxPool2d(2),
        Flatten(), Linear(16 * 4 * 4, 10),
    )
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..shapes import pair
from .activations import relu
from .functions import (
    AdaptiveAvgPool2dFunction,
    AvgPool2dFunction,
    Conv2dFunction,
    MaxPool2dFunction,
)
from .linear import linear

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Linear", "ReLU", "Flatten"]


def _init_like_torch(weight: nn.Parameter, bias: nn.Parameter | None) -> None:
    """``torch.nn``'s default init for Linear and Conv2d: ``kaiming_uniform_(a=sqrt(5))``,
    which draws weights from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``; the bias from the same range."""
    nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = weight[0].numel()  # in_features, or C_in/groups * KH * KW
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        nn.init.uniform_(bias, -bound, bound)


class Conv2d(nn.Module):
    """2-D convolution layer: ``out = conv2d(x, weight, bias, ...)`` with learnable filters.

    Args:
        in_channels: ``C``, channels of the input.
        out_channels: ``F``, number of filters.
        kernel_size: ``KH`` or ``(KH, KW)``.
        stride, padding, dilation, groups: as in :func:`cnncourse.torch_ops.conv.conv2d`.
            Defaults: 1, 0, 1, 1.
        bias: learn one bias per filter. Default: True.
        device, dtype: where and in what precision to create the parameters. Default: None
            (PyTorch's defaults, CPU and float32).

    Shape:
        ``(N, C, H, W)`` -> ``(N, F, OH, OW)``,
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1``.
        ``weight`` is ``(F, C/groups, KH, KW)``, ``bias`` is ``(F,)``.

    Example:
        >>> Conv2d(1, 6, 5)(torch.randn(2, 1, 28, 28)).shape
        torch.Size([2, 6, 24, 24])
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, device=None, dtype=None):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if value % groups:
                raise ValueError(
                    f"{name} must be divisible by groups: {name}={value}, groups={groups} "
                    f"(each group gets {name}/groups channels)"
                )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding")
        self.dilation = pair(dilation, "dilation")
        self.groups = groups
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(
            torch.empty((out_channels, in_channels // groups, *self.kernel_size), **factory)
        )
        self.bias = nn.Parameter(torch.empty(out_channels, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw new weights and biases the way ``torch.nn.Conv2d`` does."""
        _init_like_torch(self.weight, self.bias)

    def forward(self, x):
        return Conv2dFunction.apply(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class MaxPool2d(nn.Module):
    """Max pooling layer: ``max_pool2d(x, kernel_size, stride, padding, dilation)``.

    Args:
        kernel_size: window size, int or pair. stride: default None, meaning ``kernel_size``.
        padding: default 0. dilation: default 1.

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, OH, OW)``,
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1``.

    Example:
        >>> MaxPool2d(2)(torch.randn(1, 6, 24, 24)).shape
        torch.Size([1, 6, 12, 12])
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation

    def forward(self, x):
        return MaxPool2dFunction.apply(x, self.kernel_size, self.stride, self.padding,
                                       self.dilation)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}")


class AvgPool2d(nn.Module):
    """Average pooling layer: ``avg_pool2d(x, kernel_size, stride, padding, count_include_pad)``.

    Args:
        kernel_size: window size, int or pair. stride: default None, meaning ``kernel_size``.
        padding: default 0. count_include_pad: count padded zeros in the mean; default True.

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, OH, OW)``, ``OH = floor((H + 2*padding - KH) / stride) + 1``.

    Example:
        >>> AvgPool2d(2)(torch.randn(1, 6, 24, 24)).shape
        torch.Size([1, 6, 12, 12])
    """

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad=True):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.count_include_pad = padding, count_include_pad

    def forward(self, x):
        return AvgPool2dFunction.apply(x, self.kernel_size, self.stride, self.padding,
                                       self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(nn.Module):
    """Adaptive average pooling layer: any ``(H, W)`` in, ``output_size`` out.

    Args:
        output_size: ``OH`` or ``(OH, OW)``; ``None`` in the pair keeps that input size.

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, OH, OW)``.

    Example:
        >>> AdaptiveAvgPool2d((1, 1))(torch.randn(2, 64, 7, 9)).shape
        torch.Size([2, 64, 1, 1])
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return AdaptiveAvgPool2dFunction.apply(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Linear(nn.Module):
    """Fully connected layer: ``out = x @ weight.T + bias`` (:func:`~.linear.linear`).

    Args:
        in_features, out_features: sizes of the last axis in and out.
        bias: learn a bias. Default: True. device, dtype: as for :class:`Conv2d`.

    Shape:
        ``(*, in_features)`` -> ``(*, out_features)``; ``weight`` is ``(out_features, in_features)``.

    Example:
        >>> Linear(256, 10)(torch.randn(4, 256)).shape
        torch.Size([4, 10])
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty((out_features, in_features), **factory))
        self.bias = nn.Parameter(torch.empty(out_features, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw new weights and biases the way ``torch.nn.Linear`` does."""
        _init_like_torch(self.weight, self.bias)

    def forward(self, x):
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class ReLU(nn.Module):
    """``max(x, 0)`` element-wise (:func:`~.activations.relu`); any shape.

    Example:
        >>> ReLU()(torch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def forward(self, x):
        return relu(x)


class Flatten(nn.Module):
    """Flatten axes ``start_dim..end_dim`` into one: ``(N, C, H, W)`` -> ``(N, C*H*W)``.

    Example:
        >>> Flatten()(torch.zeros(2, 16, 4, 4)).shape
        torch.Size([2, 256])
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return torch.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

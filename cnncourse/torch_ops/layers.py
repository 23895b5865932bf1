"""``nn.Module`` layers built on the course's own ops, drop-in replacements for ``torch.nn``'s.

Each layer holds its parameters (``weight``, ``bias``) and calls an autograd Function of
:mod:`cnncourse.torch_ops.functions` -- an op of this package with its hand-written backward --
so a model built from these layers trains on the course's own gradients. (``Flatten`` only
reshapes; autograd's backward of a reshape is a reshape.) Constructor arguments, parameter
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

from ..shapes import check_conv2d_layer_args, check_dim, check_label_smoothing, check_real, \
    check_reduction, conv2d_layer_repr
from .functions import (
    AdaptiveAvgPool2dFunction,
    AvgPool2dFunction,
    Conv2dFunction,
    CrossEntropyFunction,
    LeakyReLUFunction,
    LinearFunction,
    LogSoftmaxFunction,
    MaxPool2dFunction,
    ReLUFunction,
    SigmoidFunction,
    SoftmaxFunction,
    TanhFunction,
)

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Linear", "ReLU",
           "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Flatten", "CrossEntropyLoss"]


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
        self.kernel_size, self.stride, self.padding, self.dilation = check_conv2d_layer_args(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
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
        return conv2d_layer_repr(self)


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
        return LinearFunction.apply(x, self.weight, self.bias)

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
        return ReLUFunction.apply(x)


class LeakyReLU(nn.Module):
    """``x`` where ``x > 0``, else ``negative_slope * x`` (:func:`~.activations.leaky_relu`).

    Args:
        negative_slope: slope for negative inputs. Default: 0.01.

    Example:
        >>> LeakyReLU(0.5)(torch.tensor([-2.0, 2.0]))
        tensor([-1.,  2.])
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = check_real(negative_slope, "negative_slope")

    def forward(self, x):
        return LeakyReLUFunction.apply(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(nn.Module):
    """``1 / (1 + exp(-x))`` element-wise (:func:`~.activations.sigmoid`).

    Example:
        >>> Sigmoid()(torch.tensor([0.0]))
        tensor([0.5000])
    """

    def forward(self, x):
        return SigmoidFunction.apply(x)


class Tanh(nn.Module):
    """``tanh(x)`` element-wise (:func:`~.activations.tanh`).

    Example:
        >>> Tanh()(torch.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, x):
        return TanhFunction.apply(x)


class Softmax(nn.Module):
    """Softmax along ``dim`` (:func:`~.activations.softmax`): the outputs along ``dim`` sum to 1.

    Args:
        dim: the axis to normalise over (required: ``torch.nn.Softmax`` warns without it).

    Example:
        >>> Softmax(dim=1)(torch.zeros(1, 2))
        tensor([[0.5000, 0.5000]])
    """

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return SoftmaxFunction.apply(x, check_dim(x.dim(), self.dim))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """``log(softmax(x))`` along ``dim``, computed stably (:func:`~.activations.log_softmax`).

    Example:
        >>> LogSoftmax(dim=1)(torch.zeros(1, 2))
        tensor([[-0.6931, -0.6931]])
    """

    def forward(self, x):
        return LogSoftmaxFunction.apply(x, check_dim(x.dim(), self.dim))


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


class CrossEntropyLoss(nn.Module):
    """Softmax cross-entropy of ``logits`` and class indices (:func:`~.losses.cross_entropy`).

    Args:
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"``.
        label_smoothing: share of the target spread over all classes. Default: 0.0.

    Shape:
        ``logits (N, K)``, ``target (N,)`` -> a 0-D tensor (``(N,)`` for ``"none"``).

    Example:
        >>> CrossEntropyLoss()(torch.zeros(2, 4), torch.tensor([0, 3]))
        tensor(1.3863)
    """

    def __init__(self, reduction="mean", label_smoothing=0.0):
        super().__init__()
        self.reduction = check_reduction(reduction)
        self.label_smoothing = check_label_smoothing(label_smoothing)

    def forward(self, logits, target):
        return CrossEntropyFunction.apply(logits, target, self.reduction, self.label_smoothing)

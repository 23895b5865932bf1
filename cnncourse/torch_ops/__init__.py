"""The course's ops written with PyTorch tensor operations: on any device, differentiable by autograd.

Module for module the same as :mod:`cnncourse.numpy_ops` (same names, arguments and defaults,
mirroring ``torch.nn.functional``), so the two backends can be read side by side.
"""
from .activations import (
    leaky_relu,
    leaky_relu_backward,
    log_softmax,
    log_softmax_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_backward,
    tanh,
    tanh_backward,
)
from .conv import conv2d, conv2d_backward
from .device import check_compatible, default_device
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
    autograd_function,
)
from .layers import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    Conv2d,
    CrossEntropyLoss,
    Flatten,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .linear import linear, linear_backward
from .losses import cross_entropy, cross_entropy_backward
from .pool import (
    adaptive_avg_pool2d,
    adaptive_avg_pool2d_backward,
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
)

__all__ = [
    "linear", "linear_backward",
    "relu", "relu_backward", "leaky_relu", "leaky_relu_backward",
    "sigmoid", "sigmoid_backward", "tanh", "tanh_backward",
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
    "cross_entropy", "cross_entropy_backward",
    "conv2d", "conv2d_backward",
    "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
    "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward",
    "autograd_function",
    "Conv2dFunction", "MaxPool2dFunction", "AvgPool2dFunction", "AdaptiveAvgPool2dFunction",
    "LinearFunction", "ReLUFunction", "LeakyReLUFunction", "SigmoidFunction", "TanhFunction",
    "SoftmaxFunction", "LogSoftmaxFunction", "CrossEntropyFunction",
    "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Linear", "ReLU", "LeakyReLU",
    "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Flatten", "CrossEntropyLoss",
    "default_device", "check_compatible",
]

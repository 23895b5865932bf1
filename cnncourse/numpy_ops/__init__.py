"""The NumPy reference: every op of the course, forward and backward, as plain NumPy.

Names, argument order, defaults and the (N, C, H, W) layout mirror ``torch.nn.functional``;
each ``*_backward`` returns one gradient per input (``grad_x, grad_weight, grad_bias``).
Vectorized versions sit beside ``*_naive`` loop versions written for reading.
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
from .conv import conv2d, conv2d_backward, conv2d_backward_naive, conv2d_naive, conv_output_size
from .gradcheck import check_gradient, numerical_gradient, rel_error
from .im2col import col2im, im2col
from .linear import linear, linear_backward
from .losses import cross_entropy, cross_entropy_backward
from .pool import (
    adaptive_avg_pool2d,
    adaptive_avg_pool2d_backward,
    avg_pool2d,
    avg_pool2d_backward,
    avg_pool2d_naive,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_naive,
)

__all__ = [
    "conv2d", "conv2d_backward", "conv2d_naive", "conv2d_backward_naive", "conv_output_size",
    "im2col", "col2im",
    "max_pool2d", "max_pool2d_backward", "max_pool2d_naive",
    "avg_pool2d", "avg_pool2d_backward", "avg_pool2d_naive",
    "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward",
    "linear", "linear_backward",
    "relu", "relu_backward", "leaky_relu", "leaky_relu_backward",
    "sigmoid", "sigmoid_backward", "tanh", "tanh_backward",
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
    "cross_entropy", "cross_entropy_backward",
    "numerical_gradient", "rel_error", "check_gradient",
]

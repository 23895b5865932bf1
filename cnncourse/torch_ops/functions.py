"""The course's ops as ``torch.autograd.Function``: our forward, our hand-written backward.

Plain tensor ops (:func:`~cnncourse.torch_ops.conv.conv2d` and friends) are differentiated by
autograd on its own. Wrapping one in an ``autograd.Function`` replaces autograd's bookkeeping
by our own backward function, so a whole model trains on the gradients written in this course.
Every op of this package comes as a pair that follows one convention::

    out = op(x, weight, ..., stride, ...)                       # the forward
    grads = op_backward(grad_out, x, weight, ..., stride, ...)  # the same arguments after grad_out

where ``grads`` is the gradient of the first argument, or a tuple with one gradient per leading
tensor argument (``grad_x, grad_weight, grad_bias``). That is all :func:`autograd_function`
needs to build the Function: its ``forward`` saves the arguments, its ``backward`` calls the
hand-written backward and hands autograd one gradient per argument (``None`` for the arguments
that are not tensors, like ``stride``, and for inputs that need no gradient).

Call a Function through ``apply`` with positional arguments, in the order of the op::

    out = Conv2dFunction.apply(x, weight, bias, stride, padding, dilation, groups)

Each one is checked against finite differences with ``torch.autograd.gradcheck`` in the tests.
"""
from __future__ import annotations

import inspect

import torch

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
    "autograd_function",
    "Conv2dFunction", "MaxPool2dFunction", "AvgPool2dFunction", "AdaptiveAvgPool2dFunction",
    "LinearFunction", "ReLUFunction", "LeakyReLUFunction", "SigmoidFunction", "TanhFunction",
    "SoftmaxFunction", "LogSoftmaxFunction", "CrossEntropyFunction",
]


def _call(fn, params, first, args):
    """``fn(*first, *args)``, with the arguments of keyword-only parameters passed by name."""
    positional = [a for p, a in zip(params, args) if p.kind != p.KEYWORD_ONLY]
    keywords = {p.name: a for p, a in zip(params, args) if p.kind == p.KEYWORD_ONLY}
    return fn(*first, *positional, **keywords)


def autograd_function(name: str, forward, backward) -> type:
    """Make a ``torch.autograd.Function`` named ``name`` from a forward and its backward.

    Args:
        name: the class name (autograd names the graph node ``name + "Backward"``).
        forward: ``forward(*args)`` returns the output tensor.
        backward: ``backward(grad_out, *args)`` returns the gradient of ``args[0]``, or a tuple
            of gradients of the leading arguments (``None`` where there is none).

    Returns:
        The Function class; ``apply`` takes ``forward``'s arguments positionally, in order
        (keyword-only ones too, after the others; the missing trailing ones take their defaults).

    Example:
        >>> Square = autograd_function("Square", lambda x: x * x, lambda g, x: 2 * x * g)
        >>> x = torch.tensor([3.0], requires_grad=True)
        >>> Square.apply(x).backward()
        >>> x.grad, type(Square.apply(x).grad_fn).__name__
        (tensor([6.]), 'SquareBackward')
    """
    params = list(inspect.signature(forward).parameters.values())

    def forward_(ctx, *args):
        ctx.is_tensor = [isinstance(a, torch.Tensor) for a in args]
        ctx.save_for_backward(*(a for a, t in zip(args, ctx.is_tensor) if t))
        ctx.others = [None if t else a for a, t in zip(args, ctx.is_tensor)]
        return _call(forward, params, (), args)

    def backward_(ctx, grad_out):
        saved = iter(ctx.saved_tensors)
        args = [next(saved) if t else a for a, t in zip(ctx.others, ctx.is_tensor)]
        grads = _call(backward, params, (grad_out,), args)
        grads = grads if isinstance(grads, tuple) else (grads,)
        grads = grads + (None,) * (len(args) - len(grads))     # none for stride, padding, ...
        return tuple(g if need else None for g, need in zip(grads, ctx.needs_input_grad))

    doc = (f"``{forward.__name__}`` with the hand-written ``{backward.__name__}`` as its "
           f"backward; ``apply{inspect.signature(forward)}``.")
    return type(name, (torch.autograd.Function,), {
        "forward": staticmethod(forward_), "backward": staticmethod(backward_),
        "__doc__": doc, "__module__": __name__,
    })


def _cross_entropy_backward(grad_out, logits, target, *, reduction="mean", label_smoothing=0.0):
    """The loss's backward takes no ``grad_out``: scale it by the gradient that arrives."""
    grad = cross_entropy_backward(logits, target, reduction=reduction,
                                  label_smoothing=label_smoothing)
    return grad * (grad_out if reduction != "none" else grad_out[:, None])


Conv2dFunction = autograd_function("Conv2dFunction", conv2d, conv2d_backward)
MaxPool2dFunction = autograd_function("MaxPool2dFunction", max_pool2d, max_pool2d_backward)
AvgPool2dFunction = autograd_function("AvgPool2dFunction", avg_pool2d, avg_pool2d_backward)
AdaptiveAvgPool2dFunction = autograd_function(
    "AdaptiveAvgPool2dFunction", adaptive_avg_pool2d, adaptive_avg_pool2d_backward)
LinearFunction = autograd_function("LinearFunction", linear, linear_backward)
ReLUFunction = autograd_function("ReLUFunction", relu, relu_backward)
LeakyReLUFunction = autograd_function("LeakyReLUFunction", leaky_relu, leaky_relu_backward)
SigmoidFunction = autograd_function("SigmoidFunction", sigmoid, sigmoid_backward)
TanhFunction = autograd_function("TanhFunction", tanh, tanh_backward)
SoftmaxFunction = autograd_function("SoftmaxFunction", softmax, softmax_backward)
LogSoftmaxFunction = autograd_function("LogSoftmaxFunction", log_softmax, log_softmax_backward)
CrossEntropyFunction = autograd_function("CrossEntropyFunction", cross_entropy,
                                         _cross_entropy_backward)

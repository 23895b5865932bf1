"""Fully connected (linear) layer with PyTorch tensor operations.

The same computation as :func:`cnncourse.numpy_ops.linear`, written with ``torch.matmul`` so it
runs on the inputs' device and autograd differentiates it; :func:`linear_backward` writes the
gradients by hand, as the NumPy reference does.
``torch.nn.functional.linear`` is *not* used; it is only the oracle in the tests.
"""
from __future__ import annotations

import torch

from ..shapes import check_linear_args
from ._tensors import check_grad_out
from .device import check_compatible

__all__ = ["linear", "linear_backward"]


def linear(x, weight, bias=None):
    """Affine map of the last axis: ``out = x @ weight.T + bias``.

    Formula (for each leading index ``n``)::

        out[n, o] = sum_i x[n, i] * weight[o, i] + bias[o]

    Args:
        x: input tensor of shape ``(*, in_features)``.
        weight: ``(out_features, in_features)``, one row per output.
        bias: optional ``(out_features,)``. Default: ``None`` (no bias).

    Shape:
        ``(*, in_features) -> (*, out_features)``.

    Returns:
        A tensor on the inputs' device, in their dtype.

    Example:
        >>> linear(torch.ones(2, 3), torch.ones(4, 3), torch.zeros(4)).shape
        torch.Size([2, 4])
    """
    check_compatible(x=x, weight=weight, bias=bias)
    check_linear_args(tuple(x.shape), tuple(weight.shape), None if bias is None else tuple(bias.shape))
    out = torch.matmul(x, weight.T)
    if bias is not None:
        out = out + bias
    return out


def linear_backward(grad_out, x, weight, bias=None):
    """Gradients of :func:`linear` with respect to ``x``, ``weight`` and ``bias``, by hand.

    Formulas (leading axes of ``x`` flattened into one axis ``n``)::

        grad_x[n, i]      = sum_o grad_out[n, o] * weight[o, i]     (grad_out @ weight)
        grad_weight[o, i] = sum_n grad_out[n, o] * x[n, i]          (grad_out.T @ x)
        grad_bias[o]      = sum_n grad_out[n, o]

    Args:
        grad_out: gradient of the loss with respect to ``linear``'s output, ``(*, out_features)``.
        x, weight, bias: the arguments the forward pass was called with.

    Shape:
        ``grad_x`` like ``x``, ``grad_weight`` like ``weight``, ``grad_bias`` like ``bias``.

    Returns:
        ``(grad_x, grad_weight, grad_bias)``; ``grad_bias`` is ``None`` when ``bias`` is ``None``.

    Example:
        >>> x, w = torch.ones(2, 3), torch.ones(4, 3)
        >>> gx, gw, gb = linear_backward(torch.ones(2, 4), x, w, torch.zeros(4))
        >>> gx.shape, gw.shape, gb.shape
        (torch.Size([2, 3]), torch.Size([4, 3]), torch.Size([4]))
    """
    check_compatible(x=x, weight=weight, bias=bias, grad_out=grad_out)
    check_linear_args(tuple(x.shape), tuple(weight.shape), None if bias is None else tuple(bias.shape))
    out_features, in_features = weight.shape
    check_grad_out(grad_out, tuple(x.shape[:-1]) + (out_features,), "linear")
    rows = grad_out.reshape(-1, out_features)  # (N, out_features), all leading axes as one
    grad_x = torch.matmul(grad_out, weight)
    grad_weight = rows.T @ x.reshape(-1, in_features)
    grad_bias = None if bias is None else rows.sum(dim=0)
    return grad_x, grad_weight, grad_bias

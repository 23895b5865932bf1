"""Fully connected (linear) layer with PyTorch tensor operations.

The same computation as :func:`cnncourse.numpy_ops.linear`, written with ``torch.matmul`` so it
runs on the inputs' device and autograd differentiates it (no backward function needed).
``torch.nn.functional.linear`` is *not* used; it is only the oracle in the tests.
"""
from __future__ import annotations

import torch

from ..shapes import check_linear_args
from .device import check_compatible

__all__ = ["linear"]


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

"""2-D convolution with PyTorch tensor operations: im2col (``unfold``) and one batched matmul.

The same algorithm as the vectorized NumPy reference, written with tensors so that it runs on
the CPU or a GPU and can be differentiated by autograd. ``torch.nn.functional.conv2d`` is *not*
used; it is only the oracle in the tests.

Forward, for every image ``n``, filter ``f`` (in group ``g``) and output pixel ``(i, j)``::

    out[n, f, i, j] = bias[f] + sum_{c, kh, kw} weight[f, c, kh, kw]
                      * x_pad[n, g*C/groups + c, i*stride + kh*dilation, j*stride + kw*dilation]

Every receptive field is copied into a column (im2col: a sliding-window view made with
``Tensor.unfold``, then one reshape), giving ``cols`` of shape
``(N, groups, C/groups*KH*KW, OH*OW)``; the filters become a matrix of shape
``(groups, F/groups, C/groups*KH*KW)``; one batched ``matmul`` does all the multiply-adds.

Backward (:func:`conv2d_backward`) reuses the same columns::

    grad_bias   = grad_out summed over N, OH, OW
    grad_weight = grad_out_matrix @ cols^T      (summed over the batch)
    grad_cols   = weight_matrix^T @ grad_out_matrix, then col2im adds every column
                  back onto the pixels it was copied from, and the padding is cut off.

The windows and their adjoint live in :mod:`cnncourse.torch_ops._windows`, shared with pooling.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..shapes import ConvGeometry, check_conv2d_args
from ._tensors import check_grad_out
from ._windows import fold_windows, windows
from .device import check_compatible

__all__ = ["conv2d", "conv2d_backward"]


def _geometry(x, weight, bias, stride, padding, dilation, groups) -> ConvGeometry:
    check_compatible(x=x, weight=weight, bias=bias)
    bias_shape = None if bias is None else tuple(bias.shape)
    return check_conv2d_args(
        tuple(x.shape), tuple(weight.shape), bias_shape, stride, padding, dilation, groups
    )


def _im2col(x: torch.Tensor, g: ConvGeometry) -> torch.Tensor:
    """Receptive fields as columns: ``(N, groups, C/groups*KH*KW, OH*OW)``."""
    top, bottom, left, right = g.padding
    x_pad = F.pad(x, (left, right, top, bottom))
    cols = windows(x_pad, (g.KH, g.KW), g.stride, g.dilation)  # a view (N, C, KH, KW, OH, OW)
    # reshape copies the windows into columns, rows ordered (channel, kh, kw): channel slowest,
    # so each group's rows are adjacent.
    return cols.reshape(g.N, g.groups, (g.C // g.groups) * g.KH * g.KW, g.OH * g.OW)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (really cross-correlation, as in every deep-learning library).

    Formula (one group)::

        out[n, f, i, j] = bias[f] + sum_{c, kh, kw} weight[f, c, kh, kw]
                          * x_pad[n, c, i*stride + kh*dilation, j*stride + kw*dilation]

    Args:
        x: input tensor ``(N, C, H, W)``, floating point, on any device.
        weight: filters ``(F, C/groups, KH, KW)``, same device and dtype as ``x``.
        bias: ``(F,)`` or None. Default: None.
        stride: step between receptive fields, int or ``(sH, sW)``. Default: 1.
        padding: zeros on each side, int, ``(pH, pW)``, ``"valid"`` or ``"same"``. Default: 0.
        dilation: spacing between kernel elements, int or pair. Default: 1.
        groups: split channels and filters into this many independent groups. Default: 1.

    Shape:
        ``(N, C, H, W)`` -> ``(N, F, OH, OW)`` with
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1`` (same for OW).

    Returns:
        The output tensor, differentiable by autograd (for a hand-written backward see
        :func:`conv2d_backward` and ``Conv2dFunction``).

    Example:
        >>> x, w = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3)
        >>> conv2d(x, w, padding=1).shape
        torch.Size([2, 4, 8, 8])
    """
    g = _geometry(x, weight, bias, stride, padding, dilation, groups)
    cols = _im2col(x, g)
    w_mat = weight.reshape(g.groups, g.F // g.groups, -1)
    out = torch.matmul(w_mat, cols)  # (G, F/G, K) @ (N, G, K, L) -> (N, G, F/G, L)
    out = out.reshape(g.N, g.F, g.OH, g.OW)
    if bias is not None:
        out = out + bias.reshape(1, g.F, 1, 1)
    return out


def conv2d_backward(grad_out, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of :func:`conv2d`, written by hand with im2col, col2im and matmuls.

    Formulas (one group; ``cols`` are the receptive fields of :func:`conv2d`)::

        grad_bias[f]  = sum_{n, i, j} grad_out[n, f, i, j]
        grad_weight   = sum_n grad_out[n] (F, OH*OW) @ cols[n]^T (OH*OW, C*KH*KW)
        grad_x        = col2im(weight (C*KH*KW, F)^T @ grad_out[n]), padding removed

    Args:
        grad_out: gradient of the loss with respect to the output, ``(N, F, OH, OW)``.
        x, weight, bias, stride, padding, dilation, groups: exactly as passed to
            :func:`conv2d`.

    Shape:
        ``grad_x`` is ``(N, C, H, W)``, ``grad_weight`` is ``(F, C/groups, KH, KW)``,
        ``grad_bias`` is ``(F,)``.

    Returns:
        ``(grad_x, grad_weight, grad_bias)``; ``grad_bias`` is None when ``bias`` is None.

    Example:
        >>> x, w = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3)
        >>> gx, gw, gb = conv2d_backward(torch.ones(2, 4, 6, 6), x, w, torch.zeros(4))
        >>> gx.shape, gw.shape, gb.shape
        (torch.Size([2, 3, 8, 8]), torch.Size([4, 3, 3, 3]), torch.Size([4]))
    """
    g = _geometry(x, weight, bias, stride, padding, dilation, groups)
    check_compatible(x=x, grad_out=grad_out)
    check_grad_out(grad_out, (g.N, g.F, g.OH, g.OW), "conv2d")
    G, L = g.groups, g.OH * g.OW
    go = grad_out.reshape(g.N, G, g.F // G, L)

    grad_bias = None if bias is None else grad_out.sum(dim=(0, 2, 3))

    cols = _im2col(x, g)  # (N, G, K, L)
    grad_weight = torch.matmul(go, cols.transpose(-1, -2)).sum(dim=0).reshape(weight.shape)

    w_mat = weight.reshape(G, g.F // G, -1)
    grad_cols = torch.matmul(w_mat.transpose(-1, -2), go)  # (N, G, K, L)
    top, bottom, left, right = g.padding
    padded_size = (g.H + top + bottom, g.W + left + right)
    grad_cols = grad_cols.reshape(g.N, g.C, g.KH, g.KW, g.OH, g.OW)
    grad_x_pad = fold_windows(grad_cols, padded_size, g.stride, g.dilation)
    grad_x = grad_x_pad[:, :, top:top + g.H, left:left + g.W]
    return grad_x, grad_weight, grad_bias

"""2-D pooling with PyTorch tensor operations: max, average and adaptive average, with backwards.

Max and average pooling cut the (padded) input into windows — the same im2col step as
:mod:`cnncourse.torch_ops.conv`, from :mod:`cnncourse.torch_ops._windows` — and reduce each
window with ``max`` or ``sum``. Each backward sends ``grad_out`` back into the windows and adds
the windows back onto the pixels they came from (col2im):

- max: the whole gradient of a window goes to its maximum (the *first* maximum on ties, as in
  PyTorch); the other pixels get zero;
- average: every pixel of a window gets ``grad_out / divisor``.

Adaptive average pooling is an average over rectangles whose rows and columns do not depend on
each other, so it is two matrix products: ``out = A_h @ x @ A_w^T`` where row ``i`` of ``A_h``
holds ``1/len`` on window ``i`` (see :func:`cnncourse.shapes.adaptive_windows`). Its backward
is the transpose: ``grad_x = A_h^T @ grad_out @ A_w``.

``torch.nn.functional`` is only the oracle in the tests.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..shapes import PoolGeometry, check_adaptive_pool2d_args, check_pool2d_args
from ._tensors import check_float_tensor, check_grad_out
from ._windows import fold_windows, windows
from .device import check_compatible

__all__ = [
    "max_pool2d",
    "max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool2d_backward",
]


def _pool_windows(x: torch.Tensor, g: PoolGeometry, fill: float) -> torch.Tensor:
    """Every pooling window as a column: ``(N, C, KH*KW, OH*OW)``, padding filled with ``fill``."""
    ph, pw = g.padding
    x_pad = F.pad(x, (pw, pw, ph, ph), value=fill)
    cols = windows(x_pad, (g.KH, g.KW), g.stride, g.dilation)
    return cols.reshape(g.N, g.C, g.KH * g.KW, g.OH * g.OW)


def _unwindow(grad_windows: torch.Tensor, g: PoolGeometry) -> torch.Tensor:
    """col2im for pooling: add each window's gradient back onto its pixels; drop the padding."""
    ph, pw = g.padding
    grad_windows = grad_windows.reshape(g.N, g.C, g.KH, g.KW, g.OH, g.OW)
    grad_x_pad = fold_windows(grad_windows, (g.H + 2 * ph, g.W + 2 * pw), g.stride, g.dilation)
    return grad_x_pad[:, :, ph:ph + g.H, pw:pw + g.W]


def _backward_args(grad_out, x, g: PoolGeometry, op: str) -> None:
    check_compatible(x=x, grad_out=grad_out)
    check_grad_out(grad_out, (g.N, g.C, g.OH, g.OW), op)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """2-D max pooling: the largest value of every ``KH x KW`` window.

    Formula::

        out[n, c, i, j] = max_{kh, kw} x_pad[n, c, i*stride + kh*dilation, j*stride + kw*dilation]

    where ``x_pad`` is ``x`` padded with ``-inf`` (padding never wins).

    Args:
        x: input ``(N, C, H, W)``, floating point, on any device.
        kernel_size: window size, int or ``(KH, KW)``.
        stride: step between windows, int or pair. Default: None, meaning ``kernel_size``.
        padding: ``-inf`` added on each side, int or pair, at most half the kernel. Default: 0.
        dilation: spacing between window elements, int or pair. Default: 1.

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, OH, OW)`` with
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1`` (same for OW).

    Returns:
        The pooled tensor, differentiable by autograd.

    Example:
        >>> max_pool2d(torch.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    check_float_tensor(x, "x")
    g = check_pool2d_args(tuple(x.shape), kernel_size, stride, padding, dilation)
    cols = _pool_windows(x, g, float("-inf"))
    if torch.is_grad_enabled() and x.requires_grad:
        # .max(dim) records the arg-max, so autograd, too, sends the gradient to the first maximum
        out = cols.max(dim=2).values
    else:
        out = cols.amax(dim=2)  # values only: several times faster
    return out.reshape(g.N, g.C, g.OH, g.OW)


def max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, dilation=1):
    """Gradient of :func:`max_pool2d`: each window's gradient goes to its (first) maximum.

    Formula::

        grad_x[n, c, h, w] = sum of grad_out[n, c, i, j] over the windows (i, j) whose first
                             arg-max is pixel (h, w)

    Args:
        grad_out: gradient of the loss with respect to the output, ``(N, C, OH, OW)``.
        x, kernel_size, stride, padding, dilation: exactly as passed to :func:`max_pool2d`.

    Shape:
        ``grad_x`` has the shape of ``x``, ``(N, C, H, W)``.

    Returns:
        ``grad_x``.

    Example:
        >>> x = torch.tensor([[[[1.0, 3.0], [3.0, 2.0]]]])
        >>> max_pool2d_backward(torch.ones(1, 1, 1, 1), x, 2)
        tensor([[[[0., 1.],
                  [0., 0.]]]])
    """
    check_float_tensor(x, "x")
    g = check_pool2d_args(tuple(x.shape), kernel_size, stride, padding, dilation)
    _backward_args(grad_out, x, g, "max_pool2d")
    cols = _pool_windows(x, g, float("-inf"))
    # (N, C, 1, L): where each window's first maximum is (max, not argmax: same, much faster)
    first_argmax = cols.max(dim=2, keepdim=True).indices
    grad_windows = torch.zeros_like(cols).scatter_(
        2, first_argmax, grad_out.reshape(g.N, g.C, 1, g.OH * g.OW)
    )
    return _unwindow(grad_windows, g)


def _avg_divisor(x: torch.Tensor, g: PoolGeometry, count_include_pad: bool):
    """What each window's sum is divided by: ``KH*KW``, or its number of real pixels."""
    if count_include_pad:
        return g.KH * g.KW
    ones = torch.ones((1, 1, g.H, g.W), dtype=x.dtype, device=x.device)
    return _pool_windows(ones, g._replace(N=1, C=1), 0.0).sum(dim=2, keepdim=True)  # (1, 1, 1, L)


def avg_pool2d(x, kernel_size, stride=None, padding=0, *, count_include_pad=True):
    """2-D average pooling: the mean of every ``KH x KW`` window.

    Formula::

        out[n, c, i, j] = sum_{kh, kw} x_pad[n, c, i*stride + kh, j*stride + kw] / divisor

    where ``x_pad`` is ``x`` padded with zeros and ``divisor = KH*KW`` if ``count_include_pad``
    else the number of real (non-padding) pixels in the window.

    Args:
        x: input ``(N, C, H, W)``, floating point, on any device.
        kernel_size: window size, int or ``(KH, KW)``.
        stride: step between windows, int or pair. Default: None, meaning ``kernel_size``.
        padding: zeros added on each side, int or pair, at most half the kernel. Default: 0.
        count_include_pad: count padded zeros in the divisor (keyword only). Default: True.

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, OH, OW)`` with
        ``OH = floor((H + 2*padding - KH) / stride) + 1`` (same for OW).

    Returns:
        The pooled tensor, differentiable by autograd.

    Example:
        >>> avg_pool2d(torch.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 2.5000,  4.5000],
                  [10.5000, 12.5000]]]])
    """
    check_float_tensor(x, "x")
    g = check_pool2d_args(tuple(x.shape), kernel_size, stride, padding)
    out = _pool_windows(x, g, 0.0).sum(dim=2, keepdim=True) / _avg_divisor(x, g, count_include_pad)
    return out.reshape(g.N, g.C, g.OH, g.OW)


def avg_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, *,
                        count_include_pad=True):
    """Gradient of :func:`avg_pool2d`: every pixel of a window gets ``grad_out / divisor``.

    Formula::

        grad_x[n, c, h, w] = sum of grad_out[n, c, i, j] / divisor[i, j] over the windows
                             (i, j) that contain pixel (h, w)

    Args:
        grad_out: gradient of the loss with respect to the output, ``(N, C, OH, OW)``.
        x, kernel_size, stride, padding, count_include_pad: exactly as passed to
            :func:`avg_pool2d`.

    Shape:
        ``grad_x`` has the shape of ``x``, ``(N, C, H, W)``.

    Returns:
        ``grad_x``.

    Example:
        >>> avg_pool2d_backward(torch.ones(1, 1, 1, 1), torch.zeros(1, 1, 2, 2), 2)
        tensor([[[[0.2500, 0.2500],
                  [0.2500, 0.2500]]]])
    """
    check_float_tensor(x, "x")
    g = check_pool2d_args(tuple(x.shape), kernel_size, stride, padding)
    _backward_args(grad_out, x, g, "avg_pool2d")
    share = grad_out.reshape(g.N, g.C, 1, g.OH * g.OW) / _avg_divisor(x, g, count_include_pad)
    grad_windows = share.expand(g.N, g.C, g.KH * g.KW, g.OH * g.OW)
    return _unwindow(grad_windows, g)


def _adaptive_matrices(x, output_size):
    """Check the arguments; return the averaging matrices ``A_h (OH, H)`` and ``A_w (OW, W)``:
    row ``i`` holds ``1/len`` on window ``i`` (see ``shapes.adaptive_windows``)."""
    check_float_tensor(x, "x")
    matrices = []
    for size, spans in zip(x.shape[2:], check_adaptive_pool2d_args(tuple(x.shape), output_size)):
        A = torch.zeros((len(spans), size), dtype=x.dtype, device=x.device)
        for i, (start, end) in enumerate(spans):
            A[i, start:end] = 1.0 / (end - start)
        matrices.append(A)
    return matrices


def adaptive_avg_pool2d(x, output_size):
    """2-D adaptive average pooling: average over a grid of ``OH x OW`` windows that covers x.

    Formula (windows from :func:`cnncourse.shapes.adaptive_windows`)::

        out[n, c, i, j] = mean of x[n, c, h0:h1, w0:w1],
            h0 = floor(i*H/OH), h1 = ceil((i+1)*H/OH), w0 = floor(j*W/OW), w1 = ceil((j+1)*W/OW)

    computed as two matrix products, ``out = A_h @ x @ A_w^T``.

    Args:
        x: input ``(N, C, H, W)``, floating point, on any device.
        output_size: ``OH`` (int, for a square output) or ``(OH, OW)``; ``None`` in the pair
            keeps the input size along that side.

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, OH, OW)``, whatever ``H`` and ``W`` are.

    Returns:
        The pooled tensor, differentiable by autograd.

    Example:
        >>> adaptive_avg_pool2d(torch.arange(16.0).reshape(1, 1, 4, 4), 1)
        tensor([[[[7.5000]]]])
    """
    A_h, A_w = _adaptive_matrices(x, output_size)
    return A_h @ x @ A_w.T


def adaptive_avg_pool2d_backward(grad_out, x, output_size):
    """Gradient of :func:`adaptive_avg_pool2d`: the transposed averaging, ``A_h^T @ g @ A_w``.

    Formula::

        grad_x[n, c, h, w] = sum of grad_out[n, c, i, j] / window_size[i, j] over the windows
                             (i, j) that contain pixel (h, w)

    Args:
        grad_out: gradient of the loss with respect to the output, ``(N, C, OH, OW)``.
        x, output_size: exactly as passed to :func:`adaptive_avg_pool2d`.

    Shape:
        ``grad_x`` has the shape of ``x``, ``(N, C, H, W)``.

    Returns:
        ``grad_x``.

    Example:
        >>> adaptive_avg_pool2d_backward(torch.ones(1, 1, 1, 1), torch.zeros(1, 1, 2, 2), 1)
        tensor([[[[0.2500, 0.2500],
                  [0.2500, 0.2500]]]])
    """
    A_h, A_w = _adaptive_matrices(x, output_size)
    check_compatible(x=x, grad_out=grad_out)
    N, C = x.shape[:2]
    check_grad_out(grad_out, (N, C, A_h.shape[0], A_w.shape[0]), "adaptive_avg_pool2d")
    return A_h.T @ grad_out @ A_w

"""Sliding windows (im2col) and their adjoint (col2im): the building block of conv and pooling.

:func:`windows` is a *view*: ``Tensor.unfold`` slides a window along one axis by changing
strides, so no pixel is copied until the caller reshapes the view into columns. It is the
PyTorch twin of NumPy's ``sliding_window_view``, and autograd differentiates it.
:func:`fold_windows` goes back: it adds every window onto the pixels it came from (col2im),
which is what a backward pass needs.

Arguments here are already checked (see :mod:`cnncourse.shapes`).
"""
from __future__ import annotations

import torch

__all__ = ["windows", "fold_windows"]


def windows(x_pad: torch.Tensor, kernel_hw, stride, dilation) -> torch.Tensor:
    """Every ``KH x KW`` window of an already padded ``x_pad (N, C, Hp, Wp)``, as a view.

    Window ``(i, j)`` starts at pixel ``(i*stride, j*stride)`` and takes every
    ``dilation``-th pixel.

    Shape:
        ``(N, C, Hp, Wp)`` -> ``(N, C, KH, KW, OH, OW)``,
        ``OH = floor((Hp - dilation*(KH - 1) - 1) / stride) + 1`` (same for OW).

    Example:
        >>> windows(torch.arange(16.0).reshape(1, 1, 4, 4), (2, 2), (2, 2), (1, 1))[0, 0, :, :, 0, 0]
        tensor([[0., 1.],
                [4., 5.]])
    """
    (KH, KW), (sh, sw), (dh, dw) = kernel_hw, stride, dilation
    view = x_pad.unfold(2, dh * (KH - 1) + 1, sh).unfold(3, dw * (KW - 1) + 1, sw)
    return view[..., ::dh, ::dw].permute(0, 1, 4, 5, 2, 3)  # (N, C, OH, OW, KH, KW) -> ...


def fold_windows(cols: torch.Tensor, padded_hw, stride, dilation) -> torch.Tensor:
    """Adjoint of :func:`windows`: add the windows ``cols (N, C, KH, KW, OH, OW)`` onto the
    pixels they came from, in a zero ``(N, C, Hp, Wp)`` tensor.

    Kernel offset ``(i, j)`` of every window sees the strided slice
    ``x_pad[:, :, i*dilation : ... : stride, j*dilation : ... : stride]``, so ``KH*KW`` slice
    additions do it (the same loop as NumPy's ``fold_windows``; ``F.fold`` computes the same).

    Example:
        >>> fold_windows(torch.ones(1, 1, 2, 2, 1, 2), (2, 3), (1, 1), (1, 1))
        tensor([[[[1., 2., 1.],
                  [1., 2., 1.]]]])
    """
    N, C, KH, KW, OH, OW = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    x_pad = cols.new_zeros((N, C) + tuple(padded_hw))
    for i in range(KH):
        for j in range(KW):
            rows = slice(i * dh, i * dh + sh * (OH - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (OW - 1) + 1, sw)
            x_pad[:, :, rows, columns] += cols[:, :, i, j]
    return x_pad

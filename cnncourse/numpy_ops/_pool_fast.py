"""The fast path of max pooling's backward (private: read ``pool.py`` first).

:func:`cnncourse.numpy_ops.max_pool2d_backward` and the ``MaxPool2d`` layer of
:mod:`cnncourse.nn` find, for every window, *which* of its ``KH*KW`` pixels is the (first)
maximum -- the arg-max, as an offset ``k = i*KW + j`` inside the window -- and send each
window's gradient to that pixel. Both steps loop over the ``KH*KW`` kernel offsets, never over
windows: for a fixed offset, the pixels at that place in every window form one strided slice
of the input.

- :func:`max_pool2d_with_argmax`: the running maximum over the offsets; an offset replaces the
  arg-max only where it is strictly larger, so ties go to the first maximum (as in PyTorch).
- :func:`max_pool2d_backward_from_argmax`: offset ``k`` gets ``grad_out`` where the arg-max is
  ``k``. When windows do not overlap (stride at least the window), each input pixel is in at
  most one window and the slices are written, not added.

Arrays keep the memory order of ``x`` (e.g. the ``(C, N, H, W)`` order of a convolution
layer's output), which saves a transposing copy per layer.
"""
from __future__ import annotations

import numpy as np

from .im2col import offset_slices

__all__ = ["max_pool2d_with_argmax", "max_pool2d_backward_from_argmax"]


def _offsets(g):
    return [offset_slices(i, j, (g.OH, g.OW), g.stride, g.dilation)
            for i in range(g.KH) for j in range(g.KW)]


def _padded(x, g, fill):
    """``x`` padded with ``fill`` (no copy without padding), in ``x``'s memory order."""
    ph, pw = g.padding
    if not (ph or pw):
        return x
    xp = np.full((g.N, g.C, g.H + 2 * ph, g.W + 2 * pw), fill, dtype=x.dtype)
    xp[:, :, ph:ph + g.H, pw:pw + g.W] = x
    return xp


def max_pool2d_with_argmax(x, g):
    """``(out, argmax)``: the max of every window and the offset ``k`` of its first maximum
    (``uint8``, or ``uint16`` for windows of more than 255 pixels)."""
    xp = _padded(x, g, -np.inf)
    offsets = _offsets(g)
    rows, cols = offsets[0]
    out = np.copy(xp[:, :, rows, cols], order="K")
    index = np.uint8 if len(offsets) < 256 else np.uint16
    argmax = np.zeros_like(out, dtype=index)
    for k, (rows, cols) in enumerate(offsets[1:], start=1):
        candidate = xp[:, :, rows, cols]
        larger = (candidate > out).view(np.uint8).astype(index, copy=False)
        argmax += larger * (index(k) - argmax)        # k where larger (a masked copy is slower)
        np.maximum(out, candidate, out=out)           # (NaN stays NaN, as in torch)
    return out, argmax


def _overlap(g) -> bool:
    """Whether some input pixel lies in two windows."""
    span = (g.dilation[0] * (g.KH - 1) + 1, g.dilation[1] * (g.KW - 1) + 1)
    return span[0] > g.stride[0] or span[1] > g.stride[1]


def max_pool2d_backward_from_argmax(grad_out, argmax, g, like):
    """``grad_x (N, C, H, W)``: each window's ``grad_out`` at its arg-max, in ``like``'s
    memory order."""
    ph, pw = g.padding
    Hp, Wp = g.H + 2 * ph, g.W + 2 * pw
    overlap = _overlap(g)
    covered = (not overlap and g.dilation == (1, 1) and not (ph or pw)
               and g.OH * g.stride[0] == g.H and g.OW * g.stride[1] == g.W
               and g.stride == (g.KH, g.KW))          # every pixel in exactly one window
    if (ph or pw) or not hasattr(like, "strides"):
        grad_xp = np.zeros((g.N, g.C, Hp, Wp), dtype=grad_out.dtype)
    else:
        grad_xp = (np.empty_like if covered else np.zeros_like)(like, dtype=grad_out.dtype)
    for k, (rows, cols) in enumerate(_offsets(g)):
        if overlap:
            grad_xp[:, :, rows, cols] += grad_out * (argmax == k)
        else:
            np.multiply(grad_out, argmax == k, out=grad_xp[:, :, rows, cols])
    if ph or pw:
        return np.ascontiguousarray(grad_xp[:, :, ph:ph + g.H, pw:pw + g.W])
    return grad_xp

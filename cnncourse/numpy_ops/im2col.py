"""im2col and col2im: turn every sliding window into a column, and back.

``im2col`` copies each ``KH x KW`` window of every channel into one column, so that a
convolution becomes a single matrix product (``weight.reshape(F, -1) @ columns``) and pooling
becomes a reduction over one axis. ``col2im`` is its adjoint: it adds every column back into the
window it came from (overlapping windows add up). They match ``torch.nn.functional.unfold`` and
``torch.nn.functional.fold``, including the order of the rows: channel first, then kernel row,
then kernel column (``c*KH*KW + i*KW + j``).

Both work by looping over the ``KH*KW`` kernel offsets ``(i, j)``: for a fixed offset, the pixels
that sit at that place in every window form one strided slice of the (padded) input, so each
step moves a whole block of data at once.
"""
from __future__ import annotations

import numpy as np

from ..shapes import check_ndim, conv_output_size, pair
from ._arrays import as_float_array

__all__ = ["im2col", "col2im"]


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """Copy every sliding window of ``x`` into a column (``torch.nn.functional.unfold``).

    Formula::

        cols[n, c*KH*KW + i*KW + j, oh*OW + ow] = x_padded[n, c, oh*stride + i*dilation,
                                                                  ow*stride + j*dilation]

    Args:
        x: input of shape ``(N, C, H, W)``, floating point.
        kernel_size: ``KH`` or ``(KH, KW)``.
        stride: step between windows, int or pair. Default: 1.
        padding: zeros added on each side, int or pair. Default: 0.
        dilation: spacing between kernel elements, int or pair. Default: 1.

    Shape:
        ``(N, C, H, W) -> (N, C*KH*KW, OH*OW)`` with
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1`` (same for ``OW``).

    Returns:
        The columns, a new array of ``x``'s dtype.

    Example:
        >>> im2col(np.arange(16.0).reshape(1, 1, 4, 4), 2, stride=2)[0]
        array([[ 0.,  2.,  8., 10.],
               [ 1.,  3.,  9., 11.],
               [ 4.,  6., 12., 14.],
               [ 5.,  7., 13., 15.]])
    """
    x = as_float_array(x, "x")
    check_ndim(x.shape, 4, "x", "(N, C, H, W)")
    N, C, H, W = x.shape
    OH, OW = conv_output_size((H, W), kernel_size, stride, padding, dilation)
    (KH, KW), (ph, pw) = pair(kernel_size, "kernel_size"), pair(padding, "padding")
    xp = pad2d(x, (ph, ph, pw, pw))
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    cols = unfold_windows(xp, (KH, KW), (OH, OW), stride, dilation)
    return cols.reshape(N, C * KH * KW, OH * OW)


def col2im(cols, output_size, kernel_size, stride=1, padding=0, dilation=1):
    """Add every column back into its window (``torch.nn.functional.fold``), the adjoint of im2col.

    Formula::

        x[n, c, h, w] = sum of cols[n, c*KH*KW + i*KW + j, oh*OW + ow]
                        over all (i, j, oh, ow) with oh*stride + i*dilation - padding == h
                                                  and ow*stride + j*dilation - padding == w

    Args:
        cols: columns of shape ``(N, C*KH*KW, L)`` with ``L = OH*OW``.
        output_size: ``(H, W)`` of the image to rebuild (int for a square one).
        kernel_size, stride, padding, dilation: as for :func:`im2col`.

    Shape:
        ``(N, C*KH*KW, OH*OW) -> (N, C, H, W)``, ``OH = floor((H + 2*padding - dilation*(KH-1) - 1)
        / stride) + 1``.

    Returns:
        The image, a new array of ``cols``' dtype. ``col2im(im2col(x))`` counts each pixel once
        per window that contains it (it is not the inverse unless windows do not overlap).

    Example:
        >>> col2im(np.ones((1, 4, 4)), (3, 3), 2)[0, 0]
        array([[1., 2., 1.],
               [2., 4., 2.],
               [1., 2., 1.]])
    """
    cols = as_float_array(cols, "cols")
    check_ndim(cols.shape, 3, "cols", "(N, C*KH*KW, L)")
    H, W = pair(output_size, "output_size")
    OH, OW = conv_output_size((H, W), kernel_size, stride, padding, dilation)
    (KH, KW), (ph, pw) = pair(kernel_size, "kernel_size"), pair(padding, "padding")
    N, rows, L = cols.shape
    if rows % (KH * KW):
        raise ValueError(
            f"cols.shape[1] must be C*KH*KW, a multiple of KH*KW = {KH}*{KW} = {KH * KW}; "
            f"got cols.shape[1]={rows}"
        )
    if L != OH * OW:
        raise ValueError(
            f"cols.shape[2] must be the number of windows L = OH*OW = {OH}*{OW} = {OH * OW} for "
            f"output_size={(H, W)}, kernel_size={(KH, KW)}; got cols.shape[2]={L}"
        )
    C = rows // (KH * KW)
    windows = cols.reshape(N, C, KH, KW, OH, OW)
    xp = fold_windows(windows, (H + 2 * ph, W + 2 * pw), pair(stride, "stride"),
                      pair(dilation, "dilation"))
    return xp[:, :, ph:ph + H, pw:pw + W].copy() if ph or pw else xp


# --- building blocks shared by conv.py and pool.py (already-checked arguments) -------------


def pad2d(x: np.ndarray, pads: tuple[int, int, int, int], value: float = 0.0) -> np.ndarray:
    """Pad the last two axes by ``(top, bottom, left, right)`` with ``value``; no copy if no pad."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    N, C, H, W = x.shape
    xp = np.full((N, C, H + top + bottom, W + left + right), value, dtype=x.dtype)
    xp[:, :, top:top + H, left:left + W] = x
    return xp


def offset_slices(i, j, out_hw, stride, dilation):
    """The strided slices of the padded input that kernel offset ``(i, j)`` sees in every window."""
    (OH, OW), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return (slice(i * dh, i * dh + sh * (OH - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (OW - 1) + 1, sw))


def unfold_windows(xp, kernel_hw, out_hw, stride, dilation, out=None) -> np.ndarray:
    """All windows of an already padded ``xp (N, C, Hp, Wp)`` as ``(N, C, KH, KW, OH, OW)``,
    written into ``out`` (a view of that shape, e.g. of an array in another axis order) if given,
    otherwise into a new array."""
    KH, KW = kernel_hw
    cols = np.empty(xp.shape[:2] + (KH, KW) + tuple(out_hw), dtype=xp.dtype) if out is None else out
    for i in range(KH):
        for j in range(KW):
            rows, columns = offset_slices(i, j, out_hw, stride, dilation)
            cols[:, :, i, j] = xp[:, :, rows, columns]
    return cols


def fold_windows(windows, padded_hw, stride, dilation) -> np.ndarray:
    """Adjoint of :func:`unfold_windows`: add ``windows (N, C, KH, KW, OH, OW)`` into a zero
    ``(N, C, Hp, Wp)`` array, one strided slice per kernel offset."""
    N, C, KH, KW, OH, OW = windows.shape
    xp = np.zeros((N, C) + tuple(padded_hw), dtype=windows.dtype)
    for i in range(KH):
        for j in range(KW):
            rows, cols = offset_slices(i, j, (OH, OW), stride, dilation)
            xp[:, :, rows, cols] += windows[:, :, i, j]
    return xp


# --- stride-1 fast path: whole rows at a time --------------------------------------------
# With stride 1, the pixels that kernel offset (i, j) sees in all windows of one image plane
# are, in the flattened padded plane, ONE contiguous run of OH*Wp values starting at
# i*dilation_h*Wp + j*dilation_w, provided each output row is allowed to be Wp long instead of
# OW: its last Wp - OW entries are junk (they straddle two rows) and are cropped afterwards.
# Copying long runs is several times faster than copying short rows of OW values.


def padded_planes(x: np.ndarray, pads: tuple[int, int, int, int], slack: int) -> np.ndarray:
    """``x`` zero-padded by ``(top, bottom, left, right)``, each padded plane flattened and
    followed by ``slack`` zeros: ``(N, C, Hp*Wp + slack)``."""
    top, bottom, left, right = pads
    N, C, H, W = x.shape
    Hp, Wp = H + top + bottom, W + left + right
    planes = np.zeros((N, C, Hp * Wp + slack), dtype=x.dtype)
    planes[:, :, :Hp * Wp].reshape(N, C, Hp, Wp)[:, :, top:top + H, left:left + W] = x
    return planes


def _run_starts(kernel_hw, padded_w, dilation):
    KH, KW = kernel_hw
    return [(i, j, i * dilation[0] * padded_w + j * dilation[1])
            for i in range(KH) for j in range(KW)]


def unfold_rows(planes, kernel_hw, out_h, padded_w, dilation, out) -> None:
    """Stride-1 :func:`unfold_windows` on :func:`padded_planes` output, with output rows
    ``padded_w`` long: writes ``out``, a ``(N, C, KH, KW, OH*Wp)`` view."""
    length = out_h * padded_w
    for i, j, start in _run_starts(kernel_hw, padded_w, dilation):
        out[:, :, i, j] = planes[:, :, start:start + length]


def fold_rows(windows, padded_hw, dilation, slack) -> np.ndarray:
    """Adjoint of :func:`unfold_rows`: add ``windows (N, C, KH, KW, OH*Wp)`` (junk entries must
    be zero) into padded planes; returns ``(N, C, Hp, Wp)``."""
    N, C, KH, KW, length = windows.shape
    Hp, Wp = padded_hw
    planes = np.zeros((N, C, Hp * Wp + slack), dtype=windows.dtype)
    for i, j, start in _run_starts((KH, KW), Wp, dilation):
        planes[:, :, start:start + length] += windows[:, :, i, j]
    return planes[:, :, :Hp * Wp].reshape(N, C, Hp, Wp)

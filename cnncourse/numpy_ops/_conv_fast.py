"""The speed tricks behind :func:`cnncourse.numpy_ops.conv2d` (private: read ``conv.py`` first).

:func:`~cnncourse.numpy_ops.conv2d` and :func:`~cnncourse.numpy_ops.conv2d_backward` compute
exactly what lesson 2 shows -- pad, copy every window into a column, one matrix product, add
the bias -- and hand large inputs to this module, which computes the same thing faster:

- the batch is processed in chunks of images whose columns take about ``_CHUNK_BYTES`` (the
  columns repeat every pixel ``KH*KW`` times; small arrays stay in the CPU cache);
- for stride 1 the columns are copied a whole padded image row at a time
  (:func:`~cnncourse.numpy_ops.im2col.unfold_rows`): each output row is then ``Wp`` long
  instead of ``OW``, and the ``Wp - OW`` junk values at its end are cropped from the product;
- the forward adds the bias inside the product (one more weight column holds the bias, one
  more row of the columns holds ones) and multiplies image by image, so that the product is
  already in the ``(N, F, OH, OW)`` order of the output.

Every function takes arguments already checked by ``conv._prepare`` (one float dtype, and the
:class:`~cnncourse.shapes.ConvGeometry` ``g``) and returns what the public function returns.

The ``Conv2d`` layer of :mod:`cnncourse.nn` calls :func:`forward` and :func:`backward`, which
keep the forward's columns for the backward and work with the batch axis *last*: ``(C, H, W,
N)`` memory order, as cuda-convnet did. A window's pixels for all images are then contiguous
runs, so every copy and every pooling slice moves whole runs; one matrix product per group
serves the whole batch; and the output, ``(F, OH, OW, N)`` in memory, is returned as an
``(N, F, OH, OW)`` view (the next layers accept any memory order, and keep it). Their scratch
arrays live in a :class:`Workspace` that the layer keeps from one call to the next.
"""
from __future__ import annotations

import functools

import numpy as np

from .im2col import (fold_rows, fold_windows, offset_slices, pad2d, padded_planes, unfold_rows,
                     unfold_windows)

__all__ = ["worth_it", "conv2d", "conv2d_backward", "Workspace", "Columns", "batch_last",
           "forward", "backward"]

# The columns hold every input pixel KH*KW times. For large batches they would take hundreds of
# megabytes, so the batch is processed in chunks of images whose columns take about this many
# bytes: small arrays are quick to allocate and stay in the CPU cache.
_CHUNK_BYTES = 4 * 2**20
# Below this many bytes of columns the plain code in conv.py is as fast: lesson-sized inputs
# run the code a learner reads.
_MIN_BYTES = 256 * 2**10


def _column_bytes(g, itemsize):
    return g.N * g.C * g.KH * g.KW * g.OH * g.OW * itemsize


def worth_it(g, itemsize) -> bool:
    """True when the columns of this convolution are large enough for the tricks to pay."""
    return _column_bytes(g, itemsize) >= _MIN_BYTES


def _row_len(g):
    """Length of one output row in the column layout: ``OW``, or for stride 1 the padded width
    ``Wp`` (whole rows are copied at once, and the junk values are cropped)."""
    return _padded_width(g) if g.stride == (1, 1) else g.OW


def _padded_width(g):
    """``Wp = W + left + right``: the width of the padded input."""
    return g.W + g.padding[2] + g.padding[3]


def _chunks(g, row_len, itemsize):
    """Slices of the batch axis whose columns take about ``_CHUNK_BYTES`` each."""
    per_image = g.C * g.KH * g.KW * g.OH * row_len * itemsize
    step = max(1, _CHUNK_BYTES // per_image)
    return [slice(n, min(n + step, g.N)) for n in range(0, g.N, step)]


def _unfold(x, g, row_len, out):
    """im2col of the images ``x (n, c, H, W)`` into ``out``, an ``(n, c, KH, KW, OH*row_len)``
    view: row ``(channel, i, j)``, column ``(oh, ow)``; whole rows if ``row_len`` is the padded
    width (stride 1 only), exact windows if it is ``OW``."""
    if g.stride == (1, 1) and row_len == _padded_width(g):
        planes = padded_planes(x, g.padding, slack=g.dilation[1] * (g.KW - 1))
        unfold_rows(planes, (g.KH, g.KW), g.OH, row_len, g.dilation, out)
    else:
        unfold_windows(pad2d(x, g.padding), (g.KH, g.KW), (g.OH, g.OW), g.stride, g.dilation,
                       out=out.reshape(x.shape[:2] + (g.KH, g.KW, g.OH, g.OW)))


def _columns(x, g, row_len):
    """im2col of the images ``x (n, C, H, W)``, laid out for one matrix product per group:
    ``(groups, C/groups*KH*KW, n*OH*row_len)``, row ``(c, i, j)``, column ``(image, oh, ow)``."""
    n = x.shape[0]
    cols = np.empty((g.C, g.KH, g.KW, n, g.OH * row_len), dtype=x.dtype)
    _unfold(x, g, row_len, cols.transpose(3, 0, 1, 2, 4))    # (n, C, KH, KW, OH*row_len) view
    return cols.reshape(g.groups, -1, n * g.OH * row_len)


def _fold_columns(grad_cols, g, row_len):
    """col2im for :func:`_columns`' layout, back to ``(n, C, H, W)``. The junk values of the
    stride-1 layout must be zeros."""
    top, bottom, left, right = g.padding
    padded_hw = (g.H + top + bottom, g.W + left + right)
    windows = grad_cols.reshape(g.C, g.KH, g.KW, -1, g.OH * row_len).transpose(3, 0, 1, 2, 4)
    if g.stride == (1, 1):
        grad_xp = fold_rows(windows, padded_hw, g.dilation, slack=g.dilation[1] * (g.KW - 1))
    else:
        windows = windows.reshape(-1, g.C, g.KH, g.KW, g.OH, g.OW)
        grad_xp = fold_windows(windows, padded_hw, g.stride, g.dilation)
    return grad_xp[:, :, top:top + g.H, left:left + g.W]


def conv2d(x, weight, bias, g):
    """:func:`cnncourse.numpy_ops.conv2d` on checked arguments, in chunks, bias in the product."""
    G, C_g, F_g = g.groups, g.C // g.groups, g.F // g.groups
    K = C_g * g.KH * g.KW                                      # rows of one group's columns
    # Whole-row copies (stride 1, see _row_len) are quick but leave junk columns to crop from
    # the product; with more filters than rows of columns (a first layer on RGB images, say)
    # it is cheaper to copy exact windows and let the product land in out directly.
    row_len = _row_len(g) if K > F_g else g.OW
    L = g.OH * row_len
    # The bias trick: one more weight column holds the bias and one more row of the columns
    # holds ones, so that [weight | bias] @ [cols; ones] = weight @ cols + bias.
    w = np.zeros((G, F_g, K + 1), dtype=x.dtype)
    w[:, :, :K] = weight.reshape(G, F_g, K)
    if bias is not None:
        w[:, :, K] = bias.reshape(G, F_g)
    chunks = _chunks(g, row_len, x.itemsize)
    step = chunks[0].stop                                      # images per chunk
    cols = np.empty((step, G, K + 1, L), dtype=x.dtype)        # reused by every chunk
    cols[:, :, K] = 1.0
    out = np.empty((g.N, g.F, g.OH, g.OW), dtype=x.dtype)
    y = None if row_len == g.OW else np.empty((step, G, F_g, L), dtype=x.dtype)
    for batch in chunks:
        n = batch.stop - batch.start
        c = cols[:n]
        for group in range(G):                                 # each group sees its channels
            _unfold(x[batch, group * C_g:(group + 1) * C_g], g, row_len,
                    c[:, group, :K].reshape(n, C_g, g.KH, g.KW, L))  # a view: K is split
        # One matrix product per image and group: (F/G, K+1) @ (K+1, OH*row_len).
        if y is None:                                          # it writes straight into out
            np.matmul(w, c, out=out[batch].reshape(n, G, F_g, L))
        else:                                                  # crop the junk columns
            np.matmul(w, c, out=y[:n])
            out[batch] = y[:n].reshape(n, g.F, g.OH, row_len)[..., :g.OW]
    return out


def conv2d_backward(grad_out, x, weight, bias, g):
    """:func:`cnncourse.numpy_ops.conv2d_backward` on checked arguments, in chunks."""
    G, row_len = g.groups, _row_len(g)
    w_t = weight.reshape(G, g.F // G, -1).transpose(0, 2, 1)   # (G, C/G*KH*KW, F/G)
    grad_weight = np.zeros((G, g.F // G, w_t.shape[1]), dtype=x.dtype)
    grad_x = np.empty_like(x)
    for batch in _chunks(g, row_len, x.itemsize):
        cols = _columns(x[batch], g, row_len)                  # (G, C/G*KH*KW, n*OH*row_len)
        n = grad_out[batch].shape[0]
        go = np.zeros((g.F, n, g.OH, row_len), dtype=x.dtype)
        go[..., :g.OW] = grad_out[batch].transpose(1, 0, 2, 3)  # junk columns stay zero
        go = go.reshape(G, g.F // G, -1)                       # (G, F/G, n*OH*row_len)
        # grad_weight: one matrix product contracts over the images and window positions.
        grad_weight += np.matmul(go, cols.transpose(0, 2, 1))
        # grad_x: back into columns with one matrix product, then add each window back.
        grad_x[batch] = _fold_columns(np.matmul(w_t, go), g, row_len)
    grad_weight = grad_weight.reshape(weight.shape)
    grad_bias = None if bias is None else grad_out.sum(axis=(0, 2, 3))
    return grad_x, grad_weight, grad_bias


# --- the layer's path: columns kept from forward to backward, batch axis last -----------------


class Workspace:
    """Scratch arrays reused from one call to the next: writing into fresh memory makes the
    operating system hand over (and zero) new pages, which costs more than the work on the
    small arrays of a training step. An array comes back with its old contents; one made with
    ``zeros=True`` starts as zeros (padding that is never overwritten stays zero)."""

    def __init__(self):
        self._arrays = {}

    def get(self, name, shape, dtype, zeros=False):
        array = self._arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = (np.zeros if zeros else np.empty)(shape, dtype)
            self._arrays[name] = array
        return array


class Columns:
    """What :func:`forward` keeps for :func:`backward`: the columns and their geometry."""

    __slots__ = ("cols", "g")

    def __init__(self, cols, g):
        self.cols, self.g = cols, g


def batch_last(x):
    """``x (N, C, H, W)`` as ``(C, H, W, N)``: a view if its memory is in that order already."""
    return x.transpose(1, 2, 3, 0)


@functools.lru_cache(maxsize=64)
def _windows(g):
    """For each kernel offset ``(i, j)``, the strided slices of the padded input's height and
    width that hold the pixel at that offset of every window (kept: layers repeat shapes)."""
    return tuple((i, j) + offset_slices(i, j, (g.OH, g.OW), g.stride, g.dilation)
                 for i in range(g.KH) for j in range(g.KW))


def forward(x, weight, bias, g, ws):
    """``conv2d(x, weight, bias)`` on checked arguments; returns ``(out, Columns)``.

    The work is done with the batch axis last (``(C, H, W, N)`` memory: every copy moves runs
    of ``OW*N`` numbers, and pooling slices stay contiguous); ``out`` is an ``(N, F, OH, OW)``
    view of ``(F, OH, OW, N)`` memory. The columns are ``(C*KH*KW, OH*OW*N)``.
    """
    top, bottom, left, right = g.padding
    xb = batch_last(x)                                                   # (C, H, W, N)
    if top or bottom or left or right or not xb.flags.c_contiguous:
        xp = ws.get("padded", (g.C, g.H + top + bottom, g.W + left + right, g.N), x.dtype,
                    zeros=True)                                          # the border stays 0
        xp[:, top:top + g.H, left:left + g.W] = xb
    else:
        xp = xb
    cols = ws.get("cols", (g.C, g.KH, g.KW, g.OH, g.OW, g.N), x.dtype)
    for i, j, rows, columns in _windows(g):
        cols[:, i, j] = xp[:, rows, columns]
    G, F_g, L = g.groups, g.F // g.groups, g.OH * g.OW * g.N
    out = np.empty((g.F, g.OH, g.OW, g.N), dtype=x.dtype)
    w, c, o = weight.reshape(G, F_g, -1), cols.reshape(G, -1, L), out.reshape(G, F_g, L)
    for group in range(G):
        _matmul_wide(w[group], c[group], o[group])
    if bias is not None:
        out.reshape(g.F, L)[...] += bias[:, None]
    return out.transpose(3, 0, 1, 2), Columns(cols, g)


def backward(grad_out, kept, weight, with_bias, need_grad_x, ws):
    """Gradients of :func:`forward` from the columns it kept: ``(grad_x or None, grad_weight,
    grad_bias or None)``; ``grad_x`` is an ``(N, C, H, W)`` view of ``(C, H, W, N)`` memory."""
    g = kept.g
    G, F_g, L = g.groups, g.F // g.groups, g.OH * g.OW * g.N
    go = np.ascontiguousarray(batch_last(grad_out)).reshape(G, F_g, L)  # no copy if in order
    cols = kept.cols.reshape(G, -1, L)
    grad_weight = np.stack([_matmul_nt(go[group], cols[group]) for group in range(G)])
    grad_weight = grad_weight.reshape(weight.shape)
    grad_bias = go.reshape(g.F, L).sum(axis=1) if with_bias else None
    if not need_grad_x:
        return None, grad_weight, grad_bias
    # col2im, one kernel offset at a time: the columns' gradient for offset (i, j) is
    # weight[:, :, i, j].T @ grad_out, and it is added back onto the window pixels at that
    # offset. That is weight.T @ grad_out and col2im, without the large grad_cols array.
    top, bottom, left, right = g.padding
    C_g = g.C // G
    grad_xp = np.zeros((g.C, g.H + top + bottom, g.W + left + right, g.N), dtype=go.dtype)
    part = ws.get("part", (C_g, L), go.dtype)
    w = weight.reshape(G, F_g, C_g, g.KH, g.KW)
    for i, j, rows, columns in _windows(g):
        for group in range(G):
            np.matmul(w[group, :, :, i, j].T, go[group], out=part)
            grad_xp[group * C_g:(group + 1) * C_g, rows, columns] += part.reshape(
                C_g, g.OH, g.OW, g.N)
    grad_x = grad_xp[:, top:top + g.H, left:left + g.W]
    return grad_x.transpose(3, 0, 1, 2), grad_weight, grad_bias


# Matrix products of a few rows by very many columns (a first layer: (6, 25) @ (25, 36864)) are
# slow in OpenBLAS as one call: it is several times faster in slices of columns whose share of
# the right-hand matrix stays in the CPU's L2 cache. Measured on this machine (1 and 2 threads,
# with and without OPENBLAS_CORETYPE): products with up to 8 rows, in slices of 4096 columns.
_FEW_ROWS, _SLICE = 8, 4096


def _matmul_wide(a, b, out):
    """``out[...] = a @ b`` for 2-D ``a (m, k)``, ``b (k, n)``, sliced along ``n`` if ``m`` is
    small and ``n`` large."""
    m, n = a.shape[0], b.shape[1]
    if m > _FEW_ROWS or n <= 2 * _SLICE:
        np.matmul(a, b, out=out)
        return
    for start in range(0, n, _SLICE):
        np.matmul(a, b[:, start:start + _SLICE], out=out[:, start:start + _SLICE])


def _matmul_nt(a, b):
    """``a @ b.T`` for 2-D ``a (m, k)``, ``b (n, k)`` (a weight gradient: ``k`` is every window
    of every image). Computed as ``(b @ a.T).T``, which OpenBLAS does about twice as fast, and
    summed over slices of ``k`` when ``m`` and ``n`` are small (again, L2-sized pieces)."""
    k = a.shape[1]
    if max(a.shape[0], b.shape[0]) > 32 or k <= 2 * _SLICE:
        return (b @ a.T).T
    total = b[:, :_SLICE] @ a[:, :_SLICE].T
    for start in range(_SLICE, k, _SLICE):
        total += b[:, start:start + _SLICE] @ a[:, start:start + _SLICE].T
    return total.T

"""2-D convolution in NumPy: forward and backward, vectorized and as explicit loops.

Mirrors ``torch.nn.functional.conv2d`` (names, argument order, defaults, NCHW layout). Like
PyTorch (and every deep-learning library) it computes a *cross-correlation*: the kernel is not
flipped.

- :func:`conv2d` / :func:`conv2d_backward`: vectorized. The input is unfolded into columns
  (:mod:`cnncourse.numpy_ops.im2col`), so the whole convolution is one matrix product per group.
  A few details make it fast without changing the idea: the batch is processed in chunks of
  images (the columns repeat every pixel ``KH*KW`` times, and small arrays stay in the CPU
  cache); for stride 1 the columns are copied a whole image row at a time; and the forward
  adds the bias inside the product (a row of ones under the columns) and multiplies image by
  image, so that the product is already in the ``(N, F, OH, OW)`` order of the output.
- :func:`conv2d_naive` / :func:`conv2d_backward_naive`: the same computation written as the
  textbook loops, one output pixel at a time. Slow, but every line can be read off the formula.
"""
from __future__ import annotations

import numpy as np

from ..shapes import check_conv2d_args, conv_output_size
from ._arrays import as_float_array, check_grad_out, common_float_dtype
from .im2col import fold_rows, fold_windows, pad2d, padded_planes, unfold_rows, unfold_windows

__all__ = [
    "conv2d",
    "conv2d_backward",
    "conv2d_naive",
    "conv2d_backward_naive",
    "conv_output_size",
]


def _prepare(x, weight, bias, stride, padding, dilation, groups):
    """Convert and check the arguments; return them in one float dtype plus the geometry."""
    x = as_float_array(x, "x")
    weight = as_float_array(weight, "weight")
    bias = None if bias is None else as_float_array(bias, "bias")
    geom = check_conv2d_args(
        x.shape, weight.shape, None if bias is None else bias.shape,
        stride, padding, dilation, groups,
    )
    dtype = common_float_dtype(x, weight, bias)
    x, weight = x.astype(dtype, copy=False), weight.astype(dtype, copy=False)
    bias = None if bias is None else bias.astype(dtype, copy=False)
    return x, weight, bias, geom


# The columns hold every input pixel KH*KW times. For large batches they would take hundreds of
# megabytes, so the vectorized functions process the batch in chunks of images whose columns
# take about this many bytes: small arrays are quick to allocate and stay in the CPU cache.
_CHUNK_BYTES = 4 * 2**20


def _row_len(g):
    """Length of one output row in the column layout: ``OW``, or for stride 1 the padded width
    ``Wp`` (fast path: whole rows are copied at once, and the ``Wp - OW`` junk values at the end
    of each output row are cropped; see ``im2col.unfold_rows``)."""
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


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of a batch of images with a bank of filters.

    Formula (``G = groups``, filter ``f`` belongs to group ``g = f // (F/G)`` and sees the input
    channels ``g*C/G ... (g+1)*C/G - 1``)::

        out[n, f, oh, ow] = bias[f] + sum over c < C/G, i < KH, j < KW of
            weight[f, c, i, j] * x_padded[n, g*C/G + c, oh*stride + i*dilation,
                                                        ow*stride + j*dilation]

    Args:
        x: input images ``(N, C, H, W)``, floating point.
        weight: filters ``(F, C/groups, KH, KW)``.
        bias: one value per filter ``(F,)``, or ``None`` (default) for no bias.
        stride: step between windows, int or ``(sh, sw)``. Default: 1.
        padding: zeros added around the input: int, ``(ph, pw)``, ``"valid"`` (none) or
            ``"same"`` (output as large as the input; stride must be 1; for an even kernel
            the extra zero goes on the bottom/right, as in PyTorch). Default: 0.
        dilation: spacing between kernel elements, int or pair. Default: 1.
        groups: split channels and filters into this many independent groups. Default: 1.

    Shape:
        ``(N, C, H, W) -> (N, F, OH, OW)`` with
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1``, same for ``OW``.

    Returns:
        ``out``, an array of the common float dtype of ``x``, ``weight`` and ``bias``.

    Example:
        >>> x, w = np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3))
        >>> conv2d(x, w, padding=1).shape, conv2d(x, w)[0, 0, 0, 0]
        ((1, 2, 4, 4), np.float64(9.0))
    """
    x, weight, bias, g = _prepare(x, weight, bias, stride, padding, dilation, groups)
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


def conv2d_backward(grad_out, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of :func:`conv2d` with respect to ``x``, ``weight`` and ``bias``.

    With ``cols = im2col(x)`` and the forward ``out[n] = weight @ cols[n] + bias`` (per group,
    ``weight`` reshaped to ``(F, C*KH*KW)``)::

        grad_bias[f]   = sum over n, oh, ow of grad_out[n, f, oh, ow]
        grad_weight    = sum over n of grad_out[n] @ cols[n].T
        grad_x[n]      = col2im(weight.T @ grad_out[n])    (each window adds its share back)

    Args:
        grad_out: gradient of the loss with respect to ``conv2d``'s output, ``(N, F, OH, OW)``.
        x, weight, bias, stride, padding, dilation, groups: the arguments given to
            :func:`conv2d` (``bias`` is only used to decide whether ``grad_bias`` is wanted).

    Shape:
        ``grad_x``: ``(N, C, H, W)``; ``grad_weight``: ``(F, C/groups, KH, KW)``;
        ``grad_bias``: ``(F,)``; ``grad_out``: ``(N, F, OH, OW)``,
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1``.

    Returns:
        ``(grad_x, grad_weight, grad_bias)``; ``grad_bias`` is ``None`` when ``bias`` is ``None``.

    Example:
        >>> x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3))
        >>> gx, gw, gb = conv2d_backward(np.ones((1, 1, 2, 2)), x, w, np.zeros(1))
        >>> gx[0, 0, 0], gw[0, 0, 0], gb
        (array([1., 2., 2., 1.]), array([4., 4., 4.]), array([4.]))
    """
    x, weight, bias, g = _prepare(x, weight, bias, stride, padding, dilation, groups)
    grad_out = check_grad_out(grad_out, (g.N, g.F, g.OH, g.OW), "conv2d", x.dtype)
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


def conv2d_naive(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """:func:`conv2d` written as explicit loops over images, filters and output pixels.

    Same formula, arguments, shape and result as :func:`conv2d`; use it to read how a
    convolution works, and :func:`conv2d` to compute one.

    Args:
        x, weight, bias, stride, padding, dilation, groups: as for :func:`conv2d`
            (``x`` is ``(N, C, H, W)``, ``weight`` is ``(F, C/groups, KH, KW)``).

    Shape:
        ``(N, C, H, W)`` -> ``(N, F, OH, OW)`` with
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1`` (same for OW).

    Returns:
        The output array ``(N, F, OH, OW)``, in the dtype of ``x``.

    Example:
        >>> x, w = np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3))
        >>> bool(np.allclose(conv2d_naive(x, w, padding=1), conv2d(x, w, padding=1)))
        True
    """
    x, weight, bias, g = _prepare(x, weight, bias, stride, padding, dilation, groups)
    (sh, sw), (dh, dw) = g.stride, g.dilation
    x_padded = pad2d(x, g.padding)
    C_per_group, F_per_group = g.C // g.groups, g.F // g.groups
    out = np.zeros((g.N, g.F, g.OH, g.OW), dtype=x.dtype)
    for n in range(g.N):                                  # every image
        for f in range(g.F):                              # every filter
            group = f // F_per_group                      # the channels this filter sees
            channels = slice(group * C_per_group, (group + 1) * C_per_group)
            for oh in range(g.OH):                        # every output pixel
                for ow in range(g.OW):
                    top, left = oh * sh, ow * sw          # window's top-left corner
                    window = x_padded[n, channels,
                                      top:top + dh * (g.KH - 1) + 1:dh,
                                      left:left + dw * (g.KW - 1) + 1:dw]
                    out[n, f, oh, ow] = (window * weight[f]).sum()
            if bias is not None:
                out[n, f] += bias[f]
    return out


def conv2d_backward_naive(grad_out, x, weight, bias=None, stride=1, padding=0, dilation=1,
                          groups=1):
    """:func:`conv2d_backward` written as loops: each output pixel sends its gradient back.

    Output pixel ``out[n, f, oh, ow] = sum(window * weight[f]) + bias[f]`` depends on its window
    through ``weight[f]`` and on ``weight[f]`` through its window, so it adds
    ``grad_out[n, f, oh, ow] * weight[f]`` to the window's gradient, and
    ``grad_out[n, f, oh, ow] * window`` to ``weight[f]``'s gradient.

    Args:
        grad_out: gradient of the loss with respect to the output, ``(N, F, OH, OW)``.
        x, weight, bias, stride, padding, dilation, groups: exactly as passed to :func:`conv2d`.

    Shape:
        ``grad_x`` is ``(N, C, H, W)``, ``grad_weight`` is ``(F, C/groups, KH, KW)``,
        ``grad_bias`` is ``(F,)``; ``grad_out`` is ``(N, F, OH, OW)`` with
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1`` (same for OW).

    Returns:
        ``(grad_x, grad_weight, grad_bias)``, as :func:`conv2d_backward`.

    Example:
        >>> x, w, go = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
        >>> conv2d_backward_naive(go, x, w)[0][0, 0, 0]
        array([1., 2., 2., 1.])
    """
    x, weight, bias, g = _prepare(x, weight, bias, stride, padding, dilation, groups)
    grad_out = check_grad_out(grad_out, (g.N, g.F, g.OH, g.OW), "conv2d", x.dtype)
    (sh, sw), (dh, dw) = g.stride, g.dilation
    x_padded = pad2d(x, g.padding)
    grad_x_padded = np.zeros_like(x_padded)
    grad_weight = np.zeros_like(weight)
    C_per_group, F_per_group = g.C // g.groups, g.F // g.groups
    for n in range(g.N):
        for f in range(g.F):
            group = f // F_per_group
            channels = slice(group * C_per_group, (group + 1) * C_per_group)
            for oh in range(g.OH):
                for ow in range(g.OW):
                    top, left = oh * sh, ow * sw
                    rows = slice(top, top + dh * (g.KH - 1) + 1, dh)
                    cols = slice(left, left + dw * (g.KW - 1) + 1, dw)
                    upstream = grad_out[n, f, oh, ow]
                    grad_x_padded[n, channels, rows, cols] += upstream * weight[f]
                    grad_weight[f] += upstream * x_padded[n, channels, rows, cols]
    top, bottom, left, right = g.padding
    grad_x = grad_x_padded[:, :, top:top + g.H, left:left + g.W].copy()
    grad_bias = None if bias is None else grad_out.sum(axis=(0, 2, 3))
    return grad_x, grad_weight, grad_bias

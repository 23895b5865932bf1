"""2-D convolution in NumPy: forward and backward, vectorized and as explicit loops.

Mirrors ``torch.nn.functional.conv2d`` (names, argument order, defaults, NCHW layout). Like
PyTorch (and every deep-learning library) it computes a *cross-correlation*: the kernel is not
flipped.

- :func:`conv2d` / :func:`conv2d_backward`: vectorized, as in lesson 2: pad the input, copy
  every window into a column (im2col), one matrix product, add the bias. Large inputs are
  handed to :mod:`cnncourse.numpy_ops._conv_fast`, which computes the same thing with a few
  speed tricks (chunks of images, whole-row copies, the bias inside the product).
- :func:`conv2d_naive` / :func:`conv2d_backward_naive`: the same computation written as the
  textbook loops, one output pixel at a time. Slow, but every line can be read off the formula.
"""
from __future__ import annotations

import numpy as np

from ..shapes import check_conv2d_args, conv_output_size
from ._arrays import as_float_array, check_grad_out, common_float_dtype
from . import _conv_fast
from .im2col import fold_windows, pad2d, unfold_windows

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


def _im2col(x_padded, g):
    """Copy every window of the padded input into a column: ``(N, groups, C/groups*KH*KW,
    OH*OW)``, row ``c*KH*KW + i*KW + j`` as in :func:`~cnncourse.numpy_ops.im2col`, the rows of
    each group's channels together."""
    cols = unfold_windows(x_padded, (g.KH, g.KW), (g.OH, g.OW), g.stride, g.dilation)
    return cols.reshape(g.N, g.groups, -1, g.OH * g.OW)   # (N, C, KH, KW, OH, OW) -> columns


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
    if _conv_fast.worth_it(g, x.itemsize):       # large input: the same steps, tuned for speed
        return _conv_fast.conv2d(x, weight, bias, g)
    x_padded = pad2d(x, g.padding)                 # 1. pad with zeros
    cols = _im2col(x_padded, g)                    # 2. a column per window: (N, G, K, OH*OW)
    w = weight.reshape(g.groups, g.F // g.groups, -1)      # a row per filter: (G, F/G, K)
    out = w @ cols                                 # 3. one product: (N, G, F/G, OH*OW)
    out = out.reshape(g.N, g.F, g.OH, g.OW)
    if bias is not None:
        out += bias.reshape(1, g.F, 1, 1)          # 4. add the bias, one per filter
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
    if _conv_fast.worth_it(g, x.itemsize):       # large input: the same steps, tuned for speed
        return _conv_fast.conv2d_backward(grad_out, x, weight, bias, g)
    G = g.groups
    cols = _im2col(pad2d(x, g.padding), g)                  # the forward's columns (N, G, K, L)
    go = grad_out.reshape(g.N, G, g.F // G, -1)             # (N, G, F/G, L)
    w = weight.reshape(G, g.F // G, -1)                     # (G, F/G, K)
    grad_weight = (go @ cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(weight.shape)
    grad_cols = w.transpose(0, 2, 1) @ go                   # (G, K, F/G) @ (N, G, F/G, L)
    top, bottom, left, right = g.padding                    # col2im: add each window back
    windows = grad_cols.reshape(g.N, g.C, g.KH, g.KW, g.OH, g.OW)
    grad_xp = fold_windows(windows, (g.H + top + bottom, g.W + left + right), g.stride, g.dilation)
    grad_x = np.ascontiguousarray(grad_xp[:, :, top:top + g.H, left:left + g.W])
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

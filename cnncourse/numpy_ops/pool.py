"""2-D pooling in NumPy: max, average and adaptive average, forward and backward.

Mirrors ``torch.nn.functional.max_pool2d``, ``avg_pool2d`` and ``adaptive_avg_pool2d``
(names, argument order, defaults, NCHW layout; ``stride=None`` means ``stride=kernel_size``).
``ceil_mode``, ``return_indices`` and ``divisor_override`` are not supported.

The vectorized versions work like :mod:`~cnncourse.numpy_ops.im2col`: for a fixed kernel
offset ``(i, j)``, the pixels at that offset of all windows form one strided slice of the padded
input, so max pooling is a running ``np.maximum`` over the ``KH*KW`` slices, and average pooling
sums the unfolded windows. The backward passes send each output's gradient back into its window
and add overlapping windows up (col2im); max pooling's finds each window's arg-max first
(:mod:`cnncourse.numpy_ops._pool_fast`, shared with the ``MaxPool2d`` layer, which keeps it). ``max_pool2d_naive`` and ``avg_pool2d_naive`` are the
same computations as explicit loops, for reading.
"""
from __future__ import annotations

import numpy as np

from ..shapes import check_adaptive_pool2d_args, check_pool2d_args
from ._arrays import as_float_array, check_grad_out
from . import _pool_fast
from .im2col import fold_windows, offset_slices, pad2d, unfold_windows

__all__ = [
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_naive",
    "avg_pool2d",
    "avg_pool2d_backward",
    "avg_pool2d_naive",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool2d_backward",
]


def _windows(x, g, fill):
    """Every pooling window of ``x`` (padded with ``fill``): ``(N, C, KH*KW, OH, OW)``."""
    ph, pw = g.padding
    xp = pad2d(x, (ph, ph, pw, pw), fill)
    cols = unfold_windows(xp, (g.KH, g.KW), (g.OH, g.OW), g.stride, g.dilation)
    return cols.reshape(g.N, g.C, g.KH * g.KW, g.OH, g.OW)


def _offsets(g):
    """For each kernel offset ``(i, j)`` in row-major order, the strided slices ``(rows, cols)``
    of the padded input holding the pixel at that offset of every window."""
    return [offset_slices(i, j, (g.OH, g.OW), g.stride, g.dilation)
            for i in range(g.KH) for j in range(g.KW)]


def _fold_back(grad_windows, g):
    """Add ``grad_windows (N, C, KH*KW, OH, OW)`` back into an ``(N, C, H, W)`` gradient."""
    ph, pw = g.padding
    windows = grad_windows.reshape(g.N, g.C, g.KH, g.KW, g.OH, g.OW)
    grad_xp = fold_windows(windows, (g.H + 2 * ph, g.W + 2 * pw), g.stride, g.dilation)
    return np.ascontiguousarray(grad_xp[:, :, ph:ph + g.H, pw:pw + g.W])


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """2-D max pooling: the largest value in each window, channel by channel.

    Formula::

        out[n, c, oh, ow] = max over i < KH, j < KW of
            x_padded[n, c, oh*stride + i*dilation, ow*stride + j*dilation]

    Padding is ``-inf``, so a padded position is never the maximum. (With dilation a window
    can skip over every real pixel and see only padding; its output is then ``-inf`` and it
    passes no gradient back, where PyTorch's saved index points past the input.)

    Args:
        x: input ``(N, C, H, W)``, floating point.
        kernel_size: ``KH`` or ``(KH, KW)``.
        stride: step between windows, int or pair. Default: ``None``, meaning ``kernel_size``.
        padding: ``-inf`` added on each side, int or pair, at most ``kernel_size // 2``.
            Default: 0.
        dilation: spacing between window elements, int or pair. Default: 1.

    Shape:
        ``(N, C, H, W) -> (N, C, OH, OW)`` with
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1``, same for ``OW``.

    Returns:
        ``out``, same dtype as ``x``.

    Example:
        >>> max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """
    x = as_float_array(x, "x")
    g = check_pool2d_args(x.shape, kernel_size, stride, padding, dilation)
    ph, pw = g.padding
    x_padded = pad2d(x, (ph, ph, pw, pw), -np.inf)
    out = np.full((g.N, g.C, g.OH, g.OW), -np.inf, dtype=x.dtype)
    for rows, cols in _offsets(g):         # the pixel at offset (i, j) of every window at once
        np.maximum(out, x_padded[:, :, rows, cols], out=out)
    return out


def max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, dilation=1):
    """Gradient of :func:`max_pool2d` with respect to ``x``.

    Each output passes its gradient to the one input that was the maximum of its window; on a
    tie, to the first maximum in row-major window order (as PyTorch does). An input that is
    the maximum of several overlapping windows collects all their gradients.

    Args:
        grad_out: gradient with respect to ``max_pool2d``'s output, ``(N, C, OH, OW)``.
        x, kernel_size, stride, padding, dilation: the arguments given to :func:`max_pool2d`.

    Shape:
        ``grad_out (N, C, OH, OW) -> grad_x (N, C, H, W)``, ``OH`` as in :func:`max_pool2d`.

    Returns:
        ``grad_x``.

    Example:
        >>> max_pool2d_backward(np.ones((1, 1, 1, 1)), np.array([[[[1., 3.], [3., 0.]]]]), 2)[0, 0]
        array([[0., 1.],
               [0., 0.]])
    """
    x = as_float_array(x, "x")
    g = check_pool2d_args(x.shape, kernel_size, stride, padding, dilation)
    grad_out = check_grad_out(grad_out, (g.N, g.C, g.OH, g.OW), "max_pool2d", x.dtype)
    # Find where each window's first maximum is (its arg-max), then send the window's gradient
    # there. Both steps loop over the KH*KW kernel offsets, not over windows: see _pool_fast.
    _, argmax = _pool_fast.max_pool2d_with_argmax(x, g)
    return _pool_fast.max_pool2d_backward_from_argmax(grad_out, argmax, g, like=x)


def max_pool2d_naive(x, kernel_size, stride=None, padding=0, dilation=1):
    """:func:`max_pool2d` as explicit loops over images, channels and output pixels.

    Same formula, arguments, shape and result as :func:`max_pool2d`; read it, compute with
    :func:`max_pool2d`.

    Args:
        x: input ``(N, C, H, W)``, floating point.
        kernel_size: window size, int or ``(KH, KW)``.
        stride: step between windows, int or pair. Default: None, meaning ``kernel_size``.
        padding: ``-inf`` added on each side, int or pair, at most half the kernel. Default: 0.
        dilation: spacing between window elements, int or pair. Default: 1.

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, OH, OW)`` with
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1`` (same for OW).

    Returns:
        The pooled array, in the dtype of ``x``.

    Example:
        >>> max_pool2d_naive(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """
    x = as_float_array(x, "x")
    g = check_pool2d_args(x.shape, kernel_size, stride, padding, dilation)
    (sh, sw), (dh, dw), (ph, pw) = g.stride, g.dilation, g.padding
    x_padded = pad2d(x, (ph, ph, pw, pw), -np.inf)
    out = np.empty((g.N, g.C, g.OH, g.OW), dtype=x.dtype)
    for n in range(g.N):
        for c in range(g.C):
            for oh in range(g.OH):
                for ow in range(g.OW):
                    top, left = oh * sh, ow * sw
                    window = x_padded[n, c, top:top + dh * (g.KH - 1) + 1:dh,
                                      left:left + dw * (g.KW - 1) + 1:dw]
                    out[n, c, oh, ow] = window.max()
    return out


def _avg_divisor(g, count_include_pad):
    """Number of values each average is divided by: ``KH*KW``, or only the real (unpadded)
    pixels of each window when ``count_include_pad=False``. Shape ``(OH, OW)``."""
    if count_include_pad:
        return np.full((g.OH, g.OW), g.KH * g.KW)
    counts = []
    for size, k, s, p, out in ((g.H, g.KH, g.stride[0], g.padding[0], g.OH),
                               (g.W, g.KW, g.stride[1], g.padding[1], g.OW)):
        start = np.arange(out) * s - p                     # window start in unpadded coordinates
        counts.append(np.minimum(start + k, size) - np.maximum(start, 0))
    return counts[0][:, None] * counts[1][None, :]


def avg_pool2d(x, kernel_size, stride=None, padding=0, *, count_include_pad=True):
    """2-D average pooling: the mean of each window, channel by channel.

    Formula::

        out[n, c, oh, ow] = (1 / divisor) * sum over i < KH, j < KW of
            x_padded[n, c, oh*stride + i, ow*stride + j]

    where ``divisor = KH*KW``, or, with ``count_include_pad=False``, the number of real
    (not padded) pixels in the window. Padding is zeros.

    Args:
        x: input ``(N, C, H, W)``, floating point.
        kernel_size: ``KH`` or ``(KH, KW)``.
        stride: step between windows, int or pair. Default: ``None``, meaning ``kernel_size``.
        padding: zeros added on each side, int or pair, at most ``kernel_size // 2``. Default: 0.
        count_include_pad: count padded zeros in the divisor. Default: ``True``.
            Keyword-only: PyTorch's fifth positional argument is ``ceil_mode``, which is not
            supported here, so ``avg_pool2d(x, 2, 2, 0, False)`` must not silently mean
            something else.

    Shape:
        ``(N, C, H, W) -> (N, C, OH, OW)`` with
        ``OH = floor((H + 2*padding - KH) / stride) + 1``, same for ``OW``.

    Returns:
        ``out``, same dtype as ``x``.

    Example:
        >>> avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """
    x = as_float_array(x, "x")
    g = check_pool2d_args(x.shape, kernel_size, stride, padding, 1)
    total = _windows(x, g, 0.0).sum(axis=2)
    return (total / _avg_divisor(g, count_include_pad)).astype(x.dtype, copy=False)


def avg_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, *,
                        count_include_pad=True):
    """Gradient of :func:`avg_pool2d` with respect to ``x``.

    Every pixel of a window contributed ``1/divisor`` of its value to the output, so it gets
    ``grad_out / divisor`` back; overlapping windows add up.

    Args:
        grad_out: gradient with respect to ``avg_pool2d``'s output, ``(N, C, OH, OW)``.
        x, kernel_size, stride, padding, count_include_pad: as given to :func:`avg_pool2d`.

    Shape:
        ``grad_out (N, C, OH, OW) -> grad_x (N, C, H, W)``, ``OH`` as in :func:`avg_pool2d`.

    Returns:
        ``grad_x``.

    Example:
        >>> avg_pool2d_backward(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 2, 2)), 2)[0, 0]
        array([[0.25, 0.25],
               [0.25, 0.25]])
    """
    x = as_float_array(x, "x")
    g = check_pool2d_args(x.shape, kernel_size, stride, padding, 1)
    grad_out = check_grad_out(grad_out, (g.N, g.C, g.OH, g.OW), "avg_pool2d", x.dtype)
    share = (grad_out / _avg_divisor(g, count_include_pad)).astype(x.dtype, copy=False)
    return _fold_back(np.broadcast_to(share[:, :, None], (g.N, g.C, g.KH * g.KW, g.OH, g.OW)), g)


def avg_pool2d_naive(x, kernel_size, stride=None, padding=0, *, count_include_pad=True):
    """:func:`avg_pool2d` as explicit loops over images, channels and output pixels.

    Same formula, arguments, shape and result as :func:`avg_pool2d`; read it, compute with
    :func:`avg_pool2d`.

    Args:
        x: input ``(N, C, H, W)``, floating point.
        kernel_size: window size, int or ``(KH, KW)``.
        stride: step between windows, int or pair. Default: None, meaning ``kernel_size``.
        padding: zeros added on each side, int or pair, at most half the kernel. Default: 0.
        count_include_pad: divide by ``KH*KW`` (True) or by the number of real pixels
            in the window (False). Default: True.

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, OH, OW)`` with
        ``OH = floor((H + 2*padding - KH) / stride) + 1`` (same for OW).

    Returns:
        The pooled array, in the dtype of ``x``.

    Example:
        >>> avg_pool2d_naive(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """
    x = as_float_array(x, "x")
    g = check_pool2d_args(x.shape, kernel_size, stride, padding, 1)
    (sh, sw), (ph, pw) = g.stride, g.padding
    x_padded = pad2d(x, (ph, ph, pw, pw), 0.0)
    is_real = pad2d(np.ones((1, 1, g.H, g.W)), (ph, ph, pw, pw), 0.0)[0, 0]  # 1 = real pixel
    out = np.empty((g.N, g.C, g.OH, g.OW), dtype=x.dtype)
    for n in range(g.N):
        for c in range(g.C):
            for oh in range(g.OH):
                for ow in range(g.OW):
                    rows = slice(oh * sh, oh * sh + g.KH)
                    cols = slice(ow * sw, ow * sw + g.KW)
                    divisor = g.KH * g.KW if count_include_pad else is_real[rows, cols].sum()
                    out[n, c, oh, ow] = x_padded[n, c, rows, cols].sum() / divisor
    return out


def _adaptive_matrices(x_shape, output_size, dtype):
    """The averaging matrices ``A_h (OH, H)`` and ``A_w (OW, W)`` of adaptive pooling:
    row ``i`` holds ``1/len`` on window ``i`` (PyTorch's rule, see ``shapes.adaptive_windows``)."""
    matrices = []
    for size, windows in zip(x_shape[2:], check_adaptive_pool2d_args(x_shape, output_size)):
        a = np.zeros((len(windows), size), dtype=dtype)
        for i, (start, end) in enumerate(windows):
            a[i, start:end] = 1.0 / (end - start)
        matrices.append(a)
    return matrices


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a fixed output size, whatever the input size.

    Formula (PyTorch's windows; they may overlap by one pixel when sizes do not divide)::

        out[n, c, i, j] = mean of x[n, c, h0:h1, w0:w1]  with
        h0 = floor(i*H/OH), h1 = ceil((i+1)*H/OH), w0, w1 likewise

    Computed as two matrix products ``A_h @ x @ A_w.T``, where row ``i`` of ``A_h (OH, H)``
    holds ``1/(h1 - h0)`` on window ``i`` and zeros elsewhere.

    Args:
        x: input ``(N, C, H, W)``, floating point.
        output_size: ``OH`` (square) or ``(OH, OW)``; ``None`` in the pair keeps that input size.

    Shape:
        ``(N, C, H, W) -> (N, C, OH, OW)``.

    Returns:
        ``out``, same dtype as ``x``.

    Example:
        >>> adaptive_avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 1)[0, 0]
        array([[7.5]])
    """
    x = as_float_array(x, "x")
    a_h, a_w = _adaptive_matrices(x.shape, output_size, x.dtype)
    return np.matmul(np.matmul(a_h, x), a_w.T)


def adaptive_avg_pool2d_backward(grad_out, x, output_size):
    """Gradient of :func:`adaptive_avg_pool2d` with respect to ``x``.

    The forward is linear, ``out = A_h @ x @ A_w.T``, so ``grad_x = A_h.T @ grad_out @ A_w``:
    each pixel gets ``grad_out / window size`` from every window that contains it.

    Args:
        grad_out: gradient with respect to the output, ``(N, C, OH, OW)``.
        x, output_size: as given to :func:`adaptive_avg_pool2d`.

    Shape:
        ``grad_out (N, C, OH, OW) -> grad_x (N, C, H, W)``.

    Returns:
        ``grad_x``.

    Example:
        >>> adaptive_avg_pool2d_backward(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 2, 2)), 1)[0, 0]
        array([[0.25, 0.25],
               [0.25, 0.25]])
    """
    x = as_float_array(x, "x")
    a_h, a_w = _adaptive_matrices(x.shape, output_size, x.dtype)
    expected = x.shape[:2] + (a_h.shape[0], a_w.shape[0])
    grad_out = check_grad_out(grad_out, expected, "adaptive_avg_pool2d", x.dtype)
    return np.matmul(np.matmul(a_h.T, grad_out), a_w)

"""Fully connected (linear, dense) layer in NumPy: forward and backward, side by side.

Mirrors ``torch.nn.functional.linear``: ``weight`` has layout ``(out_features, in_features)``,
so the layer computes ``x @ weight.T + bias``. ``x`` may have any number of leading axes
(``(N, in_features)`` for a batch, ``(N, T, in_features)``, or a single ``(in_features,)``
vector); every leading position is transformed independently.
"""
from __future__ import annotations

import numpy as np  # noqa: F401  (used by the docstring examples)

from ..shapes import check_linear_args
from ._arrays import as_float_array, check_grad_out, common_float_dtype

__all__ = ["linear", "linear_backward"]


def _checked(x, weight, bias):
    """Convert and validate the arguments shared by ``linear`` and ``linear_backward``."""
    x = as_float_array(x, "x")
    weight = as_float_array(weight, "weight")
    bias = None if bias is None else as_float_array(bias, "bias")
    check_linear_args(x.shape, weight.shape, None if bias is None else bias.shape)
    return x, weight, bias


def linear(x, weight, bias=None):
    """Affine map of the last axis: ``out = x @ weight.T + bias``.

    Formula (for each leading index ``n``)::

        out[n, o] = sum_i x[n, i] * weight[o, i] + bias[o]

    Args:
        x: input of shape ``(*, in_features)``.
        weight: weights of shape ``(out_features, in_features)``, one row per output.
        bias: optional ``(out_features,)``. Default: ``None`` (no bias).

    Shape:
        ``(*, in_features) -> (*, out_features)``.

    Returns:
        ``np.ndarray`` in the common float dtype of the arguments (float32 stays float32).

    Example:
        >>> linear(np.ones((2, 3)), np.ones((4, 3)), np.zeros(4)).shape
        (2, 4)
    """
    x, weight, bias = _checked(x, weight, bias)
    out = x @ weight.T
    if bias is not None:
        out = out + bias
    return out


def linear_backward(grad_out, x, weight, bias=None):
    """Gradients of :func:`linear` with respect to ``x``, ``weight`` and ``bias``.

    Formulas (leading axes of ``x`` flattened into one axis ``n``)::

        grad_x[n, i]      = sum_o grad_out[n, o] * weight[o, i]     (grad_out @ weight)
        grad_weight[o, i] = sum_n grad_out[n, o] * x[n, i]          (grad_out.T @ x)
        grad_bias[o]      = sum_n grad_out[n, o]

    Args:
        grad_out: gradient of the loss with respect to ``linear``'s output, ``(*, out_features)``.
        x, weight, bias: the arguments the forward pass was called with.

    Shape:
        ``grad_x`` like ``x``, ``grad_weight`` like ``weight``, ``grad_bias`` like ``bias``.

    Returns:
        ``(grad_x, grad_weight, grad_bias)``; ``grad_bias`` is ``None`` when ``bias`` is ``None``.

    Example:
        >>> gx, gw, gb = linear_backward(np.ones((2, 4)), np.ones((2, 3)), np.ones((4, 3)), np.zeros(4))
        >>> gx.shape, gw.shape, gb.shape
        ((2, 3), (4, 3), (4,))
    """
    x, weight, bias = _checked(x, weight, bias)
    out_features, in_features = weight.shape
    dtype = common_float_dtype(x, weight, bias)
    grad_out = check_grad_out(grad_out, x.shape[:-1] + (out_features,), "linear", dtype)
    grad_x = (grad_out @ weight).astype(dtype, copy=False)
    rows = grad_out.reshape(-1, out_features)  # (N, out_features), all leading axes as one
    grad_weight = (rows.T @ x.reshape(-1, in_features)).astype(dtype, copy=False)
    grad_bias = None if bias is None else rows.sum(axis=0)
    return grad_x, grad_weight, grad_bias

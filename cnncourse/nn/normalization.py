"""Batch normalisation in NumPy: ``BatchNorm2d`` (images) and ``BatchNorm1d`` (feature rows).

Each channel ``c`` is normalised with the mean and variance of its ``m`` values in the batch
(over ``N, H, W`` for images), then scaled and shifted by learned ``weight`` and ``bias``::

    x_hat = (x - mean) / sqrt(var + eps)          (var: the biased variance, divided by m)
    out   = weight * x_hat + bias

In training the batch's statistics are used, and running averages are updated for evaluation
(``running = (1 - momentum) * running + momentum * batch``; the running variance uses the
unbiased ``var * m / (m - 1)``; with ``momentum=None``, a plain average of all batches).
In evaluation (``model.eval()``) the running averages are used instead. The backward::

    grad_bias   = sum of grad_out
    grad_weight = sum of grad_out * x_hat
    grad_x      = weight / sqrt(var + eps) * (grad_out - mean(grad_out) - x_hat * mean(grad_out * x_hat))
                  (training; in evaluation the statistics are constants: weight / sqrt(var + eps) * grad_out)

with the sums and means over the same ``m`` values per channel.
"""
from __future__ import annotations

import numpy as np

from ..numpy_ops._arrays import check_grad_out
from ._checks import check_option, layer_input
from .conv import parameter_dtype
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    """What ``BatchNorm1d`` and ``BatchNorm2d`` share; they differ in the input's axes."""

    _ndims: tuple = ()
    _layout = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None, *, bias=True):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) \
                or num_features <= 0:
            raise ValueError(f"num_features must be a positive int (the number of channels); "
                             f"got num_features={num_features!r}")
        self.num_features = int(num_features)
        self.eps = check_option("eps", eps, 0.0, np.inf, (False, True))
        self.momentum = None if momentum is None else check_option("momentum", momentum, 0.0, 1.0)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self._bias_flag = bool(affine and bias)
        dtype = parameter_dtype(dtype)
        self.weight = Parameter(np.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype=dtype)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None
        self._dtype = dtype

    def reset_running_stats(self) -> None:
        """Forget the running averages (mean 0, variance 1, no batch seen)."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def _axes_and_shape(self, x):
        """The axes reduced over (all but the channel axis 1) and the shape of a per-channel
        array that broadcasts against ``x``."""
        axes = (0,) + tuple(range(2, x.ndim))
        return axes, (1, self.num_features) + (1,) * (x.ndim - 2)

    def forward(self, x):
        """Normalise each channel; keeps ``x_hat`` and ``1/sqrt(var + eps)`` for backward."""
        x = layer_input(self, x, self._ndims, self._layout,
                        self.weight.dtype if self.affine else self._dtype)
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r} expects {self.num_features} channels, x of shape (N, "
                f"{self.num_features}, ...), but got x.shape={x.shape}: the layer before it gives "
                f"{x.shape[1]} channels. Fix: {type(self).__name__}({x.shape[1]}).")
        axes, shape = self._axes_and_shape(x)
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            m = x.size // self.num_features
            if m <= 1 and self.training:
                raise ValueError(f"{self!r} needs more than 1 value per channel in training; got "
                                 f"x.shape={x.shape} (use a batch of at least 2)")
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            if self.training and self.track_running_stats:
                self._update_running_stats(mean, var, m)
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype, copy=False)
        x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
        self._kept = (x_hat, inv_std, use_batch, axes, shape)
        out = x_hat * self.weight.data.reshape(shape) if self.affine else x_hat.copy()
        if self.bias is not None:
            out += self.bias.data.reshape(shape)
        return out

    def _update_running_stats(self, mean, var, m):
        self.num_batches_tracked += 1
        momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean *= 1 - momentum
        self.running_mean += momentum * mean
        self.running_var *= 1 - momentum
        self.running_var += momentum * var * (m / (m - 1))

    def backward(self, grad_out, input_grad=True):
        """Add ``grad_weight`` and ``grad_bias`` to ``.grad``; return ``grad_x``."""
        x_hat, inv_std, use_batch, axes, shape = self._kept
        grad_out = check_grad_out(grad_out, x_hat.shape, type(self).__name__, x_hat.dtype)
        if self.affine:
            self.weight.grad += (grad_out * x_hat).sum(axis=axes)
        if self.bias is not None:
            self.bias.grad += grad_out.sum(axis=axes)
        if not input_grad:
            return None
        scale = inv_std * (self.weight.data if self.affine else 1)
        if not use_batch:                       # evaluation: mean and var are constants
            return grad_out * scale.reshape(shape)
        grad_hat = grad_out - grad_out.mean(axis=axes).reshape(shape)
        grad_hat -= x_hat * (grad_out * x_hat).mean(axis=axes).reshape(shape)
        return grad_hat * scale.reshape(shape)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self._bias_flag}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images, per channel over ``N, H, W`` (``torch.nn.BatchNorm2d``).

    Args:
        num_features: ``C``, channels of the input.
        eps: added to the variance. Default: 1e-5.
        momentum: weight of the new batch in the running averages; None for a plain average.
            Default: 0.1.
        affine: learn ``weight`` (ones at first) and ``bias`` (zeros). Default: True.
        track_running_stats: keep running averages for evaluation. Default: True.
        dtype: dtype of the parameters and running statistics. Default: ``np.float32``.
        bias: (keyword) learn the bias when ``affine``. Default: True.

    Shape:
        ``(N, C, H, W) -> (N, C, H, W)``.

    Example:
        >>> bn = BatchNorm2d(3)
        >>> out = bn(np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2))
        >>> out.mean(axis=(0, 2, 3)).round(6).tolist(), [round(float(m), 3) for m in bn.running_mean]
        ([0.0, 0.0, 0.0], [0.75, 1.15, 1.55])
    """

    _ndims, _layout = 4, "(N, C, H, W)"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of feature rows, per feature over the batch
    (``torch.nn.BatchNorm1d``); the arguments are those of :class:`BatchNorm2d`.

    Shape:
        ``(N, C) -> (N, C)`` or ``(N, C, L) -> (N, C, L)``.

    Example:
        >>> BatchNorm1d(2)(np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32)).round(4)
        array([[-1., -1.],
               [ 1.,  1.]], dtype=float32)
    """

    _ndims, _layout = (2, 3), "(N, C) or (N, C, L)"

"""``Linear`` (fully connected) and ``Flatten`` layers in NumPy, forward and backward side by side.

``Linear`` computes :func:`cnncourse.numpy_ops.linear`, ``out = x @ weight.T + bias``, and keeps
``x``, because its backward needs it::

    grad_x      = grad_out @ weight
    grad_weight = grad_out.T @ x          (summed over the batch)
    grad_bias   = grad_out summed over the batch

``Flatten`` turns ``(N, C, H, W)`` images into ``(N, C*H*W)`` rows for the first ``Linear``
layer; its backward puts the gradient back into the input's shape.
"""
from __future__ import annotations

import numpy as np

from ..numpy_ops._arrays import check_grad_out
from ..shapes import check_dim
from ._checks import layer_input
from .conv import parameter_dtype
from .init import default_init_
from .module import Module, Parameter

__all__ = ["Linear", "Flatten", "Identity"]


class Linear(Module):
    """Fully connected layer: ``out = x @ weight.T + bias`` (``torch.nn.Linear`` in NumPy).

    Formula::

        out[n, o] = sum over i of x[n, i] * weight[o, i] + bias[o]

    Args:
        in_features: size of each input row.
        out_features: size of each output row.
        bias: learn a bias. Default: True.
        dtype: dtype of the parameters. Default: None, meaning ``np.float32``.

    Shape:
        ``(*, in_features) -> (*, out_features)``; ``weight`` is ``(out_features, in_features)``
        and ``bias`` ``(out_features,)``, both drawn from ``U(-1/sqrt(in_features),
        1/sqrt(in_features))`` as in torch.

    Example:
        >>> fc = Linear(256, 10)
        >>> fc
        Linear(in_features=256, out_features=10, bias=True)
        >>> fc(np.zeros((4, 256), dtype=np.float32)).shape
        (4, 10)
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be a non-negative int; got {name}={value!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = parameter_dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        self.bias = Parameter(np.empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw new weights and biases the way ``torch.nn.Linear`` does."""
        default_init_(self.weight.data, None if self.bias is None else self.bias.data)

    def forward(self, x):
        """``x @ weight.T + bias``; keeps ``x`` for :meth:`backward`."""
        x = layer_input(self, x, dtype=self.weight.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            got = x.shape[-1] if x.ndim else "no"
            raise ValueError(
                f"{self!r} expects inputs of shape (N, {self.in_features}), {self.in_features} "
                f"features each, but got x.shape={x.shape}: the layer before it gives {got} "
                f"features. Fix: Linear({got}, {self.out_features})"
                + (", or flatten the images first (Flatten())" if x.ndim > 2 else "")
                + ", or change the layer before.")
        self._input = x
        out = x @ self.weight.data.T
        if self.bias is not None:
            out += self.bias.data
        return out

    def backward(self, grad_out, input_grad=True):
        """Add ``grad_weight`` and ``grad_bias`` to the parameters' ``.grad``; return ``grad_x``
        (or ``None`` with ``input_grad=False``)."""
        x = self._input
        grad_out = check_grad_out(grad_out, x.shape[:-1] + (self.out_features,), "Linear",
                                  self.weight.dtype)
        rows = grad_out.reshape(-1, self.out_features)           # every leading axis as one
        self.weight.grad += rows.T @ x.reshape(-1, self.in_features)
        if self.bias is not None:
            self.bias.grad += rows.sum(axis=0)
        return grad_out @ self.weight.data if input_grad else None

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flatten axes ``start_dim..end_dim`` into one (``torch.nn.Flatten`` in NumPy).

    Args:
        start_dim: first axis to flatten. Default: 1 (keep the batch axis).
        end_dim: last axis to flatten. Default: -1.

    Shape:
        ``(N, C, H, W) -> (N, C*H*W)`` with the defaults.

    Example:
        >>> flat = Flatten()
        >>> flat(np.zeros((2, 16, 4, 4))).shape, flat.backward(np.zeros((2, 256))).shape
        ((2, 256), (2, 16, 4, 4))
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        """``x`` with the axes ``start_dim..end_dim`` merged (row-major, as torch)."""
        x = np.asarray(x)
        self._input = x
        if x.ndim == 0:
            return x.reshape(1)
        start, end = check_dim(x.ndim, self.start_dim), check_dim(x.ndim, self.end_dim)
        if start > end:
            raise ValueError(f"{self!r}: start_dim must not come after end_dim for a "
                             f"{x.ndim}-D input of shape {x.shape}")
        return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])

    def backward(self, grad_out, input_grad=True):
        """``grad_out`` in the shape of the input (and its memory order, which the layers
        before prefer: see :mod:`cnncourse.nn.conv`)."""
        grad_x = np.empty_like(self._input, dtype=np.asarray(grad_out).dtype)
        grad_x[...] = np.asarray(grad_out).reshape(self._input.shape)
        return grad_x

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Passes its input through unchanged (``torch.nn.Identity``), e.g. to switch a layer off.

    Example:
        >>> Identity()(np.ones(2)), Identity().backward(np.ones(2))
        (array([1., 1.]), array([1., 1.]))
    """

    def forward(self, x):
        return x

    def backward(self, grad_out, input_grad=True):
        return grad_out

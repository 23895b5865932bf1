"""Loss functions for the NumPy models: ``CrossEntropyLoss`` and ``MSELoss``.

A loss is where the backward pass starts. It is called like torch's, ``loss = criterion(logits,
target)``, but returns a plain Python ``float``; then ``criterion.backward()`` gives the gradient
of that loss with respect to its first argument, which ``model.backward`` sends back through
the layers::

    loss = criterion(model(x), y)
    model.backward(criterion.backward())
"""
from __future__ import annotations

import numpy as np

from ..numpy_ops import cross_entropy, cross_entropy_backward
from ..numpy_ops._arrays import as_float_array, check_grad_out
from ..shapes import check_label_smoothing, check_reduction
from .module import Module

__all__ = ["CrossEntropyLoss", "MSELoss"]


class _Loss(Module):
    """A loss takes two arguments and remembers them for :meth:`backward`."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = check_reduction(reduction)

    def __call__(self, input, target):
        return self.forward(input, target)

    def _result(self, loss):
        """A Python float, or the per-example array for ``reduction="none"``."""
        return loss if self.reduction == "none" else float(loss)

    def _grad_scale(self, grad_out, shape, dtype):
        """``grad_out`` (default 1) shaped to multiply a per-element gradient."""
        if grad_out is None:
            return 1.0
        if self.reduction != "none":
            return float(grad_out)
        return check_grad_out(grad_out, shape, type(self).__name__, dtype)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of raw scores and class indices (``torch.nn.CrossEntropyLoss``).

    Formula (:func:`cnncourse.numpy_ops.cross_entropy`; ``e = label_smoothing``)::

        loss_n = (1 - e) * (-log softmax(logits[n])[target[n]]) + e * mean_k(-log softmax(logits[n])[k])
        loss   = mean_n loss_n                 (reduction="mean"; "sum" adds, "none" keeps them)
        grad   = (softmax(logits) - q) / N     (q: the one-hot target, smoothed by e)

    Args:
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"``.
        label_smoothing: share of the target spread evenly over the classes, in ``[0, 1]``.
            Default: 0.0.

    Shape:
        ``logits (N, K)``, ``target (N,)`` integer class indices in ``[0, K-1]``.

    Example:
        >>> criterion = CrossEntropyLoss()
        >>> criterion(np.zeros((2, 4)), np.array([0, 3]))      # log(4), a Python float
        1.3862943611198906
        >>> criterion.backward()
        array([[-0.375,  0.125,  0.125,  0.125],
               [ 0.125,  0.125,  0.125, -0.375]])
    """

    def __init__(self, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        self.label_smoothing = check_label_smoothing(label_smoothing)

    def forward(self, logits, target):
        """The loss (a float; per example for ``"none"``); keeps both arguments for backward."""
        self._logits, self._target = as_float_array(logits, "logits"), np.asarray(target)
        return self._result(cross_entropy(self._logits, self._target, reduction=self.reduction,
                                          label_smoothing=self.label_smoothing))

    def backward(self, grad_out=None):
        """The gradient of the last loss with respect to ``logits``, ``(N, K)``; times
        ``grad_out`` if given (a number, or ``(N,)`` for ``reduction="none"``)."""
        grad = cross_entropy_backward(self._logits, self._target, reduction=self.reduction,
                                      label_smoothing=self.label_smoothing)
        scale = self._grad_scale(grad_out, self._logits.shape[:1], grad.dtype)
        return grad * (scale[:, None] if isinstance(scale, np.ndarray) else scale)

    def extra_repr(self) -> str:
        return ""


class MSELoss(_Loss):
    """Mean squared error (``torch.nn.MSELoss``): ``mean((input - target)**2)``.

    Formula (``M`` elements)::

        loss = (1/M) * sum (input - target)**2,    grad_input = 2 * (input - target) / M

    Args:
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"`` (element-wise).

    Shape:
        ``input`` and ``target`` of the same shape.

    Example:
        >>> mse = MSELoss()
        >>> mse(np.array([1.0, 3.0]), np.array([0.0, 0.0])), mse.backward()
        (5.0, array([1., 3.]))
    """

    def forward(self, input, target):
        """The loss (a float; element-wise for ``"none"``); keeps the difference for backward."""
        input, target = as_float_array(input, "input"), as_float_array(target, "target")
        if input.shape != target.shape:
            raise ValueError(
                f"MSELoss needs input and target of the same shape (one target per output); got "
                f"input.shape={input.shape} and target.shape={target.shape}")
        self._diff = input - target
        squared = self._diff ** 2
        if self.reduction == "mean":
            return float(squared.mean())
        return float(squared.sum()) if self.reduction == "sum" else squared

    def backward(self, grad_out=None):
        """The gradient of the last loss with respect to ``input``."""
        grad = 2 * self._diff
        if self.reduction == "mean":
            grad /= self._diff.size
        scale = self._grad_scale(grad_out, self._diff.shape, grad.dtype)
        return grad * scale

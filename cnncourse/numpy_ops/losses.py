"""Loss functions in NumPy: cross-entropy for classification, forward and backward.

Mirrors ``torch.nn.functional.cross_entropy`` with its defaults: ``logits`` of shape
``(N, num_classes)`` (raw scores, *not* probabilities), integer class ``target`` of shape
``(N,)``, and the mean of the per-example losses over the batch.
"""
from __future__ import annotations

import numpy as np

from ..shapes import check_cross_entropy_args
from ._arrays import as_float_array
from .activations import log_softmax, softmax

__all__ = ["cross_entropy", "cross_entropy_backward"]


def _checked(logits, target):
    """Convert and validate ``logits`` (float) and ``target`` (integer class indices)."""
    logits = as_float_array(logits, "logits")
    target = np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"target must hold integer class indices (e.g. int64); got dtype {target.dtype}. "
            f"For float labels use target.astype(np.int64); for one-hot rows use target.argmax(1)."
        )
    values = (int(target.min()), int(target.max())) if target.size else None
    check_cross_entropy_args(logits.shape, target.shape, values)
    return logits, target


def cross_entropy(logits, target):
    """Mean softmax cross-entropy: ``-mean_n log(softmax(logits[n])[target[n]])``.

    Formula (``K`` classes, ``y_n = target[n]``)::

        loss = (1/N) * sum_n ( logsumexp(logits[n]) - logits[n, y_n] )

    computed with :func:`log_softmax`, so large logits do not overflow.

    Args:
        logits: raw class scores, ``(N, num_classes)``.
        target: integer class indices, ``(N,)``, each in ``[0, num_classes - 1]``.

    Shape:
        ``(N, K), (N,) -> ()`` (a scalar).

    Returns:
        The mean loss as a NumPy scalar of the logits' dtype.

    Example:
        >>> float(cross_entropy(np.zeros((2, 4)), np.array([0, 3])))  # log(4)
        1.3862943611198906
    """
    logits, target = _checked(logits, target)
    N = logits.shape[0]
    return -log_softmax(logits, dim=1)[np.arange(N), target].mean()


def cross_entropy_backward(logits, target):
    """Gradient of :func:`cross_entropy` (the batch mean) with respect to ``logits``.

    Formula::

        grad_logits = (softmax(logits) - one_hot(target)) / N

    Args:
        logits, target: the arguments the forward pass was called with.

    Shape:
        ``(N, K)``, like ``logits``.

    Returns:
        ``grad_logits``.

    Example:
        >>> cross_entropy_backward(np.zeros((1, 2)), np.array([0]))
        array([[-0.5,  0.5]])
    """
    logits, target = _checked(logits, target)
    N = logits.shape[0]
    grad = softmax(logits, dim=1)
    grad[np.arange(N), target] -= 1
    return grad / N

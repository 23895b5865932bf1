"""Loss functions in NumPy: cross-entropy for classification, forward and backward.

Mirrors ``torch.nn.functional.cross_entropy``: ``logits`` of shape ``(N, num_classes)`` (raw
scores, *not* probabilities), integer class ``target`` of shape ``(N,)``; by default the mean
of the per-example losses over the batch (``reduction="sum"`` or ``"none"`` otherwise), and
optionally label smoothing.
"""
from __future__ import annotations

import numpy as np

from ..shapes import check_cross_entropy_args, check_label_smoothing, check_reduction
from ._arrays import as_float_array
from .activations import log_softmax, softmax

__all__ = ["cross_entropy", "cross_entropy_backward"]


def _checked(logits, target, reduction="mean", label_smoothing=0.0):
    """Convert and validate ``logits`` (float), ``target`` (integer class indices) and the
    options; return all four."""
    logits = as_float_array(logits, "logits")
    target = np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"target must hold integer class indices (e.g. int64); got dtype {target.dtype}. "
            f"For float labels use target.astype(np.int64); for one-hot rows use target.argmax(1)."
        )
    values = (int(target.min()), int(target.max())) if target.size else None
    check_cross_entropy_args(logits.shape, target.shape, values)
    return logits, target, check_reduction(reduction), check_label_smoothing(label_smoothing)


def _reduce(per_example, reduction):
    """The batch mean, the sum, or (``"none"``) the per-example values themselves."""
    if reduction == "mean":
        return per_example.mean()
    return per_example.sum() if reduction == "sum" else per_example


def cross_entropy(logits, target, *, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy: ``-log(softmax(logits[n])[target[n]])``, averaged over the batch.

    Formula (``K`` classes, ``y_n = target[n]``, ``e = label_smoothing``)::

        loss_n = logsumexp(logits[n]) - logits[n, y_n]                  (e = 0)
        loss_n = (1 - e) * (-log p[n, y_n]) + e * mean_k(-log p[n, k])  (p = softmax(logits))
        loss   = (1/N) * sum_n loss_n                                   (reduction="mean")

    computed with :func:`log_softmax`, so large logits do not overflow.

    Args:
        logits: raw class scores, ``(N, num_classes)``.
        target: integer class indices, ``(N,)``, each in ``[0, num_classes - 1]``.
        reduction: ``"mean"`` (default), ``"sum"``, or ``"none"`` for the ``(N,)`` losses.
        label_smoothing: share ``e`` of the target spread evenly over the ``K`` classes: the
            target distribution is ``(1 - e) * one_hot + e / K``. Default: 0.0.

    Shape:
        ``(N, K), (N,) -> ()`` (a scalar), or ``(N,)`` with ``reduction="none"``.

    Returns:
        The loss as a NumPy scalar (or array) of the logits' dtype.

    Example:
        >>> float(cross_entropy(np.zeros((2, 4)), np.array([0, 3])))  # log(4)
        1.3862943611198906
    """
    logits, target, reduction, smoothing = _checked(logits, target, reduction, label_smoothing)
    log_p = log_softmax(logits, dim=1)
    per_example = -log_p[np.arange(logits.shape[0]), target]
    if smoothing:
        per_example = (1 - smoothing) * per_example - smoothing * log_p.mean(axis=1)
    return _reduce(per_example, reduction)


def cross_entropy_backward(logits, target, *, reduction="mean", label_smoothing=0.0):
    """Gradient of :func:`cross_entropy` with respect to ``logits``.

    Formula (``q`` the target distribution, one-hot unless smoothed)::

        grad_logits = (softmax(logits) - q) / N     (reduction="mean"; no "/ N" otherwise)

    With ``reduction="none"`` row ``n`` is the gradient of ``loss_n`` alone.

    Args:
        logits, target, reduction, label_smoothing: as passed to :func:`cross_entropy`.

    Shape:
        ``(N, K)``, like ``logits``.

    Returns:
        ``grad_logits``.

    Example:
        >>> cross_entropy_backward(np.zeros((1, 2)), np.array([0]))
        array([[-0.5,  0.5]])
    """
    logits, target, reduction, smoothing = _checked(logits, target, reduction, label_smoothing)
    N, K = logits.shape
    grad = softmax(logits, dim=1)
    if smoothing:
        grad -= smoothing / K
    grad[np.arange(N), target] -= 1 - smoothing
    return grad / N if reduction == "mean" else grad

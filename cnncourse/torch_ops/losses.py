"""Cross-entropy loss with PyTorch tensor operations, differentiated by autograd.

The same computation as :func:`cnncourse.numpy_ops.cross_entropy`: raw ``logits`` of shape
``(N, num_classes)``, integer class ``target`` of shape ``(N,)``, mean over the batch (or
``reduction="sum"``/``"none"``), optional label smoothing.
``torch.nn.functional.cross_entropy`` is *not* used; it is only the oracle in the tests.
"""
from __future__ import annotations

import torch

from ..shapes import check_cross_entropy_args, check_label_smoothing, check_reduction
from .activations import log_softmax, softmax
from .device import check_compatible

__all__ = ["cross_entropy", "cross_entropy_backward"]


def cross_entropy(logits, target, *, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy: ``-log_softmax(logits)[n, target[n]]``, averaged over the batch.

    Formula (``y_n = target[n]``, ``e = label_smoothing``, ``p = softmax(logits)``)::

        loss_n = (1 - e) * (-log p[n, y_n]) + e * mean_k(-log p[n, k])
        loss   = (1/N) * sum_n loss_n                                   (reduction="mean")

    Args:
        logits: raw class scores, ``(N, num_classes)``, floating point.
        target: integer class indices, ``(N,)``, each in ``[0, num_classes - 1]``, on the
            same device as ``logits``.
        reduction: ``"mean"`` (default), ``"sum"``, or ``"none"`` for the ``(N,)`` losses.
        label_smoothing: share of the target spread evenly over the classes. Default: 0.0.

    Shape:
        ``(N, K), (N,) -> ()`` (a 0-D tensor), or ``(N,)`` with ``reduction="none"``.

    Returns:
        The loss; call ``.backward()`` on it for the gradients.

    Example:
        >>> float(cross_entropy(torch.zeros(2, 4), torch.tensor([0, 3])))  # log(4)
        1.3862943649291992
    """
    reduction, smoothing = _check_args(logits, target, reduction, label_smoothing)
    rows = torch.arange(logits.shape[0], device=logits.device)
    log_p = log_softmax(logits, dim=1)
    per_example = -log_p[rows, target.long()]
    if smoothing:
        per_example = (1 - smoothing) * per_example - smoothing * log_p.mean(dim=1)
    if reduction == "mean":
        return per_example.mean()
    return per_example.sum() if reduction == "sum" else per_example


def _check_args(logits, target, reduction, label_smoothing):
    """Check the arguments; return ``(reduction, label_smoothing)``."""
    check_compatible(logits=logits)
    if not isinstance(target, torch.Tensor):
        raise TypeError(
            f"target must be a torch.Tensor of class indices; got {type(target).__name__}. "
            f"Convert it with torch.as_tensor(target, dtype=torch.long)."
        )
    if target.dtype.is_floating_point or target.dtype.is_complex or target.dtype == torch.bool:
        raise TypeError(
            f"target must hold integer class indices (e.g. torch.long); got dtype {target.dtype}. "
            f"For float labels use target.long(); for one-hot rows use target.argmax(1)."
        )
    if target.device != logits.device:
        raise ValueError(
            f"logits and target must be on the same device: logits is on {logits.device} but "
            f"target is on {target.device}. Move it, e.g. target = target.to(logits.device)."
        )
    values = (int(target.min()), int(target.max())) if target.numel() else None
    check_cross_entropy_args(tuple(logits.shape), tuple(target.shape), values)
    return check_reduction(reduction), check_label_smoothing(label_smoothing)


def cross_entropy_backward(logits, target, *, reduction="mean", label_smoothing=0.0):
    """Gradient of :func:`cross_entropy` with respect to ``logits``, by hand.

    Formula (``q`` the target distribution, one-hot unless smoothed)::

        grad_logits = (softmax(logits) - q) / N     (reduction="mean"; no "/ N" otherwise)

    Args:
        logits, target, reduction, label_smoothing: as passed to :func:`cross_entropy`.

    Shape:
        ``(N, K)``, like ``logits``.

    Returns:
        ``grad_logits``.

    Example:
        >>> cross_entropy_backward(torch.zeros(1, 2), torch.tensor([0]))
        tensor([[-0.5000,  0.5000]])
    """
    reduction, smoothing = _check_args(logits, target, reduction, label_smoothing)
    N, K = logits.shape
    grad = softmax(logits, dim=1).clone()
    if smoothing:
        grad -= smoothing / K
    grad[torch.arange(N, device=logits.device), target.long()] -= 1 - smoothing
    return grad / N if reduction == "mean" else grad

"""Cross-entropy loss with PyTorch tensor operations, differentiated by autograd.

The same computation as :func:`cnncourse.numpy_ops.cross_entropy`: raw ``logits`` of shape
``(N, num_classes)``, integer class ``target`` of shape ``(N,)``, mean over the batch.
``torch.nn.functional.cross_entropy`` is *not* used; it is only the oracle in the tests.
"""
from __future__ import annotations

import torch

from ..shapes import check_cross_entropy_args
from .activations import log_softmax, softmax
from .device import check_compatible

__all__ = ["cross_entropy", "cross_entropy_backward"]


def cross_entropy(logits, target):
    """Mean softmax cross-entropy: ``-mean_n log_softmax(logits)[n, target[n]]``.

    Formula (``y_n = target[n]``)::

        loss = (1/N) * sum_n ( logsumexp(logits[n]) - logits[n, y_n] )

    Args:
        logits: raw class scores, ``(N, num_classes)``, floating point.
        target: integer class indices, ``(N,)``, each in ``[0, num_classes - 1]``, on the
            same device as ``logits``.

    Shape:
        ``(N, K), (N,) -> ()`` (a 0-D tensor).

    Returns:
        The mean loss, a 0-D tensor; call ``.backward()`` on it for the gradients.

    Example:
        >>> float(cross_entropy(torch.zeros(2, 4), torch.tensor([0, 3])))  # log(4)
        1.3862943649291992
    """
    _check_args(logits, target)
    rows = torch.arange(logits.shape[0], device=logits.device)
    return -log_softmax(logits, dim=1)[rows, target.long()].mean()


def _check_args(logits, target) -> None:
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


def cross_entropy_backward(logits, target):
    """Gradient of :func:`cross_entropy` (the batch mean) with respect to ``logits``, by hand.

    Formula::

        grad_logits = (softmax(logits) - one_hot(target)) / N

    Args:
        logits, target: the arguments the forward pass was called with.

    Shape:
        ``(N, K)``, like ``logits``.

    Returns:
        ``grad_logits``.

    Example:
        >>> cross_entropy_backward(torch.zeros(1, 2), torch.tensor([0]))
        tensor([[-0.5000,  0.5000]])
    """
    _check_args(logits, target)
    N = logits.shape[0]
    grad = softmax(logits, dim=1).clone()
    grad[torch.arange(N, device=logits.device), target.long()] -= 1
    return grad / N

"""Input-gradient saliency: which pixels would change the class score most if nudged.

Formula, for image ``x`` (``C, H, W``) and the score ``s_c(x)`` of class ``c``::

    saliency[i, j] = max over channels k of | d s_c / d x[k, i, j] |

(Simonyan, Vedaldi & Zisserman 2014, "Deep inside convolutional networks"). The score is the
model's output before any softmax. One backward pass explains a whole batch, because image
``n``'s score depends on image ``n`` only (true for a model in ``eval()`` mode; batch norm in
training mode mixes images, so call ``model.eval()`` first).
"""
from __future__ import annotations

import numpy as np
import torch

from ._common import as_batch, resolve_targets

__all__ = ["saliency"]

_REDUCE = ("max", "abs", "none")


def saliency(model: torch.nn.Module, x, target=None, reduce: str = "max") -> np.ndarray:
    """The input-gradient saliency map of each image for one class.

    Args:
        model: a torch module mapping ``(N, C, H, W)`` to class scores ``(N, K)``. Used as is
            (call ``model.eval()`` first); its parameter gradients are not touched.
        x: ``(C, H, W)`` or ``(N, C, H, W)``, NumPy or tensor; moved to the model's device and dtype.
        target: class to explain: ``None`` (default, each image's predicted class), an int, or
            one int per image.
        reduce: ``"max"`` (default): max of ``|gradient|`` over channels, one ``(H, W)`` map;
            ``"abs"``: ``|gradient|`` per channel; ``"none"``: the signed gradient.

    Shape:
        ``(N, H, W)`` for ``reduce="max"``, else ``(N, C, H, W)``; the batch axis is dropped
        when ``x`` was one image.

    Returns:
        The map(s) as a float NumPy array (on the CPU).

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> saliency(model, torch.ones(1, 2, 2), target=1).shape
        (2, 2)
    """
    if reduce not in _REDUCE:
        raise ValueError(f"reduce must be one of {_REDUCE}, got {reduce!r}")
    xb, single = as_batch(model, x)
    xb.requires_grad_(True)
    with torch.enable_grad():
        scores = model(xb)
        t = resolve_targets(scores, target)
        picked = scores.gather(1, t[:, None]).sum()
        (grad,) = torch.autograd.grad(picked, xb)
    if reduce == "max":
        out = grad.abs().amax(dim=1)
    elif reduce == "abs":
        out = grad.abs()
    else:
        out = grad
    out = out.detach().cpu().numpy()
    return out[0] if single else out

"""Shared argument checks for the explanation methods (batch shape, class index, device)."""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["as_batch", "resolve_targets", "model_device"]


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of the model's first parameter (CPU for a model without parameters)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def as_batch(model: torch.nn.Module, x) -> tuple[torch.Tensor, bool]:
    """``x`` as an ``(N, C, H, W)`` tensor on the model's device and dtype; also whether it was one image.

    Accepts a NumPy array or tensor of shape ``(C, H, W)`` (one image) or ``(N, C, H, W)``.
    """
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"x must be one image (C, H, W) or a batch (N, C, H, W), got shape {tuple(x.shape)}: "
            f"add the channel axis for a gray image, e.g. x[None] for (H, W) -> (1, H, W).")
    single = x.ndim == 3
    if single:
        x = x[None]
    dtype = next((p.dtype for p in model.parameters()), torch.get_default_dtype())
    return x.detach().to(device=model_device(model), dtype=dtype), single


def resolve_targets(scores: torch.Tensor, target) -> torch.Tensor:
    """The class index to explain for each image: ``target`` checked, or the predicted class.

    Args:
        scores: ``(N, K)`` class scores of the batch.
        target: ``None`` (each image's predicted class), an int (the same class for all) or a
            sequence of ``N`` ints.

    Returns:
        ``(N,)`` int64 tensor on ``scores.device``.
    """
    if scores.ndim != 2:
        raise ValueError(
            f"the model must return class scores of shape (N, K), got shape {tuple(scores.shape)}")
    n, k = scores.shape
    if target is None:
        return scores.argmax(dim=1)
    t = torch.as_tensor(np.asarray(target), dtype=torch.int64).reshape(-1)
    if t.numel() == 1:
        t = t.expand(n)
    if t.numel() != n:
        raise ValueError(f"target has {t.numel()} class indices for a batch of {n} images: "
                         f"give one int, or one per image.")
    bad = [int(v) for v in t if not 0 <= int(v) < k]
    if bad:
        raise ValueError(f"class index {bad[0]} is out of range: the model has {k} classes "
                         f"(indices 0..{k - 1}).")
    return t.to(scores.device)

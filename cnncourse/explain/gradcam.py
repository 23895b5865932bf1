"""Grad-CAM: where in the image the evidence for a class is, seen through one layer's feature maps.

Formula (Selvaraju et al. 2017), for the feature maps ``A`` (``K, h, w``) of a chosen layer and
the score ``s_c`` of class ``c`` (before softmax)::

    alpha_k = (1 / (h*w)) * sum over i, j of d s_c / d A[k, i, j]      # global-average of the gradient
    cam     = ReLU( sum over k of alpha_k * A[k] )                     # (h, w), ReLU at the END

then ``cam`` is upsampled bilinearly to the input's ``H, W``. The ReLU keeps only what speaks
*for* the class; taking it before the weighted sum, or summing instead of averaging the
gradients, are the two usual slips (the second only rescales the map, the first changes it).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ._common import as_batch, resolve_targets

__all__ = ["grad_cam", "grad_cam_weights", "grad_cam_from_maps"]


def grad_cam_weights(grads):
    """The Grad-CAM channel weights: the gradient averaged over the spatial positions.

    Formula: ``alpha[n, k] = mean over i, j of grads[n, k, i, j]``.

    Args:
        grads: ``(N, K, h, w)`` gradients of the class score with respect to the feature maps
            (NumPy array or tensor).

    Shape:
        ``(N, K)``.

    Example:
        >>> import numpy as np
        >>> grad_cam_weights(np.ones((1, 2, 3, 3))).tolist()
        [[1.0, 1.0]]
    """
    if grads.ndim != 4:
        raise ValueError(f"grads must have shape (N, K, h, w), got shape {tuple(grads.shape)}")
    return grads.mean(axis=(2, 3)) if isinstance(grads, np.ndarray) else grads.mean(dim=(2, 3))


def grad_cam_from_maps(maps, grads):
    """The Grad-CAM map from feature maps and the gradient of the class score with respect to them.

    Formula: ``cam[n] = ReLU(sum over k of alpha[n, k] * maps[n, k])``, with ``alpha`` from
    :func:`grad_cam_weights`; no upsampling.

    Args:
        maps, grads: ``(N, K, h, w)``, both NumPy or both tensors.

    Shape:
        ``(N, h, w)``.

    Example:
        >>> import numpy as np
        >>> grad_cam_from_maps(np.ones((1, 2, 2, 2)), -np.ones((1, 2, 2, 2))).tolist()
        [[[0.0, 0.0], [0.0, 0.0]]]
    """
    if tuple(maps.shape) != tuple(grads.shape):
        raise ValueError(f"maps {tuple(maps.shape)} and grads {tuple(grads.shape)} must have the same shape")
    alpha = grad_cam_weights(grads)
    cam = (alpha[:, :, None, None] * maps).sum(1)
    return np.maximum(cam, 0) if isinstance(cam, np.ndarray) else torch.relu(cam)


def _find_layer(model: torch.nn.Module, target_layer) -> torch.nn.Module:
    named = dict(model.named_modules())
    if isinstance(target_layer, str):
        if target_layer not in named or target_layer == "":
            choices = [n for n, m in named.items() if n and isinstance(m, torch.nn.Conv2d)]
            raise ValueError(f"target_layer {target_layer!r} is not a submodule of the model; "
                             f"its convolution layers are {choices} (names from model.named_modules()).")
        return named[target_layer]
    if isinstance(target_layer, torch.nn.Module):
        if not any(m is target_layer for m in named.values()):
            raise ValueError(f"target_layer {type(target_layer).__name__} is not a submodule of this "
                             f"model (a layer of another copy of the model?): pass one of "
                             f"model.named_modules(), or its name as a string.")
        return target_layer
    raise TypeError(f"target_layer must be a module of the model or its name, got {type(target_layer).__name__}")


def grad_cam(model: torch.nn.Module, x, target_layer, target=None, upsample: bool = True) -> np.ndarray:
    """The Grad-CAM map of each image for one class, through the feature maps of ``target_layer``.

    Args:
        model: a torch module mapping ``(N, C, H, W)`` to class scores ``(N, K)``; call
            ``model.eval()`` first. Its parameter gradients are not touched.
        x: ``(C, H, W)`` or ``(N, C, H, W)``, NumPy or tensor; moved to the model's device and dtype.
        target_layer: the layer whose output feature maps ``(N, K, h, w)`` are used (usually the
            last convolution or its ReLU): the submodule itself, or its name in
            ``model.named_modules()`` (e.g. ``"features.3"``).
        target: class to explain: ``None`` (default, predicted class), an int, or one per image.
        upsample: resize the ``(h, w)`` map to the input's ``(H, W)`` bilinearly (default True).

    Shape:
        ``(N, H, W)`` (``(N, h, w)`` without upsampling); no batch axis when ``x`` was one image.

    Returns:
        Non-negative float NumPy array(s) on the CPU; not normalised (divide by ``.max()`` to show).

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(),
        ...                             torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        ...                             torch.nn.Linear(2, 3))
        >>> grad_cam(model, torch.ones(1, 8, 8), "1", target=0).shape
        (8, 8)
    """
    layer = _find_layer(model, target_layer)
    xb, single = as_batch(model, x)
    captured = {}

    def hook(_module, _inputs, output):
        captured["maps"] = output

    handle = layer.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            scores = model(xb)
            if "maps" not in captured:
                raise ValueError("target_layer was not called in the model's forward pass")
            maps = captured["maps"]
            if not torch.is_tensor(maps) or maps.ndim != 4:
                shape = tuple(maps.shape) if torch.is_tensor(maps) else type(maps).__name__
                raise ValueError(f"target_layer must output feature maps (N, K, h, w), got {shape}: "
                                 f"choose a convolution (or its activation/pooling) layer, not one "
                                 f"after the flatten.")
            t = resolve_targets(scores, target)
            picked = scores.gather(1, t[:, None]).sum()
            (grads,) = torch.autograd.grad(picked, maps, allow_unused=True)
    finally:
        handle.remove()
    if grads is None:
        grads = torch.zeros_like(maps)
    cam = grad_cam_from_maps(maps.detach(), grads.detach())
    if upsample:
        cam = F.interpolate(cam[:, None], size=xb.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    cam = cam.cpu().numpy()
    return cam[0] if single else cam

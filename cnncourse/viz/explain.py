"""Pictures for what a network looks at: a saliency or Grad-CAM map laid over its image.

Every function draws on optional matplotlib axes (a new figure when ``None``), returns the axes,
and never calls ``plt.show()``. Images in gray; maps in viridis (reads in grayscale and for
colour-blind readers), normalised to ``[0, 1]`` by their own maximum.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["show_heatmap_overlay", "show_explanations"]


def _gray(image) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
        image = np.moveaxis(image, 0, -1)            # (C, H, W) -> (H, W, C)
    if image.ndim == 3:
        image = image.mean(-1)
    if image.ndim != 2:
        raise ValueError(f"image must be (H, W), (H, W, C) or (C, H, W), got shape {image.shape}")
    return image


def show_heatmap_overlay(image, heatmap, ax=None, alpha: float = 0.5, title: str | None = None,
                         cmap: str = "viridis"):
    """Draw ``image`` in gray with ``heatmap`` (same ``H, W``) laid over it, scaled to ``[0, 1]``.

    Args:
        image: ``(H, W)``, ``(H, W, C)`` or ``(C, H, W)``; colour is averaged to gray.
        heatmap: ``(H, W)`` non-negative map, e.g. from :func:`cnncourse.explain.saliency` or
            :func:`cnncourse.explain.grad_cam`; divided by its maximum (an all-zero map stays 0).
        ax: axes to draw on; default a new figure.
        alpha: opacity of the map (0: image only, 1: map only). Default 0.5.
        title: optional axes title.

    Returns:
        The axes.
    """
    img = _gray(image)
    heat = np.asarray(heatmap, dtype=np.float64)
    if heat.shape != img.shape:
        raise ValueError(f"heatmap shape {heat.shape} must equal the image's (H, W) = {img.shape}: "
                         f"upsample it first (grad_cam(..., upsample=True)).")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    peak = heat.max()
    heat = heat / peak if peak > 0 else np.zeros_like(heat)
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(img, cmap="gray")
    ax.imshow(heat, cmap=cmap, alpha=alpha, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def show_explanations(images, maps, titles=None, axes=None, alpha: float = 0.5):
    """One overlay per image, side by side (see :func:`show_heatmap_overlay`).

    Args:
        images: sequence of ``N`` images; maps: sequence of ``N`` ``(H, W)`` maps.
        titles: optional ``N`` strings. axes: optional ``N`` axes; default a new row of them.

    Returns:
        The array of axes.
    """
    if len(images) != len(maps):
        raise ValueError(f"{len(images)} images but {len(maps)} maps")
    n = len(images)
    if axes is None:
        _, axes = plt.subplots(1, n, figsize=(2.2 * n, 2.4), squeeze=False)
        axes = axes[0]
    axes = np.asarray(axes).reshape(-1)
    for i in range(n):
        show_heatmap_overlay(images[i], maps[i], ax=axes[i], alpha=alpha,
                             title=None if titles is None else titles[i])
    return axes

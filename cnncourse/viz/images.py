"""Plot helpers for images as arrays (lesson 1, "pixels as matrices").

Every function draws on a Matplotlib axis (``ax``) or a sequence of axes (``axes``), creates them
when none are given, returns them, and never calls ``plt.show()``.

Images follow the NumPy/Matplotlib layout: ``(H, W)`` for grayscale, ``(H, W, 3)`` for colour
(height, width, channel). Grayscale images are drawn with the ``gray`` colour map on a fixed
value range (see :func:`display_range`), so a brighter array really looks brighter.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "display_range",
    "show_image",
    "show_images",
    "show_pixel_values",
    "show_channels",
    "show_flattened",
]

#: Largest crop :func:`show_pixel_values` prints numbers into (more cells would be unreadable).
MAX_PRINTED_PIXELS = 32

_CHANNEL_NAMES = ("red", "green", "blue")


def _as_image(img, name: str = "img") -> np.ndarray:
    """Return ``img`` as an array, checking it is ``(H, W)`` or ``(H, W, 3)``."""
    arr = np.asarray(img)
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4)):
        return arr
    raise ValueError(
        f"{name} must be a grayscale image (H, W) or a colour image (H, W, 3) with the channels "
        f"last; got shape {arr.shape}. A channels-first (C, H, W) array can be shown with "
        f"np.transpose({name}, (1, 2, 0))."
    )


def display_range(img) -> tuple[float, float]:
    """Value range ``(vmin, vmax)`` mapped to black and white when an image is drawn.

    Rule: integer images use ``0 .. 255`` (8-bit pixels); boolean images and float images whose
    values all lie in ``[0, 1]`` use ``0 .. 1``; any other float image uses its own minimum and
    maximum.

    Args:
        img: array of any shape.

    Returns:
        ``(vmin, vmax)`` as floats.

    Example:
        >>> display_range(np.array([[0, 10]], dtype=np.uint8))
        (0.0, 255.0)
        >>> display_range(np.array([[0.2, 0.5]]))
        (0.0, 1.0)
    """
    arr = np.asarray(img)
    if arr.dtype == bool:
        return 0.0, 1.0
    if np.issubdtype(arr.dtype, np.integer):
        return 0.0, 255.0
    lo, hi = float(np.min(arr)), float(np.max(arr))
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    if lo == hi:
        return lo - 0.5, hi + 0.5
    return lo, hi


def _new_axes(n: int, size: float = 2.4):
    fig, axes = plt.subplots(1, n, figsize=(min(size * n, 10.0), size))
    return list(np.atleast_1d(axes))


def show_image(img, ax=None, title=None, vmin=None, vmax=None, cmap="gray", axis=False):
    """Draw one image, grayscale ``(H, W)`` or colour ``(H, W, 3)``.

    Grayscale images use ``cmap`` on the range from :func:`display_range` unless ``vmin``/``vmax``
    are given. Colour images are drawn as they are (uint8 0..255 or float 0..1).

    Args:
        img: ``(H, W)`` or ``(H, W, 3)`` array.
        ax: Matplotlib axis to draw on; a new figure is made when ``None`` (default).
        title: axis title (default ``None``: no title).
        vmin, vmax: values drawn as black and white (default: :func:`display_range`).
        cmap: colour map for grayscale images (default ``"gray"``).
        axis: show the row/column tick labels (default ``False``).

    Returns:
        The axis.

    Example:
        >>> ax = show_image(np.zeros((4, 4), dtype=np.uint8), title="black")
    """
    arr = _as_image(img)
    if ax is None:
        ax = _new_axes(1, size=3.0)[0]
    if arr.ndim == 2:
        lo, hi = display_range(arr)
        ax.imshow(arr, cmap=cmap, vmin=lo if vmin is None else vmin,
                  vmax=hi if vmax is None else vmax, interpolation="nearest")
    else:
        ax.imshow(arr, interpolation="nearest")
    if title is not None:
        ax.set_title(title, fontsize=9)
    if not axis:
        ax.set_xticks([])
        ax.set_yticks([])
    return ax


def show_images(images: Sequence, titles=None, axes=None, ncols=None, **kwargs):
    """Draw several images side by side (a figure grid), each with :func:`show_image`.

    Args:
        images: sequence of ``(H, W)`` or ``(H, W, 3)`` arrays (sizes may differ).
        titles: one title per image (default ``None``: no titles).
        axes: sequence of at least ``len(images)`` axes; made when ``None`` (default), on
            ``ceil(len(images) / ncols)`` rows. Unused axes are hidden.
        ncols: images per row when axes are made (default: all on one row, at most 6).
        **kwargs: passed on to :func:`show_image` (e.g. ``vmin``, ``vmax``, ``axis``).

    Returns:
        The list of axes used, one per image.

    Example:
        >>> axes = show_images([np.zeros((4, 4)), np.ones((4, 4))], titles=["0", "1"])
    """
    images = list(images)
    if titles is not None and len(titles) != len(images):
        raise ValueError(
            f"titles must have one entry per image: got {len(titles)} titles for {len(images)} images"
        )
    if axes is None:
        ncols = ncols or min(len(images), 6)
        nrows = -(-len(images) // ncols)
        side = min(2.4, 10.0 / ncols)
        fig, grid = plt.subplots(nrows, ncols, figsize=(side * ncols, (side + 0.3) * nrows),
                                 squeeze=False)
        axes = list(np.ravel(grid))
    else:
        axes = list(np.ravel(axes))
    if len(axes) < len(images):
        raise ValueError(f"need one axis per image: got {len(axes)} axes for {len(images)} images")
    for i, img in enumerate(images):
        show_image(img, ax=axes[i], title=None if titles is None else titles[i], **kwargs)
    for ax in axes[len(images):]:
        ax.set_visible(False)
    return axes[: len(images)]


def _default_format(arr: np.ndarray) -> str:
    return "{:d}" if np.issubdtype(arr.dtype, np.integer) else "{:.2f}"


def show_pixel_values(img, ax=None, fmt=None, origin=(0, 0), cmap="gray", vmin=None, vmax=None,
                      fontsize=None):
    """Draw a small grayscale crop, zoomed, with each pixel's value printed in its cell.

    Text is white on dark pixels and black on light ones (threshold: the middle of the
    display range). Tick labels give the pixel's row and column in the original image.

    Args:
        img: ``(H, W)`` array with ``H, W <= 32`` (crop a bigger image first, e.g. ``img[r:r+8, c:c+8]``).
        ax: axis to draw on; made when ``None`` (default).
        fmt: format string for one value (default ``"{:d}"`` for integers, ``"{:.2f}"`` for floats).
        origin: ``(row, col)`` of the crop's top-left pixel in the original image, used for the
            tick labels (default ``(0, 0)``).
        cmap: colour map (default ``"gray"``).
        vmin, vmax: values drawn as black and white (default: :func:`display_range`).
        fontsize: size of the printed values (default: chosen from the crop size).

    Returns:
        The axis; its ``texts`` hold one text per pixel, row by row.

    Example:
        >>> ax = show_pixel_values(np.arange(9, dtype=np.uint8).reshape(3, 3))
        >>> [t.get_text() for t in ax.texts][:3]
        ['0', '1', '2']
    """
    arr = np.asarray(img)
    if arr.ndim != 2:
        raise ValueError(
            f"show_pixel_values expects a 2-D grayscale crop (H, W); got shape {arr.shape}. "
            f"For a colour image, show one channel at a time, e.g. img[..., 0]."
        )
    if max(arr.shape) > MAX_PRINTED_PIXELS or arr.size == 0:
        raise ValueError(
            f"show_pixel_values prints one number per pixel, so the crop must be between 1x1 and "
            f"{MAX_PRINTED_PIXELS}x{MAX_PRINTED_PIXELS}; got shape {arr.shape}. "
            f"Crop first, e.g. img[100:110, 200:210]."
        )
    fmt = fmt or _default_format(arr)
    lo, hi = display_range(arr)
    lo = lo if vmin is None else vmin
    hi = hi if vmax is None else vmax
    if ax is None:
        ax = _new_axes(1, size=min(0.45 * max(arr.shape) + 1.0, 5.0))[0]
    ax.imshow(arr, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    H, W = arr.shape
    fontsize = fontsize or max(4.0, min(10.0, 80.0 / max(H, W)))
    middle = (lo + hi) / 2
    for r in range(H):
        for c in range(W):
            value = arr[r, c]
            text = fmt.format(value.item() if hasattr(value, "item") else value)
            colour = "white" if value < middle else "black"
            ax.text(c, r, text, ha="center", va="center", color=colour, fontsize=fontsize)
    r0, c0 = origin
    step = max(1, -(-max(H, W) // 8))
    ax.set_xticks(range(0, W, step), [str(c0 + c) for c in range(0, W, step)], fontsize=7)
    ax.set_yticks(range(0, H, step), [str(r0 + r) for r in range(0, H, step)], fontsize=7)
    ax.tick_params(length=0)
    return ax


def show_channels(rgb, axes=None, include_rgb=True):
    """Draw a colour image's three channels as three grayscale matrices.

    Each channel ``rgb[..., k]`` is an ``(H, W)`` matrix drawn in gray on the same range, so a
    bright area in the "red" panel means a high red value there.

    Args:
        rgb: ``(H, W, 3)`` colour image (channels last).
        axes: 3 axes (channels only) or 4 (the colour image first); made when ``None`` (default).
        include_rgb: when axes are made, add the colour image as a first panel (default ``True``).

    Returns:
        The list of axes used.

    Example:
        >>> axes = show_channels(np.zeros((4, 4, 3), dtype=np.uint8))
        >>> len(axes)
        4
    """
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3:
        hint = (" It looks channels-first (C, H, W): use np.transpose(rgb, (1, 2, 0))."
                if arr.ndim == 3 and arr.shape[0] == 3 else "")
        raise ValueError(f"show_channels expects a colour image (H, W, 3); got shape {arr.shape}.{hint}")
    if axes is None:
        axes = _new_axes(4 if include_rgb else 3)
    axes = list(np.ravel(axes))
    if len(axes) not in (3, 4):
        raise ValueError(f"axes must hold 3 axes (channels) or 4 (colour + channels); got {len(axes)}")
    if len(axes) == 4:
        show_image(arr, ax=axes[0], title=f"colour {arr.shape}")
        axes_channels = axes[1:]
    else:
        axes_channels = axes
    lo, hi = display_range(arr)
    for k, ax in enumerate(axes_channels):
        show_image(arr[..., k], ax=ax, vmin=lo, vmax=hi,
                   title=f"{_CHANNEL_NAMES[k]}: rgb[..., {k}]")
    return axes


def show_flattened(vectors, ax=None, labels=None, cmap="gray", vmin=None, vmax=None):
    """Draw flattened images (1-D vectors) as horizontal strips, one row per vector.

    This is what a fully connected layer sees: ``H*W`` numbers in a row, with no notion of
    which pixels were neighbours.

    Args:
        vectors: a sequence of 1-D arrays of equal length, or a 2-D array (one vector per row).
            Higher-dimensional arrays are flattened per item (``v.reshape(-1)``).
        ax: axis to draw on; made when ``None`` (default).
        labels: one label per vector, shown on the y axis (default ``None``).
        cmap: colour map (default ``"gray"``; use ``"cividis"`` for signed differences).
        vmin, vmax: colour range (default: :func:`display_range` of all vectors).

    Returns:
        The axis.

    Example:
        >>> ax = show_flattened([np.zeros((2, 2)), np.ones((2, 2))], labels=["a", "b"])
    """
    rows = [np.asarray(v).reshape(-1) for v in vectors]
    lengths = {len(r) for r in rows}
    if len(lengths) != 1:
        raise ValueError(f"all vectors must have the same length; got lengths {sorted(lengths)}")
    if labels is not None and len(labels) != len(rows):
        raise ValueError(f"labels must have one entry per vector: got {len(labels)} for {len(rows)}")
    data = np.stack(rows)
    lo, hi = display_range(data)
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 0.5 + 0.45 * len(rows)))
    ax.imshow(data, cmap=cmap, vmin=lo if vmin is None else vmin, vmax=hi if vmax is None else vmax,
              aspect="auto", interpolation="nearest")
    ax.set_yticks(range(len(rows)), labels if labels is not None else [""] * len(rows), fontsize=8)
    ax.set_xlabel("position in the flattened vector", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    return ax

"""Pictures for the convolution lesson: kernels, sliding windows, feature maps, timings.

Every function draws on an optional matplotlib ``ax`` (a new figure when ``None``), returns
what it drew on, and never calls ``plt.show()``. Images are drawn in gray; kernels and
other signed values in cividis with the colour scale centred on zero.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ..shapes import conv_output_size, pair

__all__ = ["show_kernel", "show_feature_maps", "show_conv_window", "plot_speed_ladder"]

WINDOW_COLOR = "tab:orange"


def _new_ax(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _as_2d(array, name: str) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (height, width); got shape {array.shape}")
    return array


def _auto_fmt(values: np.ndarray) -> str:
    """``{:.0f}`` when every value is a whole number, else ``{:.2f}``."""
    finite = values[np.isfinite(values)]
    return "{:.0f}" if np.all(finite == np.round(finite)) else "{:.2f}"


def _annotate(ax, values: np.ndarray, fmt: str, image, top: int = 0, left: int = 0) -> None:
    """Write each value in its cell, black on light cells and white on dark ones."""
    for (r, c), v in np.ndenumerate(values):
        shade = image.cmap(image.norm(v))
        luminance = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
        ax.text(c + left, r + top, fmt.format(v), ha="center", va="center", fontsize=8,
                color="black" if luminance > 0.5 else "white")


def show_kernel(kernel, ax=None, fmt=None, cmap="cividis", title=None):
    """Draw a small 2-D array (a kernel, or any grid of numbers) with its values written in.

    The colour scale is centred on zero (``vmin = -vmax``), so positive and negative weights
    are told apart at a glance.

    Args:
        kernel: 2-D array ``(KH, KW)``.
        ax: axes to draw on. Default: a new figure.
        fmt: format of the values, e.g. ``"{:.2f}"``. Default: whole numbers without decimals,
            anything else with two.
        cmap: colour map. Default: ``"cividis"``.
        title: axes title. Default: ``"KHxKW kernel"``.

    Returns:
        The axes.

    Example:
        >>> from cnncourse.kernels import get_kernel
        >>> ax = show_kernel(get_kernel("sobel_x"))
    """
    kernel = _as_2d(kernel, "kernel").astype(float)
    ax = _new_ax(ax, (2.2, 2.2))
    vmax = float(np.max(np.abs(kernel))) or 1.0
    image = ax.imshow(kernel, cmap=cmap, vmin=-vmax, vmax=vmax)
    _annotate(ax, kernel, fmt or _auto_fmt(kernel), image)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is None:
        title = f"{kernel.shape[0]}x{kernel.shape[1]} kernel"
    ax.set_title(title, fontsize=9)
    return ax


def show_feature_maps(maps, titles=None, ncols=4, axes=None, cmap="gray", robust=False):
    """Draw feature maps side by side, each with its own gray scale.

    Each map is scaled from its minimum (black) to its maximum (white); with ``robust=True``
    from its 1st to its 99th percentile instead, so that a few extreme values (e.g. at the
    border, or on one strong edge) do not turn the rest of the map a flat gray.

    Args:
        maps: ``(F, H, W)``, ``(1, F, H, W)`` (one conv2d output) or a list of 2-D arrays.
        titles: one title per map. Default: ``"channel 0"``, ``"channel 1"``, ...
        ncols: maps per row when ``axes`` is None. Default: 4.
        axes: a sequence of at least ``F`` axes to draw on. Default: a new figure.
        cmap: colour map. Default: ``"gray"``.
        robust: scale each map by its 1st and 99th percentiles. Default: False.

    Returns:
        The axes as a flat NumPy array (unused axes of a new figure are switched off).

    Example:
        >>> axes = show_feature_maps(np.random.rand(3, 8, 8), titles=["a", "b", "c"])
    """
    if isinstance(maps, np.ndarray) and maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    maps = [_as_2d(m, f"maps[{i}]") for i, m in enumerate(maps)]
    if titles is None:
        titles = [f"channel {i}" for i in range(len(maps))]
    if len(titles) != len(maps):
        raise ValueError(f"titles must have one entry per map ({len(maps)}); got {len(titles)}")
    if axes is None:
        ncols = max(1, min(ncols, len(maps)))
        nrows = math.ceil(len(maps) / ncols)
        side = min(2.2, 10 / ncols)
        _, axes = plt.subplots(nrows, ncols, figsize=(side * ncols, side * nrows + 0.3),
                               squeeze=False)
    axes = np.asarray(axes).ravel()
    if len(axes) < len(maps):
        raise ValueError(f"axes must hold at least one axes per map ({len(maps)}); got {len(axes)}")
    for ax, m, t in zip(axes, maps, titles):
        lo, hi = np.percentile(m, [1, 99]) if robust else (None, None)
        ax.imshow(m, cmap=cmap, vmin=lo, vmax=hi)
        ax.set_title(t, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(maps):]:
        ax.axis("off")
    return axes


def show_conv_window(image, row, col, kernel_size, stride=1, padding=0, dilation=1, ax=None,
                     show_values=None, cmap="gray", fmt=None):
    """Draw the (zero-padded) input and the window that makes output pixel ``(row, col)``.

    Output pixel ``(row, col)`` looks at input rows ``row*stride - padding + i*dilation`` for
    ``i = 0 .. KH-1`` (columns likewise). The window's outline is drawn in orange and each of
    its ``KH*KW`` taps, the pixels the kernel multiplies, is shaded; with ``dilation > 1`` the
    taps have gaps. Padding zeros are drawn outside a dashed outline of the real image.
    The patches carry ``gid`` ``"window"``, ``"tap"`` and ``"image border"``.

    Args:
        image: 2-D array ``(H, W)``.
        row, col: output position, ``0 <= row < OH``, ``0 <= col < OW``.
        kernel_size, stride, padding, dilation: as for ``conv2d``, int or pair.
        ax: axes to draw on. Default: a new figure.
        show_values: write each pixel's value in its cell. Default: when the padded input is at
            most 12x12.
        cmap: colour map of the image. Default: ``"gray"``.
        fmt: format of the values. Default: as in :func:`show_kernel`.

    Shape:
        ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1`` (same for ``OW``).

    Returns:
        The axes.

    Example:
        >>> ax = show_conv_window(np.arange(25.0).reshape(5, 5), 1, 1, 3, stride=2, padding=1)
    """
    image = _as_2d(image, "image")
    H, W = image.shape
    OH, OW = conv_output_size((H, W), kernel_size, stride, padding, dilation)
    for name, value, size in (("row", row, OH), ("col", col, OW)):
        if not 0 <= value < size:
            raise ValueError(
                f"{name} must be an output position in [0, {size - 1}] (the output is {OH}x{OW}); "
                f"got {name}={value}"
            )
    (KH, KW), (sh, sw) = pair(kernel_size, "kernel_size"), pair(stride, "stride")
    (ph, pw), (dh, dw) = pair(padding, "padding"), pair(dilation, "dilation")
    padded = np.zeros((H + 2 * ph, W + 2 * pw), dtype=float)
    padded[ph:ph + H, pw:pw + W] = image
    ax = _new_ax(ax, (3, 3))
    shown = ax.imshow(padded, cmap=cmap, vmin=min(0.0, image.min()), vmax=max(image.max(), 1e-12),
                      extent=(-pw - 0.5, W + pw - 0.5, H + ph - 0.5, -ph - 0.5))
    if ph or pw:
        ax.add_patch(Rectangle((-0.5, -0.5), W, H, fill=False, linestyle="--", edgecolor="tab:blue",
                               linewidth=1, gid="image border"))
    if max(padded.shape) <= 32:  # thin lines between the pixels, to count them
        ax.set_xticks(np.arange(-pw - 0.5, W + pw), minor=True)
        ax.set_yticks(np.arange(-ph - 0.5, H + ph), minor=True)
        ax.grid(which="minor", color="0.6", linewidth=0.5)
        ax.tick_params(which="minor", length=0)
    if show_values is None:
        show_values = padded.size <= 144
    if show_values:
        _annotate(ax, padded, fmt or _auto_fmt(padded), shown, top=-ph, left=-pw)
    top, left = row * sh - ph, col * sw - pw
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), dw * (KW - 1) + 1, dh * (KH - 1) + 1,
                           fill=False, edgecolor=WINDOW_COLOR, linewidth=2, gid="window"))
    for i in range(KH):
        for j in range(KW):
            ax.add_patch(Rectangle((left + j * dw - 0.5, top + i * dh - 0.5), 1, 1,
                                   facecolor=WINDOW_COLOR, alpha=0.5, edgecolor="none",
                                   gid="tap"))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"output ({row}, {col}) of {OH}x{OW}", fontsize=9)
    return ax


def plot_speed_ladder(times, ax=None, baseline=None):
    """Bar chart of run times on a log scale, each bar labelled with its speed-up.

    Args:
        times: ``{name: seconds}``, drawn top to bottom in the given order.
        ax: axes to draw on. Default: a new figure.
        baseline: the name the speed-ups are relative to. Default: the first one.

    Returns:
        The axes. Bar ``k`` has width ``times[name_k]``; its label reads e.g.
        ``"1.23 ms (45x faster)"``.

    Example:
        >>> ax = plot_speed_ladder({"naive": 1.0, "numpy": 0.01})
    """
    if not times:
        raise ValueError("times must hold at least one {name: seconds} entry; got an empty dict")
    names = list(times)
    seconds = np.array([float(times[n]) for n in names])
    if np.any(seconds <= 0):
        raise ValueError(f"every time must be positive (seconds); got {dict(times)}")
    baseline = names[0] if baseline is None else baseline
    if baseline not in times:
        raise ValueError(f"baseline must be one of {names}; got {baseline!r}")
    ax = _new_ax(ax, (7, 0.5 * len(names) + 1))
    y = np.arange(len(names))
    ax.barh(y, seconds, color=plt.get_cmap("viridis")(np.linspace(0.15, 0.85, len(names))))
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(seconds.min() / 3, seconds.max() * 30)
    ref = float(times[baseline])
    for k, s in enumerate(seconds):
        speed = "baseline" if names[k] == baseline else _speedup(ref / s)
        ax.text(s * 1.15, k, f"{_format_seconds(s)} ({speed})", va="center", fontsize=8)
    ax.set_xlabel("seconds per call (log scale)")
    return ax


def _speedup(ratio: float) -> str:
    if ratio < 1:
        return f"{1 / ratio:.1f}x slower"
    return f"{ratio:,.0f}x faster" if ratio >= 10 else f"{ratio:.1f}x faster"


def _format_seconds(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} µs"

"""Pictures for the pooling lesson: windows and what they produce, where gradients go, shifts.

Every function draws on optional matplotlib axes (a new figure when ``None``), returns what it
drew on, and never calls ``plt.show()``. Maps are drawn in gray; signed differences in cividis
with the colour scale centred on zero.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from ..shapes import pair, pool_output_size
from .conv import WINDOW_COLOR, _annotate, _as_2d, _auto_fmt, _new_ax

__all__ = ["relative_change", "show_pooling", "show_grad_routing", "show_shift_comparison",
           "plot_shift_robustness"]

#: Outline colours of neighbouring windows; window (i, j) gets ``WINDOW_COLORS[2*(i%2) + j%2]``,
#: so two windows that touch never share a colour.
WINDOW_COLORS = ("tab:orange", "deepskyblue", "violet", "limegreen")


def relative_change(before, after, axis=None):
    """How much a map changed, relative to its size: ``||after - before|| / ||before||``.

    Formula (L2 norms, over ``axis``; every value when ``axis`` is None)::

        relative_change = sqrt(sum((after - before)**2)) / sqrt(sum(before**2))

    0 means unchanged; 1 means the change is as large as the map itself; two maps with no
    overlap at all (an edge moved to where there was none) give about 1.4.

    Args:
        before, after: arrays of the same shape.
        axis: axis or tuple of axes to sum over, e.g. ``(1, 2, 3)`` for one number per image
            of an ``(N, C, H, W)`` batch. Default: ``None``, everything.

    Returns:
        A float (``axis=None``) or an array of floats; ``nan`` where ``before`` is all zeros.

    Example:
        >>> relative_change(np.array([3.0, 4.0]), np.array([3.0, 4.5]))  # 0.5 / 5
        0.1
    """
    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    if before.shape != after.shape:
        raise ValueError(f"before and after must have the same shape; got {before.shape} and "
                         f"{after.shape}")
    diff = np.sqrt(np.sum((after - before) ** 2, axis=axis))
    size = np.sqrt(np.sum(before ** 2, axis=axis))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(size > 0, diff / np.where(size > 0, size, 1.0), np.nan)
    return float(ratio) if np.ndim(ratio) == 0 else ratio


def _pool_geometry(x, kernel_size, stride):
    """``(KH, KW), (SH, SW), (OH, OW)`` of a pooling without padding on the 2-D map ``x``."""
    k = pair(kernel_size, "kernel_size")
    s = k if stride is None else pair(stride, "stride")
    return k, s, pool_output_size(x.shape, k, s)


def _grid_lines(ax, H, W):
    """Thin lines between pixels, so they can be counted (small maps only)."""
    if max(H, W) <= 32:
        ax.set_xticks(np.arange(-0.5, W), minor=True)
        ax.set_yticks(np.arange(-0.5, H), minor=True)
        ax.grid(which="minor", color="0.6", linewidth=0.5)
        ax.tick_params(which="minor", length=0)
    ax.set_xticks([])
    ax.set_yticks([])


def _window_box(i, j, k, s, inset, **style):
    """The rectangle of window ``(i, j)``, shrunk by ``inset`` so that neighbours stay apart."""
    return Rectangle((j * s[1] - 0.5 + inset, i * s[0] - 0.5 + inset),
                     k[1] - 2 * inset, k[0] - 2 * inset, fill=False, **style)


def show_pooling(x, out, kernel_size, stride=None, axes=None, highlight=None, outline_all=None,
                 mark_argmax=False, show_values=None, fmt=None):
    """Draw a 2-D map with its pooling windows next to the pooled output.

    Window ``(i, j)`` covers rows ``i*stride .. i*stride + KH - 1`` and columns
    ``j*stride .. j*stride + KW - 1`` of ``x`` and produces ``out[i, j]``. Each window is
    outlined, and its output cell is outlined in the same colour (neighbouring windows get
    different colours). Both panels share one gray scale, so values can be compared.

    Args:
        x: the input map, 2-D ``(H, W)``.
        out: the pooled map, 2-D ``(OH, OW)`` (max, average, or any other pooling).
        kernel_size: ``KH`` or ``(KH, KW)``.
        stride: int or pair. Default: ``None``, meaning ``kernel_size``.
        axes: two axes (input, output). Default: a new figure.
        highlight: ``(row, col)`` of one output cell whose window is drawn thick in orange.
            Default: ``None``; ``(0, 0)`` when the windows are not all outlined.
        outline_all: outline every window. Default: when there are at most 64 windows.
        mark_argmax: put a dot on the largest value of each outlined window (the one max
            pooling keeps; the first one on a tie), or only of the highlighted window when the
            windows are not all outlined. Default: False.
        show_values: write the values in the cells. Default: when ``x`` has at most 144 pixels.
        fmt: format of the values. Default: whole numbers without decimals, else two decimals.

    Shape:
        ``OH = floor((H - KH) / stride) + 1`` (same for ``OW``); ``out`` must have that shape.

    Returns:
        The two axes. Patches carry ``gid`` ``"window"``, ``"highlight"`` and ``"argmax"``.

    Example:
        >>> x = np.arange(16.0).reshape(4, 4)
        >>> axes = show_pooling(x, x.reshape(2, 2, 2, 2).max(axis=(1, 3)), 2)
    """
    x = _as_2d(x, "x").astype(float)
    out = _as_2d(out, "out").astype(float)
    k, s, (OH, OW) = _pool_geometry(x, kernel_size, stride)
    if out.shape != (OH, OW):
        raise ValueError(
            f"out must have the pooled shape (OH, OW) = ({OH}, {OW}) for x of shape {x.shape}, "
            f"kernel_size={kernel_size}, stride={stride}; got out.shape={out.shape}. "
            f"OH = floor((H - KH) / stride) + 1."
        )
    if outline_all is None:
        outline_all = OH * OW <= 64
    if highlight is None and not outline_all:
        highlight = (0, 0)
    if show_values is None:
        show_values = x.size <= 144
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(6.4, 3.2),
                               width_ratios=[x.shape[1], max(out.shape[1], x.shape[1] * 0.45)])
    ax_in, ax_out = axes
    finite = np.concatenate([x.ravel(), out.ravel()])
    norm = Normalize(float(finite.min()), float(max(finite.max(), finite.min() + 1e-12)))
    fmt = fmt or _auto_fmt(finite)
    for ax, values in ((ax_in, x), (ax_out, out)):
        image = ax.imshow(values, cmap="gray", norm=norm, interpolation="nearest")
        if show_values:
            _annotate(ax, values, fmt, image)
        _grid_lines(ax, *values.shape)
    for i in range(OH):
        for j in range(OW):
            color = WINDOW_COLORS[2 * (i % 2) + j % 2]
            if outline_all:
                ax_in.add_patch(_window_box(i, j, k, s, 0.12, edgecolor=color, linewidth=1.5,
                                            gid="window"))
                ax_out.add_patch(Rectangle((j - 0.38, i - 0.38), 0.76, 0.76, fill=False,
                                           edgecolor=color, linewidth=1.5, gid="window"))
            if mark_argmax and (outline_all or (i, j) == tuple(highlight)):
                window = x[i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
                u, v = np.unravel_index(np.argmax(window), window.shape)
                ax_in.add_patch(plt.Circle((j * s[1] + v + 0.3, i * s[0] + u - 0.3), 0.12,
                                           color=color if outline_all else WINDOW_COLOR,
                                           gid="argmax"))
    if highlight is not None:
        row, col = highlight
        if not (0 <= row < OH and 0 <= col < OW):
            raise ValueError(f"highlight must be an output cell (row, col) with 0 <= row < {OH} "
                             f"and 0 <= col < {OW}; got {highlight}")
        ax_in.add_patch(_window_box(row, col, k, s, 0.0, edgecolor=WINDOW_COLOR, linewidth=2.5,
                                    gid="highlight"))
        ax_out.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False,
                                   edgecolor=WINDOW_COLOR, linewidth=2.5, gid="highlight"))
    ax_in.set_title(f"input {x.shape[0]}x{x.shape[1]}: {k[0]}x{k[1]} windows, "
                    f"stride {s[0] if s[0] == s[1] else s}", fontsize=9)
    ax_out.set_title(f"output {OH}x{OW}", fontsize=9)
    return axes


def show_grad_routing(x, grad_x, kernel_size=None, stride=None, ax=None, show_values=None,
                      fmt=None):
    """Draw where a pooling layer's backward pass sends the gradient.

    ``x`` is drawn in gray; every pixel that receives a non-zero gradient is covered by a
    square coloured by ``grad_x`` (cividis, centred on zero) with the gradient written in it.
    Pixels that get nothing stay gray: for max pooling, all but the arg-max of each window.

    Args:
        x: the input of the pooling, 2-D ``(H, W)``.
        grad_x: the gradient with respect to ``x``, same shape.
        kernel_size, stride: when given, the pooling windows are outlined (dashed).
            ``stride=None`` means ``kernel_size``.
        ax: axes to draw on. Default: a new figure.
        show_values: write the gradients in the cells. Default: when ``x`` has at most 144
            pixels.
        fmt: format of the gradients. Default: whole numbers without decimals, else two.

    Returns:
        The axes. The squares carry ``gid="grad"``, the window outlines ``gid="window"``.

    Example:
        >>> ax = show_grad_routing(np.eye(2), np.array([[1.0, 0.0], [0.0, 0.0]]), 2)
    """
    x = _as_2d(x, "x").astype(float)
    grad_x = _as_2d(grad_x, "grad_x").astype(float)
    if grad_x.shape != x.shape:
        raise ValueError(f"grad_x must have the shape of x, {x.shape}; got {grad_x.shape}")
    ax = _new_ax(ax, (3, 3))
    ax.imshow(x, cmap="gray", interpolation="nearest")
    if show_values is None:
        show_values = x.size <= 144
    vmax = float(np.abs(grad_x).max()) or 1.0
    cmap, norm = plt.get_cmap("cividis"), Normalize(-vmax, vmax)
    fmt = fmt or _auto_fmt(grad_x)
    for (r, c), g in np.ndenumerate(grad_x):
        if g == 0:
            continue
        shade = cmap(norm(g))
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=shade, edgecolor="none",
                               gid="grad"))
        if show_values:
            luminance = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
            ax.text(c, r, fmt.format(g), ha="center", va="center", fontsize=8,
                    color="black" if luminance > 0.5 else "white")
    if kernel_size is not None:
        k, s, (OH, OW) = _pool_geometry(x, kernel_size, stride)
        for i in range(OH):
            for j in range(OW):
                color = WINDOW_COLORS[2 * (i % 2) + j % 2]
                ax.add_patch(_window_box(i, j, k, s, 0.08, edgecolor=color, linewidth=1.2,
                                         linestyle="--", gid="window"))
    _grid_lines(ax, *x.shape)
    ax.set_title("grad_x: where the gradient goes", fontsize=9)
    return ax


def show_shift_comparison(stages, axes=None):
    """Compare maps before and after the input moved: before, after, and their difference.

    One row per stage (e.g. ``"input"``, ``"conv + ReLU"``, ``"2x2 max pool"``): the map
    before the shift, after it (both on one gray scale), and ``after - before`` (cividis,
    centred on zero), titled with its :func:`relative_change`.

    Args:
        stages: ``{name: (before, after)}`` with 2-D maps; the two maps of a stage have the same
            shape.
        axes: a ``(len(stages), 3)`` grid of axes. Default: a new figure.

    Returns:
        The axes as a ``(len(stages), 3)`` array.

    Example:
        >>> a = np.zeros((6, 6)); a[2, 2] = 1
        >>> axes = show_shift_comparison({"input": (a, np.roll(a, 1, axis=1))})
    """
    if not stages:
        raise ValueError("stages must hold at least one {name: (before, after)} entry")
    if axes is None:
        _, axes = plt.subplots(len(stages), 3, figsize=(5.4, 1.85 * len(stages) + 0.2),
                               squeeze=False)
    axes = np.asarray(axes).reshape(len(stages), 3)
    for row, (name, (before, after)) in zip(axes, stages.items()):
        before = _as_2d(before, f"stages[{name!r}][0]").astype(float)
        after = _as_2d(after, f"stages[{name!r}][1]").astype(float)
        if before.shape != after.shape:
            raise ValueError(f"stages[{name!r}]: before and after must have the same shape; "
                             f"got {before.shape} and {after.shape}")
        top = max(float(np.abs(before).max()), float(np.abs(after).max()), 1e-12)
        low = min(0.0, float(before.min()), float(after.min()))
        row[0].imshow(before, cmap="gray", vmin=low, vmax=top, interpolation="nearest")
        row[1].imshow(after, cmap="gray", vmin=low, vmax=top, interpolation="nearest")
        row[2].imshow(after - before, cmap="cividis", vmin=-top, vmax=top,
                      interpolation="nearest")
        row[0].set_title(f"{name} {before.shape[0]}x{before.shape[1]}", fontsize=8)
        row[1].set_title("after the shift", fontsize=8)
        row[2].set_title(f"difference: {relative_change(before, after):.2f}", fontsize=8)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    return axes


def plot_shift_robustness(shifts, changes, ax=None, ylabel="relative change"):
    """Line plot: how much each representation changes as the input shifts further.

    Args:
        shifts: the shifts in pixels, length ``S``.
        changes: ``{name: values}``, each ``(S,)`` or ``(n_images, S)``. For a 2-D array the line
            is the mean over images and a band shows the 25th to 75th percentile.
        ax: axes to draw on. Default: a new figure.
        ylabel: label of the y axis. Default: ``"relative change"``.

    Returns:
        The axes; line ``k`` has label ``list(changes)[k]`` and y data the mean.

    Example:
        >>> ax = plot_shift_robustness([1, 2], {"pixels": [1.0, 1.2], "pooled": [0.5, 0.9]})
    """
    shifts = np.asarray(shifts)
    if not changes:
        raise ValueError("changes must hold at least one {name: values} entry")
    ax = _new_ax(ax, (7, 3.2))
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(changes)))
    markers = "osD^vP*"
    for k, (name, values) in enumerate(changes.items()):
        values = np.asarray(values, dtype=float)
        if values.shape[-1] != len(shifts):
            raise ValueError(f"changes[{name!r}] must have one value per shift ({len(shifts)}) "
                             f"along its last axis; got shape {values.shape}")
        mean = values.mean(axis=0) if values.ndim == 2 else values
        ax.plot(shifts, mean, marker=markers[k % len(markers)], color=colors[k], label=name)
        if values.ndim == 2:
            low, high = np.percentile(values, [25, 75], axis=0)
            ax.fill_between(shifts, low, high, color=colors[k], alpha=0.15, linewidth=0)
    ax.set_xticks(shifts)
    ax.set_xlabel("shift of the input (pixels)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside the lines
    return ax

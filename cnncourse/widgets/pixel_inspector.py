"""Pixel inspector: pick an image and a square region, see the numbers behind the pixels.

Three parts, each testable without a browser:

- :func:`inspect_region` (compute): the crop and its summary statistics;
- :func:`plot_region` (plot): the whole image with the region outlined, and the zoomed crop
  with each value printed over its pixel;
- :func:`pixel_inspector` (wiring): a dropdown and three sliders joined to the two functions
  with ``ipywidgets.interactive_output``; the figure is shown as a PNG in an ``Image`` widget
  (see :mod:`cnncourse.widgets._figure`).
"""
from __future__ import annotations

from typing import NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from cnncourse.viz.images import show_image, show_pixel_values
from cnncourse.widgets._figure import figure_to_png, figure_widget, new_figure

__all__ = ["Region", "inspect_region", "format_region", "plot_region", "pixel_inspector"]


class Region(NamedTuple):
    """A square crop of an image: ``crop = img[row:row+size, col:col+size]`` and its statistics."""

    crop: np.ndarray
    row: int
    col: int
    size: int
    minimum: float
    maximum: float
    mean: float
    std: float


def _check_gray(img, name: str) -> np.ndarray:
    arr = np.asarray(img)
    if arr.ndim != 2:
        raise ValueError(
            f"the pixel inspector shows grayscale images (H, W); {name} has shape {arr.shape}. "
            f"Pass one channel of a colour image, e.g. rgb[..., 0]."
        )
    return arr


def inspect_region(img, row: int, col: int, size: int = 8) -> Region:
    """Cut a ``size x size`` crop whose top-left pixel is ``(row, col)`` and summarise it.

    The crop is ``img[row:row+size, col:col+size]``; ``row`` and ``col`` are clamped to
    ``0 .. H-size`` and ``0 .. W-size`` so the crop always lies inside the image, and ``size`` to
    ``1 .. min(H, W)``.

    Args:
        img: ``(H, W)`` grayscale array (any dtype).
        row, col: top-left pixel of the crop.
        size: side of the square crop (default 8).

    Returns:
        A :class:`Region` with the crop (a view, not a copy), the clamped ``row, col, size``
        and the crop's ``minimum, maximum, mean, std`` as Python floats.

    Example:
        >>> r = inspect_region(np.arange(16).reshape(4, 4), row=3, col=0, size=2)
        >>> r.row, r.crop.tolist(), r.mean
        (2, [[8, 9], [12, 13]], 10.5)
    """
    arr = _check_gray(img, "img")
    H, W = arr.shape
    size = int(min(max(int(size), 1), H, W))
    row = int(min(max(int(row), 0), H - size))
    col = int(min(max(int(col), 0), W - size))
    crop = arr[row:row + size, col:col + size]
    values = crop.astype(np.float64)
    return Region(crop, row, col, size, float(values.min()), float(values.max()),
                  float(values.mean()), float(values.std()))


def format_region(img, region: Region) -> str:
    """Describe the image and the region in a few lines of plain text (what the widget prints).

    Example:
        >>> img = np.arange(16, dtype=np.uint8).reshape(4, 4)
        >>> print(format_region(img, inspect_region(img, 0, 0, 2)).splitlines()[0])
        image: shape (4, 4), dtype uint8, values 0 .. 15
    """
    arr = np.asarray(img)
    r, c, s = region.row, region.col, region.size
    return "\n".join([
        f"image: shape {arr.shape}, dtype {arr.dtype}, values {_num(arr.min())} .. {_num(arr.max())}",
        f"crop:  img[{r}:{r + s}, {c}:{c + s}] -> shape {region.crop.shape}",
        f"crop min {region.minimum:.3f}   max {region.maximum:.3f}   "
        f"mean {region.mean:.3f}   std {region.std:.3f}",
    ])


def _num(value) -> str:
    value = value.item() if hasattr(value, "item") else value
    return f"{value:d}" if isinstance(value, (int, np.integer)) else f"{value:.3f}"


def plot_region(img, region: Region, axes=None, title: str | None = None):
    """Draw the whole image with the region outlined (left) and the crop with its values (right).

    Args:
        img: ``(H, W)`` grayscale array.
        region: the result of :func:`inspect_region` on ``img``.
        axes: two axes; made when ``None`` (default).
        title: title of the left panel (default: the image's shape).

    Returns:
        The two axes.
    """
    arr = _check_gray(img, "img")
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(8, 3.8), width_ratios=[1, 1.15])
    ax_img, ax_crop = axes
    show_image(arr, ax=ax_img, title=title or f"image {arr.shape}", axis=True)
    ax_img.add_patch(Rectangle((region.col - 0.5, region.row - 0.5), region.size, region.size,
                               fill=False, edgecolor="tab:orange", linewidth=2))
    ax_img.tick_params(labelsize=7)
    show_pixel_values(region.crop, ax=ax_crop, origin=(region.row, region.col))
    ax_crop.set_title(f"img[{region.row}:{region.row + region.size}, "
                      f"{region.col}:{region.col + region.size}]", fontsize=9)
    return axes


def pixel_inspector(images: dict, size: int = 8, max_size: int = 16):
    """Build the pixel-inspector widget.

    Controls: ``image`` (dropdown over ``images``), ``row`` and ``col`` (top-left pixel of the
    crop) and ``size`` (side of the crop: the zoom). Moving one redraws the figure and updates
    the statistics text.

    Args:
        images: mapping ``name -> (H, W) array``; the first one is shown first.
        size: initial crop size (default 8).
        max_size: largest crop size on the slider (default 16, at most 32).

    Returns:
        An ``ipywidgets.VBox`` to display. For tests and for scripting it also carries
        ``controls`` (dict of the four control widgets), ``stats`` (an ``HTML`` widget with
        :func:`format_region`'s text), ``image`` (the ``Image`` widget holding the figure as
        PNG), ``output`` (the ``Output`` widget of ``interactive_output``, where errors appear)
        and ``state`` (dict with the last ``region`` and ``axes`` drawn).
    """
    if not images:
        raise ValueError("images must name at least one (H, W) array, e.g. {'camera': camera}")
    arrays = {name: _check_gray(img, f"images[{name!r}]") for name, img in images.items()}
    first = next(iter(arrays.values()))
    smallest = min(min(a.shape) for a in arrays.values())
    max_size = int(min(max_size, 32, smallest))
    size = int(min(max(size, 1), max_size))
    style = {"description_width": "60px"}
    controls = {
        "name": widgets.Dropdown(options=list(arrays), description="image", style=style),
        "row": widgets.IntSlider(0, 0, first.shape[0] - size, description="row", style=style,
                                 continuous_update=False),
        "col": widgets.IntSlider(0, 0, first.shape[1] - size, description="col", style=style,
                                 continuous_update=False),
        "size": widgets.IntSlider(size, 1, max_size, description="crop size", style=style,
                                  continuous_update=False),
    }
    stats = widgets.HTML()
    image = figure_widget()
    state: dict = {}

    def update_ranges(change=None):
        arr = arrays[controls["name"].value]
        s = controls["size"].value
        controls["row"].max = arr.shape[0] - s
        controls["col"].max = arr.shape[1] - s

    def draw(name, row, col, size):
        arr = arrays[name]
        region = inspect_region(arr, row, col, size)
        stats.value = "<pre>" + format_region(arr, region) + "</pre>"
        fig = new_figure(figsize=(8, 3.8))
        axes = fig.subplots(1, 2, width_ratios=[1, 1.15])
        state["region"] = region
        state["axes"] = plot_region(arr, region, axes=axes, title=f"{name} {arr.shape}")
        image.value = figure_to_png(fig)

    controls["name"].observe(update_ranges, "value")
    controls["size"].observe(update_ranges, "value")
    output = widgets.interactive_output(draw, controls)
    box = widgets.VBox([
        widgets.HBox([controls["name"], controls["size"]]),
        widgets.HBox([controls["row"], controls["col"]]),
        stats,
        image,
        output,
    ])
    box.controls, box.stats, box.image, box.output, box.state = controls, stats, image, output, state
    return box

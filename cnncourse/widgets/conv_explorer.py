"""The convolution explorer (lesson 2): slide a 3x3 kernel over an image and watch the output.

Three layers, each testable without a browser:

- :func:`explore_conv` computes (the output map, the value under the window, the size formula
  with the numbers filled in) — pure NumPy, through :func:`cnncourse.numpy_ops.conv2d`;
- :func:`plot_conv_view` draws that result: the input with the window, the kernel, the output;
- :func:`conv_explorer` wires dropdowns, number boxes and sliders to them with
  ``ipywidgets.interactive_output``.

The figure is shown as a PNG in an ``ipywidgets.Image`` (see :mod:`cnncourse.widgets._figure`
for why not ``plt.show()`` in an ``Output`` widget).
"""
from __future__ import annotations

from typing import NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ..kernels import KERNEL_NAMES, get_kernel
from ..shapes import conv_output_size
from ..viz.conv import WINDOW_COLOR, show_conv_window, show_kernel
from ._figure import as_gray_maps, figure_to_png, figure_widget, new_figure

__all__ = ["ConvView", "size_formula", "explore_conv", "plot_conv_view", "conv_explorer",
           "default_images"]

CUSTOM = "custom"


class ConvView(NamedTuple):
    """What the explorer shows for one setting of its controls."""

    image: np.ndarray        # (H, W) input
    kernel: np.ndarray       # (KH, KW)
    output: np.ndarray       # (OH, OW) = conv2d(image, kernel, ...)
    row: int                 # output position under the window
    col: int
    stride: int
    padding: int
    dilation: int
    formula: str             # the output-size formula with the numbers filled in


def size_formula(input_size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 dilation: int = 1, name: str = "OH") -> str:
    """The output-size formula written out with the numbers filled in.

    Formula::

        out = floor((in + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1

    Args:
        input_size, kernel_size, stride, padding, dilation: ints along one axis.
        name: the symbol on the left. Default: ``"OH"``.

    Returns:
        One line of text, e.g.
        ``"OH = floor((8 + 2*1 - 1*(3 - 1) - 1) / 2) + 1 = floor(7 / 2) + 1 = 4"``.

    Example:
        >>> size_formula(8, 3, stride=2, padding=1)
        'OH = floor((8 + 2*1 - 1*(3 - 1) - 1) / 2) + 1 = floor(7 / 2) + 1 = 4'
    """
    out = conv_output_size(input_size, kernel_size, stride, padding, dilation)
    numerator = input_size + 2 * padding - dilation * (kernel_size - 1) - 1
    return (f"{name} = floor(({input_size} + 2*{padding} - {dilation}*({kernel_size} - 1) - 1) "
            f"/ {stride}) + 1 = floor({numerator} / {stride}) + 1 = {out}")


def explore_conv(image, kernel, stride=1, padding=0, dilation=1, row=0, col=0) -> ConvView:
    """Convolve one image with one kernel and describe the window at output ``(row, col)``.

    ``row`` and ``col`` are clamped to the output (the sliders of the widget may lag one step
    behind a change of stride, padding or dilation).

    Args:
        image: ``(H, W)`` float array.
        kernel: ``(KH, KW)`` float array.
        stride, padding, dilation: ints, as for ``conv2d``. Defaults: 1, 0, 1.
        row, col: output position to describe. Default: ``(0, 0)``.

    Shape:
        ``output``: ``(OH, OW)``, ``OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1``.

    Returns:
        A :class:`ConvView`. Raises ``ValueError`` (with the formula) when the kernel does not fit.

    Example:
        >>> explore_conv(np.ones((5, 5)), np.ones((3, 3)), padding=1).output.shape
        (5, 5)
    """
    from ..numpy_ops import conv2d  # imported here: the widget module stays importable alone

    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    output = conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding,
                    dilation=dilation)[0, 0]
    row = int(min(max(row, 0), output.shape[0] - 1))
    col = int(min(max(col, 0), output.shape[1] - 1))
    formula = "\n".join(
        size_formula(image.shape[axis], kernel.shape[axis], stride, padding, dilation, name)
        for axis, name in ((0, "OH"), (1, "OW"))
    )
    return ConvView(image, kernel, output, row, col, int(stride), int(padding), int(dilation),
                    formula)


def plot_conv_view(view: ConvView, axes=None):
    """Draw a :class:`ConvView`: the input with the window, the kernel, the output.

    The output pixel made by the window is outlined in the same orange as the window.

    Args:
        view: the result of :func:`explore_conv`.
        axes: three axes. Default: a new ``(10, 3.6)`` figure.

    Returns:
        The three axes.
    """
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(10, 3.6), width_ratios=[1, 0.6, 1])
    ax_in, ax_k, ax_out = axes
    KH, KW = view.kernel.shape
    show_conv_window(view.image, view.row, view.col, (KH, KW), view.stride, view.padding,
                     view.dilation, ax=ax_in)
    ax_in.set_title(f"input {view.image.shape[0]}x{view.image.shape[1]}, padding {view.padding}",
                    fontsize=9)
    show_kernel(view.kernel, ax=ax_k, title=f"kernel, dilation {view.dilation}")
    ax_out.imshow(view.output, cmap="gray")
    ax_out.add_patch(Rectangle((view.col - 0.5, view.row - 0.5), 1, 1, fill=False,
                               edgecolor=WINDOW_COLOR, linewidth=2))
    ax_out.set_xticks([])
    ax_out.set_yticks([])
    OH, OW = view.output.shape
    value = view.output[view.row, view.col]
    ax_out.set_title(f"output {OH}x{OW}, stride {view.stride}\n"
                     f"output[{view.row}, {view.col}] = {value:.2f}", fontsize=9)
    return axes


def default_images(size: int = 48) -> dict:
    """A few of the course's photos, in gray, shrunk to ``size x size`` floats in ``[0, 1]``
    so that a 3x3 window is visible on them.

    Returns:
        ``{name: (size, size) float array}``.
    """
    from skimage.transform import resize

    from ..data import sample_image

    names = ("camera", "coins", "text", "chelsea")
    return {n: resize(sample_image(n, gray=True) / 255.0, (size, size), anti_aliasing=True)
            for n in names}


def conv_explorer(images=None, kernel="sobel_x"):
    """Build the convolution-explorer widget.

    Controls (in ``box.controls``): ``image`` (dropdown over ``images``), ``kernel`` (the presets
    of :mod:`cnncourse.kernels` and ``"custom"``), ``k00`` ... ``k22`` (the nine kernel values:
    choosing a preset fills them in, editing one switches to ``"custom"``), ``stride``,
    ``padding``, ``dilation``, and ``row``/``col`` (the output position whose window is drawn;
    their ranges follow the output size).

    Args:
        images: mapping ``name -> (H, W) array``. Default: :func:`default_images`.
        kernel: the preset shown first. Default: ``"sobel_x"``.

    Returns:
        An ``ipywidgets.VBox``. It also carries ``controls`` (dict of the widgets above),
        ``formula`` (an ``HTML`` widget with the size formula, numbers filled in), ``picture``
        (an ``Image`` widget with the figure as PNG) and ``state`` (dict with the last ``view``
        and ``axes`` drawn, or the last ``error`` message).
    """
    images = default_images() if images is None else images
    arrays = as_gray_maps(images, "images", "{'camera': camera}")
    start = get_kernel(kernel)
    style = {"description_width": "90px"}  # wide enough for "output row" (70px cut it)
    slider = dict(style=style, continuous_update=False)
    controls = {
        "image": widgets.Dropdown(options=list(arrays), description="image", style=style),
        "kernel": widgets.Dropdown(options=list(KERNEL_NAMES) + [CUSTOM], value=kernel,
                                   description="kernel", style=style),
    }
    cells = {f"k{i}{j}": widgets.FloatText(float(start[i, j]), step=0.5,
                                            layout=widgets.Layout(width="70px"))
             for i in range(3) for j in range(3)}
    controls.update(cells)
    controls.update({
        "stride": widgets.IntSlider(1, 1, 4, description="stride", **slider),
        "padding": widgets.IntSlider(0, 0, 3, description="padding", **slider),
        "dilation": widgets.IntSlider(1, 1, 3, description="dilation", **slider),
        "row": widgets.IntSlider(0, 0, 1, description="output row", **slider),
        "col": widgets.IntSlider(0, 0, 1, description="output col", **slider),
    })
    formula = widgets.HTML()
    picture = figure_widget()
    state: dict = {"busy": False}  # True while one change updates other controls

    def fill_preset(change=None):
        if controls["kernel"].value == CUSTOM:
            return
        values = get_kernel(controls["kernel"].value)
        state["busy"] = True
        for (i, j), v in np.ndenumerate(values):
            cells[f"k{i}{j}"].value = float(v)
        state["busy"] = False

    def to_custom(change):
        if not state["busy"]:
            controls["kernel"].value = CUSTOM

    def update_ranges(change=None):
        H, W = arrays[controls["image"].value].shape
        args = (controls["stride"].value, controls["padding"].value, controls["dilation"].value)
        try:
            OH, OW = conv_output_size((H, W), 3, *args)
        except ValueError:
            return  # the kernel does not fit: draw() shows why
        state["busy"] = True
        for name, size in (("row", OH), ("col", OW)):
            controls[name].max = size - 1
            controls[name].value = min(controls[name].value, size - 1)
        state["busy"] = False

    def draw(image, kernel, stride, padding, dilation, row, col, **values):
        if state["busy"]:
            return  # other controls are being updated: draw once, when they are done
        weights = np.array([[values[f"k{i}{j}"] for j in range(3)] for i in range(3)])
        try:
            view = explore_conv(arrays[image], weights, stride, padding, dilation, row, col)
        except ValueError as err:
            state["error"] = str(err)
            formula.value = f"<pre>{err}</pre>"
            return
        state.pop("error", None)
        formula.value = f"<pre>{view.formula}</pre>"
        state["view"] = view
        fig = new_figure((10, 3.6))
        state["axes"] = plot_conv_view(view, fig.subplots(1, 3, width_ratios=[1, 0.6, 1]))
        picture.value = figure_to_png(fig)

    controls["kernel"].observe(fill_preset, "value")
    for cell in cells.values():
        cell.observe(to_custom, "value")
    for name in ("image", "stride", "padding", "dilation"):
        controls[name].observe(update_ranges, "value")
    update_ranges()
    widgets.interactive_output(draw, controls)  # calls draw() now and on every change
    grid = widgets.GridBox(list(cells.values()),
                           layout=widgets.Layout(grid_template_columns="repeat(3, 75px)"))
    box = widgets.VBox([
        widgets.HBox([widgets.VBox([controls["image"], controls["kernel"]]), grid]),
        widgets.HBox([controls["stride"], controls["padding"], controls["dilation"]]),
        widgets.HBox([controls["row"], controls["col"]]),
        formula,
        picture,
    ])
    box.controls, box.formula, box.picture, box.state = controls, formula, picture, state
    return box

"""The pooling explorer (lesson 3): pool a real feature map and see what each window keeps.

Three layers, each testable without a browser:

- :func:`explore_pool` computes (the pooled map, the value of one window, the sizes with the
  formula filled in) — pure NumPy, through :func:`cnncourse.numpy_ops.max_pool2d` and
  :func:`~cnncourse.numpy_ops.avg_pool2d`;
- :func:`plot_pool_view` draws that result with :func:`cnncourse.viz.pool.show_pooling`;
- :func:`pool_explorer` wires dropdowns and sliders to them with
  ``ipywidgets.interactive_output``; the figure is drawn as a PNG into an ``Image`` widget
  (see :mod:`cnncourse.widgets._figure` for why not ``plt.show()``).
"""
from __future__ import annotations

from typing import NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from ..shapes import pool_output_size
from ..viz.pool import show_pooling
from ._figure import as_gray_maps, figure_to_png, figure_widget, new_figure

__all__ = ["MODES", "PoolView", "explore_pool", "plot_pool_view", "pool_explorer",
           "default_feature_maps"]

#: The pooling modes the explorer offers.
MODES = ("max", "avg")


class PoolView(NamedTuple):
    """What the explorer shows for one setting of its controls."""

    x: np.ndarray            # (H, W) feature map
    out: np.ndarray          # (OH, OW) pooled map
    kernel_size: int
    stride: int
    mode: str                # "max" or "avg"
    row: int                 # output cell whose window is highlighted
    col: int
    sizes: str               # the output-size formula and the number of values kept


def explore_pool(x, kernel_size=2, stride=None, mode="max", row=0, col=0) -> PoolView:
    """Pool one 2-D map (no padding) and describe the window of output ``(row, col)``.

    ``row`` and ``col`` are clamped to the output (the sliders of the widget may lag one step
    behind a change of kernel size or stride).

    Args:
        x: ``(H, W)`` feature map.
        kernel_size: window size, an int. Default: 2.
        stride: an int. Default: ``None``, meaning ``kernel_size``.
        mode: ``"max"`` or ``"avg"``. Default: ``"max"``.
        row, col: output cell to describe. Default: ``(0, 0)``.

    Shape:
        ``out``: ``(OH, OW)`` with ``OH = floor((H - kernel_size) / stride) + 1``.

    Returns:
        A :class:`PoolView`. Raises ``ValueError`` when the window does not fit or the mode is
        unknown.

    Example:
        >>> explore_pool(np.arange(16.0).reshape(4, 4), 2).out
        array([[ 5.,  7.],
               [13., 15.]])
    """
    from ..numpy_ops import avg_pool2d, max_pool2d  # imported here: keeps this module light

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got mode={mode!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D feature map (H, W); got shape {x.shape}")
    stride = kernel_size if stride is None else stride
    pool = max_pool2d if mode == "max" else avg_pool2d
    out = pool(x[None, None], kernel_size, stride)[0, 0]
    OH, OW = out.shape
    row = int(min(max(row, 0), OH - 1))
    col = int(min(max(col, 0), OW - 1))
    H, W = x.shape
    sizes = "\n".join([
        f"OH = floor(({H} - {kernel_size}) / {stride}) + 1 = {OH}",
        f"OW = floor(({W} - {kernel_size}) / {stride}) + 1 = {OW}",
        f"{H}x{W} = {H * W} values -> {OH}x{OW} = {OH * OW} values "
        f"({100 * OH * OW / (H * W):.0f}% kept), 0 parameters",
    ])
    return PoolView(x, out, int(kernel_size), int(stride), mode, row, col, sizes)


def plot_pool_view(view: PoolView, axes=None):
    """Draw a :class:`PoolView`: the map with its windows (one highlighted), the pooled map.

    Args:
        view: the result of :func:`explore_pool`.
        axes: two axes. Default: a new pyplot ``(9, 4)`` figure.

    Returns:
        The two axes; the output's title gives the highlighted window's value.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 4))
    show_pooling(view.x, view.out, view.kernel_size, view.stride, axes=axes,
                 highlight=(view.row, view.col), mark_argmax=view.mode == "max")
    OH, OW = view.out.shape
    k, s = view.kernel_size, view.stride
    window = view.x[view.row * s:view.row * s + k, view.col * s:view.col * s + k]
    axes[1].set_title(f"{view.mode} pool: output {OH}x{OW}\n"
                      f"output[{view.row}, {view.col}] = {view.mode} of its {k}x{k} window "
                      f"= {view.out[view.row, view.col]:.2f}", fontsize=9)
    axes[0].set_xlabel(f"window values: {window.min():.2f} to {window.max():.2f}", fontsize=9)
    return axes


def default_feature_maps() -> dict:
    """Real feature maps to pool: edges (a 3x3 kernel, then ReLU) of MNIST digits and a photo.

    Each map is scaled to ``[0, 1]`` (divided by its maximum).

    Returns:
        ``{name: (H, W) float array}``: three 26x26 maps of MNIST test digits and a 46x46 map of
        the cameraman photo shrunk to 48x48.
    """
    from skimage.transform import resize

    from ..data import load_mnist, sample_image
    from ..kernels import get_kernel
    from ..numpy_ops import conv2d, relu

    digits, labels = load_mnist("test")
    camera = resize(sample_image("camera", gray=True) / 255.0, (48, 48), anti_aliasing=True)
    sources = {
        f"digit {labels[0]}, vertical edges (sobel_x)": (digits[0] / 255.0, "sobel_x"),
        f"digit {labels[0]}, horizontal edges (sobel_y)": (digits[0] / 255.0, "sobel_y"),
        f"digit {labels[5]}, vertical edges (sobel_x)": (digits[5] / 255.0, "sobel_x"),
        "cameraman 48x48, all edges (edge)": (camera, "edge"),
    }
    maps = {}
    for name, (image, kernel) in sources.items():
        weight = get_kernel(kernel, dtype=np.float64)[None, None]
        fmap = relu(conv2d(np.asarray(image, dtype=np.float64)[None, None], weight))[0, 0]
        maps[name] = fmap / max(fmap.max(), 1e-12)
    return maps


def pool_explorer(maps=None, kernel_size=2, stride=2, mode="max"):
    """Build the pooling-explorer widget.

    Controls (in ``box.controls``): ``map`` (dropdown over ``maps``), ``mode`` (``"max"`` or
    ``"avg"``), ``kernel_size`` and ``stride`` (sliders 1 to 6), and ``row``/``col`` (the output
    cell whose window is highlighted; their ranges follow the output size; they start on the
    largest output value).

    Args:
        maps: mapping ``name -> (H, W) array``. Default: :func:`default_feature_maps`.
        kernel_size, stride, mode: the first setting shown. Defaults: 2, 2, ``"max"``.

    Returns:
        An ``ipywidgets.VBox``. It also carries ``controls`` (dict of the widgets above),
        ``sizes`` (an ``HTML`` widget with the output-size formula, numbers filled in),
        ``image`` (the ``Image`` widget holding the figure as PNG), ``output`` (the ``Output``
        widget of ``interactive_output``, where unexpected errors appear) and ``state`` (dict
        with the last ``view`` and ``axes`` drawn, or the last ``error`` message).
    """
    maps = default_feature_maps() if maps is None else maps
    arrays = as_gray_maps(maps, "maps", "{'edges': fmap}", kind="feature map")
    style = {"description_width": "80px"}
    slider = dict(style=style, continuous_update=False)
    controls = {
        "map": widgets.Dropdown(options=list(arrays), description="feature map", style=style,
                                layout=widgets.Layout(width="420px")),
        "mode": widgets.Dropdown(options=list(MODES), value=mode, description="pooling",
                                 style=style),
        "kernel_size": widgets.IntSlider(kernel_size, 1, 6, description="kernel_size", **slider),
        "stride": widgets.IntSlider(stride, 1, 6, description="stride", **slider),
        "row": widgets.IntSlider(0, 0, 99, description="output row", **slider),
        "col": widgets.IntSlider(0, 0, 99, description="output col", **slider),
    }
    sizes = widgets.HTML()
    image = figure_widget()
    state: dict = {"adjusting": False}

    def update_ranges(change=None):
        H, W = arrays[controls["map"].value].shape
        try:
            OH, OW = pool_output_size((H, W), controls["kernel_size"].value,
                                      controls["stride"].value)
        except ValueError:
            return  # the window does not fit: draw() shows why
        state["adjusting"] = True  # row/col follow the new size: draw once, afterwards
        for name, size in (("row", OH), ("col", OW)):
            controls[name].max = size - 1
            controls[name].value = min(controls[name].value, size - 1)
        state["adjusting"] = False

    def draw(map, mode, kernel_size, stride, row, col):  # noqa: A002  (the control's name)
        if state.get("adjusting"):
            return
        try:
            view = explore_pool(arrays[map], kernel_size, stride, mode, row, col)
        except ValueError as err:
            state["error"] = str(err)
            sizes.value = f"<pre>{err}</pre>"
            return
        state.pop("error", None)
        sizes.value = f"<pre>{view.sizes}</pre>"
        state["view"] = view
        fig = new_figure(figsize=(9, 4))
        state["axes"] = plot_pool_view(view, axes=fig.subplots(1, 2))
        image.value = figure_to_png(fig)

    for name in ("map", "kernel_size", "stride"):
        controls[name].observe(update_ranges, "value")
    update_ranges()  # registered before interactive_output, so it runs before each redraw
    try:  # start on the largest output value: a window that holds something
        first = explore_pool(arrays[controls["map"].value], kernel_size, stride, mode)
        controls["row"].value, controls["col"].value = np.unravel_index(
            int(np.argmax(first.out)), first.out.shape)
    except ValueError:
        pass  # the first setting does not fit: draw() shows why
    output = widgets.interactive_output(draw, controls)
    box = widgets.VBox([
        widgets.HBox([controls["map"], controls["mode"]]),
        widgets.HBox([controls["kernel_size"], controls["stride"]]),
        widgets.HBox([controls["row"], controls["col"]]),
        sizes,
        image,
        output,
    ])
    box.controls, box.sizes, box.image, box.output = controls, sizes, image, output
    box.state = state
    return box

"""The "draw a digit" explorer (lesson 4): draw with the mouse, watch a trained network read it.

Three layers, each testable without a browser:

- compute: :func:`cnncourse.widgets.strokes.strokes_to_image` turns the mouse strokes into a
  28x28 digit, :func:`cnncourse.widgets.strokes.shift_image` moves it, and
  :mod:`cnncourse.model_outputs` runs a model of any kind on it (feature maps, probabilities);
- plot: :func:`plot_digit_view` draws the digit, the feature maps and the probability bars
  (through :func:`cnncourse.viz.dense.show_layer_outputs`);
- wiring: :func:`draw_digit` puts a drawing canvas (``ipycanvas``), a "test digit" slider, two
  shift sliders and a *clear* button in front of them.
"""
from __future__ import annotations

import numpy as np

from ..model_outputs import (_as_batch, _is_sequential, class_probabilities, layer_outputs,
                             prediction_text)
from .strokes import DIGIT_SIZE, _as_strokes, _check_positive, shift_image, strokes_to_image

# strokes_to_image, shift_image, layer_outputs, class_probabilities and prediction_text are
# re-exported: the explorer's compute functions, importable from the explorer's module.
__all__ = ["strokes_to_image", "shift_image", "layer_outputs", "class_probabilities",
           "prediction_text", "plot_digit_view", "draw_digit", "DIGIT_SIZE"]

# --- plot ----------------------------------------------------------------------------------

def _named_models(model) -> dict:
    if model is None:
        return {}
    if isinstance(model, dict):
        for name, m in model.items():
            if not callable(m):
                raise TypeError(f"model[{name!r}] must be a model or a callable returning logits; "
                                f"got {type(m).__name__}")
        return dict(model)
    if not callable(model):
        raise TypeError(f"model must be a torch.nn.Module, a cnncourse.nn.Module, a callable "
                        f"returning (N, 10) logits, or a dict {{name: model}}; got "
                        f"{type(model).__name__}")
    return {"model": model}


def _first_sequential(models: dict):
    return next((m for m in models.values() if _is_sequential(m)), None)


def plot_digit_view(image, model=None, max_channels: int = 4, fig=None):
    """Draw what the explorer shows for one digit: the 28x28 input, the feature maps of every
    layer of the first ``Sequential`` model, and the probability bars of every model.

    Args:
        image: the digit, ``(28, 28)`` floats in ``[0, 1]``.
        model: a model, a ``{name: model}`` dict (any of the three kinds of
            :func:`class_probabilities`), or None (the digit alone).
        max_channels: channels shown per layer. Default: 4.
        fig: a figure to draw on. Default: a new ``matplotlib.figure.Figure`` (not managed by
            pyplot).

    Returns:
        The figure: with a ``Sequential`` model, that of
        :func:`cnncourse.viz.dense.show_layer_outputs` (one axes per layer, then one bar chart
        per model); otherwise one row: the digit, then one bar chart per model.

    Example:
        >>> fig = plot_digit_view(np.zeros((28, 28)), {"uniform": lambda x: np.zeros((1, 10))})
        >>> [ax.get_title() for ax in fig.axes]
        ['28x28 input', 'uniform: predicted 0 (p = 0.10)']
    """
    from ..viz.dense import show_layer_outputs
    from ._figure import new_figure

    image = np.asarray(image, dtype=np.float64)
    models = _named_models(model)
    sequential = _first_sequential(models)
    if sequential is not None:
        outputs = layer_outputs(sequential, image)[:-1]  # the logits become the bars
    else:
        outputs = [("input", _as_batch(image)[0])]
    if sequential is None:  # no feature maps to show: the digit beside the bars, in one row
        from ..viz.dense import show_probabilities

        fig = fig if fig is not None else new_figure(figsize=(2.4 + 3.4 * len(models), 2.6))
        axes = fig.subplots(1, 1 + len(models), squeeze=False,
                            width_ratios=[1] + [1.6] * len(models))[0]
        axes[0].imshow(outputs[0][1][0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[0].set(xticks=[], yticks=[])
        axes[0].set_title("28x28 input", fontsize=9)
        for ax, (name, m) in zip(axes[1:], models.items()):
            show_probabilities(class_probabilities(m, image), ax=ax, label=name)
        return fig
    probabilities = {name: class_probabilities(m, image) for name, m in models.items()}
    n_maps = sum(a.ndim == 3 for _, a in outputs)
    n_vectors = len(outputs) - n_maps
    if fig is None:
        width = max(1.15 * max_channels, 3.2 * len(probabilities))
        from matplotlib.figure import Figure  # no layout engine: twice as fast to draw

        fig = Figure(figsize=(width, 1.0 * n_maps + 0.45 * n_vectors + 2.0))
    return show_layer_outputs(outputs, max_channels=max_channels, fig=fig,
                              probabilities=probabilities)


# --- the widget ------------------------------------------------------------------------------

def _as_digits(digits) -> np.ndarray:
    if digits is None:
        from ..data import load_mnist

        images, _ = load_mnist("test")
        digits = images[:100]
    if hasattr(digits, "detach"):
        digits = digits.detach().cpu().numpy()
    digits = np.asarray(digits)
    if digits.ndim == 4 and digits.shape[1] == 1:
        digits = digits[:, 0]
    if digits.ndim != 3 or digits.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE) or len(digits) == 0:
        raise ValueError(f"digits must be (N, 28, 28) or (N, 1, 28, 28) images; got shape "
                         f"{digits.shape}")
    digits = digits.astype(np.float64)
    return digits / 255.0 if digits.max() > 1.0 else digits


def _canvas_pixels(image, canvas_size) -> np.ndarray:
    """A 28x28 digit blown up to fill the canvas, as RGB bytes."""
    rows = (np.arange(canvas_size) * DIGIT_SIZE) // canvas_size
    big = (np.clip(image, 0, 1)[np.ix_(rows, rows)] * 255).astype(np.uint8)
    return np.repeat(big[..., None], 3, axis=2)


def draw_digit(model=None, *, digits=None, canvas_size: int = 280, line_width: float = 20.0,
               max_channels: int = 4, max_shift: int = 6):
    """The "draw a digit" explorer: draw with the mouse and watch a network read the digit.

    The learner draws on a black canvas (``ipycanvas``; each stroke is read when the mouse
    button is released), or starts from a test digit; the drawing is downsampled to 28x28 as
    MNIST was (:func:`strokes_to_image`), optionally shifted, and the explorer shows that digit,
    the feature maps of every layer of the first ``Sequential`` model, the ten probabilities of
    every model as bars, and a line per model, e.g. ``"CNN: predicted 7 (p = 0.98)"``.

    Controls (``box.controls``): ``digit`` (start from test digit #, an ``IntSlider``), ``dx`` and
    ``dy`` (shift right / down by k pixels), ``clear`` (a ``Button``: a blank canvas to draw on).
    Drawing after a test digit was loaded starts a new, blank drawing.

    Args:
        model: the model to explore: a ``torch.nn.Module`` or :class:`cnncourse.nn.Module`
            (feature maps are shown for ``Sequential`` ones), any callable mapping a
            ``(N, 1, 28, 28)`` float32 array to ``(N, 10)`` logits (probabilities only), or a
            dict ``{name: model}`` to compare several on the same drawing (e.g. the course's
            CNN and your own). None: the digit alone.
        digits: test digits to start from, ``(N, 28, 28)`` or ``(N, 1, 28, 28)``, floats in
            ``[0, 1]`` or bytes ``0..255``. Default: the first 100 bundled MNIST test digits.
        canvas_size: side of the drawing canvas in pixels. Default: 280.
        line_width: the pen's width in canvas pixels. Default: 20.
        max_channels: channels shown per layer. Default: 4.
        max_shift: range of the shift sliders, ``-max_shift..max_shift``. Default: 6.

    Returns:
        An ``ipywidgets.VBox``. It also carries ``controls``, ``canvas`` (the ``ipycanvas.Canvas``,
        or None where ipycanvas is not installed: the sliders still work), ``picture`` (the
        figure as a PNG ``Image``), ``text`` (the predictions, an ``HTML``), ``state`` (dict: the
        ``strokes``, the ``image`` the models saw, ``probabilities`` by model name) and
        ``draw_strokes(strokes)`` (replace the drawing by these strokes, as if drawn).
    """
    import ipywidgets as widgets

    from ._figure import figure_to_png, figure_widget

    models = _named_models(model)
    digits = _as_digits(digits)
    _check_positive("canvas_size", canvas_size)
    style = {"description_width": "120px"}
    controls = {
        "digit": widgets.IntSlider(0, 0, len(digits) - 1, description="start from test digit #",
                                   style={"description_width": "150px"},
                                   layout=widgets.Layout(width="420px"), continuous_update=False),
        "dx": widgets.IntSlider(0, -max_shift, max_shift, description="shift right (px)",
                                style=style, continuous_update=False),
        "dy": widgets.IntSlider(0, -max_shift, max_shift, description="shift down (px)",
                                style=style, continuous_update=False),
        "clear": widgets.Button(description="clear", icon="eraser",
                                tooltip="a blank canvas: draw your own digit"),
    }
    picture, text = figure_widget(), widgets.HTML()
    state = {"strokes": [], "base": digits[0], "pen": False}
    try:
        from ipycanvas import Canvas
    except ImportError:
        Canvas = None
    canvas = None
    if Canvas is not None:
        canvas = Canvas(width=canvas_size, height=canvas_size,
                        layout=widgets.Layout(width=f"{canvas_size}px", height=f"{canvas_size}px"))
        canvas.stroke_style, canvas.line_width, canvas.line_cap = "white", line_width, "round"
        canvas.line_join = "round"

    def update():
        image = shift_image(state["base"], controls["dx"].value, controls["dy"].value)
        state["image"] = image
        fig = plot_digit_view(image, models, max_channels=max_channels)
        picture.value = figure_to_png(fig)
        state["probabilities"] = {name: class_probabilities(m, image)
                                  for name, m in models.items()}
        lines = [f"<b>{name}</b>: {prediction_text(p)}"
                 for name, p in state["probabilities"].items()]
        text.value = "<br>".join(lines) or "Pass a model to see what it reads: draw_digit(model)."

    def show_on_canvas(image):
        if canvas is not None:
            canvas.clear()
            canvas.put_image_data(_canvas_pixels(image, canvas_size), 0, 0)

    def load_digit(change=None):
        state["strokes"], state["base"] = [], digits[controls["digit"].value]
        show_on_canvas(state["base"])
        update()

    def clear(_=None):
        state["strokes"], state["base"] = [], np.zeros((DIGIT_SIZE, DIGIT_SIZE))
        show_on_canvas(state["base"])
        update()

    def mouse_down(x, y):
        if not state["strokes"]:  # a loaded digit or a blank: start a new drawing
            show_on_canvas(np.zeros((DIGIT_SIZE, DIGIT_SIZE)))
        state["strokes"].append([(x, y)])
        state["pen"] = True
        if canvas is not None:
            canvas.fill_style = "white"
            canvas.fill_circle(x, y, line_width / 2)

    def mouse_move(x, y):
        if not state["pen"]:
            return
        x0, y0 = state["strokes"][-1][-1]
        state["strokes"][-1].append((x, y))
        if canvas is not None:
            canvas.stroke_line(x0, y0, x, y)

    def mouse_up(x, y):
        if not state["pen"]:
            return
        state["pen"] = False
        state["base"] = strokes_to_image(state["strokes"], canvas_size, line_width)
        update()

    def draw_strokes(strokes):
        """Replace the drawing by ``strokes`` (a list of lists of (x, y)), as if drawn."""
        state["strokes"], state["pen"] = [], False
        for stroke in _as_strokes(strokes):
            if len(stroke) == 0:
                continue
            mouse_down(*stroke[0])
            for x, y in stroke[1:]:
                mouse_move(x, y)
            state["pen"] = False
        state["base"] = strokes_to_image(state["strokes"], canvas_size, line_width)
        update()

    controls["digit"].observe(load_digit, "value")
    controls["dx"].observe(lambda change: update(), "value")
    controls["dy"].observe(lambda change: update(), "value")
    controls["clear"].on_click(clear)
    if canvas is not None:
        canvas.on_mouse_down(mouse_down)
        canvas.on_mouse_move(mouse_move)
        canvas.on_mouse_up(mouse_up)
        canvas.on_mouse_out(mouse_up)  # leaving the canvas ends the stroke
    load_digit()
    intro = widgets.HTML(
        "<b>Draw a digit</b> in the black square (press, drag, release; the network reads each "
        "stroke when you release the button), or start from a test digit and shift it. "
        "Below: the 28x28 digit the network sees, the feature maps of its layers and its ten "
        "class probabilities.")
    drawing = canvas if canvas is not None else widgets.HTML(
        "<i>Drawing needs the ipycanvas package (pip install ipycanvas); the sliders work "
        "without it.</i>")
    box = widgets.VBox([
        intro,
        widgets.HBox([drawing, widgets.VBox([controls["digit"], controls["dx"], controls["dy"],
                                             controls["clear"], text])]),
        picture,
    ])
    box.controls, box.canvas, box.picture, box.text, box.state = (controls, canvas, picture,
                                                                  text, state)
    box.draw_strokes = draw_strokes
    return box

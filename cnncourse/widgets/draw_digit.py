"""The "draw a digit" explorer (lesson 4): draw with the mouse, watch a trained network read it.

Three layers, each testable without a browser:

- compute: :func:`strokes_to_image` turns mouse strokes into a 28x28 digit prepared the way
  MNIST's were (scaled into a 20x20 box, centred by its centre of mass); :func:`shift_image`
  moves digits; :func:`layer_outputs` records what every layer of a ``Sequential`` model
  (``torch.nn`` or :mod:`cnncourse.nn`) passes on; :func:`class_probabilities` gives the ten
  probabilities of any model, or of any callable returning logits;
- plot: :func:`plot_digit_view` draws the digit, the feature maps and the probability bars
  (through :func:`cnncourse.viz.dense.show_layer_outputs`);
- wiring: :func:`draw_digit` puts a drawing canvas (``ipycanvas``), a "test digit" slider, two
  shift sliders and a *clear* button in front of them.

Models come in three kinds, and every function here takes all three: a ``torch.nn.Module``
(called on a float tensor, in eval mode, without gradients), a :class:`cnncourse.nn.Module`
(called on a float NumPy array) and a plain callable (called on a ``(N, 1, 28, 28)`` float32
NumPy array; it returns ``(N, 10)`` logits, as a NumPy array or a tensor).
"""
from __future__ import annotations

import sys

import numpy as np

__all__ = ["strokes_to_image", "shift_image", "layer_outputs", "class_probabilities",
           "prediction_text", "plot_digit_view", "draw_digit", "DIGIT_SIZE", "BOX_SIZE"]

#: Side of the digits (MNIST: 28x28), and of the box the drawing is scaled into (MNIST: 20x20).
DIGIT_SIZE, BOX_SIZE = 28, 20
#: The drawing is rasterised on a grid of this many pixels per side before it is shrunk.
_GRID = 112


def _check_positive(name, value, kind=(int, float, np.integer, np.floating)):
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        raise ValueError(f"{name} must be a positive number; got {name}={value!r}")


def _as_strokes(strokes) -> list:
    if isinstance(strokes, np.ndarray) and strokes.ndim == 2:
        strokes = [strokes]  # one stroke given as a (P, 2) array
    try:
        out = [np.asarray(s, dtype=np.float64).reshape(-1, 2) if len(s) else np.zeros((0, 2))
               for s in strokes]
    except (TypeError, ValueError):
        raise ValueError("strokes must be a list of strokes, each a list of (x, y) points, e.g. "
                         "[[(140, 40), (140, 240)]]; got " + repr(strokes)[:80]) from None
    for k, s in enumerate(out):
        if not np.all(np.isfinite(s)):
            raise ValueError(f"strokes[{k}] holds a point that is not finite: {s.tolist()[:4]}")
    return out


def _rasterise(strokes, canvas_size, line_width) -> np.ndarray:
    """The strokes drawn as anti-aliased thick lines on a ``_GRID x _GRID`` grid."""
    scale = _GRID / canvas_size
    radius = 0.5 * line_width * scale
    centres = np.stack(np.meshgrid(np.arange(_GRID) + 0.5, np.arange(_GRID) + 0.5,
                                   indexing="xy"), axis=-1).reshape(-1, 2)  # (x, y) of each pixel
    segments = []
    for s in strokes:
        points = np.clip(s, 0, canvas_size) * scale
        if len(points) == 1:  # a click: a dot
            points = np.concatenate([points, points])
        segments.append(np.stack([points[:-1], points[1:]], axis=1))
    segments = np.concatenate(segments) if segments else np.zeros((0, 2, 2))
    grid = np.zeros(_GRID * _GRID)
    for start in range(0, len(segments), 128):  # chunks keep the (pixels, segments) array small
        a, b = segments[start:start + 128, 0], segments[start:start + 128, 1]   # (M, 2) each
        ab = b - a
        length2 = np.maximum((ab ** 2).sum(axis=1), 1e-12)
        t = np.clip(((centres[:, None, :] - a) * ab).sum(axis=2) / length2, 0.0, 1.0)
        nearest = a + t[..., None] * ab                                         # (pixels, M, 2)
        distance = np.sqrt(((centres[:, None, :] - nearest) ** 2).sum(axis=2)).min(axis=1)
        grid = np.maximum(grid, np.clip(radius - distance + 0.5, 0.0, 1.0))
    return grid.reshape(_GRID, _GRID)


def strokes_to_image(strokes, canvas_size: int = 280, line_width: float = 20.0) -> np.ndarray:
    """A mouse drawing as a 28x28 digit, prepared like MNIST's.

    The strokes are drawn as lines ``line_width`` wide (anti-aliased), cut to their bounding
    box, scaled so that its longer side is 20 pixels (keeping the aspect ratio), scaled to a
    maximum of 1 and placed in a 28x28 image with their centre of mass at its centre
    (rounded to whole pixels, kept inside the image), as LeCun, Cortes and Burges prepared MNIST.

    Args:
        strokes: a list of strokes, each a sequence of ``(x, y)`` points in canvas pixels
            (``x`` to the right, ``y`` down, as the mouse reports them); points outside the
            canvas are clipped to its edge. A stroke of one point is a dot. No points: a blank.
        canvas_size: side of the square canvas, in pixels. Default: 280.
        line_width: pen width in canvas pixels. Default: 20.

    Shape:
        Output ``(28, 28)`` float64 in ``[0, 1]``, white digit (1) on black (0), as
        ``cnncourse.data.load_mnist(as_torch=True)`` gives.

    Returns:
        The digit; all zeros when there is nothing drawn.

    Example:
        >>> one = strokes_to_image([[(140, 40), (140, 240)]])   # a vertical line: a "1"
        >>> one.shape, one.dtype, float(one.max()), int((one[:, 13:15] > 0.5).sum() > 15)
        ((28, 28), dtype('float64'), 1.0, 1)
    """
    from scipy.ndimage import center_of_mass
    from skimage.transform import resize

    _check_positive("canvas_size", canvas_size)
    _check_positive("line_width", line_width)
    strokes = [s for s in _as_strokes(strokes) if len(s)]
    image = np.zeros((DIGIT_SIZE, DIGIT_SIZE))
    if not strokes:
        return image
    grid = _rasterise(strokes, canvas_size, line_width)
    rows, cols = np.nonzero(grid > 0)
    crop = grid[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    factor = BOX_SIZE / max(crop.shape)
    shape = tuple(max(1, int(round(n * factor))) for n in crop.shape)
    small = np.clip(resize(crop, shape, order=1, anti_aliasing=True, mode="constant"), 0, None)
    if small.max() <= 0:
        return image
    small = small / small.max()
    cy, cx = center_of_mass(small)
    centre = (DIGIT_SIZE - 1) / 2
    top = int(np.clip(round(centre - cy), 0, DIGIT_SIZE - shape[0]))
    left = int(np.clip(round(centre - cx), 0, DIGIT_SIZE - shape[1]))
    image[top:top + shape[0], left:left + shape[1]] = small
    return image


def shift_image(img, dx: int = 0, dy: int = 0):
    """Move images ``dx`` pixels right and ``dy`` pixels down; zeros come in at the edges.

    Formula: ``out[..., i, j] = img[..., i - dy, j - dx]`` where that pixel exists, else 0
    (no wrap-around: what leaves the image is lost).

    Args:
        img: an array of one or more images, ``(..., H, W)``: a digit ``(28, 28)``, a batch
            ``(N, 1, 28, 28)``...
        dx: pixels to the right (negative: to the left). Default: 0.
        dy: pixels down (negative: up). Default: 0.

    Shape:
        Output: the shape and dtype of ``img``.

    Returns:
        A new array.

    Example:
        >>> shift_image(np.arange(6).reshape(2, 3), dx=1).tolist()
        [[0, 0, 1], [0, 3, 4]]
    """
    img = np.asarray(img)
    if img.ndim < 2:
        raise ValueError(f"img must hold images (..., H, W) with at least 2 dimensions; got "
                         f"shape {img.shape}")
    for name, value in (("dx", dx), ("dy", dy)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be a whole number of pixels (an int); got "
                             f"{name}={value!r}")
    H, W = img.shape[-2:]
    out = np.zeros_like(img)
    if abs(dy) >= H or abs(dx) >= W:
        return out
    src_r, dst_r = slice(max(0, -dy), H - max(0, dy)), slice(max(0, dy), H - max(0, -dy))
    src_c, dst_c = slice(max(0, -dx), W - max(0, dx)), slice(max(0, dx), W - max(0, -dx))
    out[..., dst_r, dst_c] = img[..., src_r, src_c]
    return out


# --- models of three kinds -------------------------------------------------------------------

def _is_torch(model) -> bool:
    torch = sys.modules.get("torch")  # a torch model exists only if torch was imported
    return torch is not None and isinstance(model, torch.nn.Module)


def _is_course(model) -> bool:
    from ..nn import Module

    return isinstance(model, Module)


def _is_sequential(model) -> bool:
    from ..nn import Sequential

    torch = sys.modules.get("torch")
    return isinstance(model, Sequential) or (torch is not None
                                             and isinstance(model, torch.nn.Sequential))


def _as_batch(image) -> np.ndarray:
    """One image ``(H, W)``, ``(C, H, W)`` or ``(1, C, H, W)`` as a batch of one."""
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        image = image[None]
    if image.ndim == 3:
        image = image[None]
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"image must be one image (H, W), (C, H, W) or (1, C, H, W); got "
                         f"shape {image.shape}")
    return image


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


class _Runner:
    """Calls a model of any of the three kinds on a NumPy batch, in eval mode, and puts its
    training mode back afterwards."""

    def __init__(self, model):
        if not callable(model):
            raise TypeError(f"model must be a torch.nn.Module, a cnncourse.nn.Module or a callable "
                            f"returning (N, 10) logits; got {type(model).__name__}")
        self.model, self.torch = model, _is_torch(model)
        self.course = not self.torch and _is_course(model)

    def __enter__(self):
        if self.torch or self.course:
            self.was_training = self.model.training
            self.model.eval()
        if self.torch:
            import torch

            self.no_grad = torch.no_grad()
            self.no_grad.__enter__()
        return self

    def __exit__(self, *exc):
        if self.torch:
            self.no_grad.__exit__(*exc)
        if self.torch or self.course:
            self.model.train(self.was_training)

    def prepare(self, batch: np.ndarray):
        """The batch in the type, dtype and device the model takes."""
        param = next(iter(self.model.parameters()), None) if (self.torch or self.course) else None
        if self.torch:
            import torch

            dtype = param.dtype if param is not None else torch.float32
            device = param.device if param is not None else "cpu"
            return torch.as_tensor(batch, dtype=dtype, device=device)
        dtype = param.data.dtype if param is not None else np.float32
        return batch.astype(dtype)


def layer_outputs(model, image) -> list:
    """What each layer of a ``Sequential`` model passes to the next, for one image.

    Args:
        model: a ``torch.nn.Sequential`` or a :class:`cnncourse.nn.Sequential` (e.g.
            ``cnncourse.models.lenet("torch")``). It is run in eval mode, without gradients,
            and its training mode is put back afterwards.
        image: one image, ``(H, W)``, ``(C, H, W)`` or ``(1, C, H, W)``.

    Shape:
        One entry per layer, batch dimension dropped: ``(C, H, W)`` for feature maps, ``(K,)``
        for vectors (flatten, dense layers: the last is the ``(10,)`` logits). The first entry
        is ``("input", (C, H, W))``.

    Returns:
        A list of ``(layer name, float64 array)``.

    Example:
        >>> from cnncourse.models import lenet
        >>> [(n, a.shape) for n, a in layer_outputs(lenet("numpy"), np.zeros((28, 28)))][:3]
        [('input', (1, 28, 28)), ('conv1', (6, 24, 24)), ('relu1', (6, 24, 24))]
    """
    if not _is_sequential(model):
        raise TypeError(f"layer_outputs needs a Sequential model (torch.nn.Sequential or "
                        f"cnncourse.nn.Sequential) to read each layer's output; got "
                        f"model of type {type(model).__name__}. class_probabilities works for "
                        f"any model.")
    batch = _as_batch(image)
    outputs = [("input", batch[0].copy())]
    with _Runner(model) as run:
        x = run.prepare(batch)
        for name, layer in model.named_children():
            x = layer(x)
            outputs.append((name, _to_numpy(x)[0]))
    return outputs


def class_probabilities(model, image) -> np.ndarray:
    """The model's class probabilities for one image: the softmax of its logits.

    Formula: ``p_k = exp(z_k - max(z)) / sum_j exp(z_j - max(z))`` with ``z`` the logits
    (computed in float64; subtracting the max keeps ``exp`` from overflowing).

    Args:
        model: a ``torch.nn.Module``, a :class:`cnncourse.nn.Module`, or any callable taking a
            ``(N, C, H, W)`` float32 NumPy array and returning ``(N, K)`` logits.
        image: one image, ``(H, W)``, ``(C, H, W)`` or ``(1, C, H, W)``.

    Shape:
        Output ``(K,)`` (``(10,)`` for digits), float64, summing to 1.

    Example:
        >>> p = class_probabilities(lambda x: np.zeros((len(x), 10)), np.zeros((28, 28)))
        >>> p.shape, float(p.sum()), float(p[3])
        ((10,), 1.0, 0.1)
    """
    batch = _as_batch(image)
    with _Runner(model) as run:
        logits = _to_numpy(model(run.prepare(batch)))
    if logits.ndim == 1:
        logits = logits[None]
    if logits.ndim != 2 or logits.shape[0] != 1 or logits.shape[1] < 2:
        raise ValueError(f"model must return (N, K) logits with K >= 2 classes (N=1 here); got "
                         f"shape {logits.shape}")
    z = logits[0] - logits[0].max()
    p = np.exp(z)
    return p / p.sum()


def prediction_text(probs) -> str:
    """One line naming the most likely class: ``"predicted 7 (p = 0.98)"``.

    The probability is floored to 2 decimals, and shown as ``"> 0.99"`` above 0.99, so that a
    confident prediction reads the same on every machine (the last digits of a trained model's
    probability depend on the order of its floating-point sums).

    Example:
        >>> prediction_text([0.01, 0.2, 0.79]), prediction_text([0.0001, 0.9999])
        ('predicted 2 (p = 0.79)', 'predicted 1 (p > 0.99)')
    """
    probs = np.asarray(probs, dtype=np.float64)
    k = int(probs.argmax())
    p = float(probs[k])
    return f"predicted {k} (p > 0.99)" if p > 0.99 else f"predicted {k} (p = {np.floor(p * 100 + 1e-9) / 100:.2f})"


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

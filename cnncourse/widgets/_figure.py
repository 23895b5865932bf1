"""Draw a widget's figure as a PNG inside an ``ipywidgets.Image``.

Why not ``plt.show()`` inside an ``Output`` widget? Output capture only works where a
front end (JupyterLab, nbclient) routes the messages into the widget; a plain client such as
``pytest --nbval`` receives the figure as an ordinary cell output, so the saved notebook and
the test run disagree. A figure rendered to PNG bytes and stored in an ``Image`` widget is part
of the widget's state everywhere, and tests can read it back.

The figures here are made with :class:`matplotlib.figure.Figure`, not ``plt.subplots``: pyplot
never sees them, so the inline backend never shows them and nothing needs closing.
"""
from __future__ import annotations

import io

import ipywidgets as widgets
from matplotlib.figure import Figure

import numpy as np

__all__ = ["new_figure", "figure_to_png", "figure_widget", "as_gray_maps"]

#: Resolution of widget figures: sharp enough on screen, small enough to redraw quickly.
WIDGET_DPI = 80


def new_figure(figsize=(8, 4)) -> Figure:
    """A Matplotlib figure that pyplot does not manage (never shown by ``plt.show()``)."""
    return Figure(figsize=figsize, layout="constrained")


def figure_to_png(fig: Figure, dpi: int = WIDGET_DPI) -> bytes:
    """The figure drawn as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def figure_widget() -> widgets.Image:
    """An empty ``Image`` widget to hold :func:`figure_to_png`'s bytes (``image.value = ...``)."""
    return widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))


def as_gray_maps(named, arg: str, example: str, kind: str = "grayscale array") -> dict:
    """Check a widget's ``{name: (H, W) array}`` argument and convert each array to float64.

    Raises ``ValueError`` naming ``arg`` when the dict is empty or an array is not 2-D.
    """
    if not named:
        raise ValueError(f"{arg} must name at least one (H, W) array, e.g. {example}")
    arrays = {name: np.asarray(a, dtype=np.float64) for name, a in named.items()}
    for name, a in arrays.items():
        if a.ndim != 2:
            raise ValueError(f"{arg}[{name!r}] must be a 2-D {kind} (H, W); got shape {a.shape}")
    return arrays

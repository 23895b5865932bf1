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

__all__ = ["new_figure", "figure_to_png", "figure_widget"]

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

"""The counting explorer (lesson 7): turn a score map into counted nuclei, and score the count.

A detector's score map (a CNN's nucleus probability at every pixel, or a distance transform)
becomes detections at its local maxima above a threshold, at least ``min_distance`` pixels
apart. Move the two sliders and watch the count, the precision and the recall change.

Three layers, each testable without a browser:

- :func:`explore_count` finds the peaks (``skimage.feature.peak_local_max``) and matches them to
  the true centres (:func:`cnncourse.patches.match_centres`);
- :func:`plot_count_view` draws the image with the matched, false and missed centres;
- :func:`count_explorer` wires sliders to them with ``ipywidgets.interactive_output``; the
  figure is drawn as a PNG into an ``Image`` widget (see :mod:`cnncourse.widgets._figure`).
"""
from __future__ import annotations

from typing import NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from ..patches import detection_scores, match_centres
from ._figure import figure_to_png, figure_widget, new_figure

__all__ = ["CountView", "explore_count", "plot_count_view", "count_explorer"]


class CountView(NamedTuple):
    """What the explorer shows for one setting of its sliders."""

    detections: np.ndarray   # (D, 2) (row, col) of the peaks, highest score first
    matched: np.ndarray      # (D,) index of the true centre each detection matches, -1 for none
    missed: np.ndarray       # (M,) indices of the true centres no detection matches
    scores: dict             # tp, fp, fn, precision, recall, count_error
    summary: str             # one line: the count against the truth, precision and recall


def explore_count(score_map, truth, threshold=0.5, min_distance=3, max_distance=4.0) -> CountView:
    """Detections at the peaks of ``score_map``, matched to the true centres ``truth``.

    A detection is a local maximum of ``score_map`` (the largest value within
    ``min_distance`` pixels in each direction) that is at least ``threshold``; detections are
    ordered by score, then matched one to one (:func:`~cnncourse.patches.match_centres`).

    Args:
        score_map: ``(H, W)`` scores, e.g. probabilities in ``[0, 1]``.
        truth: ``(T, 2)`` true ``(row, col)`` centres.
        threshold: smallest score of a detection. Default: 0.5.
        min_distance: an int >= 1. Default: 3.
        max_distance: largest distance of a match, pixels. Default: 4.0.

    Returns:
        A :class:`CountView`. Raises ``ValueError`` for a map that is not 2-D or a
        ``min_distance`` below 1.

    Example:
        >>> m = np.zeros((9, 9)); m[2, 2] = m[6, 6] = 1.0; m[6, 2] = 0.3
        >>> view = explore_count(m, [[2, 2], [6, 1]], threshold=0.5, min_distance=1)
        >>> view.detections.tolist(), view.summary
        ([[2, 2], [6, 6]], '2 found for 2 true: 1 right, 1 false, 1 missed | precision 0.50, recall 0.50')
    """
    from skimage.feature import peak_local_max

    score_map = np.asarray(score_map, dtype=np.float64)
    if score_map.ndim != 2:
        raise ValueError(f"score_map must be a 2-D (H, W) array; got shape {score_map.shape}")
    if not (isinstance(min_distance, (int, np.integer)) and min_distance >= 1):
        raise ValueError(f"min_distance must be an int >= 1; got min_distance={min_distance!r}")
    truth = np.asarray(truth, dtype=np.float64).reshape(-1, 2)
    peaks = peak_local_max(score_map, min_distance=int(min_distance), threshold_abs=threshold,
                           exclude_border=False)
    order = np.lexsort((peaks[:, 1], peaks[:, 0], -score_map[tuple(peaks.T)])) if len(peaks) else []
    detections = peaks[order].reshape(-1, 2).astype(np.int64)
    matched = match_centres(detections, truth, max_distance)
    missed = np.setdiff1d(np.arange(len(truth)), matched[matched >= 0])
    s = detection_scores(detections, truth, max_distance)
    summary = (f"{len(detections)} found for {len(truth)} true: {s['tp']} right, {s['fp']} false, "
               f"{s['fn']} missed | precision {s['precision']:.2f}, recall {s['recall']:.2f}")
    return CountView(detections, matched, missed, s, summary)


def plot_count_view(view: CountView, image, truth, ax=None, title=None):
    """Draw a :class:`CountView` on ``image``: matched detections (green +), false ones (red x),
    missed true centres (orange circles).

    Args:
        view: the result of :func:`explore_count`.
        image: ``(H, W)`` image to draw on (gray).
        truth: the ``(T, 2)`` true centres given to :func:`explore_count`.
        ax: a Matplotlib axis. Default: a new pyplot figure's.
        title: default: the view's summary.

    Returns:
        The axis.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    truth = np.asarray(truth, dtype=np.float64).reshape(-1, 2)
    ax.imshow(image, cmap="gray")
    d, hit = view.detections, view.matched >= 0
    ax.plot(d[hit, 1], d[hit, 0], "+", color="#2ca02c", ms=9, mew=2, label="right")
    ax.plot(d[~hit, 1], d[~hit, 0], "x", color="#d62728", ms=8, mew=2, label="false")
    m = truth[view.missed]
    ax.plot(m[:, 1], m[:, 0], "o", mfc="none", color="#ff7f0e", ms=10, mew=2, label="missed")
    ax.set_title(view.summary if title is None else title, fontsize=9)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    ax.set_axis_off()
    return ax


def count_explorer(image, score_maps, truth, threshold=0.5, min_distance=3, max_distance=4.0):
    """Build the counting-explorer widget.

    Controls (in ``box.controls``): ``map`` (which score map), ``threshold`` (0.05 to 0.95)
    and ``min_distance`` (1 to 10).

    Args:
        image: ``(H, W)`` image the maps were computed on (drawn underneath).
        score_maps: ``{name: (H, W) score map}``, e.g. the CNN's probabilities and a distance
            transform scaled to ``[0, 1]``.
        truth: ``(T, 2)`` true centres.
        threshold, min_distance: the first setting. max_distance: fixed, for matching.

    Returns:
        An ``ipywidgets.VBox`` carrying ``controls``, ``summary`` (HTML), ``image`` (the PNG
        ``Image`` widget), ``output`` and ``state`` (the last ``view`` and ``ax``, or ``error``).
    """
    if not score_maps:
        raise ValueError("score_maps must name at least one (H, W) map, e.g. {'CNN': prob}")
    style = {"description_width": "100px"}
    slider = dict(style=style, continuous_update=False)
    controls = {
        "map": widgets.Dropdown(options=list(score_maps), description="score map", style=style,
                                layout=widgets.Layout(width="360px")),
        "threshold": widgets.FloatSlider(threshold, min=0.05, max=0.95, step=0.05,
                                         description="threshold", **slider),
        "min_distance": widgets.IntSlider(min_distance, 1, 10, description="min_distance",
                                          **slider),
    }
    summary = widgets.HTML()
    picture = figure_widget()
    state: dict = {}

    def draw(map, threshold, min_distance):  # noqa: A002  (the control's name)
        try:
            view = explore_count(score_maps[map], truth, threshold, min_distance, max_distance)
        except ValueError as err:
            state["error"] = str(err)
            summary.value = f"<pre>{err}</pre>"
            return
        state.pop("error", None)
        summary.value = f"<pre>{view.summary}</pre>"
        fig = new_figure(figsize=(9, 4.8))
        state["view"], state["ax"] = view, plot_count_view(view, image, truth, ax=fig.subplots(),
                                                           title=f"{map}: {view.summary}")
        picture.value = figure_to_png(fig)

    output = widgets.interactive_output(draw, controls)
    box = widgets.VBox([controls["map"], widgets.HBox([controls["threshold"],
                                                       controls["min_distance"]]),
                        summary, picture, output])
    box.controls, box.summary, box.image, box.output, box.state = (controls, summary, picture,
                                                                   output, state)
    return box

"""The detector explorer (lesson 6): a patch classifier slid over a photo, with sliders for the
scales used, the score threshold and the NMS IoU threshold; boxes drawn on the photo.

Three layers, each testable without a browser:

- :func:`score_windows` scores every window of every scale once (the slow part);
- :func:`explore_detector` keeps the windows of the chosen scales above the threshold, runs
  non-maximum suppression and matches the result with the true boxes — pure NumPy, through
  :mod:`cnncourse.detection`;
- :func:`plot_detector_view` draws it; :func:`detector_explorer` wires sliders to them.
"""
from __future__ import annotations

from typing import NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ..detection import image_pyramid, match_detections, nms, sliding_windows
from ._figure import figure_to_png, figure_widget, new_figure

__all__ = ["score_windows", "DetectorView", "explore_detector", "plot_detector_view",
           "detector_explorer"]


def score_windows(image, score_fn, window: int, stride: int, scales) -> dict:
    """Score every ``window x window`` patch of every scale of ``image``.

    Returns:
        ``{scale: (boxes, scores)}``: boxes ``(n, 4)`` in original-image pixels, scores ``(n,)``.
    """
    out = {}
    for s, resized in image_pyramid(image, scales):
        patches, boxes = sliding_windows(resized, window, stride)
        scores = np.asarray(score_fn(patches), dtype=np.float64).reshape(-1) if len(patches) else np.zeros(0)
        out[s] = (boxes / s, scores)
    return out


class DetectorView(NamedTuple):
    """What the explorer shows for one setting of its sliders."""

    boxes: np.ndarray        #: ``(k, 4)`` kept boxes, by decreasing score
    scores: np.ndarray       #: ``(k,)``
    n_windows: int           #: windows scored at the chosen scales
    n_above: int             #: of them, with score >= threshold (before NMS)
    match: dict | None       #: :func:`cnncourse.detection.match_detections` result, or None
    summary: str             #: one line of text for the widget


def explore_detector(scored: dict, scales, threshold: float, iou_threshold: float,
                     gt_boxes=None, match_iou: float = 0.3) -> DetectorView:
    """Windows of the chosen ``scales`` with score ``>= threshold``, then NMS at ``iou_threshold``.

    Args:
        scored: from :func:`score_windows`. scales: which of its scales to use.
        threshold: minimum score. iou_threshold: NMS threshold (1.0 keeps every window).
        gt_boxes: optional true boxes to count hits and false alarms against (IoU >= ``match_iou``).

    Example:
        >>> scored = {1.0: (np.array([[0, 0, 4, 4], [1, 0, 5, 4]]), np.array([0.9, 0.8]))}
        >>> explore_detector(scored, [1.0], 0.5, 0.3).boxes.tolist()
        [[0.0, 0.0, 4.0, 4.0]]
    """
    missing = [s for s in scales if s not in scored]
    if missing:
        raise ValueError(f"scale {missing[0]} was not scored; scored scales: {sorted(scored)}")
    boxes = np.concatenate([scored[s][0] for s in scales] or [np.zeros((0, 4))]).astype(np.float64)
    scores = np.concatenate([scored[s][1] for s in scales] or [np.zeros(0)])
    above = scores >= threshold
    b, sc = boxes[above], scores[above]
    keep = nms(b, sc, iou_threshold)
    b, sc = b[keep], sc[keep]
    match = None if gt_boxes is None else match_detections(b, sc, gt_boxes, match_iou)
    summary = f"{len(boxes)} windows, {int(above.sum())} with score >= {threshold:.2f}, {len(b)} after NMS"
    if match is not None:
        summary += (f"; {match['tp']} face(s) found, {match['fp']} false alarm(s), "
                    f"{match['fn']} missed")
    return DetectorView(b, sc, int(len(boxes)), int(above.sum()), match, summary)


def plot_detector_view(image, view: DetectorView, gt_boxes=None, ax=None, max_boxes: int = 30):
    """The photo with the kept boxes (orange, the best ``max_boxes``) and the true ones (cyan, dashed)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(image, cmap="gray")
    for x0, y0, x1, y1 in ([] if gt_boxes is None else np.asarray(gt_boxes)):
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, lw=2,
                               ls="--", ec="deepskyblue"))
    for (x0, y0, x1, y1), s in zip(view.boxes[:max_boxes], view.scores[:max_boxes]):
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, lw=1.5, ec="tab:orange"))
        ax.text(x0, y0, f"{s:.2f}", color="tab:orange", fontsize=7, va="bottom")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def detector_explorer(image, scored: dict, gt_boxes=None, threshold: float = 0.9,
                      iou_threshold: float = 0.3):
    """Build the detector-explorer widget.

    Controls (``box.controls``): ``scales`` (a multi-select of the scored scales),
    ``threshold`` (0.5 to 1) and ``iou_threshold`` (0.05 to 1; 1 switches NMS off).

    Returns:
        An ``ipywidgets.VBox`` with ``controls``, ``summary`` (HTML), ``image`` (the figure as
        PNG), ``output`` and ``state`` (the last ``view``).
    """
    scales = sorted(scored, reverse=True)
    style = {"description_width": "110px"}
    controls = {
        "scales": widgets.SelectMultiple(options=scales, value=tuple(scales), description="scales",
                                         style=style, rows=min(len(scales), 5)),
        "threshold": widgets.FloatSlider(threshold, min=0.5, max=1.0, step=0.01, description="score threshold",
                                         style=style, continuous_update=False),
        "iou_threshold": widgets.FloatSlider(iou_threshold, min=0.05, max=1.0, step=0.05,
                                             description="NMS IoU", style=style, continuous_update=False),
    }
    summary, picture, state = widgets.HTML(), figure_widget(), {}

    def draw(scales, threshold, iou_threshold):
        view = explore_detector(scored, list(scales), threshold, iou_threshold, gt_boxes)
        state["view"] = view
        summary.value = f"<pre>{view.summary}</pre>"
        fig = new_figure(figsize=(4.5, 4.5))
        plot_detector_view(image, view, gt_boxes, ax=fig.subplots())
        picture.value = figure_to_png(fig)

    output = widgets.interactive_output(draw, controls)
    box = widgets.VBox([widgets.HBox([controls["scales"],
                                      widgets.VBox([controls["threshold"], controls["iou_threshold"]])]),
                        summary, picture, output])
    box.controls, box.summary, box.image, box.output, box.state = controls, summary, picture, output, state
    return box

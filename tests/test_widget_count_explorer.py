"""Tests of cnncourse.widgets.count_explorer: the compute function against a direct peak search,
the plot, and the widget's controls, without a browser."""
from __future__ import annotations

import numpy as np
import pytest

from cnncourse.widgets import count_explorer
from cnncourse.widgets.count_explorer import explore_count, plot_count_view


def _map_with_bumps(centres, shape=(40, 50), heights=None):
    rows, cols = np.indices(shape)
    out = np.zeros(shape)
    for k, (r, c) in enumerate(centres):
        h = 1.0 if heights is None else heights[k]
        out = np.maximum(out, h * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / 8.0))
    return out


def test_explore_count_finds_each_bump_and_scores_it():
    centres = [(10, 10), (10, 30), (30, 20)]
    score = _map_with_bumps(centres + [(30, 45)], heights=[1.0, 0.9, 0.8, 0.7])
    truth = np.array(centres + [(2, 2)], dtype=float) + 0.5
    view = explore_count(score, truth, threshold=0.5, min_distance=3, max_distance=2.0)
    assert view.detections.tolist() == [[10, 10], [10, 30], [30, 20], [30, 45]]   # by score
    assert view.matched.tolist() == [0, 1, 2, -1] and view.missed.tolist() == [3]
    assert (view.scores["tp"], view.scores["fp"], view.scores["fn"]) == (3, 1, 1)
    assert view.summary.startswith("4 found for 4 true: 3 right, 1 false, 1 missed")
    higher = explore_count(score, truth, threshold=0.75, min_distance=3, max_distance=2.0)
    assert len(higher.detections) == 3 and higher.scores["fp"] == 0


def test_min_distance_merges_close_peaks():
    score = _map_with_bumps([(20, 20), (20, 26)])
    assert len(explore_count(score, [[20, 23]], 0.5, 2).detections) == 2
    assert len(explore_count(score, [[20, 23]], 0.5, 8).detections) == 1


def test_explore_count_errors_and_empty_map():
    with pytest.raises(ValueError, match="2-D"):
        explore_count(np.zeros(5), [[0, 0]])
    with pytest.raises(ValueError, match="min_distance"):
        explore_count(np.zeros((5, 5)), [[0, 0]], min_distance=0)
    view = explore_count(np.zeros((5, 5)), [[1, 1]])
    assert view.detections.shape == (0, 2) and view.scores["fn"] == 1


def test_plot_count_view_marks_right_false_and_missed():
    import matplotlib.pyplot as plt

    score = _map_with_bumps([(10, 10), (30, 40)])
    view = explore_count(score, [[10, 10], [20, 5]], 0.5, 3, 2.0)
    ax = plot_count_view(view, score, [[10, 10], [20, 5]])
    right, false, missed = ax.lines[:3]
    assert right.get_xydata().tolist() == [[10, 10]] and false.get_xydata().tolist() == [[40, 30]]
    assert missed.get_xydata().tolist() == [[5, 20]]
    assert ax.get_title() == view.summary
    plt.close(ax.figure)


def test_widget_controls_change_what_it_shows():
    score = _map_with_bumps([(10, 10), (10, 30), (30, 20)], heights=[1.0, 0.6, 0.3])
    box = count_explorer(score, {"bumps": score, "flat": np.zeros_like(score)}, [[10, 10]])
    first = box.state["view"]
    assert len(first.detections) == 2 and box.image.value[:4] == b"\x89PNG"
    box.controls["threshold"].value = 0.25
    assert len(box.state["view"].detections) == 3 and "3 found" in box.summary.value
    box.controls["map"].value = "flat"
    assert len(box.state["view"].detections) == 0
    with pytest.raises(ValueError, match="score_maps"):
        count_explorer(score, {}, [[0, 0]])

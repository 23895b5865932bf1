"""The detector explorer's compute, plot and wiring, without a browser."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.widgets.detector_explorer import (detector_explorer, explore_detector,  # noqa: E402
                                                 plot_detector_view, score_windows)


@pytest.fixture(scope="module")
def scene():
    img = np.zeros((40, 40))
    img[8:24, 12:28] = 1.0
    scored = score_windows(img, lambda p: p.mean(axis=(1, 2)), 8, 2, (1.0, 0.5))
    return img, scored, np.array([[12, 8, 28, 24]])


def test_score_windows_maps_boxes_back(scene):
    _, scored, _ = scene
    assert sorted(scored) == [0.5, 1.0]
    boxes, scores = scored[0.5]
    assert boxes.max() <= 40 and len(boxes) == len(scores) == 7 * 7
    assert (boxes[:, 2] - boxes[:, 0] == 16).all()          # 8-pixel windows at scale 0.5


def test_threshold_and_nms_and_matching(scene):
    _, scored, gt = scene
    one = explore_detector(scored, [0.5], 0.5, 0.3, gt)
    assert len(one.boxes) == 1 and one.match["tp"] == 1 and one.match["fp"] == 0
    np.testing.assert_allclose(one.boxes[0], gt[0])
    no_nms = explore_detector(scored, [1.0, 0.5], 0.95, 1.0, gt)   # 8x8 windows inside the square too
    assert len(no_nms.boxes) == no_nms.n_above > 1
    assert no_nms.match["tp"] == 1 and no_nms.match["fp"] == no_nms.n_above - 1
    assert "after NMS" in no_nms.summary and "false alarm" in no_nms.summary
    with pytest.raises(ValueError, match="scale 0.25 was not scored"):
        explore_detector(scored, [0.25], 0.5, 0.3)


def test_plot_and_widget(scene):
    img, scored, gt = scene
    view = explore_detector(scored, [0.5], 0.5, 0.3, gt)
    ax = plot_detector_view(img, view, gt)
    assert len(ax.patches) == 2
    plt.close("all")
    box = detector_explorer(img, scored, gt, threshold=0.5)
    assert box.state["view"].match["tp"] == 1 and len(box.image.value) > 100
    box.controls["iou_threshold"].value = 1.0
    assert len(box.state["view"].boxes) > 1
    assert "windows" in box.summary.value

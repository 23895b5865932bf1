"""The saliency / Grad-CAM overlays: draw on the given axes, scale the map, name bad shapes."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.viz import show_explanations, show_heatmap_overlay  # noqa: E402


def test_overlay_draws_on_given_axes_and_scales_map():
    fig, ax = plt.subplots()
    heat = np.zeros((5, 6))
    heat[2, 3] = 4.0
    out = show_heatmap_overlay(np.ones((3, 5, 6)), heat, ax=ax, title="cam")
    assert out is ax and len(ax.images) == 2 and ax.get_title() == "cam"
    drawn = np.asarray(ax.images[1].get_array())
    assert drawn.max() == 1.0 and drawn[2, 3] == 1.0
    show_heatmap_overlay(np.ones((5, 6)), np.zeros((5, 6)), ax=ax)   # all-zero map: no division by 0
    assert np.asarray(ax.images[-1].get_array()).max() == 0
    plt.close(fig)


def test_overlay_errors():
    with pytest.raises(ValueError, match=r"heatmap shape \(2, 2\) must equal the image's"):
        show_heatmap_overlay(np.ones((4, 4)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="alpha must be in"):
        show_heatmap_overlay(np.ones((4, 4)), np.ones((4, 4)), alpha=2)
    plt.close("all")


def test_show_explanations_row():
    axes = show_explanations([np.ones((4, 4))] * 3, [np.eye(4)] * 3, titles=["a", "b", "c"])
    assert len(axes) == 3 and [a.get_title() for a in axes] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="3 images but 2 maps"):
        show_explanations([np.ones((4, 4))] * 3, [np.eye(4)] * 2)
    plt.close("all")

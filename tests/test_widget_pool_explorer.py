"""Tests for the pooling explorer: compute, plot, and the widget driven through its controls."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnncourse.kernels import get_kernel
from cnncourse.widgets import pool_explorer
from cnncourse.widgets.pool_explorer import default_feature_maps, explore_pool, plot_pool_view


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def torch_pool(x, k, s, mode):
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return pool(torch.tensor(np.asarray(x, dtype=np.float64))[None, None], k, s)[0, 0].numpy()


RNG = np.random.default_rng(0)
MAPS = {"noise": RNG.random((14, 12)),  # > 144 pixels: no values written, fast to draw
        "bar": np.pad(np.ones((2, 6)), 3)}


@given(k=st.integers(1, 6), s=st.integers(1, 6), mode=st.sampled_from(["max", "avg"]),
       row=st.integers(-3, 20), col=st.integers(-3, 20))
def test_explore_pool_matches_torch_and_clamps(k, s, mode, row, col):
    view = explore_pool(MAPS["noise"], k, s, mode, row, col)
    expected = torch_pool(MAPS["noise"], k, s, mode)
    np.testing.assert_allclose(view.out, expected, rtol=1e-12)
    OH, OW = expected.shape
    assert (view.row, view.col) == (min(max(row, 0), OH - 1), min(max(col, 0), OW - 1))
    oh_line, ow_line, count_line = view.sizes.splitlines()
    assert oh_line == f"OH = floor((14 - {k}) / {s}) + 1 = {OH}"
    assert ow_line == f"OW = floor((12 - {k}) / {s}) + 1 = {OW}"
    assert count_line.startswith(f"14x12 = 168 values -> {OH}x{OW} = {OH * OW} values")


def test_explore_pool_default_stride_and_errors():
    view = explore_pool(MAPS["noise"], 3)
    assert view.stride == 3 and view.out.shape == (4, 4)
    with pytest.raises(ValueError, match="mode must be one of"):
        explore_pool(MAPS["noise"], 2, mode="min")
    with pytest.raises(ValueError, match="does not fit"):
        explore_pool(MAPS["noise"], 13)
    with pytest.raises(ValueError, match="2-D feature map"):
        explore_pool(np.zeros((1, 4, 4)), 2)


def test_plot_pool_view_shows_map_output_and_window_value():
    view = explore_pool(MAPS["bar"], 2, 2, "avg", row=1, col=2)
    ax_in, ax_out = plot_pool_view(view)
    np.testing.assert_array_equal(ax_in.images[0].get_array(), MAPS["bar"])
    np.testing.assert_array_equal(ax_out.images[0].get_array(), view.out)
    window = MAPS["bar"][2:4, 4:6]
    assert f"output[1, 2] = avg of its 2x2 window = {window.mean():.2f}" in ax_out.get_title()
    (box,) = [p for p in ax_in.patches if p.get_gid() == "highlight"]
    assert (box.get_x(), box.get_y()) == (3.5, 1.5)
    assert not [p for p in ax_in.patches if p.get_gid() == "argmax"]  # max pooling only


def test_widget_starts_on_the_largest_value_of_the_first_map():
    box = pool_explorer(MAPS)
    view = box.state["view"]
    np.testing.assert_array_equal(view.x, MAPS["noise"])
    np.testing.assert_array_equal(view.out, torch_pool(MAPS["noise"], 2, 2, "max"))
    c = box.controls
    assert (c["row"].max, c["col"].max) == (6, 5)
    expected = torch_pool(MAPS["noise"], 2, 2, "max")
    assert (view.row, view.col) == np.unravel_index(np.argmax(expected), expected.shape)
    assert "OH = floor((14 - 2) / 2) + 1 = 7" in box.sizes.value
    assert len(box.state["axes"]) == 2
    assert bytes(box.image.value).startswith(b"\x89PNG")  # the figure, drawn into the Image widget
    assert not box.output.outputs  # nothing leaks into the Output widget (or the cell)


def test_widget_controls_change_what_it_shows():
    box = pool_explorer(MAPS)
    c = box.controls
    c["mode"].value = "avg"
    c["kernel_size"].value = 3
    c["stride"].value = 1
    view = box.state["view"]
    np.testing.assert_allclose(view.out, torch_pool(MAPS["noise"], 3, 1, "avg"))
    assert (c["row"].max, c["col"].max) == (11, 9)  # the ranges follow the output size
    c["row"].value, c["col"].value = 11, 9
    view = box.state["view"]
    assert (view.row, view.col) == (11, 9)
    assert f"= {MAPS['noise'][11:14, 9:12].mean():.2f}" in box.state["axes"][1].get_title()
    png = box.image.value
    c["map"].value = "bar"
    assert bytes(box.image.value) != bytes(png)  # redrawn
    view = box.state["view"]
    np.testing.assert_allclose(view.out, torch_pool(MAPS["bar"], 3, 1, "avg"))
    assert view.out.shape == (6, 10) and (view.row, view.col) == (5, 9)
    assert "8x12 = 96 values -> 6x10 = 60 values" in box.sizes.value


def test_widget_explains_a_window_that_does_not_fit():
    box = pool_explorer({"small": np.ones((4, 4))}, kernel_size=2, stride=2)
    box.controls["kernel_size"].value = 5
    assert "does not fit" in box.state["error"]
    assert "does not fit" in box.sizes.value
    box.controls["kernel_size"].value = 4
    assert "error" not in box.state and box.state["view"].out.shape == (1, 1)
    with pytest.raises(ValueError, match="2-D feature map"):
        pool_explorer({"bad": np.ones((2, 3, 3))})


def test_default_feature_maps_are_relu_of_edge_convolutions():
    from cnncourse.data import load_mnist

    maps = default_feature_maps()
    assert len(maps) == 4
    digits, labels = load_mnist("test")
    name = f"digit {labels[0]}, vertical edges (sobel_x)"
    x = torch.tensor(digits[0] / 255.0)[None, None]
    w = torch.tensor(get_kernel("sobel_x", dtype=np.float64))[None, None]
    expected = F.relu(F.conv2d(x, w))[0, 0].numpy()
    np.testing.assert_allclose(maps[name], expected / expected.max(), atol=1e-12)
    for m in maps.values():
        assert m.min() >= 0 and m.max() == pytest.approx(1.0)
    assert maps["cameraman 48x48, all edges (edge)"].shape == (46, 46)

"""Tests for the convolution explorer: compute, plot, and the widget driven through its controls."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnncourse.kernels import get_kernel
from cnncourse.shapes import conv_output_size
from cnncourse.widgets.conv_explorer import (
    CUSTOM, conv_explorer, explore_conv, plot_conv_view, size_formula,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def torch_conv(image, kernel, stride, padding, dilation):
    x = torch.tensor(np.asarray(image, dtype=np.float64))[None, None]
    w = torch.tensor(np.asarray(kernel, dtype=np.float64))[None, None]
    return F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()


RNG = np.random.default_rng(0)
# Larger than 12x12, so that no values are written into the cells (faster to draw).
IMAGES = {"noise": RNG.random((16, 14)), "square": np.pad(np.ones((4, 4)), 6)}


@given(n=st.integers(1, 40), k=st.integers(1, 5), s=st.integers(1, 4), p=st.integers(0, 3),
       d=st.integers(1, 3))
def test_size_formula_ends_with_conv_output_size(n, k, s, p, d):
    if n + 2 * p < d * (k - 1) + 1:
        with pytest.raises(ValueError, match="does not fit"):
            size_formula(n, k, s, p, d)
        return
    text = size_formula(n, k, s, p, d, name="OW")
    assert text.startswith(f"OW = floor(({n} + 2*{p} - {d}*({k} - 1) - 1) / {s}) + 1")
    assert text.endswith(f"= {conv_output_size(n, k, s, p, d)}")


@pytest.mark.parametrize("stride,padding,dilation", [(1, 0, 1), (2, 1, 1), (1, 2, 2), (3, 0, 2)])
def test_explore_conv_matches_torch(stride, padding, dilation):
    kernel = get_kernel("sobel_x")
    view = explore_conv(IMAGES["noise"], kernel, stride, padding, dilation, row=99, col=-5)
    expected = torch_conv(IMAGES["noise"], kernel, stride, padding, dilation)
    np.testing.assert_allclose(view.output, expected, atol=1e-6)
    assert (view.row, view.col) == (expected.shape[0] - 1, 0)  # clamped into the output
    assert view.formula.splitlines()[0].endswith(f"= {expected.shape[0]}")
    assert view.formula.splitlines()[1].startswith("OW = floor((14 + ")


def test_plot_conv_view_shows_input_kernel_output():
    view = explore_conv(IMAGES["square"], get_kernel("edge"), 2, 1, 1, row=2, col=3)
    ax_in, ax_k, ax_out = plot_conv_view(view)
    np.testing.assert_array_equal(ax_in.images[0].get_array(), np.pad(IMAGES["square"], 1))
    np.testing.assert_array_equal(ax_k.images[0].get_array(), get_kernel("edge"))
    np.testing.assert_array_equal(ax_out.images[0].get_array(), view.output)
    assert f"output[2, 3] = {view.output[2, 3]:.2f}" in ax_out.get_title()
    (marker,) = ax_out.patches
    assert (marker.get_x(), marker.get_y()) == (2.5, 1.5)


def test_widget_starts_with_the_first_image_and_the_preset():
    box = conv_explorer(IMAGES)
    view = box.state["view"]
    np.testing.assert_array_equal(view.image, IMAGES["noise"])
    np.testing.assert_array_equal(view.kernel, get_kernel("sobel_x"))
    np.testing.assert_allclose(view.output, torch_conv(IMAGES["noise"], view.kernel, 1, 0, 1))
    assert box.controls["row"].max == 13 and box.controls["col"].max == 11
    assert "OH = floor((16 + 2*0 - 1*(3 - 1) - 1) / 1) + 1 = floor(13 / 1) + 1 = 14" in box.formula.value
    assert len(box.state["axes"]) == 3
    assert bytes(box.picture.value).startswith(b"\x89PNG")
    assert not plt.get_fignums()  # the figure was rendered to the Image widget and closed


def test_widget_sliders_change_the_output_and_the_formula():
    box = conv_explorer(IMAGES)
    c = box.controls
    c["row"].value, c["col"].value = 13, 11
    c["stride"].value = 2
    c["padding"].value = 1
    c["dilation"].value = 2
    view = box.state["view"]
    expected = torch_conv(IMAGES["noise"], get_kernel("sobel_x"), 2, 1, 2)
    np.testing.assert_allclose(view.output, expected, atol=1e-6)
    assert (c["row"].max, c["col"].max) == (expected.shape[0] - 1, expected.shape[1] - 1)
    assert (view.row, view.col) == (c["row"].value, c["col"].value) == (6, 5)
    assert "OH = floor((16 + 2*1 - 2*(3 - 1) - 1) / 2) + 1 = floor(13 / 2) + 1 = 7" in box.formula.value
    np.testing.assert_array_equal(box.state["axes"][2].images[0].get_array(), view.output)
    before = box.picture.value
    c["image"].value = "square"
    assert box.picture.value != before  # a new picture for the new image
    np.testing.assert_array_equal(box.state["view"].image, IMAGES["square"])


def test_widget_presets_fill_the_boxes_and_editing_switches_to_custom():
    box = conv_explorer(IMAGES)
    c = box.controls
    c["kernel"].value = "gaussian"
    values = np.array([[c[f"k{i}{j}"].value for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(values, get_kernel("gaussian"))
    np.testing.assert_allclose(box.state["view"].kernel, get_kernel("gaussian"))
    c["k11"].value = -3.0
    assert c["kernel"].value == CUSTOM
    expected = get_kernel("gaussian").astype(float)
    expected[1, 1] = -3.0
    np.testing.assert_allclose(box.state["view"].kernel, expected)
    np.testing.assert_allclose(box.state["view"].output,
                               torch_conv(IMAGES["noise"], expected, 1, 0, 1), atol=1e-6)
    c["kernel"].value = "identity"  # back to a preset: the boxes follow
    np.testing.assert_allclose(box.state["view"].output, IMAGES["noise"][1:-1, 1:-1])


def test_widget_explains_a_kernel_that_does_not_fit():
    box = conv_explorer({"tiny": np.ones((4, 4))})
    box.controls["dilation"].value = 3
    assert "does not fit" in box.state["error"]
    assert "does not fit" in box.formula.value
    box.controls["padding"].value = 1  # 4 + 2 >= 7? no: still too small
    assert "error" in box.state
    box.controls["padding"].value = 2
    assert "error" not in box.state
    assert box.state["view"].output.shape == (2, 2)


def test_widget_rejects_bad_images():
    with pytest.raises(ValueError, match="at least one"):
        conv_explorer({})
    with pytest.raises(ValueError, match="2-D grayscale"):
        conv_explorer({"rgb": np.zeros((5, 5, 3))})

"""Tests for the pixel inspector: the compute part, the plot part, and the widget driven by its controls."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnncourse.widgets.pixel_inspector import (
    format_region,
    inspect_region,
    pixel_inspector,
    plot_region,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _image(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(h, w)).astype(np.uint8)


@given(st.integers(1, 20), st.integers(1, 20), st.integers(-5, 25), st.integers(-5, 25),
       st.integers(0, 25))
def test_inspect_region_is_the_clamped_slice(h, w, row, col, size):
    img = _image(h, w)
    r = inspect_region(img, row, col, size)
    assert 1 <= r.size <= min(h, w)
    assert 0 <= r.row <= h - r.size and 0 <= r.col <= w - r.size
    expected = img[r.row:r.row + r.size, r.col:r.col + r.size]
    np.testing.assert_array_equal(r.crop, expected)
    assert r.crop.shape == (r.size, r.size)
    # statistics from an independent computation
    assert r.mean == pytest.approx(float(np.mean(expected, dtype=np.float64)))
    assert r.std == pytest.approx(float(np.std(expected, dtype=np.float64)))
    assert (r.minimum, r.maximum) == (float(expected.min()), float(expected.max()))


def test_inspect_region_keeps_in_range_arguments():
    img = _image(30, 40)
    r = inspect_region(img, 5, 7, 6)
    assert (r.row, r.col, r.size) == (5, 7, 6)


def test_inspect_region_rejects_colour_images():
    with pytest.raises(ValueError, match=r"\(4, 4, 3\).*rgb\[\.\.\., 0\]"):
        inspect_region(np.zeros((4, 4, 3)), 0, 0, 2)


def test_format_region_mentions_shape_slice_and_stats():
    img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    text = format_region(img, inspect_region(img, 1, 2, 2))
    assert "shape (4, 4), dtype uint8, values 0 .. 15" in text
    assert "img[1:3, 2:4]" in text
    assert f"mean {np.mean([6, 7, 10, 11]):.3f}" in text


def test_plot_region_outlines_the_region_and_prints_the_crop():
    img = _image(20, 30)
    region = inspect_region(img, 4, 9, 5)
    ax_img, ax_crop = plot_region(img, region)
    np.testing.assert_array_equal(ax_img.get_images()[0].get_array(), img)
    (rect,) = ax_img.patches
    assert rect.get_xy() == (8.5, 3.5) and rect.get_width() == 5 and rect.get_height() == 5
    assert [t.get_text() for t in ax_crop.texts] == [str(v) for v in region.crop.ravel()]


def test_widget_controls_drive_what_it_shows():
    camera, digit = _image(64, 80, seed=1), _image(28, 28, seed=2)
    w = pixel_inspector({"camera": camera, "digit": digit}, size=8)
    c = w.controls
    assert set(c) == {"name", "row", "col", "size"}
    assert (c["row"].max, c["col"].max) == (64 - 8, 80 - 8)

    c["row"].value, c["col"].value = 10, 20
    region = w.state["region"]
    np.testing.assert_array_equal(region.crop, camera[10:18, 20:28])
    assert "img[10:18, 20:28]" in w.stats.value
    ax_img, ax_crop = w.state["axes"]
    np.testing.assert_array_equal(ax_img.get_images()[0].get_array(), camera)
    assert [t.get_text() for t in ax_crop.texts] == [str(v) for v in camera[10:18, 20:28].ravel()]

    png = bytes(w.image.value)
    assert png.startswith(b"\x89PNG")
    c["size"].value = 4  # zoom in: smaller crop, larger slider ranges
    assert bytes(w.image.value).startswith(b"\x89PNG") and bytes(w.image.value) != png
    assert w.state["region"].crop.shape == (4, 4)
    assert (c["row"].max, c["col"].max) == (60, 76)
    assert len(w.state["axes"][1].texts) == 16

    c["row"].value = 60
    c["name"].value = "digit"  # smaller image: sliders shrink, the row is clamped into range
    assert (c["row"].max, c["col"].max) == (24, 24)
    region = w.state["region"]
    assert (region.row, region.col) == (c["row"].value, c["col"].value) == (24, 20)
    np.testing.assert_array_equal(region.crop, digit[24:28, 20:24])
    assert "shape (28, 28)" in w.stats.value
    np.testing.assert_array_equal(w.state["axes"][0].get_images()[0].get_array(), digit)


def test_widget_draws_outside_pyplot():
    """The widget's figure lives only in its Image widget: pyplot (and so plt.show()) never sees it."""
    plt.close("all")
    w = pixel_inspector({"a": _image(20, 20)})
    w.controls["row"].value = 5
    assert plt.get_fignums() == []
    assert w.state["axes"][0].figure is w.state["axes"][1].figure


def test_widget_size_slider_limited_by_smallest_image():
    w = pixel_inspector({"a": _image(50, 50), "b": _image(10, 12)}, size=20)
    assert w.controls["size"].max == 10
    assert w.controls["size"].value == 10


def test_widget_rejects_empty_and_colour():
    with pytest.raises(ValueError, match="at least one"):
        pixel_inspector({})
    with pytest.raises(ValueError, match=r"images\['rgb'\]"):
        pixel_inspector({"rgb": np.zeros((8, 8, 3))})

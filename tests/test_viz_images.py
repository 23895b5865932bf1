"""Tests for cnncourse.viz.images: each helper returns its axes and draws the data it was given."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnncourse.viz import images as viz


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _rng_image(shape, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=shape).astype(dtype)


# --- display_range -----------------------------------------------------------------------------

def test_display_range_integer_is_8bit():
    assert viz.display_range(np.array([[3, 7]], dtype=np.uint8)) == (0.0, 255.0)
    assert viz.display_range(np.array([[3, 700]], dtype=np.int64)) == (0.0, 255.0)


def test_display_range_unit_float_and_bool():
    assert viz.display_range(np.array([0.25, 0.5])) == (0.0, 1.0)
    assert viz.display_range(np.array([True, False])) == (0.0, 1.0)


@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-1e3, 1e3)))
def test_display_range_other_floats_cover_the_data(values):
    lo, hi = viz.display_range(values)
    assert lo < hi
    assert lo <= values.min() and values.max() <= hi


# --- show_image / show_images --------------------------------------------------------------------

def test_show_image_gray_returns_ax_and_draws_the_array():
    img = _rng_image((6, 5))
    ax = viz.show_image(img, title="t")
    (im,) = ax.get_images()
    np.testing.assert_array_equal(im.get_array(), img)
    assert im.get_cmap().name == "gray"
    assert im.get_clim() == (0.0, 255.0)
    assert ax.get_title() == "t"


def test_show_image_uses_given_ax_and_limits():
    fig, ax = plt.subplots()
    out = viz.show_image(np.linspace(0, 3, 12).reshape(3, 4), ax=ax, vmin=-1, vmax=5)
    assert out is ax
    assert ax.get_images()[0].get_clim() == (-1, 5)


def test_show_image_colour():
    rgb = _rng_image((4, 6, 3))
    ax = viz.show_image(rgb)
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), rgb)


def test_show_image_rejects_channels_first_with_a_hint():
    with pytest.raises(ValueError, match=r"\(3, 4, 5\).*transpose"):
        viz.show_image(np.zeros((3, 4, 5)))


def test_show_images_grid_hides_unused_axes():
    imgs = [_rng_image((4, 4), seed=k) for k in range(5)]
    axes = viz.show_images(imgs, titles=list("abcde"), ncols=3)
    assert len(axes) == 5
    for ax, img, t in zip(axes, imgs, "abcde"):
        np.testing.assert_array_equal(ax.get_images()[0].get_array(), img)
        assert ax.get_title() == t
    fig_axes = axes[0].figure.axes
    assert len(fig_axes) == 6 and not fig_axes[5].get_visible()


def test_show_images_checks_titles_and_axes():
    with pytest.raises(ValueError, match="2 titles for 3 images"):
        viz.show_images([np.zeros((2, 2))] * 3, titles=["a", "b"])
    fig, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="2 axes for 3 images"):
        viz.show_images([np.zeros((2, 2))] * 3, axes=axes)


# --- show_pixel_values -----------------------------------------------------------------------------

def test_show_pixel_values_prints_every_value_row_by_row():
    crop = _rng_image((3, 4))
    ax = viz.show_pixel_values(crop, origin=(10, 20))
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(v) for v in crop.ravel()]
    positions = [t.get_position() for t in ax.texts]
    assert positions[:5] == [(0, 0), (1, 0), (2, 0), (3, 0), (0, 1)]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["10", "11", "12"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["20", "21", "22", "23"]


def test_show_pixel_values_text_contrasts_with_the_pixel():
    ax = viz.show_pixel_values(np.array([[0, 255]], dtype=np.uint8))
    assert [t.get_color() for t in ax.texts] == ["white", "black"]


def test_show_pixel_values_float_format_and_custom_format():
    ax = viz.show_pixel_values(np.array([[0.25, 1.0]]))
    assert [t.get_text() for t in ax.texts] == ["0.25", "1.00"]
    ax = viz.show_pixel_values(np.array([[0.25, 1.0]]), fmt="{:.1f}")
    assert [t.get_text() for t in ax.texts] == ["0.2", "1.0"]


@settings(max_examples=15)  # each example draws a figure
@given(st.integers(1, 12), st.integers(1, 12))
def test_show_pixel_values_one_text_per_pixel(h, w):
    ax = viz.show_pixel_values(np.ones((h, w), dtype=np.uint8))
    assert len(ax.texts) == h * w
    plt.close(ax.figure)


def test_show_pixel_values_refuses_big_crops_and_colour():
    with pytest.raises(ValueError, match=r"shape \(40, 8\).*Crop first"):
        viz.show_pixel_values(np.zeros((40, 8)))
    with pytest.raises(ValueError, match=r"one channel"):
        viz.show_pixel_values(np.zeros((4, 4, 3)))


# --- show_channels -----------------------------------------------------------------------------------

def test_show_channels_draws_each_channel_as_a_matrix():
    rgb = _rng_image((5, 6, 3))
    axes = viz.show_channels(rgb)
    assert len(axes) == 4
    np.testing.assert_array_equal(axes[0].get_images()[0].get_array(), rgb)
    for k in range(3):
        im = axes[k + 1].get_images()[0]
        np.testing.assert_array_equal(im.get_array(), rgb[..., k])
        assert im.get_clim() == (0.0, 255.0)
        assert f"rgb[..., {k}]" in axes[k + 1].get_title()


def test_show_channels_three_given_axes():
    fig, axes = plt.subplots(1, 3)
    out = viz.show_channels(np.zeros((2, 2, 3)), axes=axes)
    assert list(out) == list(axes)


def test_show_channels_rejects_channels_first_with_a_hint():
    with pytest.raises(ValueError, match="channels-first"):
        viz.show_channels(np.zeros((3, 8, 8)))


# --- show_flattened ----------------------------------------------------------------------------------

def test_show_flattened_one_row_per_vector():
    a, b = _rng_image((3, 3), seed=1), _rng_image((3, 3), seed=2)
    ax = viz.show_flattened([a, b], labels=["a", "b"])
    data = ax.get_images()[0].get_array()
    np.testing.assert_array_equal(data, np.stack([a.ravel(), b.ravel()]))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]


def test_show_flattened_checks_lengths():
    with pytest.raises(ValueError, match=r"same length.*\[4, 9\]"):
        viz.show_flattened([np.zeros((2, 2)), np.zeros((3, 3))])

"""Tests for cnncourse.viz.conv: each helper returns its axes and draws the expected data."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.patches import Rectangle

from cnncourse.kernels import get_kernel
from cnncourse.viz.conv import plot_speed_ladder, show_conv_window, show_feature_maps, show_kernel


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- show_kernel ---------------------------------------------------------------------------


def test_show_kernel_draws_the_values_centred_on_zero():
    fig, ax = plt.subplots()
    k = get_kernel("sobel_x")
    assert show_kernel(k, ax=ax) is ax
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), k)
    assert image.get_clim() == (-2.0, 2.0)
    assert [t.get_text() for t in ax.texts] == ["-1", "0", "1", "-2", "0", "2", "-1", "0", "1"]
    assert ax.get_title() == "3x3 kernel"


def test_show_kernel_fractions_and_custom_format():
    ax = show_kernel(get_kernel("box_blur"), title="blur")
    assert ax.get_title() == "blur"
    assert {t.get_text() for t in ax.texts} == {"0.11"}
    ax = show_kernel(np.array([[0.5, -0.25]]), fmt="{:+.1f}")
    assert [t.get_text() for t in ax.texts] == ["+0.5", "-0.2"]


def test_show_kernel_all_zero_and_bad_shape():
    ax = show_kernel(np.zeros((2, 2)))
    assert ax.images[0].get_clim() == (-1.0, 1.0)
    with pytest.raises(ValueError, match="kernel must be a 2-D array"):
        show_kernel(np.zeros((1, 3, 3)))


# --- show_feature_maps ---------------------------------------------------------------------


def test_show_feature_maps_from_a_conv_output():
    maps = np.random.default_rng(0).normal(size=(1, 5, 6, 7))
    axes = show_feature_maps(maps, ncols=3)
    assert len(axes) == 6
    for ax, m, i in zip(axes, maps[0], range(5)):
        np.testing.assert_array_equal(ax.images[0].get_array(), m)
        assert ax.get_title() == f"channel {i}"
    assert not axes[5].axison and not axes[5].images


def test_show_feature_maps_robust_scaling_ignores_outliers():
    m = np.linspace(0, 1, 100).reshape(10, 10)
    m[0, 0] = 1000.0
    (ax_plain,) = show_feature_maps([m])
    (ax_robust,) = show_feature_maps([m], robust=True)
    assert ax_plain.images[0].get_clim() == (m.min(), 1000.0)
    np.testing.assert_allclose(ax_robust.images[0].get_clim(), np.percentile(m, [1, 99]))


def test_show_feature_maps_on_given_axes_with_titles():
    fig, given_axes = plt.subplots(1, 2)
    axes = show_feature_maps([np.zeros((3, 3)), np.ones((4, 4))], titles=["a", "b"], axes=given_axes)
    assert list(axes) == list(given_axes)
    assert [ax.get_title() for ax in axes] == ["a", "b"]
    with pytest.raises(ValueError, match="one entry per map"):
        show_feature_maps([np.zeros((3, 3))], titles=["a", "b"])
    with pytest.raises(ValueError, match="at least one axes per map"):
        show_feature_maps(np.zeros((3, 2, 2)), axes=given_axes)


# --- show_conv_window ----------------------------------------------------------------------


def _taps(ax):
    """Cells shaded as taps, as (row, col) of the unpadded image (negative = padding)."""
    cells = [p for p in ax.patches if p.get_gid() == "tap"]
    assert all(isinstance(p, Rectangle) and p.get_width() == p.get_height() == 1 for p in cells)
    return [(round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in cells]


@given(
    H=st.integers(3, 9), W=st.integers(3, 9), k=st.integers(1, 3), stride=st.integers(1, 3),
    padding=st.integers(0, 2), dilation=st.integers(1, 2), data=st.data(),
)
def test_window_taps_are_the_pixels_conv2d_multiplies(H, W, k, stride, padding, dilation, data):
    """Summing kernel * (pixels under the drawn taps) gives torch's conv2d output there."""
    span = dilation * (k - 1) + 1
    if min(H, W) + 2 * padding < span:
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    image, kernel = rng.normal(size=(H, W)), rng.normal(size=(k, k))
    out = F.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None],
                   stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()
    row = data.draw(st.integers(0, out.shape[0] - 1))
    col = data.draw(st.integers(0, out.shape[1] - 1))
    fig, ax = plt.subplots()
    assert show_conv_window(image, row, col, k, stride, padding, dilation, ax=ax) is ax
    taps = _taps(ax)
    assert len(taps) == k * k
    padded = np.pad(image, padding)
    values = np.array([padded[r + padding, c + padding] for r, c in sorted(taps)])
    np.testing.assert_allclose(values @ kernel.ravel(), out[row, col], atol=1e-9)
    np.testing.assert_array_equal(ax.images[0].get_array(), padded)
    plt.close(fig)


def test_window_outline_padding_outline_and_values():
    image = np.arange(16.0).reshape(4, 4)
    ax = show_conv_window(image, 1, 0, 3, stride=2, padding=1, dilation=1)
    (window,) = [p for p in ax.patches if p.get_gid() == "window"]
    assert (window.get_x(), window.get_y(), window.get_width()) == (-1.5, 0.5, 3)
    (dashed,) = [p for p in ax.patches if p.get_gid() == "image border"]
    assert (dashed.get_width(), dashed.get_height()) == (4, 4)
    assert len(ax.texts) == 36  # 6x6 padded input, one value per cell
    assert ax.get_title() == "output (1, 0) of 2x2"
    ax = show_conv_window(np.zeros((20, 20)), 0, 0, 3)
    assert not ax.texts  # too big to print
    assert not [p for p in ax.patches if p.get_gid() == "image border"]  # no padding


def test_window_dilation_leaves_gaps():
    ax = show_conv_window(np.zeros((7, 7)), 0, 0, 3, dilation=3)
    assert sorted(_taps(ax)) == [(r, c) for r in (0, 3, 6) for c in (0, 3, 6)]


@pytest.mark.parametrize("row,col,name", [(3, 0, "row"), (0, -1, "col")])
def test_window_position_outside_the_output(row, col, name):
    with pytest.raises(ValueError, match=rf"{name} must be an output position in \[0, 2\]"):
        show_conv_window(np.zeros((5, 5)), row, col, 3)


def test_window_kernel_too_big():
    with pytest.raises(ValueError, match="does not fit"):
        show_conv_window(np.zeros((3, 3)), 0, 0, 3, dilation=2)


# --- plot_speed_ladder ---------------------------------------------------------------------


def test_speed_ladder_bars_and_labels():
    times = {"naive": 0.5, "numpy": 0.005, "torch": 0.0002, "slow": 1.0}
    fig, ax = plt.subplots()
    assert plot_speed_ladder(times, ax=ax) is ax
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == list(times.values())
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["500.00 ms (baseline)", "5.00 ms (100x faster)",
                      "200.0 µs (2,500x faster)", "1.00 s (2.0x slower)"]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(times)
    assert ax.get_xscale() == "log"


def test_speed_ladder_baseline_and_errors():
    ax = plot_speed_ladder({"a": 2.0, "b": 1.0}, baseline="b")
    assert [t.get_text() for t in ax.texts] == ["2.00 s (2.0x slower)", "1.00 s (baseline)"]
    with pytest.raises(ValueError, match="empty"):
        plot_speed_ladder({})
    with pytest.raises(ValueError, match="positive"):
        plot_speed_ladder({"a": 0.0})
    with pytest.raises(ValueError, match="baseline must be one of"):
        plot_speed_ladder({"a": 1.0}, baseline="z")

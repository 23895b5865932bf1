"""Tests for the pooling plots: each returns its axes and draws the data and windows it claims."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnncourse.viz.pool import (
    plot_shift_robustness, relative_change, show_grad_routing, show_pooling, show_shift_comparison,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def torch_max_pool(x, k, s=None):
    """Pooled map and, for each output cell, the flat index of the pixel it took (PyTorch)."""
    out, idx = F.max_pool2d(torch.tensor(x, dtype=torch.float64)[None, None], k, s,
                            return_indices=True)
    return out[0, 0].numpy(), idx[0, 0].numpy()


def torch_pool_grad(x, k, s, mode):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    pool(t[None, None], k, s).sum().backward()
    return t.grad.numpy()


def patches(ax, gid):
    return [p for p in ax.patches if p.get_gid() == gid]


RNG = np.random.default_rng(0)
X = RNG.permutation(36).reshape(6, 6).astype(float)  # distinct values: no ties


finite = hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)),
                    elements=st.integers(-100, 100).map(float))


@given(a=finite, scale=st.floats(0.1, 10))
def test_relative_change_properties(a, scale):
    if not np.any(a):
        assert np.isnan(relative_change(a, a + 1))
        return
    assert relative_change(a, a) == 0.0
    b = a + 1.0
    assert relative_change(scale * a, scale * b) == pytest.approx(relative_change(a, b))
    assert relative_change(a, b) == pytest.approx(np.sqrt(a.size) / np.sqrt(np.sum(a * a)))
    assert relative_change(a, 0 * a) == pytest.approx(1.0)  # losing everything is a change of 1


def test_relative_change_per_image_matches_one_by_one():
    before, after = RNG.random((3, 1, 4, 4)), RNG.random((3, 1, 4, 4))
    per_image = relative_change(before, after, axis=(1, 2, 3))
    assert per_image.shape == (3,)
    for n in range(3):
        assert per_image[n] == pytest.approx(relative_change(before[n], after[n]))
    with pytest.raises(ValueError, match="same shape"):
        relative_change(before, after[:2])


@pytest.mark.parametrize("k,s", [(2, None), (3, 3), (3, 2), (2, 1), ((2, 3), (2, 3))])
def test_show_pooling_draws_both_maps_and_every_window(k, s):
    out, idx = torch_max_pool(X, k, s)
    axes = show_pooling(X, out, k, s, mark_argmax=True)
    ax_in, ax_out = axes
    np.testing.assert_array_equal(ax_in.images[0].get_array(), X)
    np.testing.assert_array_equal(ax_out.images[0].get_array(), out)
    OH, OW = out.shape
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (kh, kw) if s is None else ((s, s) if isinstance(s, int) else s)
    windows = patches(ax_in, "window")
    assert len(windows) == OH * OW and len(patches(ax_out, "window")) == OH * OW
    for n, box in enumerate(windows):  # row-major: window (i, j) starts at (i*sh, j*sw)
        i, j = divmod(n, OW)
        assert box.get_x() == pytest.approx(j * sw - 0.5 + 0.12)
        assert box.get_y() == pytest.approx(i * sh - 0.5 + 0.12)
        assert box.get_width() == pytest.approx(kw - 0.24)
        assert box.get_height() == pytest.approx(kh - 0.24)
    dots = patches(ax_in, "argmax")
    assert len(dots) == OH * OW
    for dot, flat in zip(dots, idx.ravel()):  # each dot sits on the pixel PyTorch picked
        r, c = divmod(int(flat), X.shape[1])
        cx, cy = dot.center
        assert (round(cx - 0.3), round(cy + 0.3)) == (c, r)
    assert not patches(ax_in, "highlight")
    # both panels share one gray scale, so the values can be compared
    assert ax_in.images[0].norm.vmax == ax_out.images[0].norm.vmax == X.max()


def test_show_pooling_highlight_and_big_maps():
    x = RNG.random((20, 20))
    out = F.avg_pool2d(torch.tensor(x)[None, None], 2)[0, 0].numpy()
    ax_in, ax_out = show_pooling(x, out, 2, mark_argmax=True)  # 100 windows: only (0, 0) shown
    assert not patches(ax_in, "window")
    (box,) = patches(ax_in, "highlight")
    assert (box.get_x(), box.get_y(), box.get_width()) == (-0.5, -0.5, 2)
    assert len(patches(ax_in, "argmax")) == 1
    ax_in, ax_out = show_pooling(x, out, 2, highlight=(3, 7))
    (box,) = patches(ax_in, "highlight")
    assert (box.get_x(), box.get_y()) == (13.5, 5.5)
    (cell,) = patches(ax_out, "highlight")
    assert (cell.get_x(), cell.get_y()) == (6.5, 2.5)
    assert not ax_in.texts  # 400 pixels: no values written
    assert ax_out.get_title() == "output 10x10"


def test_show_pooling_writes_values_on_small_maps_and_rejects_bad_shapes():
    x = np.arange(16.0).reshape(4, 4)
    out, _ = torch_max_pool(x, 2)
    fig, axes = plt.subplots(1, 2)
    assert show_pooling(x, out, 2, axes=axes) is axes
    assert sorted(t.get_text() for t in axes[1].texts) == sorted(f"{v:.0f}" for v in out.ravel())
    assert len(axes[0].texts) == 16
    with pytest.raises(ValueError, match=r"out must have the pooled shape \(OH, OW\) = \(2, 2\)"):
        show_pooling(x, out[:1], 2)
    with pytest.raises(ValueError, match="highlight"):
        show_pooling(x, out, 2, highlight=(2, 0))


@pytest.mark.parametrize("mode,k,s", [("max", 2, None), ("max", 3, 1), ("avg", 2, None),
                                      ("avg", 3, 2)])
def test_show_grad_routing_covers_exactly_the_pixels_with_gradient(mode, k, s):
    grad = torch_pool_grad(X, k, s, mode)
    ax = show_grad_routing(X, grad, k, s)
    covered = {(round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in patches(ax, "grad")}
    assert covered == {tuple(int(v) for v in rc) for rc in np.argwhere(grad != 0)}
    OH, OW = F.max_pool2d(torch.zeros(1, 1, 6, 6), k, s).shape[2:]
    assert len(patches(ax, "window")) == OH * OW
    np.testing.assert_array_equal(ax.images[0].get_array(), X)
    texts = sorted(t.get_text() for t in ax.texts)
    fmt = "{:.0f}" if np.all(grad == np.round(grad)) else "{:.2f}"
    assert texts == sorted(fmt.format(g) for g in grad[grad != 0])


def test_show_grad_routing_without_windows_and_shape_error():
    grad = np.zeros((6, 6))
    grad[2, 3] = -1.5
    fig, ax = plt.subplots()
    assert show_grad_routing(X, grad, ax=ax) is ax
    assert len(patches(ax, "grad")) == 1 and not patches(ax, "window")
    with pytest.raises(ValueError, match="grad_x must have the shape of x"):
        show_grad_routing(X, grad[:3])


def test_show_shift_comparison_rows_and_titles():
    a = np.zeros((8, 8))
    a[3, 2:5] = 1.0
    b = np.roll(a, 1, axis=1)
    pa = F.max_pool2d(torch.tensor(a)[None, None], 2)[0, 0].numpy()
    pb = F.max_pool2d(torch.tensor(b)[None, None], 2)[0, 0].numpy()
    axes = show_shift_comparison({"input": (a, b), "2x2 max pool": (pa, pb)})
    assert axes.shape == (2, 3)
    np.testing.assert_array_equal(axes[0, 2].images[0].get_array(), b - a)
    np.testing.assert_array_equal(axes[1, 0].images[0].get_array(), pa)
    for row, (before, after) in zip(axes, ((a, b), (pa, pb))):
        expected = np.linalg.norm(after - before) / np.linalg.norm(before)
        assert row[2].get_title() == f"difference: {expected:.2f}"
    assert axes[1, 0].get_title() == "2x2 max pool 4x4"
    with pytest.raises(ValueError, match="same shape"):
        show_shift_comparison({"x": (a, pa)})


def test_plot_shift_robustness_lines_are_means_with_bands():
    shifts = [1, 2, 3]
    values = RNG.random((10, 3))
    fig, ax = plt.subplots()
    assert plot_shift_robustness(shifts, {"pixels": values, "pooled": [0.1, 0.2, 0.3]}, ax=ax) is ax
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["pixels", "pooled"]
    np.testing.assert_allclose(lines[0].get_ydata(), values.mean(axis=0))
    np.testing.assert_allclose(lines[1].get_ydata(), [0.1, 0.2, 0.3])
    assert len(ax.collections) == 1  # one band, for the 2-D values only
    with pytest.raises(ValueError, match="one value per shift"):
        plot_shift_robustness(shifts, {"bad": [1.0, 2.0]})


def test_touching_windows_have_different_colours():
    out, _ = torch_max_pool(X, 2)
    ax_in, ax_out = show_pooling(X, out, 2)
    colours = np.array([p.get_edgecolor() for p in patches(ax_in, "window")]).reshape(3, 3, 4)
    assert np.any(colours[:, 1:] != colours[:, :-1], axis=-1).all()  # left-right neighbours
    assert np.any(colours[1:] != colours[:-1], axis=-1).all()  # up-down neighbours
    out_colours = np.array([p.get_edgecolor() for p in patches(ax_out, "window")])
    np.testing.assert_array_equal(out_colours, colours.reshape(9, 4))  # window and its output

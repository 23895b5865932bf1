"""Tests for cnncourse.widgets.strokes: mouse strokes to a 28x28 MNIST-style digit, and shifts."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import center_of_mass

from cnncourse.data import load_mnist
from cnncourse.widgets.strokes import shift_image, strokes_to_image
from _digit_models import ONE, ZERO

# --- strokes_to_image ------------------------------------------------------------------------

@pytest.mark.parametrize("strokes", [ONE, ZERO], ids=["one", "zero"])
def test_drawing_is_prepared_like_mnist(strokes):
    img = strokes_to_image(strokes)
    assert img.shape == (28, 28) and img.dtype == np.float64
    assert img.min() >= 0 and img.max() == 1.0
    cy, cx = center_of_mass(img)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5          # centred by its mass
    rows, cols = np.nonzero(img > 0)
    height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
    assert height == 20 and width < height                          # the 20x20 box, tall
    assert rows.min() >= 4 and rows.max() <= 23                     # 4-pixel margin, as MNIST
    x, _ = load_mnist("test")                                       # ink like MNIST's digits
    assert 0.2 * (x / 255).sum((1, 2)).min() < img.sum() < 2 * (x / 255).sum((1, 2)).mean()


def test_one_is_a_thin_vertical_bar_and_zero_is_a_ring():
    one, zero = strokes_to_image(ONE), strokes_to_image(ZERO)
    cols = np.nonzero(one.max(axis=0) > 0.5)[0]
    assert len(cols) <= 3 and set(cols) <= {12, 13, 14, 15}
    assert zero[13:15, 12:16].max() == 0                            # the hole of the 0
    assert zero[13:15].max() > 0.8 and zero[:, 13:15].max() > 0.8    # its sides


@pytest.mark.parametrize("scale, dx, dy", [(1, -60.3, 20.7), (0.5, 10, 30), (0.25, 20, 10)])
def test_drawing_position_and_size_on_the_canvas_do_not_matter(scale, dx, dy):
    moved = [[(dx + 140 + (x - 140) * scale, dy + 140 + (y - 140) * scale) for x, y in ZERO[0]]]
    img = strokes_to_image(moved, line_width=20 * scale)       # the same pen, relative to size
    assert np.abs(img - strokes_to_image(ZERO)).mean() < 0.1   # at most a pixel's rounding apart
    assert np.abs(np.subtract(center_of_mass(img), 13.5)).max() <= 0.5


def test_blank_dot_and_points_outside_the_canvas():
    assert not strokes_to_image([]).any() and not strokes_to_image([[]]).any()
    dot = strokes_to_image([[(100, 100)]])
    assert dot.max() == 1 and abs(center_of_mass(dot)[0] - 13.5) <= 0.5
    clipped = strokes_to_image([[(140, -500), (140, 240)]])            # clipped to y = 0
    assert np.abs(clipped - strokes_to_image([[(140, 0), (140, 240)]])).max() == 0


def test_strokes_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"strokes must be a list of strokes.*got 5"):
        strokes_to_image(5)
    with pytest.raises(ValueError, match=r"strokes\[1\] holds a point that is not finite"):
        strokes_to_image([[(1, 1)], [(np.nan, 2)]])
    with pytest.raises(ValueError, match="canvas_size must be a positive number; got canvas_size=0"):
        strokes_to_image(ONE, canvas_size=0)
    with pytest.raises(ValueError, match="line_width must be a positive number; got line_width=-1"):
        strokes_to_image(ONE, line_width=-1)


# --- shift_image -----------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(st.integers(-7, 7), st.integers(-7, 7), st.integers(0, 2**16))
def test_shift_matches_a_loop(dx, dy, seed):
    img = np.random.default_rng(seed).integers(1, 9, size=(2, 5, 6)).astype(np.float32)
    expected = np.zeros_like(img)
    for i in range(5):
        for j in range(6):
            if 0 <= i - dy < 5 and 0 <= j - dx < 6:
                expected[:, i, j] = img[:, i - dy, j - dx]
    out = shift_image(img, dx=dx, dy=dy)
    assert out.dtype == img.dtype and np.array_equal(out, expected)


def test_shift_errors():
    with pytest.raises(ValueError, match=r"dx must be a whole number of pixels \(an int\); got dx=1.5"):
        shift_image(np.zeros((4, 4)), dx=1.5)
    with pytest.raises(ValueError, match=r"img must hold images \(..., H, W\).*got shape \(4,\)"):
        shift_image(np.zeros(4), dy=1)

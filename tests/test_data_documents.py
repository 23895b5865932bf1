"""Handwritten amounts from MNIST test digits, and the page scan with its text lines."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.measure import label

from cnncourse.data import compose_amount, load_mnist, load_page, sample_image


def test_amount_is_deterministic_and_depends_on_the_seed():
    a, b = compose_amount(seed=7), compose_amount(seed=7)
    assert a.text == b.text and np.array_equal(a.image, b.image)
    assert np.array_equal(a.boxes, b.boxes) and np.array_equal(a.index, b.index)
    texts = {compose_amount(seed=s).text for s in range(20)}
    assert len(texts) == 20


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), gap_low=st.integers(1, 6), extra=st.integers(0, 6),
       jitter=st.integers(0, 4))
def test_amount_ground_truth_matches_the_image(seed, gap_low, extra, jitter):
    amount = compose_amount(seed=seed, gap=(gap_low, gap_low + extra), jitter=jitter)
    images, labels = load_mnist("test")
    n = len(amount.text)
    assert 3 <= n <= 6 and amount.text[0] != "0"
    assert amount.image.shape[0] == 28 + 2 * jitter and amount.image.dtype == np.uint8
    assert amount.labels.tolist() == [int(ch) for ch in amount.text]
    assert np.array_equal(labels[amount.index], amount.labels)  # real test digits, right class
    x0, y0, x1, y1 = amount.boxes.T
    assert np.all(x1[:-1] + gap_low <= x0[1:])  # left to right, at least `gap_low` apart
    ink_columns = np.flatnonzero(amount.image.max(axis=0) > 0)
    assert ink_columns[0] == x0[0] == 4 and ink_columns[-1] == x1[-1] - 1
    assert amount.image.shape[1] == x1[-1] + 4
    for (a, b, c, d), i in zip(amount.boxes, amount.index):
        crop = amount.image[b:d, a:c]
        assert crop.max() > 0 and crop[0].max() > 0 and crop[-1].max() > 0  # tight in rows
        rows = np.flatnonzero(images[i].max(axis=1) > 0)
        cols = np.flatnonzero(images[i].max(axis=0) > 0)
        digit = images[i][rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        assert np.array_equal(crop, digit)  # the very pixels of that MNIST test digit
    # with gaps >= 1 every connected piece of ink lies inside exactly one digit's box
    pieces = label(amount.image > 0, connectivity=2)
    count = pieces.max()
    for k in range(1, count + 1):
        rows, cols = np.nonzero(pieces == k)
        inside = [(a <= cols.min()) & (cols.max() < c) for a, _, c, _ in amount.boxes]
        assert sum(inside) == 1


def test_amount_with_given_text_and_touching_digits():
    amount = compose_amount("00700", seed=1, gap=(-3, 0))
    assert amount.text == "00700" and amount.labels.tolist() == [0, 0, 7, 0, 0]
    assert np.all(np.diff(amount.boxes[:, 0]) >= 1)
    assert np.any(amount.boxes[1:, 0] < amount.boxes[:-1, 2])  # some digits overlap


@pytest.mark.parametrize("kwargs,message", [
    ({"text": "12.50"}, "text must be a non-empty string of the digits 0-9"),
    ({"text": ""}, "text must be a non-empty string"),
    ({"text": 1250}, "got text=1250"),
    ({"n_digits": (0, 3)}, r"n_digits must be a pair of ints \(low, high\) with 1 <= low"),
    ({"n_digits": (4, 2)}, "got n_digits=\\(4, 2\\)"),
    ({"gap": (-11, 0)}, "gap must be a pair of ints"),
    ({"gap": 3}, "got gap=3"),
    ({"jitter": -1}, "jitter must be an int in \\[0, 20\\]"),
    ({"seed": -1}, "seed must be an int"),
])
def test_amount_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        compose_amount(**kwargs)


def test_amount_leaves_the_mnist_arrays_of_other_callers_alone():
    images, _ = load_mnist("test")
    compose_amount(seed=0)
    images[:] = 0  # the caller's copy; compose_amount keeps its own
    assert compose_amount(seed=0).image.max() == 255


def test_page_lines():
    page = load_page()
    assert np.array_equal(page.image, sample_image("page"))
    assert page.lines.shape == (7, 2) and len(page.texts) == 7
    top, bottom = page.lines.T
    assert np.all(top < bottom) and np.all(bottom[:-1] <= top[1:])  # ordered, disjoint
    # ink (dark, against the local paper brightness) is dense inside the bands and rare
    # in the blank rows between the title, the body and the code line
    from skimage.filters import threshold_sauvola

    ink = page.image < threshold_sauvola(page.image, window_size=31)
    in_lines = np.zeros(191, bool)
    for a, b in page.lines:
        in_lines[a:b] = True
    blank = np.r_[40:48, 140:165]
    density = ink[:, 20:360].mean(axis=1)
    assert density[in_lines].mean() > 3 * density[blank].mean()

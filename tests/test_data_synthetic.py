"""Synthetic shapes."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from cnncourse.data import SHAPE_CLASSES, make_shapes


@given(n=st.integers(1, 30), size=st.integers(8, 40), seed=st.integers(0, 1000),
       noise=st.sampled_from([0.0, 0.3]))
def test_shapes_properties(n, size, seed, noise):
    x, y = make_shapes(n, size, noise=noise, seed=seed)
    assert x.shape == (n, size, size) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() >= 0 and x.max() <= 1
    counts = np.bincount(y, minlength=4)
    assert counts.max() - counts.min() <= 1 and counts.sum() == n
    if noise == 0:
        # one shape, fully inside: a visible stroke (the pixel nearest the outline is at most
        # sqrt(2)/2 away, so it gets >= 1/2 + 0.5 - 0.71) and a black border row/column
        assert np.all(x.reshape(n, -1).max(axis=1) > 0.25)
        assert np.all(x[:, 0, :] == 0) and np.all(x[:, -1, :] == 0)
        assert np.all(x[:, :, 0] == 0) and np.all(x[:, :, -1] == 0)
    x2, y2 = make_shapes(n, size, noise=noise, seed=seed)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)


def test_seed_changes_images_and_noise_changes_pixels():
    a = make_shapes(20, seed=0)[0]
    assert not np.array_equal(a, make_shapes(20, seed=1)[0])
    noisy = make_shapes(20, seed=0, noise=0.2)[0]
    assert 0.05 < np.abs(noisy - a).mean() < 0.3


def test_classes_look_different():
    """A simple oracle: a circle outline has an empty centre, a cross a full one, a line is
    thin (few bright pixels), a square outline has the most ink."""
    x, y = make_shapes(400, 28)
    ink = {name: x[y == i].sum(axis=(1, 2)).mean() for i, name in enumerate(SHAPE_CLASSES)}
    assert ink["line"] < ink["cross"] < ink["square"]
    assert ink["line"] < ink["circle"]


def test_nearest_mean_classifier_separates_classes():
    """The labels carry real information: a nearest-class-mean classifier on rotation- and
    position-invariant features (radial ink profile) beats chance (25%) by far."""
    def features(x):
        n, size, _ = x.shape
        yy, xx = np.mgrid[:size, :size] + 0.5
        total = x.sum(axis=(1, 2))
        cy = (x * yy).sum(axis=(1, 2)) / total
        cx = (x * xx).sum(axis=(1, 2)) / total
        r = np.hypot(yy - cy[:, None, None], xx - cx[:, None, None])
        bins = np.stack([(x * ((r >= k) & (r < k + 2))).sum(axis=(1, 2)) for k in range(0, 14, 2)], 1)
        return bins / total[:, None]

    xtr, ytr = make_shapes(400, seed=0)
    xte, yte = make_shapes(200, seed=1)
    means = np.stack([features(xtr)[ytr == k].mean(0) for k in range(4)])
    pred = np.argmin(((features(xte)[:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert (pred == yte).mean() > 0.6


def test_subset_of_classes_and_torch():
    x, y = make_shapes(10, classes=("circle", "line"), as_torch=True)
    assert x.shape == (10, 1, 28, 28) and x.dtype == torch.float32 and set(y.tolist()) == {0, 1}


@pytest.mark.parametrize("kwargs,match", [
    ({"n": 0}, "n must be an int >= 1"),
    ({"n": 2.5}, "n must be an int >= 1"),
    ({"n": 4, "size": 4}, "size must be an int >= 8"),
    ({"n": 4, "noise": -0.1}, "noise must be a real number >= 0"),
    ({"n": 4, "classes": ("circle", "star")}, "each of classes must be one of 'line', 'square'"),
    ({"n": 4, "classes": ()}, "at least one"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_shapes(**kwargs)

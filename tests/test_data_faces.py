"""Faces / non-faces from skimage.data.lfw_subset()."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cnncourse.data import FACE_CLASSES, load_faces


def test_faces_split_shapes_and_labels():
    import skimage.data

    original = skimage.data.lfw_subset()
    x_train, y_train = load_faces("train")
    x_test, y_test = load_faces("test")
    assert x_train.shape == (160, 25, 25) and x_test.shape == (40, 25, 25)
    assert x_train.dtype == np.float32 and 0 <= x_train.min() and x_train.max() <= 1
    assert np.bincount(y_train).tolist() == [80, 80] and np.bincount(y_test).tolist() == [20, 20]
    assert FACE_CLASSES[1] == "face"
    # every patch is one of the originals, with the right label (faces are the first 100)
    flat = original.reshape(200, -1).astype(np.float32)
    seen = []
    for x, y in ((x_train, y_train), (x_test, y_test)):
        for image, label in zip(x.reshape(len(x), -1), y):
            i = int(np.flatnonzero((flat == image).all(axis=1))[0])
            assert label == (1 if i < 100 else 0)
            seen.append(i)
    assert sorted(seen) == list(range(200))  # disjoint and complete


def test_faces_split_is_fixed_and_torch():
    a, b = load_faces("test"), load_faces("test")
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    x, y = load_faces("test", as_torch=True)
    assert x.shape == (40, 1, 25, 25) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.equal(x[:, 0], torch.from_numpy(a[0]))


def test_faces_unknown_split():
    with pytest.raises(ValueError, match="split must be one of 'train', 'test'"):
        load_faces("all")

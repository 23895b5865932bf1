"""Shared data helpers: the stratified split, tensor conversion, and no writes into the package."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from cnncourse.data import as_dataset, stratified_split, to_torch
from cnncourse.data._common import check_choice

labels_strategy = st.lists(st.integers(0, 4), min_size=1, max_size=60)


@given(labels=labels_strategy, fraction=st.floats(0, 1), seed=st.integers(0, 2**31 - 1))
def test_stratified_split_properties(labels, fraction, seed):
    labels = np.array(labels)
    n_test = int(round(fraction * len(labels)))
    train, test = stratified_split(labels, n_test, seed=seed)
    assert len(test) == n_test and len(train) == len(labels) - n_test
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(labels)))
    # every class gets floor or ceil of its exact share
    for c in np.unique(labels):
        exact = (labels == c).sum() * n_test / len(labels)
        k = (labels[test] == c).sum()
        assert np.floor(exact) <= k <= np.ceil(exact)
    again = stratified_split(labels, n_test, seed=seed)
    assert np.array_equal(again[0], train) and np.array_equal(again[1], test)


def test_stratified_split_depends_on_seed_and_shuffles():
    labels = np.repeat(np.arange(4), 50)
    a = stratified_split(labels, 40, seed=0)
    b = stratified_split(labels, 40, seed=1)
    assert not np.array_equal(np.sort(a[1]), np.sort(b[1]))
    assert not np.all(np.diff(a[0]) > 0)  # shuffled, not sorted


@pytest.mark.parametrize("n_test", [-1, 7])
def test_stratified_split_rejects_bad_n_test(n_test):
    with pytest.raises(ValueError, match=r"n_test must be in \[0, N=6\]"):
        stratified_split([0, 1, 0, 1, 0, 1], n_test)


@given(n=st.integers(1, 5), h=st.integers(1, 6), w=st.integers(1, 6),
       channels=st.sampled_from([None, 1, 3]))
def test_to_torch_layout_and_scale(n, h, w, channels):
    rng = np.random.default_rng(n * 100 + h * 10 + w)
    shape = (n, h, w) if channels is None else (n, h, w, channels)
    images = rng.integers(0, 256, shape, dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    x, y = to_torch(images, labels)
    expected = torch.from_numpy(images).double() / 255
    expected = expected.unsqueeze(1) if channels is None else expected.permute(0, 3, 1, 2)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.allclose(x.double(), expected, atol=1e-7)
    assert torch.equal(y, torch.from_numpy(labels).long())


def test_to_torch_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"images must be \(N, H, W\)"):
        to_torch(np.zeros((28, 28)), np.zeros(28))
    with pytest.raises(ValueError, match=r"labels must have shape \(N,\) = \(3,\)"):
        to_torch(np.zeros((3, 8, 8)), np.zeros(4))


def test_as_dataset_items():
    ds = as_dataset(np.full((4, 5, 5), 255, np.uint8), np.arange(4))
    x, y = ds[2]
    assert len(ds) == 4 and x.shape == (1, 5, 5) and float(x.max()) == 1.0 and int(y) == 2


def test_check_choice_message():
    with pytest.raises(ValueError, match=r"split must be one of 'train', 'test'; got split='val'"):
        check_choice("split", "val", ("train", "test"))
    with pytest.raises(ValueError, match="got split=None"):
        check_choice("split", None, ("train", "test"))


def test_loaders_write_nothing_into_the_package(tmp_path):
    import cnncourse.data as data

    folder = data._bundled.FILES_DIR.parent

    def snapshot():
        return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if "__pycache__" not in p.parts}

    before = snapshot()
    data.load_mnist("train")
    data.load_faces("test")
    data.load_textures("test")
    data.sample_image("camera")
    data.make_shapes(3)
    assert snapshot() == before

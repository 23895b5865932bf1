"""Tests for the augmentation of image batches: each output is the transformed input it claims to
be (checked against np.roll / mirror / np.rot90 references), NumPy and torch agree, and the
draws come from the generator passed in."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from cnncourse.training import Augment, random_flip, random_rotation, random_shift


def shifted(img, dy, dx):
    """Reference: ``img`` (C, H, W) moved down by dy and right by dx, zeros coming in."""
    out = np.roll(img, (dy, dx), axis=(1, 2))
    H, W = img.shape[1:]
    rows, cols = np.arange(H)[:, None] - dy, np.arange(W)[None, :] - dx
    return np.where((rows >= 0) & (rows < H) & (cols >= 0) & (cols < W), out, 0)


@given(st.integers(1, 3), st.integers(1, 2), st.integers(3, 9), st.integers(3, 9), st.integers(0, 99))
def test_each_image_is_shifted_by_a_whole_number_of_pixels_within_range(s, C, H, W, seed):
    x = np.random.default_rng(seed).random((16, C, H, W)).astype(np.float32) + 0.5
    out = random_shift(x, s, np.random.default_rng(seed))
    assert out.shape == x.shape and out.dtype == x.dtype and isinstance(out, np.ndarray)
    for img, res in zip(x, out):
        matches = [(dy, dx) for dy in range(-s, s + 1) for dx in range(-s, s + 1)
                   if np.array_equal(res, shifted(img, dy, dx))]
        assert matches, "an output image is not a shifted input"


def test_shifts_cover_the_whole_range_and_numpy_and_torch_agree():
    x = np.zeros((400, 1, 7, 7), np.float32)
    x[:, :, 3, 3] = 1
    out = random_shift(x, 2, np.random.default_rng(0))
    assert isinstance(out, np.ndarray) and out.dtype == x.dtype
    rows, cols = np.nonzero(out[:, 0].sum(0))
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (1, 5, 1, 5)
    t = random_shift(torch.from_numpy(x), 2, np.random.default_rng(0))
    assert isinstance(t, torch.Tensor) and np.array_equal(t.numpy(), out)
    assert random_shift(x, 0, np.random.default_rng(0)) is x


@pytest.mark.parametrize("p, flipped", [(1.0, 8), (0.0, 0)])
def test_flip_mirrors_left_right_with_probability_p(p, flipped):
    x = np.random.default_rng(1).random((8, 2, 3, 5))
    out = random_flip(x, np.random.default_rng(0), p=p)
    assert sum(np.array_equal(o, i[..., ::-1]) for o, i in zip(out, x)) == flipped
    assert sum(np.array_equal(o, i) for o, i in zip(out, x)) == 8 - flipped


def test_flip_half_of_them_the_same_in_numpy_and_torch():
    x = np.random.default_rng(1).random((1000, 1, 2, 2))
    out = random_flip(x, np.random.default_rng(0))
    n_flipped = sum(np.array_equal(o, i[..., ::-1]) for o, i in zip(out, x))
    assert 430 < n_flipped < 570
    t = random_flip(torch.from_numpy(x), np.random.default_rng(0))
    np.testing.assert_array_equal(t.numpy(), out)


class FixedAngle:
    """A stand-in generator whose 'uniform' draws are all ``degrees``."""

    def __init__(self, degrees):
        self.degrees = degrees

    def uniform(self, low, high, size):
        return np.full(size, self.degrees, dtype=float)


def test_rotation_by_90_degrees_is_rot90():
    x = np.random.default_rng(0).random((3, 2, 6, 6)).astype(np.float32)
    out = random_rotation(x, 90, FixedAngle(90.0))
    # a positive angle turns the picture counter-clockwise on screen, like np.rot90
    np.testing.assert_allclose(out, np.rot90(x, k=1, axes=(2, 3)), atol=1e-5)
    back = random_rotation(torch.from_numpy(out), 90, FixedAngle(-90.0))
    np.testing.assert_allclose(back.numpy(), x, atol=1e-5)


def test_small_rotations_keep_a_centred_blob_in_place_and_stay_in_range():
    yy, xx = np.mgrid[:28, :28]
    blob = np.exp(-((yy - 13.5) ** 2 + (xx - 13.5) ** 2 / 0.2) / 20)[None, None]  # an upright bar
    out = random_rotation(np.repeat(blob, 50, 0), 15, np.random.default_rng(0))
    assert np.allclose(out.sum((1, 2, 3)), blob.sum(), rtol=0.01)  # nothing lost off the edges
    for img in out[:, 0]:
        cy, cx = (img * yy).sum() / img.sum(), (img * xx).sum() / img.sum()
        assert abs(cy - 13.5) < 0.05 and abs(cx - 13.5) < 0.05
        # the bar's tilt: the angle of its principal axis, within the 15 degrees allowed
        cov = np.cov(np.stack([xx.ravel(), yy.ravel()]), aweights=img.ravel())
        tilt = np.degrees(np.arctan2(2 * cov[0, 1], cov[1, 1] - cov[0, 0])) / 2
        assert abs(tilt) <= 15.5
    assert random_rotation(blob, 0, np.random.default_rng(0)) is blob


def test_augment_composes_deterministically_in_both_backends():
    x = np.random.default_rng(0).random((10, 1, 12, 12)).astype(np.float32)
    augment = Augment(shift=2, flip=True, degrees=10)
    a = augment(x, np.random.default_rng(5))
    b = augment(x, np.random.default_rng(5))
    t = augment(torch.from_numpy(x), np.random.default_rng(5))
    assert isinstance(a, np.ndarray) and a.dtype == np.float32 and np.array_equal(a, b)
    np.testing.assert_allclose(t.numpy(), a, atol=1e-6)
    assert not np.array_equal(a, augment(x, np.random.default_rng(6)))
    assert repr(augment) == "Augment(shift=2, flip=True, degrees=10)"


@pytest.mark.parametrize("call, match", [
    (lambda: Augment(shift=-1), "shift must be an int >= 0"),
    (lambda: Augment(shift=1.5), "shift must be"),
    (lambda: Augment(degrees=200), "degrees must be"),
    (lambda: random_shift(np.zeros((28, 28)), 2, np.random.default_rng(0)), r"\(N, C, H, W\)"),
    (lambda: random_rotation(np.zeros((2, 28, 28)), 5, np.random.default_rng(0)), r"\(N, C, H, W\)"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()

"""Tests for cnncourse.kernels: the named hand-designed kernels, checked against torch's conv2d."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnncourse.kernels import KERNEL_NAMES, get_kernel, kernel_bank

EXPECTED = {"identity", "box_blur", "gaussian", "sharpen", "sobel_x", "sobel_y", "laplacian", "edge"}


def torch_correlate(image, kernel):
    """'valid' cross-correlation of one 2-D image, by torch (float64) as the outside oracle."""
    x = torch.as_tensor(np.asarray(image, dtype=np.float64))[None, None]
    w = torch.as_tensor(np.asarray(kernel, dtype=np.float64))[None, None]
    return F.conv2d(x, w)[0, 0].numpy()


def test_names_are_the_documented_ones():
    assert set(KERNEL_NAMES) == EXPECTED
    assert len(KERNEL_NAMES) == len(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_kernel_is_a_fresh_3x3_float32_array(name):
    k = get_kernel(name)
    assert k.shape == (3, 3) and k.dtype == np.float32
    k[:] = 123.0  # changing the returned array must not change the library's copy
    assert not np.any(get_kernel(name) == 123.0)


def test_dtype_argument():
    assert get_kernel("sobel_x", dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("bad", ["sobel", "Sobel_X", "", None, 3])
def test_unknown_name_lists_the_known_ones(bad):
    with pytest.raises(ValueError) as err:
        get_kernel(bad)
    message = str(err.value)
    assert repr(bad) in message
    for name in EXPECTED:
        assert name in message


@pytest.mark.parametrize("name,total", [("identity", 1), ("box_blur", 1), ("gaussian", 1),
                                        ("sharpen", 1), ("sobel_x", 0), ("sobel_y", 0),
                                        ("laplacian", 0), ("edge", 0)])
def test_response_to_a_flat_image(name, total):
    """Blurs and sharpen keep a flat image; edge detectors give exactly zero on it."""
    flat = np.full((6, 7), 0.7)
    np.testing.assert_allclose(torch_correlate(flat, get_kernel(name, np.float64)),
                               np.full((4, 5), 0.7 * total), atol=1e-12)


@given(slope=st.floats(-5, 5), offset=st.floats(-5, 5))
def test_sobel_measures_the_slope_of_a_ramp(slope, offset):
    """Brightness rising to the right (or downwards) by `slope` per pixel gives 8*slope."""
    rows, cols = np.mgrid[0:6, 0:6].astype(float)
    ramp_right, ramp_down = offset + slope * cols, offset + slope * rows
    np.testing.assert_allclose(torch_correlate(ramp_right, get_kernel("sobel_x", np.float64)),
                               8 * slope, atol=1e-9)
    np.testing.assert_allclose(torch_correlate(ramp_down, get_kernel("sobel_y", np.float64)),
                               8 * slope, atol=1e-9)
    np.testing.assert_allclose(torch_correlate(ramp_right, get_kernel("sobel_y", np.float64)),
                               0, atol=1e-9)


@given(arrays(np.float64, (5, 6), elements=st.floats(-10, 10)))
def test_identity_crops_and_sharpen_adds_the_negated_laplacian(image):
    inner = image[1:-1, 1:-1]
    np.testing.assert_allclose(torch_correlate(image, get_kernel("identity", np.float64)), inner)
    lap = torch_correlate(image, get_kernel("laplacian", np.float64))
    sharp = torch_correlate(image, get_kernel("sharpen", np.float64))
    np.testing.assert_allclose(sharp, inner - lap, atol=1e-9)


def test_gaussian_is_separable_and_box_blur_is_the_mean():
    np.testing.assert_allclose(get_kernel("gaussian"), np.outer([1, 2, 1], [1, 2, 1]) / 16)
    np.testing.assert_allclose(get_kernel("box_blur"), np.full((3, 3), 1 / 9), rtol=1e-6)
    np.testing.assert_array_equal(get_kernel("sobel_y"), get_kernel("sobel_x").T)


def test_kernel_bank_stacks_filters_for_one_channel():
    bank = kernel_bank(["sobel_x", "box_blur"], dtype=np.float64)
    assert bank.shape == (2, 1, 3, 3) and bank.dtype == np.float64
    np.testing.assert_array_equal(bank[1, 0], get_kernel("box_blur", np.float64))
    assert kernel_bank().shape == (len(KERNEL_NAMES), 1, 3, 3)
    assert kernel_bank("edge").shape == (1, 1, 3, 3)
    with pytest.raises(ValueError, match="unknown kernel name"):
        kernel_bank(["sobel_x", "nope"])

"""Lossless uint16 packing of the satellite bands (cnncourse.data._packing)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnncourse.data._packing import pack_uint16, unpack_uint16


@given(hnp.arrays(np.uint16, hnp.array_shapes(min_dims=2, max_dims=3, max_side=9),
                  elements=st.integers(0, 65535)))
def test_round_trip_is_exact_for_any_values(band):
    high, low = pack_uint16(band)
    assert high.dtype == low.dtype == np.uint8 and high.shape == band.shape
    assert np.array_equal(unpack_uint16(high, low), band)


def test_packing_stores_column_differences():
    band = np.array([[10, 12, 9], [0, 65535, 0]], np.uint16)
    high, low = pack_uint16(band)
    delta = high.astype(np.int64) * 256 + low
    assert delta.tolist() == [[10, 2, 65533], [0, 65535, 1]]  # differences modulo 2**16


def test_packing_helps_deflate_on_smooth_data():
    import zlib

    rng = np.random.default_rng(0)
    band = (20000 + np.cumsum(rng.integers(-20, 21, (64, 256)), axis=1)).astype(np.uint16)
    packed = np.concatenate([p.ravel() for p in pack_uint16(band)])
    assert len(zlib.compress(packed.tobytes(), 9)) < len(zlib.compress(band.tobytes(), 9))


@pytest.mark.parametrize("bad", [np.zeros((3, 3), np.int32), np.zeros(5, np.uint16)])
def test_pack_rejects_other_arrays(bad):
    with pytest.raises(ValueError, match="band must be a uint16 array"):
        pack_uint16(bad)


def test_unpack_rejects_mismatched_parts():
    with pytest.raises(ValueError, match="high and low must be uint8 arrays of one shape"):
        unpack_uint16(np.zeros((2, 3), np.uint8), np.zeros((2, 2), np.uint8))

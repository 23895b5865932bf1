"""Tests for cnncourse.nn.dropout: inverted dropout like torch's, seeded, off in evaluation."""
import numpy as np
import pytest
import torch

from cnncourse import nn


def test_inverted_dropout_scales_kept_values_and_backward_uses_the_same_mask():
    nn.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = np.random.default_rng(0).normal(size=(200, 50)).astype(np.float32)
    out = drop(x)
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.75, rtol=1e-6)
    assert abs(1 - kept.mean() - 0.25) < 0.01                     # 10,000 draws
    grad = drop.backward(np.ones_like(x))
    np.testing.assert_allclose(grad, kept / 0.75, rtol=1e-6)
    assert out.dtype == grad.dtype == np.float32


def test_the_expected_output_is_the_input_as_in_torch():
    nn.manual_seed(1)
    x = np.ones((400, 400))
    ours = nn.Dropout(0.3)(x).mean()
    theirs = float(torch.nn.Dropout(0.3)(torch.from_numpy(x)).mean())
    assert ours == pytest.approx(1.0, abs=0.01) and theirs == pytest.approx(1.0, abs=0.01)


def test_seeded_masks_repeat_and_each_forward_draws_a_new_one():
    x = np.ones((10, 10))
    nn.manual_seed(5)
    drop = nn.Dropout()
    first, second = drop(x), drop(x)
    assert not np.array_equal(first, second)
    nn.manual_seed(5)
    np.testing.assert_array_equal(drop(x), first)


def test_evaluation_mode_and_the_edge_probabilities():
    x = np.arange(6.0).reshape(2, 3)
    drop = nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(drop(x), x)
    np.testing.assert_array_equal(drop.backward(np.ones_like(x)), np.ones_like(x))
    np.testing.assert_array_equal(nn.Dropout(0.0)(x), x)
    np.testing.assert_array_equal(nn.Dropout(1.0)(x), np.zeros_like(x))
    assert repr(nn.Dropout(0.3)) == repr(torch.nn.Dropout(0.3))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_bad_probability(p):
    with pytest.raises(ValueError, match=r"dropout probability p must be in \[0.0, 1.0\]"):
        nn.Dropout(p)

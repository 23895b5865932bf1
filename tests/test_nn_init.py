"""Tests for cnncourse.nn.init: seeding and torch's default initialisation."""
import math

import numpy as np
import pytest
import torch

from cnncourse import nn
from cnncourse.nn import init


def test_manual_seed_repeats_weights_and_dropout():
    def draw():
        init.manual_seed(3)
        return nn.Linear(5, 4).weight.data.copy(), nn.Dropout()(np.ones(20))
    (w1, d1), (w2, d2) = draw(), draw()
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(d1, d2)
    assert nn.manual_seed is init.manual_seed


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
def test_default_init_has_torch_s_distribution(shape):
    ours = init.kaiming_uniform_(np.empty(shape), a=math.sqrt(5))
    theirs = torch.nn.init.kaiming_uniform_(torch.empty(shape), a=math.sqrt(5)).numpy()
    assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.01)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    assert abs(ours.mean()) < 0.05 * ours.std() + 1e-3

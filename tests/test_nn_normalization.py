"""Tests for cnncourse.nn.normalization: BatchNorm2d and BatchNorm1d against torch.nn in float64,
in training and evaluation, over several steps (running statistics), every option."""
import numpy as np
import pytest
import torch

from _nn_oracle import compare_with_torch
from cnncourse import nn
from cnncourse.numpy_ops import check_gradient

OPTIONS = [dict(), dict(momentum=None), dict(momentum=0.5, eps=1e-3), dict(affine=False),
           dict(track_running_stats=False), dict(bias=False)]


@pytest.mark.parametrize("kwargs", OPTIONS, ids=str)
@pytest.mark.parametrize("kind, shape", [("BatchNorm2d", (4, 3, 5, 6)), ("BatchNorm1d", (6, 3)),
                                         ("BatchNorm1d", (4, 3, 7))])
def test_matches_torch_over_training_steps_then_in_evaluation(kind, shape, kwargs):
    ours = getattr(nn, kind)(3, **kwargs, dtype=np.float64)
    theirs = getattr(torch.nn, kind)(3, **kwargs).double()
    rng = np.random.default_rng(0)
    for step in range(3):
        x = rng.normal(loc=step, scale=2.0, size=shape)
        compare_with_torch(ours, theirs, x, seed=step)
        ours.load_state_dict(theirs.state_dict())          # the same model for the next step
    theirs.eval()
    compare_with_torch(ours, theirs, rng.normal(size=shape))
    assert repr(ours) == repr(theirs)


def test_state_dict_keys_and_buffers_are_torch_s():
    ours, theirs = nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.state_dict()["num_batches_tracked"].dtype == np.int64
    ours(np.random.default_rng(0).normal(size=(2, 4, 3, 3)).astype(np.float32))
    assert int(ours.num_batches_tracked) == 1


def test_training_backward_matches_finite_differences():
    bn = nn.BatchNorm2d(2, dtype=np.float64)
    x = np.random.default_rng(1).normal(size=(3, 2, 2, 2))
    grad_out = np.random.default_rng(2).normal(size=x.shape)
    bn(x)
    grad_x = bn.backward(grad_out)
    saved = bn.state_dict()

    def forward(v):
        bn.load_state_dict(saved)               # the running statistics do not matter here
        return bn(v)

    check_gradient(forward, x, grad_x, grad_out)


def test_bad_input():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(4, .*expects 4 channels.*Fix: BatchNorm2d\(3\)"):
        nn.BatchNorm2d(4)(np.zeros((2, 3, 4, 4), np.float32))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="expects a 2 or 3-D input"):
        nn.BatchNorm1d(3)(np.zeros((2, 3, 4, 4), np.float32))
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match="momentum must be in"):
        nn.BatchNorm2d(3, momentum=2)

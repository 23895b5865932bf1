"""Tests for cnncourse.nn.summary."""
import numpy as np
import pytest
import torch

from _nn_oracle import lenet
from cnncourse import nn


def test_lenet_rows_match_torch_s_shapes_and_parameter_counts(capsys):
    ours, theirs = lenet(nn), lenet(torch.nn)
    rows = nn.summary(ours, (1, 1, 28, 28))
    x = torch.zeros(1, 1, 28, 28)
    for row, layer in zip(rows, theirs):
        x = layer(x)
        assert row["output_shape"] == tuple(x.shape) and row["type"] == type(layer).__name__
        assert row["params"] == sum(p.numel() for p in layer.parameters())
    printed = capsys.readouterr().out
    assert "total: 44,426 parameters" in printed and "(1, 6, 24, 24)" in printed
    assert len(rows) == 12


def test_summary_leaves_the_model_as_it_was():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5))
    model[2].eval()
    before = model.state_dict()
    nn.summary(model, (2, 1, 6, 6), file=open("/dev/null", "w"))
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert model.training and model[1].training and not model[2].training


def test_summary_of_a_model_that_does_not_fit_names_the_layer():
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Flatten(), nn.Linear(100, 10))
    with pytest.raises(ValueError, match=r"layer '2' of the model: .*Fix: Linear\(3456, 10\)"):
        nn.summary(model, (1, 1, 28, 28))
    with pytest.raises(TypeError, match="input_shape must be a tuple of ints"):
        nn.summary(model, "28x28")

"""Tests for cnncourse.training.speed: time_steps trains through the real engine, on tensors or a
DataLoader, for NumPy and torch models (no timing is asserted, only that steps happened)."""
import numpy as np
import pytest
import torch

from cnncourse import nn, optim
from cnncourse.models import mlp
from cnncourse.training import time_steps


def data(n=32):
    rng = np.random.default_rng(0)
    return rng.random((n, 1, 4, 4), dtype=np.float32), rng.integers(0, 3, n)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("loader", [False, True])
def test_time_steps_trains_the_model(backend, loader):
    x, y = data()
    nn.manual_seed(0)
    torch.manual_seed(0)
    model = mlp(backend, in_features=16, hidden=(8,), num_classes=3)
    params = list(model.parameters())
    before = [np.array(p.data if backend == "numpy" else p.detach().numpy(), copy=True) for p in params]
    opt = (optim.SGD if backend == "numpy" else torch.optim.SGD)(model.parameters(), lr=0.1)
    r = time_steps(model, opt, x, y, batch_size=8, steps=3, warmup=1, loader=loader)
    assert r["steps"] == 3 and r["batch_size"] == 8 and r["device"] == "cpu"
    assert r["seconds_per_step"] > 0
    assert r["images_per_second"] == pytest.approx(8 * r["steps_per_second"])
    after = [p.data if backend == "numpy" else p.detach().numpy() for p in params]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))


def test_steps_cycle_over_the_data_and_bad_arguments_are_named():
    x, y = data(16)
    model = mlp("numpy", in_features=16, hidden=(4,), num_classes=3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    assert time_steps(model, opt, x, y, batch_size=8, steps=5, warmup=0)["steps"] == 5
    with pytest.raises(ValueError, match="batch_size must be an int from 1 to len"):
        time_steps(model, opt, x, y, batch_size=17)
    with pytest.raises(ValueError, match="steps must be an int >= 1"):
        time_steps(model, opt, x, y, steps=0)

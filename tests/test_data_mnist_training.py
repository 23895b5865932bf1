"""Done-when check of the bundled MNIST subset: a small CNN learns it.

A LeNet-style ``torch.nn`` CNN trained for 5 epochs on ``load_mnist("train")`` (8,000
digits) must reach at least 97% accuracy on ``load_mnist("test")`` (2,000 digits). Wrong
labels, a broken split (e.g. train and test from different distributions) or badly decoded
pixels would keep it far below that. About 10-30 s on 2 CPU cores.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from cnncourse.data import load_mnist

EPOCHS = 5
BATCH = 32


def lenet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 6 x 14 x 14
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # 16 x 5 x 5
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def train_and_test(seed: int = 0) -> float:
    x_train, y_train = load_mnist("train", as_torch=True)
    x_test, y_test = load_mnist("test", as_torch=True)
    torch.manual_seed(seed)
    model = lenet()
    steps_per_epoch = -(-len(x_train) // BATCH)
    optimizer = torch.optim.Adam(model.parameters())
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3,
                                                   total_steps=EPOCHS * steps_per_epoch)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(EPOCHS):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        for start in range(0, len(x_train), BATCH):
            batch = order[start:start + BATCH]
            loss = nn.functional.cross_entropy(model(x_train[batch]), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()
    with torch.no_grad():
        return (model(x_test).argmax(dim=1) == y_test).float().mean().item()


@pytest.mark.slow
def test_small_cnn_reaches_97_percent_on_bundled_mnist():
    threads = torch.get_num_threads()
    # One thread: small batches gain little from two, and one thread is far faster when
    # the cores are shared (as under pytest-xdist or on a busy CI runner).
    torch.set_num_threads(1)
    try:
        accuracy = train_and_test(seed=0)
    finally:
        torch.set_num_threads(threads)
    assert accuracy >= 0.97, f"test accuracy {accuracy:.4f} < 0.97"

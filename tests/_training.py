"""Small learnable data and tiny models shared by the training tests (and their subprocesses)."""
from collections import OrderedDict

import numpy as np
import torch
from torch import nn


def blobs(n=96, classes=3, seed=0, side=4):
    """Images (n, 1, side, side) whose mean brightness pattern depends on the class: learnable."""
    centres = np.random.default_rng(100).normal(size=(classes, 1, side, side))  # the same classes
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = centres[y] + 0.7 * rng.normal(size=(n, 1, side, side))
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y)


def tiny_net(seed=0, classes=3, side=4, dropout=0.0):
    """flatten - fc1 (8) - relu - [dropout] - fc2, initialised from ``seed``."""
    torch.manual_seed(seed)
    layers = [("flatten", nn.Flatten()), ("fc1", nn.Linear(side * side, 8)), ("relu", nn.ReLU())]
    if dropout:
        layers.append(("dropout", nn.Dropout(dropout)))
    return nn.Sequential(OrderedDict(layers + [("fc2", nn.Linear(8, classes))]))


def params(net):
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def interrupt_layer(base):
    """An identity layer class on ``base`` (torch.nn.Module or cnncourse.nn.Module) that raises
    KeyboardInterrupt in its ``at``-th training forward, as Ctrl-C would."""

    class InterruptAt(base):
        def __init__(self, at=None):
            super().__init__()
            self.at, self.calls = at, 0

        def forward(self, x):
            if self.training:
                self.calls += 1
                if self.calls == self.at:
                    raise KeyboardInterrupt
            return x

        def backward(self, grad_out):  # for NumPy models
            return grad_out

    return InterruptAt

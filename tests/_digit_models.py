"""Shared by the tests of lesson 4's explorer: two drawn digits, and one hand-made classifier in
the three kinds of model (course NumPy, torch, plain callable)."""
from collections import OrderedDict

import numpy as np
import torch

from cnncourse import nn
from cnncourse.data import load_mnist

ONE = [[(140, 40), (140, 240)]]                                    # a vertical stroke
_t = np.linspace(0, 2 * np.pi, 60)
ZERO = [list(zip(140 + 70 * np.cos(_t), 140 + 100 * np.sin(_t)))]  # an upright ellipse


def nearest_mean_weights():
    """A nearest-class-mean classifier, weights chosen by hand (no training): logits
    ``z_k = m_k . x - |m_k|^2 / 2`` with ``m_k`` the mean bundled training digit of class k."""
    x, y = load_mnist("train")
    x = x.reshape(len(x), -1) / 255.0
    means = np.stack([x[y == k].mean(axis=0) for k in range(10)])
    return means, -0.5 * (means ** 2).sum(axis=1)


def three_kinds(templates):
    weight, bias = templates
    ours = nn.Sequential(OrderedDict(flatten=nn.Flatten(), fc=nn.Linear(784, 10)))
    ours.fc.weight.data[...], ours.fc.bias.data[...] = weight, bias
    theirs = torch.nn.Sequential(OrderedDict(flatten=torch.nn.Flatten(),
                                             fc=torch.nn.Linear(784, 10)))
    theirs.load_state_dict({"fc.weight": torch.tensor(weight, dtype=torch.float32),
                            "fc.bias": torch.tensor(bias, dtype=torch.float32)})
    return {"numpy": ours, "torch": theirs,
            "callable": lambda x: x.reshape(len(x), -1) @ weight.T + bias}



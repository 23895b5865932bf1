"""NumPy networks: layers, models and losses that work like ``torch.nn``, with every gradient
written out.

A model is built, called and trained like a torch model, but its backward pass is the chain
rule written by hand, layer by layer (no autograd)::

    from cnncourse import nn, optim

    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    optimizer.zero_grad()
    loss = criterion(model(x), y)              # a float
    model.backward(criterion.backward())       # fills every parameter's .grad
    optimizer.step()

Class names, constructor arguments, defaults, parameter names and shapes, the default
initialisation and the ``state_dict`` keys are those of ``torch.nn``, so a learner can compare
the two line by line and move weights between them (:class:`Module`). Parameters are float32
by default (``dtype=np.float64`` for gradient checks).
"""
from .activations import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import Sequential
from .conv import Conv2d
from .dropout import Dropout
from .init import manual_seed
from .linear import Flatten, Identity, Linear
from .losses import CrossEntropyLoss, MSELoss
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d
from .pool import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .summary import summary

__all__ = [
    "Module", "Parameter", "Sequential",
    "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Linear", "Flatten", "Identity",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
    "Dropout", "BatchNorm1d", "BatchNorm2d",
    "CrossEntropyLoss", "MSELoss",
    "summary", "manual_seed",
]

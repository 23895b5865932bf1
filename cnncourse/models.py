"""Reference models shared by the lessons and the tests, each in NumPy and in PyTorch.

Every function builds the same architecture from either library's layers -- ``backend="numpy"``
uses :mod:`cnncourse.nn`, ``backend="torch"`` uses ``torch.nn`` -- with the same constructor
arguments and the same layer names, so both have the same ``state_dict`` keys and shapes and
weights move between them: ``numpy_model.load_state_dict(torch_model.state_dict())`` (tensors
are converted) and back.

==================  =================================================================  ========
model               layers (input ``(N, 1, 28, 28)``)                                  params
==================  =================================================================  ========
:func:`lenet`       conv5(6)-relu-pool, conv5(16)-relu-pool, fc 256-120-84-10           44,426
                    (``batch_norm=True``: a batch norm after each convolution)
:func:`small_cnn`   [conv3-batchnorm-relu-pool] x 3 (16, 32, 64 filters), global       24,058
                    average pooling, fc 64-10
:func:`mlp`         flatten, fc 784-256-128-10 with ReLUs                              235,146
==================  =================================================================  ========

Example:
    >>> net = lenet("torch")
    >>> [name for name, _ in net.named_parameters()][:4]
    ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias']
"""
from __future__ import annotations

from collections import OrderedDict

__all__ = ["lenet", "small_cnn", "mlp", "layers", "BACKENDS"]

BACKENDS = ("numpy", "torch")


def layers(backend: str):
    """The layer library of a backend: :mod:`cnncourse.nn` (``"numpy"``) or ``torch.nn`` (``"torch"``)."""
    if backend == "torch":
        import torch.nn

        return torch.nn
    if backend == "numpy":
        import cnncourse.nn

        return cnncourse.nn
    raise ValueError(f"backend must be 'numpy' or 'torch'; got backend={backend!r}")


def lenet(backend: str = "numpy", in_channels: int = 1, num_classes: int = 10, input_size: int = 28,
          channels: tuple[int, int] = (6, 16), hidden: tuple[int, ...] = (120, 84),
          batch_norm: bool = False):
    """LeNet-style CNN (LeCun et al., 1998, with ReLU and max pooling).

    conv1 5x5 (6 filters) - ReLU - max-pool 2, conv2 5x5 (16 filters) - ReLU - max-pool 2,
    flatten, fc1 (120) - ReLU, fc2 (84) - ReLU, fc3 (``num_classes``). With
    ``batch_norm=True`` a ``BatchNorm2d`` (``bn1``, ``bn2``) follows each convolution, which then
    has no bias (the batch norm's shift replaces it); ``channels`` and ``hidden`` change the
    widths (``lenet(channels=(16, 32), hidden=(128,), batch_norm=True)`` is the benchmark's
    fastest PyTorch recipe).

    Shape:
        Input ``(N, in_channels, input_size, input_size)``; the flattened features are
        ``channels[1] * s * s`` with ``s = ((input_size - 4) // 2 - 4) // 2`` (256 for 28x28);
        output ``(N, num_classes)`` logits.

    Example:
        >>> lenet("torch").fc1
        Linear(in_features=256, out_features=120, bias=True)
    """
    nn = layers(backend)
    s = ((input_size - 4) // 2 - 4) // 2
    if s < 1:
        raise ValueError(f"input_size must be at least 16 for two 5x5 convolutions and two "
                         f"poolings; got input_size={input_size}")
    named, previous = [], in_channels
    for i, c in enumerate(channels, start=1):
        named.append((f"conv{i}", nn.Conv2d(previous, c, 5, bias=not batch_norm)))
        if batch_norm:
            named.append((f"bn{i}", nn.BatchNorm2d(c)))
        named += [(f"relu{i}", nn.ReLU()), (f"pool{i}", nn.MaxPool2d(2))]
        previous = c
    named.append(("flatten", nn.Flatten()))
    previous = channels[-1] * s * s
    for i, width in enumerate(hidden, start=1):
        named += [(f"fc{i}", nn.Linear(previous, width)), (f"relu{i + 2}", nn.ReLU())]
        previous = width
    named.append((f"fc{len(hidden) + 1}", nn.Linear(previous, num_classes)))
    return nn.Sequential(OrderedDict(named))


def small_cnn(backend: str = "numpy", in_channels: int = 1, num_classes: int = 10,
              channels: tuple[int, ...] = (16, 32, 64)):
    """A small modern CNN: 3x3 convolutions with batch norm, then global average pooling.

    For each width ``c_i`` in ``channels``: ``conv{i}`` 3x3 with padding 1 and no bias (the batch
    norm after it has one) - ``bn{i}`` - ``relu{i}`` - and, except after the last,
    ``pool{i}`` max-pool 2. Then ``gap`` (global average pooling) - ``flatten`` - ``fc``.
    Global average pooling makes the model work for any input size.

    Shape:
        Input ``(N, in_channels, H, W)``; output ``(N, num_classes)``; spatial size halves at
        each pooling: ``H -> H // 2 -> H // 4`` for three blocks.

    Example:
        >>> small_cnn("torch", channels=(8, 16)).fc
        Linear(in_features=16, out_features=10, bias=True)
    """
    nn = layers(backend)
    if len(channels) == 0:
        raise ValueError("channels must list at least one block width, e.g. (16, 32, 64)")
    named, previous = [], in_channels
    for i, c in enumerate(channels, start=1):
        named += [(f"conv{i}", nn.Conv2d(previous, c, 3, padding=1, bias=False)),
                  (f"bn{i}", nn.BatchNorm2d(c)), (f"relu{i}", nn.ReLU())]
        if i < len(channels):
            named.append((f"pool{i}", nn.MaxPool2d(2)))
        previous = c
    named += [("gap", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
              ("fc", nn.Linear(previous, num_classes))]
    return nn.Sequential(OrderedDict(named))


def mlp(backend: str = "numpy", in_features: int = 784, hidden: tuple[int, ...] = (256, 128),
        num_classes: int = 10):
    """A multi-layer perceptron: flatten, then ``fc{i}`` - ``relu{i}`` for each hidden width, then
    the last ``fc`` layer.

    Shape:
        Input ``(N, ...)`` with ``in_features`` values per example (``(N, 1, 28, 28)``: 784);
        output ``(N, num_classes)``.

    Example:
        >>> mlp("torch", hidden=(32,))
        Sequential(
          (flatten): Flatten(start_dim=1, end_dim=-1)
          (fc1): Linear(in_features=784, out_features=32, bias=True)
          (relu1): ReLU()
          (fc2): Linear(in_features=32, out_features=10, bias=True)
        )
    """
    nn = layers(backend)
    named, previous = [("flatten", nn.Flatten())], in_features
    for i, width in enumerate(hidden, start=1):
        named += [(f"fc{i}", nn.Linear(previous, width)), (f"relu{i}", nn.ReLU())]
        previous = width
    named.append((f"fc{len(hidden) + 1}", nn.Linear(previous, num_classes)))
    return nn.Sequential(OrderedDict(named))

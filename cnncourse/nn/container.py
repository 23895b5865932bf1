"""``Sequential``: layers run one after the other, and their backwards in the reverse order.

The forward pass feeds each layer the output of the one before; the backward pass is the chain
rule, layer by layer from the last::

    for layer in layers:            x = layer(x)
    for layer in reversed(layers):  grad = layer.backward(grad)

If a layer refuses its input (a ``Linear(400, 10)`` after a layer giving 256 features, say), the
error says which layer of the model it is.
"""
from __future__ import annotations

import numpy as np  # noqa: F401  (used by the docstring examples)
import inspect
from collections import OrderedDict

from .module import Module

__all__ = ["Sequential"]


def _name_layer(err, name):
    """Prefix ``err``'s message with the layer's name in the model (``'features.3'``)."""
    path = getattr(err, "_cnncourse_layer", None)
    original = getattr(err, "_cnncourse_message", None)
    if original is None:
        original = str(err.args[0]) if err.args else ""
    path = name if path is None else f"{name}.{path}"
    err._cnncourse_layer, err._cnncourse_message = path, original
    err.args = (f"layer {path!r} of the model: {original}",) + err.args[1:]


_TAKES_INPUT_GRAD = {}


def _backward(layer, grad_out, input_grad):
    """``layer.backward(grad_out)``, telling it when the input gradient is not needed (layers
    written without an ``input_grad`` argument are called without it)."""
    if input_grad:
        return layer.backward(grad_out)
    kind = type(layer)
    if kind not in _TAKES_INPUT_GRAD:
        _TAKES_INPUT_GRAD[kind] = "input_grad" in inspect.signature(kind.backward).parameters
    return layer.backward(grad_out, input_grad=False) if _TAKES_INPUT_GRAD[kind] \
        else layer.backward(grad_out)


class Sequential(Module):
    """A chain of layers (``torch.nn.Sequential`` in NumPy).

    Args:
        *layers: the layers, named ``"0"``, ``"1"``, ...; or one ``OrderedDict`` of
            ``{name: layer}``.

    Indexing (``model[0]``, ``model[-1]``, ``model[2:5]``), ``len`` and iteration work as in torch.

    Example:
        >>> from cnncourse.nn import Flatten, Linear, ReLU
        >>> model = Sequential(Flatten(), Linear(4, 3), ReLU(), Linear(3, 2))
        >>> model
        Sequential(
          (0): Flatten(start_dim=1, end_dim=-1)
          (1): Linear(in_features=4, out_features=3, bias=True)
          (2): ReLU()
          (3): Linear(in_features=3, out_features=2, bias=True)
        )
        >>> out = model(np.ones((5, 2, 2), dtype=np.float32))
        >>> model.backward(np.ones_like(out)).shape, [name for name, _ in model.named_parameters()]
        ((5, 2, 2), ['1.weight', '1.bias', '3.weight', '3.bias'])
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (dict, OrderedDict)):
            items = list(layers[0].items())
        else:
            items = [(str(i), layer) for i, layer in enumerate(layers)]
        for name, layer in items:
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes layers (cnncourse.nn modules); got "
                                f"{type(layer).__name__} for layer {name!r}"
                                + (" -- a torch.nn layer? use cnncourse.nn's"
                                   if type(layer).__module__.startswith("torch") else ""))
            setattr(self, str(name), layer)

    def forward(self, x):
        """Each layer on the output of the one before."""
        for name, layer in self._modules.items():
            try:
                x = layer(x)
            except (ValueError, TypeError) as err:
                _name_layer(err, name)
                raise
        return x

    def backward(self, grad_out, input_grad=True):
        """Each layer's backward, from the last layer to the first; returns the gradient with
        respect to the model's input (``None`` with ``input_grad=False``: the first layer may
        then skip computing it, as torch does for inputs that need no gradient)."""
        layers = list(self._modules.items())
        for i in range(len(layers) - 1, -1, -1):
            name, layer = layers[i]
            try:
                grad_out = _backward(layer, grad_out, input_grad or i > 0)
            except (ValueError, TypeError) as err:
                _name_layer(err, name)
                raise
        return grad_out if input_grad else None

    def append(self, layer):
        """Add ``layer`` at the end (named by its position); returns self."""
        setattr(self, str(len(self)), layer)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        try:
            return items[index][1]
        except (IndexError, TypeError):
            raise IndexError(f"index {index!r} is out of range for a Sequential of "
                             f"{len(items)} layers") from None

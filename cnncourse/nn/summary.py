"""``summary(model, input_shape)``: every layer's output shape and number of parameters.

It runs one batch of zeros through the model in evaluation mode (so batch norm's running
statistics and dropout are untouched) and prints a table, one row per layer::

    layer    type     output shape      params
    conv1    Conv2d   (1, 6, 24, 24)       156
    ...

A model whose layers do not fit fails here with the same message as at its first forward,
naming the layer, what it expects and what it got.
"""
from __future__ import annotations

import sys

import numpy as np

from .container import Sequential, _name_layer
from .module import Module

__all__ = ["summary"]


def _leaves(module, prefix=""):
    """``(name, layer)`` in the order they run: the layers inside Sequentials, and any other
    module as one row."""
    if isinstance(module, Sequential):
        for name, child in module.named_children():
            yield from _leaves(child, f"{prefix}.{name}" if prefix else name)
    else:
        yield prefix or type(module).__name__, module


def summary(model: Module, input_shape, file=None) -> list[dict]:
    """Print each layer's output shape and parameter count for a batch of ``input_shape``.

    Args:
        model: a :mod:`cnncourse.nn` model.
        input_shape: the shape of one input batch, with the batch axis, e.g. ``(1, 1, 28, 28)``.
        file: where to print. Default: ``sys.stdout``.

    Returns:
        The rows: dicts with ``"name"``, ``"type"``, ``"output_shape"`` and ``"params"``.

    Example:
        >>> from cnncourse.nn import Conv2d, Flatten, Linear, ReLU, Sequential
        >>> rows = summary(Sequential(Conv2d(1, 2, 3), ReLU(), Flatten(), Linear(18, 4)), (1, 1, 5, 5))
        layer  type     output shape  params
        0      Conv2d   (1, 2, 3, 3)      20
        1      ReLU     (1, 2, 3, 3)       0
        2      Flatten  (1, 18)            0
        3      Linear   (1, 4)            76
        total: 96 parameters (0.4 KiB of float32), for an input of shape (1, 1, 5, 5)
        >>> rows[-1]
        {'name': '3', 'type': 'Linear', 'output_shape': (1, 4), 'params': 76}
    """
    first = next(iter(model.parameters()), None)
    dtype = first.dtype if first is not None else np.dtype(np.float32)
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise TypeError(f"input_shape must be a tuple of ints, e.g. (1, 1, 28, 28); "
                        f"got {input_shape!r}") from None
    modes = {id(m): m.training for m in model.modules()}
    model.eval()
    rows, x = [], np.zeros(shape, dtype=dtype)
    try:
        for name, layer in _leaves(model):
            try:
                x = layer(x)
            except (ValueError, TypeError) as err:
                _name_layer(err, name)
                raise
            params = sum(p.size for p in layer.parameters())
            rows.append({"name": name, "type": type(layer).__name__,
                         "output_shape": tuple(np.shape(x)), "params": params})
    finally:
        for m in model.modules():
            object.__setattr__(m, "training", modes[id(m)])
    _print(rows, shape, dtype, file or sys.stdout)
    return rows


def _print(rows, shape, dtype, file):
    widths = [max([len(h)] + [len(str(r[k])) for r in rows])
              for h, k in (("layer", "name"), ("type", "type"), ("output shape", "output_shape"))]
    pw = max([len("params")] + [len(f"{r['params']:,}") for r in rows])
    print(f"{'layer':<{widths[0]}}  {'type':<{widths[1]}}  {'output shape':<{widths[2]}}"
          f"  {'params':>{pw}}", file=file)
    for r in rows:
        print(f"{r['name']:<{widths[0]}}  {r['type']:<{widths[1]}}  "
              f"{str(r['output_shape']):<{widths[2]}}  {r['params']:>{pw},}", file=file)
    total = sum(r["params"] for r in rows)
    print(f"total: {total:,} parameters ({total * np.dtype(dtype).itemsize / 1024:.1f} KiB of "
          f"{np.dtype(dtype)}), for an input of shape {shape}", file=file)

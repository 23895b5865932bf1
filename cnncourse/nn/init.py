"""Random numbers for the NumPy layers: one seeded generator, and torch's default initialisation.

Every random draw of :mod:`cnncourse.nn` -- the initial weights and dropout's masks -- comes from
one ``np.random.Generator``, so ``manual_seed(s)`` makes a whole run repeatable (as
``torch.manual_seed`` does for torch; the numbers themselves differ from torch's).

``torch.nn.Linear`` and ``torch.nn.Conv2d`` start from ``kaiming_uniform_(weight, a=sqrt(5))``;
with ``fan_in`` the number of inputs of one output (``in_features``, or ``C/groups*KH*KW``) that
is::

    weight ~ U(-bound, bound),  bound = gain * sqrt(3 / fan_in),  gain = sqrt(2 / (1 + a**2))
           = U(-1/sqrt(fan_in), 1/sqrt(fan_in))                   (a = sqrt(5): gain = sqrt(1/3))
    bias   ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["manual_seed", "generator", "uniform_", "kaiming_uniform_", "default_init_"]

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the generator behind every random draw of :mod:`cnncourse.nn`; returns it.

    Example:
        >>> from cnncourse.nn import Linear
        >>> _ = manual_seed(0); a = Linear(3, 2).weight.data
        >>> _ = manual_seed(0); b = Linear(3, 2).weight.data
        >>> bool((a == b).all())
        True
    """
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator() -> np.random.Generator:
    """The generator that layers draw from (reseeded by :func:`manual_seed`)."""
    return _generator


def uniform_(array: np.ndarray, low: float, high: float) -> np.ndarray:
    """Fill ``array`` in place with draws from ``U(low, high)``; returns it."""
    array[...] = _generator.uniform(low, high, size=array.shape)
    return array


def kaiming_uniform_(array: np.ndarray, a: float = 0.0) -> np.ndarray:
    """``torch.nn.init.kaiming_uniform_`` (fan-in mode, leaky-ReLU gain): ``U(-b, b)`` with
    ``b = sqrt(2 / (1 + a**2)) * sqrt(3 / fan_in)``; returns ``array``.

    Example:
        >>> w = kaiming_uniform_(np.empty((64, 100)), a=math.sqrt(5))
        >>> bool(np.abs(w).max() <= 0.1)
        True
    """
    fan_in = int(np.prod(array.shape[1:])) if array.ndim > 1 else array.shape[0]
    bound = math.sqrt(2.0 / (1 + a * a)) * math.sqrt(3.0 / fan_in) if fan_in else 0.0
    return uniform_(array, -bound, bound)


def default_init_(weight: np.ndarray, bias: np.ndarray | None) -> None:
    """torch's default for ``Linear`` and ``Conv2d``: the weight from
    ``kaiming_uniform_(a=sqrt(5))``, the bias from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = int(np.prod(weight.shape[1:]))
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)

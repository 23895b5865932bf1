"""``Dropout`` in NumPy: in training, zero each value with probability ``p`` and scale the rest.

Inverted dropout, as in torch: a kept value is divided by ``1 - p``, so the expected output
equals the input and nothing changes at evaluation time (``model.eval()`` makes the layer pass
its input through)::

    mask = (uniform(0, 1) >= p) / (1 - p)         (drawn anew at every forward)
    out  = x * mask,      grad_x = grad_out * mask

The mask comes from :func:`cnncourse.nn.init.generator`, so ``cnncourse.nn.manual_seed(s)``
makes it repeatable (the draws differ from torch's).
"""
from __future__ import annotations

import numpy as np

from ..numpy_ops._arrays import check_grad_out
from ._checks import check_option, layer_input
from .init import generator
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Randomly zero values during training (``torch.nn.Dropout`` in NumPy).

    Args:
        p: probability of zeroing each value, in ``[0, 1]``. Default: 0.5.

    Shape:
        Any shape; the output has the input's.

    Example:
        >>> from cnncourse.nn import manual_seed
        >>> _ = manual_seed(0)
        >>> drop = Dropout(0.5)
        >>> drop(np.ones(6))                       # kept values are doubled
        array([2., 0., 0., 0., 2., 2.])
        >>> drop.eval()(np.ones(3))                # evaluation: unchanged
        array([1., 1., 1.])
    """

    def __init__(self, p=0.5):
        super().__init__()
        self.p = check_option("dropout probability p", p, 0.0, 1.0)

    def forward(self, x):
        """``x * mask`` in training (a new mask each call), ``x`` in evaluation."""
        x = layer_input(self, x)
        if not self.training or self.p == 0:
            self._mask = None
            return x
        keep = generator().random(x.shape, dtype=np.float64) >= self.p
        scale = 0.0 if self.p == 1 else 1.0 / (1.0 - self.p)
        self._mask = keep.astype(x.dtype) * x.dtype.type(scale)
        return x * self._mask

    def backward(self, grad_out, input_grad=True):
        """``grad_out * mask`` (the same mask as the forward), or ``grad_out`` in evaluation."""
        if self._mask is None:
            return grad_out
        return check_grad_out(grad_out, self._mask.shape, "Dropout", self._mask.dtype) * self._mask

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace=False"

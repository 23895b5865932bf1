"""Test helper: PyTorch autograd in float64 as the outside oracle for forward and backward."""
from __future__ import annotations

import numpy as np
import torch


def torch_oracle(fn, *arrays, grad_out=None):
    """Call ``fn`` on float64 tensors made from ``arrays`` and backpropagate ``grad_out``.

    ``None`` entries are passed through (a missing bias); non-float arrays (class targets) are
    passed as tensors without gradients.

    Returns:
        ``(out, grads)``: ``fn``'s output and one gradient per array (``None`` where the
        array is ``None`` or not floating point), all as NumPy arrays.
    """
    tensors = []
    for a in arrays:
        if a is None:
            tensors.append(None)
        elif np.asarray(a).dtype.kind == "f":
            tensors.append(torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True))
        else:
            tensors.append(torch.as_tensor(np.asarray(a)))
    out = fn(*tensors)
    out.backward(torch.ones_like(out) if grad_out is None else torch.as_tensor(grad_out))
    grads = [
        None if t is None or t.grad is None else t.grad.numpy() for t in tensors
    ]
    return out.detach().numpy(), grads

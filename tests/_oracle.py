"""Test helpers: PyTorch autograd in float64 as the outside oracle for forward and backward, and
the devices a test can run on."""
from __future__ import annotations

import numpy as np
import pytest
import torch

# Parametrize a test over these to run it on the CPU and, where there is one, on a CUDA GPU
# (the `gpu` mark makes tests/conftest.py skip the CUDA case on machines without CUDA).
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def torch_forward(fn, *arrays):
    """``fn`` on float64 tensors made from ``arrays``, without autograd, as a NumPy array.

    For cases whose backward PyTorch gets wrong: for a max-pooling window that lies entirely in
    the padding, ``return_indices`` gives an index past the input (2 for a 2-pixel input, torch
    2.13), so the CPU backward writes out of bounds (it aborted a test process with torch 2.11).
    """
    with torch.no_grad():
        tensors = [None if a is None else torch.as_tensor(np.asarray(a, dtype=np.float64))
                   for a in arrays]
        return fn(*tensors).numpy()


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

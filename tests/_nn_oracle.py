"""Test helper: a NumPy layer (cnncourse.nn) against the same torch.nn layer in float64.

``compare_with_torch(ours, theirs, x)`` moves torch's weights into ours, runs both forwards and
backwards with the same upstream gradient, and asserts that outputs, input gradients, parameter
gradients and the state dicts after the step (batch norm's running statistics) agree. It then
moves our weights back into a fresh torch layer, to check the other direction too.
"""
from __future__ import annotations

import copy

import numpy as np
import torch

TOL = dict(rtol=0, atol=1e-10)


def to_torch_state(state: dict) -> dict:
    """A NumPy state dict as the tensors ``torch.nn.Module.load_state_dict`` wants."""
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}


def compare_with_torch(ours, theirs, x, grad_out=None, tol=TOL, seed=0):
    """Assert that ``ours`` (built with dtype=np.float64) computes what ``theirs`` does."""
    theirs = theirs.double()
    fresh = copy.deepcopy(theirs)                   # for the NumPy -> torch direction
    ours.load_state_dict(theirs.state_dict())
    ours.train(theirs.training)
    x = np.asarray(x, dtype=np.float64)
    xt = torch.tensor(x, requires_grad=True)
    out, out_t = ours(x), theirs(xt)
    np.testing.assert_allclose(out, out_t.detach().numpy(), **tol, err_msg="forward")
    if grad_out is None:
        grad_out = np.random.default_rng(seed).normal(size=out.shape)
    grad_x = ours.backward(grad_out)
    out_t.backward(torch.from_numpy(np.asarray(grad_out, dtype=np.float64)))
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), **tol, err_msg="grad_x")
    torch_params = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(torch_params)
    for name, p in ours.named_parameters():
        assert p.grad.shape == p.data.shape
        np.testing.assert_allclose(p.grad, torch_params[name].grad.numpy(), **tol,
                                   err_msg=f"{name}.grad")
    ours_state, torch_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(torch_state)
    for name, value in ours_state.items():
        np.testing.assert_allclose(value, torch_state[name].numpy(), **tol, err_msg=name)
    fresh.load_state_dict(to_torch_state(ours_state))           # and back into torch
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), ours_state[name])
    return out, grad_x


def lenet(lib, **kw):
    """The course's LeNet for 1x28x28 digits, from ``lib`` (cnncourse.nn or torch.nn)."""
    return lib.Sequential(
        lib.Conv2d(1, 6, 5, **kw), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(6, 16, 5, **kw), lib.ReLU(), lib.MaxPool2d(2),
        lib.Flatten(), lib.Linear(256, 120, **kw), lib.ReLU(), lib.Linear(120, 84, **kw),
        lib.ReLU(), lib.Linear(84, 10, **kw))

"""Tests for cnncourse.nn.module: Parameter, registration, names, state dicts (both ways with
torch, and the errors naming what does not fit), train/eval, zero_grad, dtype."""
import numpy as np
import pytest
import torch

from _nn_oracle import to_torch_state
from cnncourse import nn


def _pair():
    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                         nn.Linear(8, 3))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                 torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8, 3))
    return ours, theirs


def test_parameter_holds_data_and_a_zero_gradient_of_the_same_shape():
    p = nn.Parameter(np.ones((2, 3), dtype=np.float32))
    assert p.grad.shape == p.data.shape and p.grad.dtype == np.float32 and not p.grad.any()
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.ones(2, dtype=int))


def test_names_and_state_dict_keys_are_torch_s_and_values_are_copies():
    ours, theirs = _pair()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    state = ours.state_dict()
    state["0.weight"][...] = 7
    assert not (ours[0].weight.data == 7).any()
    assert len(list(ours.parameters())) == 6
    assert [n for n, _ in ours.named_buffers()] == ["1.running_mean", "1.running_var",
                                                    "1.num_batches_tracked"]


def test_state_dicts_move_both_ways_with_torch():
    ours, theirs = _pair()
    ours.load_state_dict(theirs.state_dict())                 # tensors are converted
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name], value.numpy())
    ours[1].running_mean[...] = 0.5
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    assert (theirs[1].running_mean == 0.5).all()


def test_load_state_dict_names_missing_unexpected_and_mis_shaped_entries():
    ours, _ = _pair()
    state = ours.state_dict()
    state["4.weight"] = np.zeros((3, 16))
    del state["0.bias"]
    state["5.weight"] = np.zeros(2)
    with pytest.raises(ValueError) as info:
        ours.load_state_dict(state)
    message = str(info.value)
    assert "missing '0.bias' (2,)" in message
    assert "'4.weight' has shape (3, 16) in the state dict but (3, 8) in the model" in message
    assert "unexpected '5.weight'" in message and "different architecture" in message
    before = ours[4].weight.data.copy()
    with pytest.raises(ValueError):
        ours.load_state_dict(state)
    np.testing.assert_array_equal(ours[4].weight.data, before)   # nothing half-loaded


def test_load_state_dict_from_another_architecture_names_the_parameter():
    lenet_like = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 24 * 24, 10))
    other = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 26 * 26, 10))
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(8, 1, 3, 3\) in the state dict "
                                         r"but \(6, 1, 5, 5\) in the model"):
        lenet_like.load_state_dict(other.state_dict())


def test_non_strict_loading_skips_what_is_missing():
    ours, _ = _pair()
    before = ours[0].weight.data.copy()
    ours.load_state_dict({"4.bias": np.ones(3), "extra": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(ours[4].bias.data, np.ones(3))
    np.testing.assert_array_equal(ours[0].weight.data, before)


def test_train_eval_and_zero_grad_reach_every_layer():
    ours, _ = _pair()
    assert all(m.training for m in ours.modules())
    assert ours.eval() is ours and not any(m.training for m in ours.modules())
    ours.train()
    assert ours[1].training
    for p in ours.parameters():
        p.grad += 1
    ours.zero_grad()
    assert not any(p.grad.any() for p in ours.parameters())


def test_to_double_and_back():
    ours, _ = _pair()
    ours.double()
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in ours.parameters())
    assert ours[1].running_var.dtype == np.float64
    assert ours[1].num_batches_tracked.dtype == np.int64
    assert ours(np.zeros((2, 1, 4, 4))).dtype == np.float64
    ours.float()
    assert ours[0].weight.dtype == np.float32 and ours.state_dict()["1.running_mean"].dtype == np.float32
    with pytest.raises(TypeError, match="floating-point type"):
        ours.to(np.int64)


def test_repr_matches_torch():
    ours, theirs = _pair()
    assert repr(ours) == repr(theirs)


def test_a_subclass_must_call_super_init():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\)"):
        Broken()

"""Tests for cnncourse.nn.container: Sequential (indexing, names, errors that name the layer), and
a whole LeNet against the same torch.nn model in float64, both ways."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

from _nn_oracle import TOL, compare_with_torch, lenet, to_torch_state
from cnncourse import nn


def test_whole_lenet_matches_torch_in_float64_both_ways():
    ours, theirs = lenet(nn, dtype=np.float64), lenet(torch.nn)
    x = np.random.default_rng(0).normal(size=(8, 1, 28, 28))
    compare_with_torch(ours, theirs, x)
    # and torch's model, given our (different) initial weights, computes what ours does
    ours = lenet(nn, dtype=np.float64)
    theirs = lenet(torch.nn).double()
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    np.testing.assert_allclose(ours(x), theirs(torch.from_numpy(x)).detach().numpy(), **TOL)


def test_a_training_step_with_cross_entropy_matches_torch():
    ours, theirs = lenet(nn, dtype=np.float64), lenet(torch.nn).double()
    ours.load_state_dict(theirs.state_dict())
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 1, 28, 28)), rng.integers(0, 10, size=16)
    criterion = nn.CrossEntropyLoss()
    loss = criterion(ours(x), y)
    ours.backward(criterion.backward(), input_grad=False)
    expected = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y))
    expected.backward()
    assert loss == pytest.approx(expected.item(), abs=1e-12)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), **TOL, err_msg=name)


def test_indexing_length_iteration_slicing_and_names():
    model = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("relu", nn.ReLU()),
                                       ("flat", nn.Flatten())]))
    assert len(model) == 3 and isinstance(model[0], nn.Conv2d) and isinstance(model[-1], nn.Flatten)
    assert [type(m).__name__ for m in model] == ["Conv2d", "ReLU", "Flatten"]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head._modules) == ["conv", "relu"]
    assert head[0] is model[0]
    assert [n for n, _ in model.named_parameters()] == ["conv.weight", "conv.bias"]
    model.append(nn.Linear(8, 2))
    assert [n for n, _ in model.named_parameters()][-1] == "3.bias"
    with pytest.raises(IndexError, match="out of range for a Sequential of 4 layers"):
        model[7]
    with pytest.raises(TypeError, match="a torch.nn layer"):
        nn.Sequential(torch.nn.ReLU())


def test_layers_that_do_not_fit_fail_at_the_first_forward_naming_the_layer_and_the_fix():
    model = nn.Sequential(nn.Conv2d(1, 16, 5), nn.MaxPool2d(6), nn.Flatten(), nn.Linear(400, 10))
    with pytest.raises(ValueError, match=r"layer '3' of the model: Linear\(in_features=400, "
                                         r"out_features=10, bias=True\) expects inputs of shape "
                                         r"\(N, 400\).*\(64, 256\).*Fix: Linear\(256, 10\)"):
        model(np.zeros((64, 1, 28, 28), dtype=np.float32))


def test_errors_in_nested_models_name_the_whole_path():
    model = nn.Sequential(OrderedDict([
        ("features", nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(3, 4, 3))),
        ("head", nn.Linear(4, 2))]))
    with pytest.raises(ValueError, match=r"layer 'features.2' of the model: Conv2d\(3, 4.*Fix: "
                                         r"Conv2d\(4, 4, \.\.\.\)"):
        model(np.zeros((1, 1, 8, 8), dtype=np.float32))
    assert [n for n, _ in model.named_parameters()][:2] == ["features.0.weight", "features.0.bias"]


def test_backward_skips_the_input_gradient_on_request_and_accepts_custom_layers():
    class Double(nn.Module):                      # a learner's layer, without input_grad
        def forward(self, x):
            return 2 * x

        def backward(self, grad_out):
            return 2 * grad_out

    model = nn.Sequential(Double(), nn.Linear(3, 2), Double())
    out = model(np.ones((4, 3), dtype=np.float32))
    np.testing.assert_allclose(model.backward(np.ones_like(out)), 4 * model[1].weight.data.sum(0)[None].repeat(4, 0), rtol=1e-6)
    assert model.backward(np.ones_like(out), input_grad=False) is None
    first = nn.Sequential(nn.Linear(3, 2))
    first(np.ones((4, 3), dtype=np.float32))
    assert first.backward(np.ones((4, 2), dtype=np.float32), input_grad=False) is None

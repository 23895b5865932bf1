"""Tests for cnncourse.torch_ops.layers: same constructor, init and repr as torch.nn, and a
model built from them trains exactly like the same model built from torch.nn."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from _oracle import DEVICES
from cnncourse.torch_ops import layers

SAME_ARGS = [  # class name, constructor arguments (identical for both libraries)
    ("Conv2d", (1, 6, 5)),
    ("Conv2d", (4, 8, (3, 2))),
    ("Conv2d", (3, 4, 3), dict(padding="same", bias=False)),
    ("Conv2d", (4, 6, 3), dict(stride=2, padding=(1, 2), dilation=(2, 1), groups=2)),
    ("Conv2d", (2, 2, 1), dict(padding="valid")),
    ("AvgPool2d", (3, 1, 1)),
    ("AvgPool2d", ((2, 3),)),
    ("AdaptiveAvgPool2d", ((1, 1),)),
    ("AdaptiveAvgPool2d", (5,)),
    ("Linear", (16, 10)),
    ("Linear", (3, 2), dict(bias=False)),
    ("ReLU", ()),
    ("LeakyReLU", (0.2,)),
    ("Sigmoid", ()),
    ("Tanh", ()),
    ("Softmax", (1,)),
    ("LogSoftmax", (1,)),
    ("Flatten", ()),
    ("Flatten", (2, 3)),
]


def _both(name, args, kwargs=None, seed=0):
    torch.manual_seed(seed)
    ours = getattr(layers, name)(*args, **(kwargs or {}))
    torch.manual_seed(seed)
    theirs = getattr(nn, name)(*args, **(kwargs or {}))
    return ours, theirs


@pytest.mark.parametrize("case", SAME_ARGS, ids=lambda c: f"{c[0]}{c[1:]}")
def test_repr_and_initial_parameters_match_torch(case):
    ours, theirs = _both(*case)
    assert repr(ours) == repr(theirs)
    ours_params, theirs_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert ours_params.keys() == theirs_params.keys()
    for name, p in ours_params.items():
        torch.testing.assert_close(p, theirs_params[name], rtol=0, atol=0)


def test_max_pool_repr_matches_torch_without_ceil_mode():
    ours, theirs = _both("MaxPool2d", ((3, 2), 1, 1, 2))
    assert repr(theirs) == repr(ours)[:-1] + ", ceil_mode=False)"


@pytest.mark.parametrize("case", SAME_ARGS + [("MaxPool2d", (3, 2, 1, 2))],
                         ids=lambda c: f"{c[0]}{c[1:]}")
def test_forward_matches_torch(case):
    ours, theirs = _both(*case)
    ours.double(), theirs.double()
    in_features = getattr(theirs, "in_features", None)
    in_channels = getattr(theirs, "in_channels", 4)
    shape = (3, in_features) if in_features else (2, in_channels, 9, 8)
    x = torch.randn(shape, dtype=torch.float64)
    torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=1e-10)


@pytest.mark.parametrize("layer, function", [
    (layers.Conv2d(2, 3, 3), "Conv2dFunction"),
    (layers.MaxPool2d(2), "MaxPool2dFunction"),
    (layers.AvgPool2d(2), "AvgPool2dFunction"),
    (layers.AdaptiveAvgPool2d(2), "AdaptiveAvgPool2dFunction"),
    (layers.Linear(6, 3), "LinearFunction"),
    (layers.ReLU(), "ReLUFunction"),
    (layers.LeakyReLU(), "LeakyReLUFunction"),
    (layers.Sigmoid(), "SigmoidFunction"),
    (layers.Tanh(), "TanhFunction"),
    (layers.Softmax(1), "SoftmaxFunction"),
    (layers.LogSoftmax(-1), "LogSoftmaxFunction"),
])
def test_layers_use_the_hand_written_backward(layer, function):
    out = layer(torch.randn(1, 2, 6, 6, requires_grad=True))
    assert type(out.grad_fn).__name__ == function + "Backward"


def test_every_layer_with_a_gradient_uses_a_hand_written_backward():
    # Each layer class (but Flatten, a reshape) appears in the test above or in the loss test.
    tested = {"Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Linear", "ReLU",
              "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "CrossEntropyLoss"}
    assert set(layers.__all__) - {"Flatten"} == tested


@pytest.mark.parametrize("kwargs", [{}, dict(reduction="sum"), dict(label_smoothing=0.2),
                                    dict(reduction="none", label_smoothing=0.1)])
def test_cross_entropy_loss_matches_torch_with_the_hand_written_backward(kwargs):
    logits = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([0, 3, 1, 1, 2])
    loss = layers.CrossEntropyLoss(**kwargs)(logits, target)
    assert type(loss.grad_fn).__name__ == "CrossEntropyFunctionBackward"
    expected = nn.CrossEntropyLoss(**kwargs)(logits, target)
    torch.testing.assert_close(loss, expected, rtol=0, atol=1e-12)
    grad_out = torch.rand_like(loss)
    ours, = torch.autograd.grad(loss, logits, grad_out)
    theirs, = torch.autograd.grad(expected, logits, grad_out)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)


def test_device_and_dtype_arguments():
    conv = layers.Conv2d(2, 3, 3, device="meta", dtype=torch.float64)
    linear = layers.Linear(4, 5, device="meta", dtype=torch.float64)
    for p in list(conv.parameters()) + list(linear.parameters()):
        assert p.device.type == "meta" and p.dtype == torch.float64
    assert conv.weight.shape == (3, 2, 3, 3) and linear.weight.shape == (5, 4)
    # The ops run where their inputs are: a meta input through meta parameters stays on meta.
    assert conv(torch.empty(1, 2, 5, 5, device="meta", dtype=torch.float64)).device.type == "meta"


@pytest.mark.parametrize("args, message", [
    ((3, 4, 3, 1, 0, 1, 2), "in_channels must be divisible by groups"),
    ((4, 3, 3, 1, 0, 1, 2), "out_channels must be divisible by groups"),
    ((4, 4, 3, 1, 0, 1, 0), r"groups must be a positive int; got groups=0"),
    ((4, 4, 3, 1, 0, 1, -2), r"groups must be a positive int; got groups=-2"),
    ((0, 4, 3), r"in_channels must be a positive int; got in_channels=0"),
    ((4, 4, 0), r"kernel_size must be positive"),
    ((4, 4, 3, 1, "full"), r"'valid' or 'same'; got 'full'"),
    ((4, 4, 3, 2, "same"), r"padding='same' needs stride=1"),
])
def test_conv_constructor_checks_groups(args, message):
    with pytest.raises(ValueError, match=message):
        layers.Conv2d(*args)


def _tiny_cnn(lib):
    """The same small CNN from ``lib`` (torch.nn or our layers): every layer type once."""
    return nn.Sequential(
        lib.Conv2d(1, 4, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(4, 6, 3, padding="same", groups=2), lib.Tanh(), lib.AvgPool2d(2),
        lib.AdaptiveAvgPool2d((2, 2)), lib.Flatten(), lib.Linear(24, 5), lib.LeakyReLU(0.1),
        lib.Linear(5, 4), lib.Sigmoid(), lib.Linear(4, 3),
    ).double()


@pytest.mark.parametrize("device", DEVICES)
def test_tiny_model_trains_exactly_like_torch_nn(device):
    torch.manual_seed(0)
    ours = _tiny_cnn(layers).to(device)
    torch.manual_seed(0)
    theirs = _tiny_cnn(nn).to(device)
    x = torch.randn(8, 1, 12, 12, dtype=torch.float64).to(device)
    y = torch.randint(0, 3, (8,)).to(device)
    optimizers = [torch.optim.SGD(m.parameters(), lr=0.2, momentum=0.9) for m in (ours, theirs)]
    losses = []
    for step in range(6):
        step_losses = []
        for model, opt in zip((ours, theirs), optimizers):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            step_losses.append(loss.item())
        assert step_losses[0] == pytest.approx(step_losses[1], rel=0, abs=1e-10), f"step {step}"
        losses.append(step_losses[0])
    assert losses[-1] < losses[0] - 0.05, losses
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-10, msg=f"parameter {name}")
